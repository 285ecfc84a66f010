"""Checkpoints: safetensors files with a checksum, written atomically, read with clear errors.

* ``model.safetensors`` / ``best.safetensors``: ``{"kind": "model", "config": GPTConfig
  fields, "model": weights}``, for decoding, probes and ``export-hf``.
* ``ckpt.safetensors``: the same plus optimizer state, step, sampler position, early-stop state
  and the RNG states of python, numpy and torch, so a resumed run is bit-for-bit the
  uninterrupted one.

One format for both: every tensor of the payload (weights, AdamW moments, RNG byte states) is a
safetensors tensor named by its path in the payload (``model/blocks.0.attn.c_attn.weight``,
``optimizer/state/3/exp_avg``); everything else (config, step, parameter groups, python RNG
state) is JSON in the file's metadata. Nothing is ever unpickled. The metadata also holds a
SHA-256 over that JSON and every tensor's name, dtype, shape and bytes: a flipped bit anywhere
is a :class:`~dslkit.errors.CheckpointError`, never a model that loads and is silently wrong.

Every file is written to a temporary name, fsynced, moved into place with ``os.replace`` and
the folder fsynced, so a crash leaves the previous checkpoint intact, never a truncated one.

Old checkpoints (``model.pt`` / ``best.pt`` / ``ckpt.pt``, format 1, pickled by ``torch.save``)
still load, through ``torch.load(weights_only=True)``, without a checksum to verify. To convert
one: ``save_model(load_model("model.pt"), "model.safetensors")``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, cast

import numpy as np
import torch
from dslkit.train.model import GPT, GPTConfig

from dslkit._extras import require
from dslkit.errors import CheckpointError

__all__ = [
    "BEST_FILE",
    "CKPT_FILE",
    "MODEL_FILE",
    "atomic_save",
    "atomic_write",
    "capture_rng",
    "find_model",
    "load_checkpoint",
    "load_model",
    "model_payload",
    "restore_rng",
    "save_model",
]

MODEL_FILE = "model.safetensors"  # final weights of a run
BEST_FILE = "best.safetensors"  # weights at the best primary metric
CKPT_FILE = "ckpt.safetensors"  # everything needed to resume

FORMAT = "dslkit-checkpoint"  # metadata["format"]: tells our files from other safetensors files
FORMAT_VERSION = 2
LEGACY_VERSION = 1  # torch.save pickles (model.pt, best.pt, ckpt.pt)

# What each kind must hold; a file without one of these is refused by name, not a KeyError.
REQUIRED_KEYS: dict[str, tuple[str, ...]] = {
    "model": ("config", "model"),
    "full": ("config", "model", "step", "optimizer", "sampler", "early_stop", "evals", "rng"),
}

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save's zip container: a legacy checkpoint


# ------------------------------------------------------------------------------- writing
def atomic_write(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new one, never half.

    The bytes go to a temporary file in the same folder and are fsynced; ``os.replace`` moves
    the file into place and the folder is fsynced, so the rename itself survives a power cut.

    Args:
        path: destination; its folder is created.
        data: the whole file.

    Returns:
        The destination path.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())  # the rename must not land before the bytes do
        os.replace(tmp, path)
        _fsync_dir(path.parent)
    finally:
        if tmp.exists():
            tmp.unlink()
    return path


def _fsync_dir(folder: Path) -> None:
    # A rename is an update of the folder: without this a crash can forget it even though the
    # file's bytes are on disk. Windows cannot open a folder for fsync; its rename is durable.
    if os.name == "nt":  # pragma: no cover - not run on the CI platforms
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_save(obj: Mapping[str, Any], path: str | Path) -> Path:
    """Save a checkpoint payload as a checksummed safetensors file, atomically.

    Args:
        obj: a dict of tensors, dicts, lists, tuples, numbers, strings, booleans and None
            (what ``state_dict()`` methods return). Tensors on any device are stored on CPU;
            tensors sharing memory (tied weights) are stored once.
        path: destination.

    Returns:
        The destination path.
    """
    st = cast(Any, require("safetensors.torch", extra="train", feature="dslkit checkpoints"))
    tensors: dict[str, torch.Tensor] = {}
    seen: dict[tuple[Any, ...], str] = {}
    tree = _encode(obj, "", tensors, seen)
    tree_json = json.dumps(tree, sort_keys=True, separators=(",", ":"))
    metadata = {
        "format": FORMAT,
        "format_version": str(FORMAT_VERSION),
        "tree": tree_json,
        "sha256": _digest(tree_json, tensors),
    }
    return atomic_write(path, st.save(tensors, metadata=metadata))


def _encode(
    obj: Any, where: str, tensors: dict[str, torch.Tensor], seen: dict[tuple[Any, ...], str]
) -> Any:
    """The payload as JSON, each tensor replaced by ``{"$tensor": name}``."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach()
        # Views of one storage (lm_head.weight and a tied wte.weight) become one stored tensor:
        # safetensors refuses shared memory, and storing it twice would double the file.
        ident = (
            t.device,
            t.untyped_storage().data_ptr(),
            t.storage_offset(),
            tuple(t.shape),
            t.stride(),
            t.dtype,
        )
        name = seen.get(ident)
        if name is None:
            name = where.lstrip("/") or "tensor"
            # A copy: two views of one buffer under different names would be shared memory.
            tensors[name] = t.cpu().contiguous().clone()
            if t.numel():
                seen[ident] = name  # empty tensors have no storage worth sharing
        return {"$tensor": name}
    if isinstance(obj, bool) or obj is None or isinstance(obj, (int, float, str)):
        return obj
    if isinstance(obj, tuple):
        return {"$tuple": [_encode(v, f"{where}/{i}", tensors, seen) for i, v in enumerate(obj)]}
    if isinstance(obj, list):
        return [_encode(v, f"{where}/{i}", tensors, seen) for i, v in enumerate(obj)]
    if isinstance(obj, Mapping):
        if all(isinstance(k, str) and not k.startswith("$") for k in obj):
            return {k: _encode(v, f"{where}/{k}", tensors, seen) for k, v in obj.items()}
        # int keys (optimizer state is keyed by parameter index) would come back as strings
        # through JSON and the optimizer would silently drop its state: keep them typed.
        return {
            "$items": [
                [
                    _encode(k, f"{where}/key{i}", tensors, seen),
                    _encode(v, f"{where}/{k}", tensors, seen),
                ]
                for i, (k, v) in enumerate(obj.items())
            ]
        }
    raise TypeError(f"cannot store {type(obj).__name__} at {where or '/'} in a checkpoint")


def _decode(obj: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    if isinstance(obj, list):
        return [_decode(v, tensors) for v in obj]
    if isinstance(obj, dict):
        if set(obj) == {"$tensor"}:
            return tensors[obj["$tensor"]]  # KeyError: a reference to a missing tensor
        if set(obj) == {"$tuple"}:
            return tuple(_decode(v, tensors) for v in obj["$tuple"])
        if set(obj) == {"$items"}:
            return {_decode(k, tensors): _decode(v, tensors) for k, v in obj["$items"]}
        return {k: _decode(v, tensors) for k, v in obj.items()}
    return obj


def _digest(tree_json: str, tensors: Mapping[str, torch.Tensor]) -> str:
    """SHA-256 over the JSON part and every tensor's name, dtype, shape and bytes."""
    h = hashlib.sha256()
    h.update(tree_json.encode("utf-8"))
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        h.update(f"\0{name}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------------------- reading
def load_checkpoint(path: str | Path, kind: str | None = None) -> dict[str, Any]:
    """Read and verify a checkpoint (model-only or full; safetensors or legacy ``.pt``).

    Args:
        path: the checkpoint file.
        kind: ``"model"`` or ``"full"`` to require that kind's keys (a full checkpoint also
            satisfies ``"model"``); None accepts either.

    Returns:
        The payload dict, tensors on CPU.

    Raises:
        CheckpointError: the file is missing, a folder, empty, truncated, not a dslkit
            checkpoint, of another format version, fails its checksum, or lacks a key; the
            message names the file and what is wrong.
    """
    path = Path(path)

    def fail(reason: str) -> CheckpointError:
        return CheckpointError(f"cannot load checkpoint {path}: {reason}")

    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except FileNotFoundError:
        raise fail("no such file") from None
    except IsADirectoryError:
        raise fail("it is a folder, not a checkpoint file") from None
    except OSError as exc:
        raise fail(exc.strerror or str(exc)) from None
    if not head:
        raise fail("the file is empty")
    ckpt = _read_legacy(path, fail) if head.startswith(_ZIP_MAGIC) else _read(path, fail)
    if not isinstance(ckpt, dict):
        raise fail(f"expected a dict payload, found {type(ckpt).__name__}")
    ckpt_kind = ckpt.get("kind")
    if ckpt_kind not in REQUIRED_KEYS:
        raise fail(f"unknown checkpoint kind {ckpt_kind!r} (expected 'model' or 'full')")
    if kind is not None and kind != ckpt_kind and not (kind == "model" and ckpt_kind == "full"):
        raise fail(f"it is a {ckpt_kind!r} checkpoint, a {kind!r} one is needed")
    missing = [k for k in REQUIRED_KEYS[ckpt_kind] if k not in ckpt]
    if missing:
        raise fail(f"missing key {', '.join(map(repr, missing))} in a {ckpt_kind!r} checkpoint")
    if not isinstance(ckpt["config"], dict) or not isinstance(ckpt["model"], dict):
        raise fail("'config' and 'model' must be dicts")
    return ckpt


def _read(path: Path, fail: Callable[[str], CheckpointError]) -> Any:
    require("safetensors", extra="train", feature="dslkit checkpoints")
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            tensors = {name: f.get_tensor(name) for name in f.keys()}  # noqa: SIM118
    except (SafetensorError, OSError, ValueError, RuntimeError) as exc:
        raise fail(f"not a readable safetensors file (truncated or corrupt?): {exc}") from None
    if meta.get("format") != FORMAT:
        raise fail("a safetensors file, but not a dslkit checkpoint (no dslkit metadata)")
    if meta.get("format_version") != str(FORMAT_VERSION):
        raise fail(
            f"checkpoint format {meta.get('format_version')!r}; this dslkit reads "
            f"{FORMAT_VERSION}: upgrade dslkit"
        )
    tree_json = meta.get("tree", "")
    stored = meta.get("sha256", "")
    actual = _digest(tree_json, tensors)
    if stored != actual:
        raise fail(
            f"checksum mismatch: the file is corrupt (stored sha256 {stored[:16] or 'none'}, "
            f"contents hash to {actual[:16]})"
        )
    try:
        return _decode(json.loads(tree_json), tensors)
    except (ValueError, KeyError, TypeError) as exc:  # only reachable with a matching checksum
        raise fail(f"malformed payload: {exc}") from None


def _read_legacy(path: Path, fail: Callable[[str], CheckpointError]) -> Any:
    import pickle
    import zipfile

    try:
        # A file object, not the path: torch.load reads any "*.safetensors" path as safetensors.
        with open(path, "rb") as f:
            ckpt = torch.load(f, map_location="cpu", weights_only=True)
    except (RuntimeError, EOFError, pickle.UnpicklingError, zipfile.BadZipFile, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise fail(f"a torch file that does not load (truncated or corrupt?): {first}") from None
    if not isinstance(ckpt, dict) or ckpt.get("format_version") != LEGACY_VERSION:
        raise fail(f"a torch file, but not a dslkit checkpoint of format {LEGACY_VERSION}")
    return ckpt


# ------------------------------------------------------------------------------- models
def model_payload(model: GPT) -> dict[str, Any]:
    """The model-only checkpoint content: config and weights (stored on CPU when saved)."""
    return {
        "kind": "model",
        "config": dataclasses.asdict(model.config),
        "model": {k: v.detach() for k, v in model.state_dict().items()},
    }


def save_model(model: GPT, path: str | Path) -> Path:
    """Write a model-only checkpoint atomically.

    Args:
        model: the (unwrapped) model.
        path: destination, conventionally ``model.safetensors`` or ``best.safetensors``.

    Returns:
        The path written.
    """
    return atomic_save(model_payload(model), path)


def build_model(ckpt: Mapping[str, Any], path: str | Path) -> GPT:
    """A :class:`GPT` with the config and weights of a loaded checkpoint payload.

    Raises:
        CheckpointError: the config does not describe a GPT, or the weights do not fit it.
    """
    try:
        model = GPT(GPTConfig(**ckpt["config"]))
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"cannot load checkpoint {path}: bad model config: {exc}") from None
    try:
        model.load_state_dict(ckpt["model"])
    except (RuntimeError, TypeError, KeyError) as exc:
        # load_state_dict lists every missing/unexpected key and shape: keep the first lines.
        detail = " ".join(str(exc).split())[:400]
        raise CheckpointError(
            f"cannot load checkpoint {path}: weights do not fit the config: {detail}"
        ) from None
    return model


def load_model(path: str | Path, device: str | torch.device = "cpu") -> GPT:
    """Rebuild a :class:`GPT` from a model-only or full checkpoint.

    Args:
        path: checkpoint file (``model.safetensors``, ``best.safetensors``, ``ckpt.safetensors``
            or a legacy ``.pt``).
        device: where to put the model.

    Returns:
        The model in eval mode.

    Raises:
        CheckpointError: see :func:`load_checkpoint`; also when the weights do not fit.
    """
    return build_model(load_checkpoint(path, "model"), path).to(device).eval()


def find_model(run_dir: str | Path) -> Path:
    """The final-weights checkpoint of a run folder: ``model.safetensors``, else a legacy
    ``model.pt``.

    Raises:
        CheckpointError: the folder has neither.
    """
    run_dir = Path(run_dir)
    for name in (MODEL_FILE, "model.pt"):
        if (run_dir / name).is_file():
            return run_dir / name
    raise CheckpointError(f"no checkpoint in {run_dir}: expected {MODEL_FILE}")


# ------------------------------------------------------------------------------- RNG
def capture_rng() -> dict[str, Any]:
    """RNG states of python, numpy (global) and torch (CPU and every CUDA device)."""
    np_state = cast(tuple[Any, ...], np.random.get_state(legacy=True))
    return {
        "python": random.getstate(),
        # numpy's state holds an ndarray; a list of ints stores as JSON.
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
