"""Checkpoints: model-only files for decoding and probes, full files for resuming a run.

* ``model.pt`` / ``best.pt``: ``{"kind": "model", "config": GPTConfig fields, "model": weights}``.
* ``ckpt.pt``: the same plus optimizer state, step, sampler position, early-stop state and the
  RNG states of python, numpy and torch, so a resumed run is bit-for-bit the uninterrupted one.

Every file is written to a temporary name and moved into place with ``os.replace``: a crash
mid-write leaves the previous checkpoint intact, never a truncated one. Files hold only tensors
and plain containers, so they load with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import dataclasses
import os
import random
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from dslkit.train.model import GPT, GPTConfig

__all__ = [
    "atomic_save",
    "capture_rng",
    "load_checkpoint",
    "load_model",
    "model_payload",
    "restore_rng",
    "save_model",
]

FORMAT_VERSION = 1


def atomic_save(obj: Any, path: str | Path) -> Path:
    """``torch.save`` to ``path`` through a temporary file and ``os.replace``.

    Args:
        obj: what to save (tensors, dicts, lists, numbers, strings).
        path: destination; its directory is created.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())  # the rename must not land before the bytes do
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def model_payload(model: GPT) -> dict[str, Any]:
    """The model-only checkpoint content: config and weights (on CPU, device-independent)."""
    return {
        "kind": "model",
        "format_version": FORMAT_VERSION,
        "config": dataclasses.asdict(model.config),
        "model": {k: v.detach().cpu() for k, v in model.state_dict().items()},
    }


def save_model(model: GPT, path: str | Path) -> Path:
    """Write a model-only checkpoint atomically.

    Args:
        model: the (unwrapped) model.
        path: destination, conventionally ``model.pt`` or ``best.pt``.

    Returns:
        The path written.
    """
    return atomic_save(model_payload(model), path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a model-only or full checkpoint (``weights_only``: no arbitrary unpickling).

    Args:
        path: the ``.pt`` file.

    Returns:
        The checkpoint dict.
    """
    ckpt = torch.load(Path(path), map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: not a dslkit checkpoint of format {FORMAT_VERSION}")
    return ckpt


def load_model(path: str | Path, device: str | torch.device = "cpu") -> GPT:
    """Rebuild a :class:`GPT` from ``model.pt``, ``best.pt`` or ``ckpt.pt``.

    Args:
        path: checkpoint file.
        device: where to put the model.

    Returns:
        The model in eval mode.
    """
    ckpt = load_checkpoint(path)
    model = GPT(GPTConfig(**ckpt["config"]))
    model.load_state_dict(ckpt["model"])
    return model.to(device).eval()


def capture_rng() -> dict[str, Any]:
    """RNG states of python, numpy (global) and torch (CPU and every CUDA device)."""
    np_state = cast(tuple[Any, ...], np.random.get_state(legacy=True))
    return {
        "python": random.getstate(),
        # numpy's state holds an ndarray; store it as a list so weights_only loading accepts it.
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng(state: dict[str, Any]) -> None:
    """Undo :func:`capture_rng`: every generator continues where it was captured."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    kind, keys, *rest = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), *rest))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
