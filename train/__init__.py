"""Training core of dslkit: a small GPT, packed token-id rows and a reproducible loop.

The core works on token ids only; the data materialiser, constrained decoding, probe and report
plug in on top (see ``dslkit.train.loop.fit``'s ``evaluate`` hook and ``GPT.generate``'s
``logits_processor``). Submodules load on first use, so ``import dslkit.train`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what mypy sees; at run time __getattr__ imports on first use (torch is heavy)
    from dslkit.train.checkpoint import load_model
    from dslkit.train.config import ConfigError, TrainConfig, load_config
    from dslkit.train.loop import FitResult, fit
    from dslkit.train.model import GPT, Generation, GPTConfig
    from dslkit.train.packing import PackedRows

from dslkit._extras import require

# Every submodule runs this first: without torch, `import dslkit.train.model` (or the CLI) says
# which extra to install instead of failing deep inside. find_spec only: torch is not imported.
require("torch", extra="train", feature="dslkit.train", load=False)
require("numpy", extra="train", feature="dslkit.train", load=False)

__all__ = [
    "GPT",
    "ConfigError",
    "FitResult",
    "GPTConfig",
    "Generation",
    "PackedRows",
    "TrainConfig",
    "fit",
    "load_config",
    "load_model",
]

# public name -> submodule that defines it
_LAZY = {
    "GPT": "dslkit.train.model",
    "GPTConfig": "dslkit.train.model",
    "Generation": "dslkit.train.model",
    "ConfigError": "dslkit.train.config",
    "TrainConfig": "dslkit.train.config",
    "load_config": "dslkit.train.config",
    "FitResult": "dslkit.train.loop",
    "fit": "dslkit.train.loop",
    "PackedRows": "dslkit.train.packing",
    "load_model": "dslkit.train.checkpoint",
}


if not TYPE_CHECKING:  # hidden from mypy, so a misspelt name is an error there, not Any

    def __getattr__(name: str) -> Any:
        if name in _LAZY:
            value = getattr(importlib.import_module(_LAZY[name]), name)
            globals()[name] = value  # cache: the next access skips this function
            return value
        raise AttributeError(f"module 'dslkit.train' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
