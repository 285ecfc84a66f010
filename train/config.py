"""Run configuration: one dataclass, read from TOML or JSON, overridden by ``--key=value``.

Every key is declared with a type. A typo (``--model.n_layr=4``) or a wrong type
(``--batch_size=lots``) is a :class:`ConfigError` naming the key, never a silently ignored setting:
a run that trained with a different config than the one written down is worse than no run.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, get_args, get_origin, get_type_hints

from dslkit.train.model import GPTConfig, resolve_device, resolve_dtype

from dslkit.errors import DslkitError

try:  # stdlib from 3.11; on 3.10 configs are JSON
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - exercised on 3.10 only
    tomllib = None

__all__ = [
    "AXES",
    "ConfigError",
    "DataConfig",
    "TrainConfig",
    "config_from_dict",
    "load_config",
    "parse_overrides",
]

# The experiment axes of DESIGN.md "Train": a run changes one and holds the others constant.
AXES = ("dsl", "compiler", "data", "tokenizer", "budget", "capacity")


class ConfigError(DslkitError):
    """A run configuration is unreadable, names an unknown key or gives a value of the wrong type."""


@dataclass(frozen=True)
class DataConfig:
    """Where the packed rows live (``.npz`` files from :mod:`dslkit.train.packing`)."""

    train: str = ""  # training rows; relative paths are relative to the working directory
    dev: str = ""  # dev rows for dev loss and early stopping; "" trains without a dev set
    pad_id: int = 0  # id written into padded input positions (they carry no loss)
    # Batch rows of similar length: sort pools of this many batches by row length (0: plain
    # shuffle). Padding to the longest row of a random batch wastes ~40% of the positions when
    # row lengths vary as scene rows do; see dslkit.train.loop.BatchSampler. Steps get faster
    # but each learns less (a batch of similar rows is less varied): on the demo's 20000 row-form
    # scenes, 6000 bucketed steps (pools of 64) ended at dev loss 0.029 and hidden exact 68%,
    # 3500 plain steps in a similar wall time at 0.023 and 78%; the demo does not bucket.
    bucket_batches: int = 0
    # Pack each batch's rows into sequences of this many positions, rows side by side, each
    # attending only to itself (0: pad every row to the batch's longest). Same rows, same loss,
    # none of the ~40% padding (dslkit.train.packing.make_packed_batch); the masked attention
    # costs some of it back: on the demo's rows 1.06x real tokens/s at 2 quiet threads, 1.48x at
    # one thread on a loaded machine (benchmarks/train_step.py --rows).
    pack_width: int = 0


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a training run. Two runs with equal configs and data are equal."""

    # model.vocab_size = 0 takes the vocabulary size stored in the training data.
    model: GPTConfig = field(default_factory=GPTConfig)
    data: DataConfig = field(default_factory=DataConfig)

    # --- optimisation ---
    batch_size: int = 32  # rows per step per process (a torchrun job steps world_size x this)
    lr: float = 1e-3  # peak learning rate, reached at the end of warmup
    min_lr: float = 1e-4  # cosine decay ends here at max_steps (~lr/10, Chinchilla)
    warmup_steps: int = 100  # linear ramp: AdamW's moment estimates are noisy at first
    max_steps: int = 2000  # the schedule's length; the run may stop earlier (gates, stop_at)
    weight_decay: float = 0.1  # applied to 2-D weights only; norms and biases are not shrunk
    beta1: float = 0.9
    beta2: float = 0.95  # nanoGPT's choice for small batches: reacts faster than 0.999
    grad_clip: float = 1.0  # clip the global gradient norm; 0 disables

    # --- evaluation, logging, checkpoints ---
    eval_every: int = 200  # steps between evals (dev loss + metrics); 0 evaluates only at the end
    log_every: int = 10  # steps between "train" records in the JSONL log
    ckpt_every: int = 0  # steps between full checkpoints; 0 writes one at every eval and the end
    # Greedy exact match as a metric: "train" (memorisation gate), "dev", or "" for none.
    exact_match: Literal["", "train", "dev"] = ""
    exact_match_rows: int = 256  # evaluate on at most this many rows (the first ones)
    # "teacher_forced" scores greedy exact match in one forward pass per batch (equivalent to
    # decoding, see train.metrics.teacher_forced_exact) -- hundreds of times cheaper than
    # "greedy", which decodes token by token and also reports budget_hit.
    exact_match_decode: Literal["teacher_forced", "greedy"] = "teacher_forced"
    stop_ids: tuple[int, ...] = ()  # generation ends after one of these (end marker, EOS)
    max_new_tokens: int = 0  # generation budget; 0 uses the longest target in the evaluated rows

    # --- early stopping ---
    primary_metric: str = "dev_loss"  # the metric patience and goal watch
    primary_mode: Literal["min", "max"] = "min"  # whether smaller or larger is better
    patience: int = 0  # stop after this many evals without improvement; 0 disables
    min_delta: float = 0.0  # an improvement must beat the best by more than this
    goal: float | None = None  # stop as soon as the primary metric reaches this value
    stop_on_parse_drop: bool = False  # stop when parse_metric drops on two consecutive evals
    parse_metric: str = "renderable_rate"  # name of the renderable/parse rate metric

    # --- run discipline (DESIGN.md: one primary axis, the rest held constant) ---
    primary_axis: str = ""  # one of AXES, or "" when the run is not part of a comparison
    held_constant: tuple[str, ...] = ()  # axes this run keeps equal to its baseline

    # --- runtime ---
    seed: int = 0  # fixes init, data order, dropout and sampling
    device: str = "auto"  # "auto" | "cpu" | "cuda" | "cuda:N"
    # bfloat16 = autocast on the forward pass; "auto" = bfloat16 where the device multiplies it
    # natively (dslkit.train.model.resolve_dtype), else float32
    dtype: Literal["float32", "bfloat16", "auto"] = "float32"
    num_threads: int = 0  # torch intra-op threads; 0 leaves torch's default
    # log.jsonl, model.safetensors, best.safetensors, ckpt.safetensors, config.json
    out_dir: str = "runs/default"
    resume: str = ""  # path of a ckpt.safetensors (or legacy ckpt.pt) to continue from
    stop_at: int = 0  # end this invocation after this step (0: max_steps); resume continues it
    quiet: bool = False  # no progress bar

    def __post_init__(self) -> None:
        positive = ("batch_size", "max_steps", "log_every", "exact_match_rows")
        for name in positive:
            if getattr(self, name) <= 0:
                raise ConfigError(
                    f"config key {name!r} must be positive, got {getattr(self, name)}"
                )
        non_negative = (
            "warmup_steps",
            "eval_every",
            "ckpt_every",
            "patience",
            "num_threads",
            "stop_at",
            "max_new_tokens",
            "grad_clip",
            "weight_decay",
            "min_delta",
        )
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ConfigError(f"config key {name!r} must be >= 0, got {getattr(self, name)}")
        for key in ("bucket_batches", "pack_width"):
            if getattr(self.data, key) < 0:
                raise ConfigError(
                    f"config key 'data.{key}' must be >= 0, got {getattr(self.data, key)}"
                )
        if self.data.pack_width > self.model.block_size:
            raise ConfigError(
                f"config key 'data.pack_width' ({self.data.pack_width}) exceeds model.block_size "
                f"({self.model.block_size})"
            )
        if self.lr <= 0.0:
            raise ConfigError(f"config key 'lr' must be positive, got {self.lr}")
        if not 0.0 <= self.min_lr <= self.lr:
            raise ConfigError(f"config key 'min_lr' must lie in [0, lr], got {self.min_lr}")
        if self.warmup_steps > self.max_steps:
            raise ConfigError("config key 'warmup_steps' must not exceed max_steps")
        for axis in (self.primary_axis, *self.held_constant):
            if axis and axis not in AXES:
                raise ConfigError(
                    f"unknown axis {axis!r} in primary_axis/held_constant: use {AXES}"
                )
        if self.primary_axis and self.primary_axis in self.held_constant:
            raise ConfigError(f"primary_axis {self.primary_axis!r} cannot also be held constant")

    def describe(self) -> str:
        """The run in one line, as progress output shows it: "2 layers x 128 wide, 6000 steps
        of 16 rows (bfloat16)" (the dtype as resolved on this machine)."""
        dtype = resolve_dtype(self.dtype, resolve_device(self.device))
        return (
            f"{self.model.n_layer} layers x {self.model.n_embd} wide, {self.max_steps} steps "
            f"of {self.batch_size} rows ({dtype})"
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict that :func:`config_from_dict` turns back into an equal config."""
        return _jsonable(dataclasses.asdict(self))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


class _Raw(str):
    """A value typed on the command line: still text, to be converted to the declared type."""


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def _convert(key: str, value: Any, tp: Any) -> Any:
    """Check (file values) or convert (command-line text) ``value`` against the type ``tp``."""
    raw = isinstance(value, _Raw)
    origin = get_origin(tp)

    def bad(expected: str) -> ConfigError:
        return ConfigError(f"config key {key!r}: expected {expected}, got {value!r}")

    if origin in (typing.Union, types.UnionType):
        options = get_args(tp)
        if type(None) in options and (value is None or (raw and value.lower() in ("none", "null"))):
            return None
        (inner,) = [t for t in options if t is not type(None)]
        return _convert(key, value, inner)
    if origin is Literal:
        choices = get_args(tp)
        if value not in choices:
            raise bad("one of " + ", ".join(repr(c) for c in choices))
        return str(value)
    if origin is tuple:
        (elem, _ellipsis) = get_args(tp)
        if raw:
            text = value.strip()
            if text.startswith("["):
                try:
                    items = json.loads(text)
                except json.JSONDecodeError as e:
                    raise bad("a JSON list or comma-separated values") from e
                items = [_Raw(x) if isinstance(x, str) else x for x in items]
            else:
                items = [_Raw(x.strip()) for x in text.split(",") if x.strip()]
        elif isinstance(value, (list, tuple)):
            items = list(value)
        else:
            raise bad("a list")
        return tuple(_convert(f"{key}[{i}]", x, elem) for i, x in enumerate(items))
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"config key {key!r} is a section: set its fields as {key}.<name>")
        return config_from_dict(tp, value, prefix=f"{key}.")
    if tp is bool:
        if raw:
            if value.lower() in _TRUE:
                return True
            if value.lower() in _FALSE:
                return False
        elif isinstance(value, bool):
            return value
        raise bad("a boolean (true/false)")
    if tp is int:
        if raw:
            try:
                return int(value)
            except ValueError:
                raise bad("an integer") from None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise bad("an integer")
    if tp is float:
        if raw:
            try:
                return float(value)
            except ValueError:
                raise bad("a number") from None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise bad("a number")
    if tp is str:
        if isinstance(value, str):
            return str(value)
        raise bad("a string")
    raise ConfigError(f"config key {key!r} has an unsupported declared type {tp!r}")


T = typing.TypeVar("T")


def config_from_dict(cls: type[T], data: Mapping[str, Any], *, prefix: str = "") -> T:
    """Build the dataclass ``cls`` from a nested dict, checking every key and type.

    Args:
        cls: a config dataclass (``TrainConfig``, ``GPTConfig``, ``DataConfig``).
        data: nested mapping; missing keys keep their defaults.
        prefix: dotted path of ``data`` inside the whole config, for error messages.

    Returns:
        The config instance.

    Raises:
        ConfigError: an unknown key, a value of the wrong type or an invalid combination.
    """
    hints = get_type_hints(cls)
    declared = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - declared)
    if unknown:
        raise ConfigError(
            f"unknown config key {prefix + unknown[0]!r}"
            + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else "")
        )
    kwargs = {name: _convert(prefix + name, value, hints[name]) for name, value in data.items()}
    try:
        return cls(**kwargs)
    except ConfigError:
        raise
    except (ValueError, TypeError) as e:
        raise ConfigError(
            f"invalid config section {prefix.rstrip('.') or 'top level'!r}: {e}"
        ) from e


def parse_overrides(args: Sequence[str]) -> dict[str, Any]:
    """Turn ``["--lr=3e-4", "--model.n_layer=2"]`` into a nested dict of raw values.

    Args:
        args: ``--key=value`` strings; dotted keys address nested sections.

    Returns:
        ``{"lr": "3e-4", "model": {"n_layer": "2"}}`` (values are converted later, against the
        declared types, by :func:`config_from_dict`).
    """
    out: dict[str, Any] = {}
    for arg in args:
        if not arg.startswith("--") or "=" not in arg:
            raise ConfigError(f"override {arg!r} must look like --key=value")
        key, value = arg[2:].split("=", 1)
        parts = key.split(".")
        if not all(parts):
            raise ConfigError(f"override {arg!r} has an empty key")
        node = out
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"config key {part!r} is set twice, as a value and a section")
            node = child
        node[parts[-1]] = _Raw(value)
    return out


def _merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def load_config(
    path: str | Path | None = None, overrides: Sequence[str] | Mapping[str, Any] = ()
) -> TrainConfig:
    """Read a run config from a TOML or JSON file and apply overrides.

    Args:
        path: ``.toml`` (Python >= 3.11) or ``.json`` file; ``None`` starts from the defaults.
        overrides: ``--key=value`` strings, or an already nested dict of values.

    Returns:
        The checked :class:`TrainConfig`.

    Raises:
        ConfigError: unreadable file, unknown key or wrong type (the message names the key).
    """
    data: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"cannot read config {path}: {e}") from e
        try:
            if path.suffix == ".toml":
                if tomllib is None:
                    raise ConfigError(f"{path}: TOML configs need Python 3.11+; use a .json config")
                data = tomllib.loads(text)
            elif path.suffix == ".json":
                data = json.loads(text)
            else:
                raise ConfigError(f"{path}: config files are .toml or .json")
        except (ValueError, TypeError) as e:  # TOMLDecodeError and JSONDecodeError are ValueErrors
            raise ConfigError(f"{path}: {e}") from e
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: a config file must hold a table/object at the top")
    extra = parse_overrides(overrides) if not isinstance(overrides, Mapping) else overrides
    return config_from_dict(TrainConfig, _merge(data, extra))
