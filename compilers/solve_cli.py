"""Trace sub-commands of ``python -m dslkit.compilers``: solve one trace, verify a GSM8K split.

    python -m dslkit.compilers solve FILE [--expected N] [--expert NAME] [--json]
    python -m dslkit.compilers gsm8k PATH.jsonl [--out T.jsonl] [--report R.json] [--limit N]

``gsm8k`` is the trace language's conversion (``python -m trace_dsl gsm8k``) with every
converted trace checked by the solver; it lives here because the language never imports it.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from dslkit import jsonio
from dslkit.errors import InputError
from trace_dsl.cli import register_gsm8k_arguments, run_gsm8k

__all__ = ["register"]


def _load(path: str) -> Any:
    """Text or JSON trace; '-' reads stdin. JSON is recognised by its first character.

    Raises:
        InputError: the input cannot be read, is not UTF-8, or is JSON nested too deep or
            holding numbers JSON cannot carry (the toolkit's one JSON reader).
    """
    text = jsonio.read_text(path)
    if text.lstrip()[:1] in ("{", "["):
        try:
            return jsonio.loads(text, source=path)
        except InputError as exc:
            if exc.code != "J101":
                raise
            return text  # not JSON: the trace parser reports a positioned error
    return text


def _solve(args: argparse.Namespace) -> int:
    from .trace_solver import Status, verify

    try:
        trace = _load(args.file)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        v = verify(trace, args.expected, expected_expert=args.expert)
    except ValueError as exc:
        print(f"--expected: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(v.to_dict()))
    else:
        answer = v.answer
        shown = "-" if answer is None else str(answer)
        if answer is not None and not isinstance(answer, int):
            shown += f" (~{float(answer):.6g})"
        print(f"{v.status.value}: answer {shown}, reward {v.reward}")
        if v.error is not None:
            e = v.error
            where = f" (block {e.block}, step {e.step})" if e.step is not None else ""
            pos = f" @ {e.line}:{e.column}" if e.line else ""
            print(f"  {e.code} {e.name}{pos}{where}: {e.message}", file=sys.stderr)
    return 0 if v.status in (Status.SOLVED, Status.CORRECT) else 1


def _gsm8k(args: argparse.Namespace) -> int:
    # The conversion belongs to the trace language; checking what it converted is the solver's.
    from .trace_solver import verify

    return run_gsm8k(args, verify=lambda text, answer: verify(text, answer).status.value)


def register(subparsers: Any) -> None:
    """Add the ``solve`` and ``gsm8k`` sub-commands to ``python -m dslkit.compilers``."""
    p = subparsers.add_parser("solve", help="solve a trace exactly (text or JSON; '-' reads stdin)")
    p.add_argument("file", metavar="FILE")
    p.add_argument("--expected", help="expected answer (a number)")
    p.add_argument("--expert", help="expected expert name")
    p.add_argument(
        "--json", action="store_true", help="print {status, answer, reward, expert, error}"
    )
    p.set_defaults(func=_solve)
    p = subparsers.add_parser(
        "gsm8k", help="convert a GSM8K jsonl split into traces and verify each with the solver"
    )
    register_gsm8k_arguments(p)
    p.set_defaults(func=_gsm8k)
