"""The training loop: one function, :func:`fit`, nanoGPT-sized.

It owns everything that makes a run reproducible: the data order (a seeded sampler that is a
pure function of its position, not global state), the schedule, checkpoints and the RNG states.
Under ``torchrun`` it trains with DistributedDataParallel: every process draws the same global
batch and keeps its own slice; only rank 0 writes logs and checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import torch
import torch.distributed as dist
from dslkit.train.checkpoint import (
    BEST_FILE,
    CKPT_FILE,
    MODEL_FILE,
    atomic_save,
    capture_rng,
    load_checkpoint,
    model_payload,
    restore_rng,
    save_model,
)
from dslkit.train.config import ConfigError, TrainConfig
from dslkit.train.metrics import exact_match, teacher_forced_exact
from dslkit.train.model import GPT, IGNORE_INDEX, resolve_device, resolve_dtype
from dslkit.train.packing import PackedRows, make_batch, make_packed_batch
from dslkit.train.schedule import EarlyStop, lr_at
from torch.nn.parallel import DistributedDataParallel

from dslkit._extras import require
from dslkit.errors import CheckpointError

__all__ = ["BatchSampler", "Evaluate", "FitResult", "build_optimizer", "dev_loss", "fit"]

# (model in eval mode, step) -> metrics; e.g. the probe's renderable rate and exact match.
Evaluate = Callable[[GPT, int], dict[str, float]]

STOP_REASONS = ("max_steps", "stop_at", "goal", "patience", "parse_drop")


@dataclass
class FitResult:
    """What a finished (or interrupted) :func:`fit` call produced."""

    model: GPT  # final weights, unwrapped from DDP, in eval mode
    step: int  # optimizer steps taken in total (including before a resume)
    stop_reason: str  # one of STOP_REASONS
    evals: list[dict[str, float]] = field(default_factory=list)  # one per eval, with "step"
    best_metric: float | None = None  # best value of the primary metric
    best_step: int = -1
    train_loss: float = math.nan  # mean loss over the last logging window
    tokens_per_s: float = math.nan  # input tokens per second of training (evals excluded)
    out_dir: Path | None = None  # where the checkpoints and log.jsonl went (rank 0)


class BatchSampler:
    """Seeded row order: epoch ``e`` visits the rows in ``permutation(seed, e)``.

    The order is a pure function of ``(seed, position)``, so the sampler's whole state is one
    integer and every DDP rank computes the same global batch without talking to the others.

    With ``lengths`` and ``bucket_batches = k`` the epoch's permutation is cut into pools of
    ``k`` batches, each pool is sorted by row length and cut into batches, and the batches are
    shuffled: a batch holds rows of similar length, so it pads to little more than its mean
    instead of to the longest of a random draw (skeleton scene rows: 1.6x fewer positions per
    step). Every row is still visited once per epoch.
    """

    def __init__(
        self,
        n_rows: int,
        seed: int,
        *,
        lengths: np.ndarray | None = None,
        batch: int = 0,
        bucket_batches: int = 0,
    ) -> None:
        if n_rows <= 0:
            raise ValueError("cannot sample batches from an empty dataset")
        if bucket_batches and (lengths is None or len(lengths) != n_rows or batch <= 0):
            raise ValueError("length buckets need one length per row and a batch size")
        self.n_rows = n_rows
        self.seed = seed
        self.position = 0  # rows handed out so far, across epochs
        self._lengths = lengths
        self._batch = batch
        self._bucket_batches = bucket_batches
        self._epoch = -1
        self._perm = np.empty(0, dtype=np.int64)

    def _permutation(self, epoch: int) -> np.ndarray:
        if epoch != self._epoch:
            rng = np.random.default_rng([self.seed, epoch])
            perm = rng.permutation(self.n_rows)
            if self._bucket_batches and self._lengths is not None:
                perm = self._bucketed(perm, rng)
            self._perm = perm
            self._epoch = epoch
        return self._perm

    def _bucketed(self, perm: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        assert self._lengths is not None
        pool = self._batch * self._bucket_batches
        batches: list[np.ndarray] = []
        for start in range(0, len(perm), pool):
            chunk = perm[start : start + pool]
            # stable sort: equal lengths keep their shuffled order
            chunk = chunk[np.argsort(self._lengths[chunk], kind="stable")]
            batches.extend(chunk[i : i + self._batch] for i in range(0, len(chunk), self._batch))
        order = rng.permutation(len(batches))
        return np.concatenate([batches[i] for i in order])

    def next(self, size: int) -> np.ndarray:
        """The next ``size`` row indices (crossing into the next epoch when needed)."""
        out = np.empty(size, dtype=np.int64)
        filled = 0
        while filled < size:
            epoch, offset = divmod(self.position, self.n_rows)
            take = min(size - filled, self.n_rows - offset)
            out[filled : filled + take] = self._permutation(epoch)[offset : offset + take]
            filled += take
            self.position += take
        return out

    def state_dict(self) -> dict[str, int]:
        return {"seed": self.seed, "n_rows": self.n_rows, "position": self.position}

    def load_state_dict(self, state: dict[str, int]) -> None:
        if state["seed"] != self.seed or state["n_rows"] != self.n_rows:
            raise ValueError("checkpoint was written for a different seed or dataset size")
        self.position = state["position"]


def build_optimizer(model: GPT, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on 2-D weights (matmuls, embeddings) only.

    Norm gains and biases are not decayed: shrinking them only fights the normalisation.

    Args:
        model: the model to optimise.
        config: supplies lr, betas and weight decay.

    Returns:
        The optimizer (two parameter groups: decayed, not decayed).
    """
    params = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    # The fused CUDA kernel is several times faster per step; CPU keeps the reference one.
    fused = model.device.type == "cuda"
    return torch.optim.AdamW(groups, lr=config.lr, betas=(config.beta1, config.beta2), fused=fused)


@dataclass(frozen=True)
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    owns_group: bool = False  # fit() initialised the process group and must tear it down

    @property
    def main(self) -> bool:
        return self.rank == 0


def _setup_distributed(config: TrainConfig) -> tuple[_Dist, torch.device]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return _Dist(), resolve_device(config.device)
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = resolve_device(config.device)
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return _Dist(rank, world, local_rank, owns), device


def _autocast(device: torch.device, dtype: str) -> contextlib.AbstractContextManager[Any]:
    if dtype == "bfloat16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def _batches(n_rows: int, batch_size: int, rank: int, world: int) -> Iterator[list[int]]:
    mine = list(range(rank, n_rows, world))
    for start in range(0, len(mine), batch_size):
        yield mine[start : start + batch_size]


@torch.no_grad()
def dev_loss(
    model: GPT,
    data: PackedRows,
    *,
    batch_size: int = 32,
    pad_id: int = 0,
    dtype: str = "float32",
) -> float:
    """Mean cross-entropy per target token over every row of ``data``.

    Under torchrun each process scores its share and the sums are all-reduced, so every rank
    gets the same number.

    Args:
        model: the unwrapped model.
        data: dev rows.
        batch_size: rows per forward pass.
        pad_id: padding id.
        dtype: "float32" or "bfloat16" (autocast), as in training.

    Returns:
        The token-weighted mean loss.
    """
    distributed = dist.is_available() and dist.is_initialized()
    rank, world = (dist.get_rank(), dist.get_world_size()) if distributed else (0, 1)
    was_training = model.training
    model.eval()
    total = torch.zeros(2, dtype=torch.float64, device=model.device)  # (loss sum, token count)
    for chunk in _batches(len(data), batch_size, rank, world):
        x, y = make_batch(data, chunk, pad_id)
        x, y = x.to(model.device), y.to(model.device)
        with _autocast(model.device, dtype):
            _, loss = model(x, y)
        assert loss is not None
        n = (y != IGNORE_INDEX).sum()
        total[0] += loss.double() * n
        total[1] += n
    if distributed:
        dist.all_reduce(total)
    model.train(was_training)
    return float(total[0] / total[1]) if total[1] > 0 else math.nan


class _Log:
    """JSONL run log (rank 0 only): one object per line, flushed so a crash loses nothing."""

    def __init__(self, path: Path | None) -> None:
        self.file: TextIO | None = None
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in fit()

    def write(self, event: str, **fields: Any) -> None:
        if self.file is not None:
            record = {"event": event, "time": round(time.time(), 3), **fields}
            self.file.write(json.dumps(record) + "\n")
            self.file.flush()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


def _check_data(config: TrainConfig, data: PackedRows, name: str, vocab_size: int) -> None:
    if data.vocab_size > vocab_size:
        raise ConfigError(
            f"{name} data uses a vocabulary of {data.vocab_size} ids but model.vocab_size is "
            f"{vocab_size}"
        )
    need = data.max_positions()
    if need > config.model.block_size:
        raise ConfigError(
            f"{name} data has rows needing {need} positions; raise model.block_size (now "
            f"{config.model.block_size}) or drop the long rows in data QC"
        )


def fit(
    config: TrainConfig,
    train_data: PackedRows,
    dev_data: PackedRows | None = None,
    *,
    evaluate: Evaluate | None = None,
    log_path: str | Path | None = None,
) -> FitResult:
    """Train a :class:`GPT` on packed rows.

    Args:
        config: the run config (``config.resume`` continues a full checkpoint).
        train_data: training rows.
        dev_data: dev rows for the dev loss (``dev_loss`` metric) and exact match on dev.
        evaluate: ``(model, step) -> metrics`` called on rank 0 at every eval; its metrics are
            logged and feed the early-stop gates (``primary_metric``, ``parse_metric``).
        log_path: the JSONL log; defaults to ``<out_dir>/log.jsonl``.

    Returns:
        A :class:`FitResult`. Rank 0 also leaves ``config.json``, ``log.jsonl``,
        ``model.safetensors`` (final weights), ``best.safetensors`` (best primary metric) and
        ``ckpt.safetensors`` (to resume) in ``config.out_dir``.

    Raises:
        CheckpointError: ``config.resume`` names a file that is missing, corrupt or does not
            fit the run.
    """
    ddp, device = _setup_distributed(config)
    try:
        result = _fit(config, train_data, dev_data, evaluate, log_path, ddp, device)
        if ddp.owns_group:
            # Tear down together: gloo can abort a process whose peer destroyed the group while
            # it was still inside its last collective.
            dist.barrier()
        return result
    finally:
        if ddp.owns_group:
            dist.destroy_process_group()


def _fit(
    config: TrainConfig,
    train_data: PackedRows,
    dev_data: PackedRows | None,
    evaluate: Evaluate | None,
    log_path: str | Path | None,
    ddp: _Dist,
    device: torch.device,
) -> FitResult:
    if config.num_threads:
        torch.set_num_threads(config.num_threads)
    vocab_size = config.model.vocab_size or train_data.vocab_size
    _check_data(config, train_data, "train", vocab_size)
    if dev_data is not None:
        _check_data(config, dev_data, "dev", vocab_size)
    if config.exact_match == "dev" and dev_data is None:
        raise ConfigError("config key 'exact_match' is 'dev' but there is no dev data")
    model_config = dataclasses.replace(config.model, vocab_size=vocab_size)
    if model_config.structure_size and not model_config.structure_opens:
        # structure indices count the tokenizer's element ids, which the packed rows carry
        if train_data.structure is None:
            raise ConfigError(
                "config key 'model.structure_size' needs element ids, but the training data "
                "carries none: pack it with an atomic scene tokenizer (dslkit.train.data.pack)"
            )
        ids = train_data.structure
        model_config = dataclasses.replace(
            model_config,
            structure_opens=ids["structure_opens"],
            structure_closes=ids["structure_closes"],
            structure_resets=ids["structure_resets"],
            structure_fields=ids["structure_fields"],
        )

    # Seed everything global too: the sampler does not need it, but init, dropout and any
    # user callback drawing from random/numpy do.
    random.seed(config.seed)
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    model = GPT(model_config).to(device)
    dtype = resolve_dtype(config.dtype, device)
    optimizer = build_optimizer(model, config)
    sampler = BatchSampler(
        len(train_data),
        config.seed,
        lengths=train_data.row_lengths(),
        batch=config.batch_size * ddp.world,
        bucket_batches=config.data.bucket_batches,
    )
    gates = EarlyStop(
        metric=config.primary_metric,
        mode=config.primary_mode,
        patience=config.patience,
        min_delta=config.min_delta,
        goal=config.goal,
        stop_on_parse_drop=config.stop_on_parse_drop,
        parse_metric=config.parse_metric,
    )
    step = 0
    evals: list[dict[str, float]] = []
    if config.resume:
        ckpt = load_checkpoint(config.resume)
        if ckpt["kind"] != "full":
            raise ConfigError(f"config key 'resume': {config.resume} is not a full checkpoint")
        if ckpt["config"] != dataclasses.asdict(model_config):
            raise ConfigError(f"config key 'resume': {config.resume} has a different model shape")
        try:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            sampler.load_state_dict(ckpt["sampler"])
            gates.load_state_dict(ckpt["early_stop"])
            evals = list(ckpt["evals"])
            step = int(ckpt["step"])
            restore_rng(ckpt["rng"])  # last: building the model above drew from the generators
        except (RuntimeError, ValueError, KeyError, TypeError, IndexError) as exc:
            # The file passed its checksum, so it was written like this: a payload from another
            # dslkit version or hand-assembled, not disk corruption. Name it, not a traceback.
            detail = " ".join(str(exc).split())[:300]
            raise CheckpointError(
                f"cannot resume from {config.resume}: its training state does not fit this "
                f"run ({type(exc).__name__}: {detail})"
            ) from None

    train_model: torch.nn.Module = model
    if ddp.world > 1:
        train_model = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )

    out_dir = Path(config.out_dir)
    log = _Log(Path(log_path) if log_path else out_dir / "log.jsonl") if ddp.main else _Log(None)
    if ddp.main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=2) + "\n")
        log.write(
            "start",
            step=step,
            params=model.num_params(),
            device=str(device),
            dtype=dtype,
            world_size=ddp.world,
            train_rows=len(train_data),
            dev_rows=len(dev_data) if dev_data is not None else 0,
            config=config.to_dict(),
        )

    end_step = min(config.stop_at, config.max_steps) if config.stop_at else config.max_steps
    show_bar = ddp.main and not config.quiet and sys.stderr.isatty()
    bar = _progress(total=end_step, initial=step, disable=not show_bar)

    def run_eval() -> str | None:
        metrics: dict[str, float] = {}
        if dev_data is not None:
            metrics["dev_loss"] = dev_loss(
                model,
                dev_data,
                batch_size=config.batch_size,
                pad_id=config.data.pad_id,
                dtype=dtype,
            )
        if ddp.main:  # generation-based metrics: rank 0 only, then shared
            model.eval()
            if config.exact_match:
                rows_data = train_data if config.exact_match == "train" else dev_data
                assert rows_data is not None
                em_rows = range(min(len(rows_data), config.exact_match_rows))
                if config.exact_match_decode == "teacher_forced":
                    em = teacher_forced_exact(
                        model, rows_data, rows=em_rows, pad_id=config.data.pad_id
                    )
                else:
                    em = exact_match(
                        model,
                        rows_data,
                        rows=em_rows,
                        stop_ids=config.stop_ids,
                        max_new_tokens=config.max_new_tokens,
                    )
                metrics.update({f"{config.exact_match}_{k}": v for k, v in em.items()})
            if evaluate is not None:
                metrics.update({k: float(v) for k, v in evaluate(model, step).items()})
            model.train()
        if ddp.world > 1:
            # Every rank takes the same gate decisions from the same metrics, so they all stop
            # at the same step (a rank that stopped alone would leave the others hanging).
            shared = [metrics]
            dist.broadcast_object_list(shared, src=0)
            metrics = shared[0]
        improved, reason = gates.update(step, metrics)
        evals.append({"step": step, **metrics})
        log.write("eval", step=step, **metrics)
        if improved and ddp.main:
            save_model(model, out_dir / BEST_FILE)
        return reason

    def save_full() -> None:
        payload = model_payload(model)
        payload.update(
            kind="full",
            step=step,
            optimizer=optimizer.state_dict(),
            sampler=sampler.state_dict(),
            early_stop=gates.state_dict(),
            evals=evals,
            rng=capture_rng(),
            train_config=config.to_dict(),
        )
        atomic_save(payload, out_dir / CKPT_FILE)

    model.train()
    stop_reason = "max_steps" if end_step == config.max_steps else "stop_at"
    last_loss = math.nan
    started = window_start = time.perf_counter()
    paused = 0.0  # seconds spent in evals and checkpoints: not training throughput
    tokens_total = tokens_window = 0
    loss_window = torch.zeros((), device=device)  # summed on device: no sync per step
    steps_window = 0
    global_batch = config.batch_size * ddp.world
    row_lengths = train_data.row_lengths()
    try:
        while step < end_step:
            lr = lr_at(
                step,
                lr=config.lr,
                min_lr=config.min_lr,
                warmup_steps=config.warmup_steps,
                max_steps=config.max_steps,
            )
            for group in optimizer.param_groups:
                group["lr"] = lr
            # Every rank draws the same global batch and keeps rows rank, rank+world, ...
            global_rows = sampler.next(global_batch)
            rows = global_rows[ddp.rank :: ddp.world]
            packed: dict[str, torch.Tensor] = {}
            if config.data.pack_width:
                pb = make_packed_batch(train_data, rows, config.data.pack_width, config.data.pad_id)
                x, y = pb.x, pb.y
                packed = {"positions": pb.positions.to(device), "segments": pb.segments.to(device)}
            else:
                x, y = make_batch(train_data, rows, config.data.pad_id)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with _autocast(device, dtype):
                _, loss = train_model(x, y, **packed)
            assert loss is not None
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
            optimizer.step()
            step += 1
            # Real (unpadded) input positions, all ranks together.
            n_tokens = int(row_lengths[global_rows].sum()) - len(global_rows)
            tokens_total += n_tokens
            tokens_window += n_tokens
            loss_window += loss.detach().float()
            steps_window += 1
            bar.update(1)

            if step % config.log_every == 0 or step == end_step:
                last_loss = float(loss_window.item()) / steps_window  # mean over the window
                now = time.perf_counter()
                tps = tokens_window / max(now - window_start, 1e-9)
                log.write("train", step=step, loss=last_loss, lr=lr, tokens_per_s=round(tps, 1))
                bar.set_postfix(loss=f"{last_loss:.4f}", lr=f"{lr:.2e}", tok_s=f"{tps:,.0f}")
                window_start, tokens_window, steps_window = now, 0, 0
                loss_window.zero_()

            pause_start = time.perf_counter()

            final = step == config.max_steps
            due = config.eval_every and step % config.eval_every == 0
            reason = run_eval() if (due or final) else None
            if reason:
                stop_reason = reason
            if ddp.main and (
                reason
                or step == end_step
                or (config.ckpt_every and step % config.ckpt_every == 0)
                or (not config.ckpt_every and due)
            ):
                save_full()
            pause = time.perf_counter() - pause_start
            paused += pause
            window_start += pause
            if reason:
                break
    finally:
        bar.close()

    elapsed = time.perf_counter() - started
    tps_all = tokens_total / (elapsed - paused) if elapsed > paused else math.nan
    model.eval()
    if ddp.main:
        save_model(model, out_dir / MODEL_FILE)
        log.write(
            "end",
            step=step,
            stop_reason=stop_reason,
            train_loss=last_loss,
            tokens_per_s=round(tps_all, 1),
            elapsed_s=round(elapsed, 3),
            eval_s=round(paused, 3),
            best_metric=gates.best,
            best_step=gates.best_step,
        )
    log.close()
    return FitResult(
        model=model,
        step=step,
        stop_reason=stop_reason,
        evals=evals,
        best_metric=gates.best,
        best_step=gates.best_step,
        train_loss=last_loss,
        tokens_per_s=tps_all,
        out_dir=out_dir if ddp.main else None,
    )


def _progress(total: int, initial: int, disable: bool) -> Any:
    """A tqdm bar; imported here so ``import dslkit.train`` stays light."""
    require("tqdm", extra="train", feature="the training progress bar")
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=disable, unit="step", dynamic_ncols=True)
