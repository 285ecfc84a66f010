"""Compilers: what a valid program means.

- :func:`compile_scene` turns a scene plus its content.json into an SVG (``dslkit.compilers.scene_svg``);
- :func:`solve` / :func:`verify` execute a trace exactly and score it (``dslkit.compilers.trace_solver``);
- :func:`verify_scene` judges a scene text: parses, valid, renderable, canonical, exact
  (``dslkit.compilers.scene_verdict``).

Names are resolved lazily so ``import dslkit.compilers`` for the solver never imports the render stack
(cairosvg, Pillow, scikit-image).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what mypy sees; at run time __getattr__ imports on first use
    from dslkit.compilers.gold import check_gold_pack
    from dslkit.compilers.parity import Parity, parity
    from dslkit.compilers.raster import to_png
    from dslkit.compilers.scene_svg import Svg, compile_scene
    from dslkit.compilers.scene_verdict import SceneVerdict, verify_scene
    from dslkit.compilers.trace_solver import (
        Result,
        RewardLadder,
        Status,
        Verification,
        solve,
        verify,
    )

# public name -> submodule that defines it
_LAZY = {
    "solve": "dslkit.compilers.trace_solver",
    "verify": "dslkit.compilers.trace_solver",
    "Result": "dslkit.compilers.trace_solver",
    "Verification": "dslkit.compilers.trace_solver",
    "Status": "dslkit.compilers.trace_solver",
    "RewardLadder": "dslkit.compilers.trace_solver",
    "compile_scene": "dslkit.compilers.scene_svg",
    "Svg": "dslkit.compilers.scene_svg",
    "to_png": "dslkit.compilers.raster",
    "parity": "dslkit.compilers.parity",
    "Parity": "dslkit.compilers.parity",
    "check_gold_pack": "dslkit.compilers.gold",
    "verify_scene": "dslkit.compilers.scene_verdict",
    "SceneVerdict": "dslkit.compilers.scene_verdict",
}

__all__ = [
    "Parity",
    "Result",
    "RewardLadder",
    "SceneVerdict",
    "Status",
    "Svg",
    "Verification",
    "check_gold_pack",
    "compile_scene",
    "parity",
    "solve",
    "to_png",
    "verify",
    "verify_scene",
]


if not TYPE_CHECKING:  # hidden from mypy, so a misspelt name is an error there, not Any

    def __getattr__(name: str) -> Any:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module 'dslkit.compilers' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
