"""``python -m dslkit.train <command>``: one function per sub-command.

This module holds ``fit``, ``synth``, ``synth-scenes``, ``synth-traces`` and ``export-hf``; :mod:`dslkit.train.cli_probe` holds ``probe``,
``report``, ``repeat`` and ``demo``. Each exposes ``register(subparsers)`` and :func:`main` builds
the parser from both (:mod:`dslkit.cli`), so neither imports the other. To add a command, write
``_add_<name>(parser)`` and ``_run_<name>(args) -> int`` and list them in the module's
``register``. Toolkit errors print one clean message and exit with status 2; anything else is a
bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
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

    from dslkit.errors import ArtifactError

    config = load_config(args.config, args.overrides)

    def rows(key: str, path: str) -> PackedRows:
        try:
            return PackedRows.load(path)
        except ArtifactError as e:  # the message names the file and what is wrong with it
            raise ConfigError(f"config key {key!r}: {e}") from None

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


def _add_synth_scenes(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", type=Path, help="rows JSONL to write (prompt, target, split, content)")
    p.add_argument("--scenes", type=int, default=20000, help="scenes to draw (default 20000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--forms", default="block,row", help="target forms, comma-separated (default block,row)"
    )
    p.add_argument(
        "--max-components", type=int, default=7, help="top-level components per scene (default 7)"
    )
    p.add_argument(
        "--hidden-counts",
        default="3",
        help="top-level component counts only the hidden split has, comma-separated (default 3)",
    )
    p.add_argument("--qc", action="store_true", help="also run data QC (parse, compile, ...)")


def _run_synth_scenes(args: argparse.Namespace) -> int:
    from collections import Counter

    from dslkit.train.data import QcError, qc, write_jsonl
    from dslkit.train.synth import SynthSettings, leakage, split_counts, synth_scenes

    forms = tuple(f.strip() for f in args.forms.split(",") if f.strip())
    counts = tuple(int(c) for c in args.hidden_counts.split(",") if c.strip())
    rows = synth_scenes(
        SynthSettings(
            n_scenes=args.scenes,
            seed=args.seed,
            forms=forms,
            max_components=args.max_components,
            hidden_counts=counts,
        )
    )
    leaks = leakage(rows)
    if leaks:
        raise QcError(f"{len(leaks)} held-out rows leak into train:\n" + "\n".join(leaks[:10]))
    if args.qc:
        qc(rows).raise_if_failed()
    write_jsonl(rows, args.out)
    families = Counter(r.family for r in rows)
    print(
        f"wrote {args.out}: {len(rows)} rows over {len(families)} families "
        f"({min(families.values())}-{max(families.values())} per family); splits "
        + ", ".join(f"{k} {v}" for k, v in split_counts(rows).items())
        + "; leakage check: none"
        + ("; qc: ok" if args.qc else "")
    )
    return 0


def _add_synth_traces(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", type=Path, help="rows JSONL to write (question prompt, trace, answer)")
    p.add_argument("--rows", type=int, default=4000, help="problems to draw (default 4000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--hidden-numbers",
        type=int,
        nargs=2,
        metavar=("LO", "HI"),
        default=(130, 169),
        help="values only hidden rows use (default 130 169: three digits, as training's)",
    )
    p.add_argument(
        "--init-order",
        choices=("question", "role"),
        default="question",
        help="the trace's inits in the order the question states the numbers (default) or in "
        "each kind's role order",
    )
    p.add_argument(
        "--unknown-words",
        type=float,
        default=None,
        metavar="SHARE",
        help="share of training rows with made-up words in one sentence (default: the "
        "generator's, TraceSynthSettings.unknown_words = 0.25; 0: none)",
    )


def _run_synth_traces(args: argparse.Namespace) -> int:
    from dslkit.train.data import QcError, qc, write_jsonl
    from dslkit.train.synth import split_counts
    from dslkit.train.synth_traces import TraceSynthSettings, synth_traces, trace_leakage

    held = tuple(args.hidden_numbers)
    settings = TraceSynthSettings(
        n_rows=args.rows,
        seed=args.seed,
        hidden_numbers=held,
        init_order=args.init_order,
    )
    if args.unknown_words is not None:
        settings = dataclasses.replace(settings, unknown_words=args.unknown_words)
    rows = synth_traces(settings)
    leaks = trace_leakage(rows, held)
    if leaks:
        raise QcError(f"{len(leaks)} held-out rows leak into train:\n" + "\n".join(leaks[:10]))
    qc(rows, compile_scenes=False).raise_if_failed()  # every trace solves to its answer
    write_jsonl(rows, args.out)
    print(
        f"wrote {args.out}: {len(rows)} rows; splits "
        + ", ".join(f"{k} {v}" for k, v in split_counts(rows).items())
        + "; leakage check: none; qc: ok"
    )
    return 0


def _add_export_hf(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "source",
        type=Path,
        metavar="RUN_DIR",
        help="run folder (model.safetensors, tokenizer/) or a checkpoint file",
    )
    p.add_argument("out_dir", type=Path, help="folder to write the transformers model into")
    p.add_argument(
        "--tokenizer", type=Path, default=None, help="tokenizer folder (default: <run>/tokenizer)"
    )


def _run_export_hf(args: argparse.Namespace) -> int:
    from dslkit.train.hf_export import export_hf

    out = export_hf(args.source, args.out_dir, tokenizer_dir=args.tokenizer)
    # GPT2LMHeadModel or GPTNeoXForCausalLM (rotary), as save_pretrained recorded it
    arch = json.loads((out / "config.json").read_text(encoding="utf-8"))["architectures"][0]
    print(f"wrote {out} ({arch}: AutoModelForCausalLM.from_pretrained({str(out)!r}))")
    return 0


def register(sub: Any) -> None:
    """Add ``fit``, ``synth``, ``synth-scenes``, ``synth-traces`` and ``export-hf`` to ``sub`` (from ``add_subparsers``)."""
    for name, text, add_arguments, run in (
        ("fit", "train a model from a run config", _add_fit, _run_fit),
        (
            "synth",
            "write random prompt->target rows (no language) for smoke runs and benchmarks",
            _add_synth,
            _run_synth,
        ),
        (
            "synth-scenes",
            "write well-posed scene rows (skeleton prompts) with content-held-out splits",
            _add_synth_scenes,
            _run_synth_scenes,
        ),
        (
            "synth-traces",
            "write word-problem -> trace rows (hidden: held-out clause variants, variant combinations and an interior number range)",
            _add_synth_traces,
            _run_synth_traces,
        ),
        (
            "export-hf",
            "write a run as a transformers GPT2LMHeadModel (GPTNeoXForCausalLM when rotary) folder (needs dslkit[hf])",
            _add_export_hf,
            _run_export_hf,
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
