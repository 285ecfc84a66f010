"""``python -m dslkit.tokenizer build|lint|budget|encode``.

Exit status: 0 success, 1 lint found errors, 2 bad input (a toolkit error printed with its code).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

import dslkit.cli
from dslkit import jsonio
from dslkit.errors import DslkitError

__all__ = ["build_parser", "main", "register"]

# command modules of this CLI, each with register(subparsers); see dslkit.cli
_COMMANDS = ("dslkit.tokenizer.cli",)


def register(sub: Any) -> None:
    """Add ``build``, ``lint``, ``budget`` and ``encode`` to ``sub`` (from ``add_subparsers``)."""
    from dslkit.tokenizer.build import DEFAULT_VOCAB_SIZE
    from dslkit.tokenizer.reserved import GRANULARITIES, LANGUAGES

    b = sub.add_parser("build", help="train a tokenizer and save it to a directory")
    b.add_argument("--language", choices=LANGUAGES, default="scene")
    b.add_argument("--granularity", choices=GRANULARITIES, default="atomic")
    b.add_argument(
        "--space-led",
        action="store_true",
        help="also reserve ' [tag]' beside each '[tag]' (scene, atomic): inline scenes cost "
        "one id per grammar piece instead of two",
    )
    b.add_argument(
        "--path-names",
        action="store_true",
        help="also reserve the content keys of content paths (component names, ref keys) as "
        "whole words (scene, atomic)",
    )
    b.add_argument(
        "--corpus",
        nargs="*",
        default=[],
        metavar="FILE",
        help=".dsl/.trace/text files or .jsonl rows (prompt/target/text); default: the gold pack "
        "plus generated programs",
    )
    b.add_argument("--vocab-size", type=int, default=DEFAULT_VOCAB_SIZE)
    b.add_argument("--contract", default="v1", help="scene contract name or path")
    b.add_argument(
        "--generated", type=int, default=2000, help="generated programs in the default corpus"
    )
    b.add_argument("--seed", type=int, default=0)
    b.add_argument("--out", required=True, metavar="DIR")
    b.set_defaults(func=_build)

    lint = sub.add_parser(
        "lint", help="check a saved tokenizer against the contracts (exit 1 on errors)"
    )
    lint.add_argument("dir")
    lint.add_argument("--contract", default="v1")
    lint.add_argument("--json", action="store_true")
    lint.set_defaults(func=_lint)

    bud = sub.add_parser(
        "budget", help="token counts of prompt/target rows against a context length"
    )
    bud.add_argument("dir")
    bud.add_argument("--rows", required=True, metavar="ROWS.jsonl")
    bud.add_argument("--ctx", type=int, required=True)
    bud.add_argument("--json", action="store_true")
    bud.set_defaults(func=_budget)

    enc = sub.add_parser("encode", help="show how a text splits into tokens")
    enc.add_argument("dir")
    enc.add_argument("text", help="the text (use $'..' for newlines), or - to read stdin")
    enc.add_argument("--json", action="store_true")
    enc.set_defaults(func=_encode)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m dslkit.tokenizer`` (commands from :func:`register`)."""
    return dslkit.cli.build_parser("python -m dslkit.tokenizer", __doc__ or "", _COMMANDS)


def _build(args: argparse.Namespace) -> int:
    from dslkit.tokenizer.build import build
    from dslkit.tokenizer.corpus import default_corpus, read_corpus

    t0 = time.perf_counter()
    texts = (
        read_corpus(args.corpus)
        if args.corpus
        else default_corpus(args.language, n_generated=args.generated, seed=args.seed)
    )
    tok = build(
        args.language,
        contract=args.contract,
        corpus=texts,
        vocab_size=args.vocab_size,
        granularity=args.granularity,
        space_led=args.space_led,
        path_names=args.path_names,
    )
    out = tok.save(args.out)
    print(
        f"built {tok.meta.language}/{tok.meta.granularity} tokenizer: {tok.vocab_size} ids "
        f"({len(tok.meta.reserved)} reserved) from {len(texts)} texts in "
        f"{time.perf_counter() - t0:.2f}s -> {out}"
    )
    return 0


def _lint(args: argparse.Namespace) -> int:
    from dslkit.tokenizer.lint import lint
    from dslkit.tokenizer.model import load

    report = lint(load(args.dir), args.contract)
    print(json.dumps(report.to_dict(), indent=1) if args.json else report.format())
    return 0 if report.ok else 1


def _budget(args: argparse.Namespace) -> int:
    from dslkit.tokenizer.budget import budget
    from dslkit.tokenizer.corpus import read_rows
    from dslkit.tokenizer.model import load

    report = budget(load(args.dir), read_rows(args.rows), args.ctx)
    print(json.dumps(report.summary()) if args.json else report.format())
    return 0


def _encode(args: argparse.Namespace) -> int:
    from dslkit.tokenizer.model import load

    tok = load(args.dir)
    # stdin as bytes through the toolkit's reader: not UTF-8 is a J001 toolkit error (exit 2)
    text = jsonio.read_text("-") if args.text == "-" else args.text
    reserved = set(tok.reserved_ids.values())
    special = set(tok.special_ids.values())
    pairs = tok.tokens(text)
    kinds = [
        "special" if i in special else "reserved" if i in reserved else "learned" for i, _ in pairs
    ]
    if args.json:
        rows = [{"id": i, "text": s, "kind": k} for (i, s), k in zip(pairs, kinds, strict=True)]
        print(json.dumps({"tokens": rows, "count": len(pairs)}, ensure_ascii=False))
        return 0
    # The text with a bar at every token boundary, then one token per line.
    print("│".join(s for _, s in pairs).replace("\n", "⏎\n"))
    print(f"\n{len(pairs)} tokens ({tok.meta.language}/{tok.meta.granularity})")
    for (i, s), k in zip(pairs, kinds, strict=True):
        print(f"{i:>7}  {k:<8}  {s!r}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DslkitError as exc:
        print(str(exc), file=sys.stderr)
        return 2
