"""``python -m dslkit.train <command>``: one function per sub-command.

This module holds ``fit`` and ``synth``; :mod:`dslkit.train.cli_probe` holds ``probe``,
``report``, ``repeat`` and ``demo``. Each exposes ``register(subparsers)`` and :func:`main` builds
the parser from both (:mod:`dslkit.cli`), so neither imports the other. To add a command, write
``_add_<name>(parser)`` and ``_run_<name>(args) -> int`` and list them in the module's
``register``. Toolkit errors print one clean message and exit with status 2; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import dslkit.cli
from dslkit.errors import DslkitError

__all__ = ["build_parser", "main", "register"]

# command modules of this CLI, each with register(subparsers); see dslkit.cli
_COMMANDS = ("dslkit.train.cli", "dslkit.train.cli_probe")


def _add_fit(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", type=Path, help="run config (.toml or .json)")
    p.add_argument(
        "overrides",
        nargs=argparse.REMAINDER,
        metavar="--key=value",
        help="config overrides checked against the declared types, e.g. --model.n_layer=2",
    )


def _run_fit(args: argparse.Namespace) -> int:
    # Imported here: `python -m dslkit.train --help` should not pay for importing torch.
    from dslkit.train.config import ConfigError, load_config
    from dslkit.train.loop import fit
    from dslkit.train.packing import PackedRows

    config = load_config(args.config, args.overrides)

    def rows(key: str, path: str) -> PackedRows:
        try:
            return PackedRows.load(path)
        except (OSError, ValueError, KeyError) as e:
            raise ConfigError(
                f"config key {key!r}: cannot load packed rows from {path}: {e}"
            ) from e

    if not config.data.train:
        raise ConfigError("config key 'data.train' is empty: point it at a packed .npz file")
    train_rows = rows("data.train", config.data.train)
    dev_rows = rows("data.dev", config.data.dev) if config.data.dev else None
    result = fit(config, train_rows, dev_rows)
    if int(os.environ.get("RANK", "0")) == 0:
        last = result.evals[-1] if result.evals else {}
        metrics = " ".join(f"{k}={v:.4g}" for k, v in last.items() if k != "step")
        print(
            f"step {result.step} stop={result.stop_reason} params={result.model.num_params():,} "
            f"train_loss={result.train_loss:.4f} tokens/s={result.tokens_per_s:,.0f}"
            + (f" | eval@{last['step']:.0f} {metrics}" if last else "")
        )
        print(f"wrote {result.out_dir}")
    return 0


def _add_synth(p: argparse.ArgumentParser) -> None:
    p.add_argument("out_dir", type=Path, help="writes train.npz and dev.npz here")
    p.add_argument("--rows", type=int, default=20, help="training rows (default 20)")
    p.add_argument("--dev-rows", type=int, default=8, help="dev rows (default 8)")
    p.add_argument("--vocab", type=int, default=32, help="vocabulary size (default 32)")
    p.add_argument("--seed", type=int, default=0)


def _run_synth(args: argparse.Namespace) -> int:
    from dslkit.train.packing import synthetic_rows

    train_path = synthetic_rows(args.rows, args.vocab, seed=args.seed).save(
        args.out_dir / "train.npz"
    )
    dev_path = synthetic_rows(args.dev_rows, args.vocab, seed=args.seed + 1).save(
        args.out_dir / "dev.npz"
    )
    print(f"wrote {train_path} ({args.rows} rows) and {dev_path} ({args.dev_rows} rows)")
    return 0


def register(sub: Any) -> None:
    """Add ``fit`` and ``synth`` to ``sub`` (from ``add_subparsers``)."""
    for name, text, add_arguments, run in (
        ("fit", "train a model from a run config", _add_fit, _run_fit),
        (
            "synth",
            "write random prompt->target rows (no language) for smoke runs and benchmarks",
            _add_synth,
            _run_synth,
        ),
    ):
        p = sub.add_parser(name, help=text, description=text)
        add_arguments(p)
        p.set_defaults(func=run)


def build_parser() -> argparse.ArgumentParser:
    """The ``python -m dslkit.train`` parser: this module's commands, then cli_probe's."""
    return dslkit.cli.build_parser(
        "python -m dslkit.train", "dslkit training: fit small models on packed rows.", _COMMANDS
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run a sub-command.

    Args:
        argv: arguments without the program name (default ``sys.argv[1:]``).

    Returns:
        The exit status: 0 on success, 2 on a toolkit error (config, data) or bad usage.
    """
    parser = build_parser()
    # argparse's REMAINDER does not take "--key=value" when nothing positional comes first
    # (``python -m dslkit.train demo --max_steps=50``), so route leftover overrides explicitly.
    args, extra = parser.parse_known_args(argv)
    if extra:
        if not hasattr(args, "overrides") or not all(
            a.startswith("--") and "=" in a for a in extra
        ):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.overrides = [*(args.overrides or []), *extra]
    try:
        return int(args.func(args))
    except DslkitError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
