"""Training core of dslkit: a small GPT, packed token-id rows and a reproducible loop.

The core works on token ids only; the data materialiser, constrained decoding, probe and report
plug in on top (see ``train.loop.fit``'s ``evaluate`` hook and ``GPT.generate``'s
``logits_processor``). Submodules load on first use, so ``import train`` does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

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
    "GPT": "train.model",
    "GPTConfig": "train.model",
    "Generation": "train.model",
    "ConfigError": "train.config",
    "TrainConfig": "train.config",
    "load_config": "train.config",
    "FitResult": "train.loop",
    "fit": "train.loop",
    "PackedRows": "train.packing",
    "load_model": "train.checkpoint",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # cache: the next access skips this function
        return value
    raise AttributeError(f"module 'train' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)
