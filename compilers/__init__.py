"""Compilers: what a valid program means.

- :func:`compile_scene` turns a scene plus its content.json into an SVG (``dslkit.compilers.scene_svg``);
- :func:`solve` / :func:`verify` execute a trace exactly and score it (``dslkit.compilers.trace_solver``);
- :func:`trace_reward` / :func:`scene_reward` are TRL reward functions (``dslkit.compilers.rewards``).
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
    from dslkit.compilers.rewards import RewardWarning, SceneLadder, scene_reward, trace_reward
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
    "trace_reward": "dslkit.compilers.rewards",
    "scene_reward": "dslkit.compilers.rewards",
    "SceneLadder": "dslkit.compilers.rewards",
    "RewardWarning": "dslkit.compilers.rewards",
    "verify_scene": "dslkit.compilers.scene_verdict",
    "SceneVerdict": "dslkit.compilers.scene_verdict",
}

__all__ = [
    "Parity",
    "Result",
    "RewardLadder",
    "RewardWarning",
    "SceneLadder",
    "SceneVerdict",
    "Status",
    "Svg",
    "Verification",
    "check_gold_pack",
    "compile_scene",
    "parity",
    "scene_reward",
    "solve",
    "to_png",
    "trace_reward",
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
