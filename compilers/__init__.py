"""Compilers: what a valid program means.

- :func:`compile_scene` turns a scene plus its content.json into an SVG (``compilers.scene_svg``);
- :func:`solve` / :func:`verify` execute a trace exactly and score it (``compilers.trace_solver``).

Names are resolved lazily so ``import compilers`` for the solver never imports the render stack
(cairosvg, Pillow, scikit-image).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> submodule that defines it
_LAZY = {
    "solve": "compilers.trace_solver",
    "verify": "compilers.trace_solver",
    "Result": "compilers.trace_solver",
    "Verification": "compilers.trace_solver",
    "Status": "compilers.trace_solver",
    "RewardLadder": "compilers.trace_solver",
    "compile_scene": "compilers.scene_svg",
    "Svg": "compilers.scene_svg",
    "to_png": "compilers.raster",
    "parity": "compilers.parity",
    "Parity": "compilers.parity",
    "check_gold_pack": "compilers.gold",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'compilers' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
