"""``python -m trace_dsl check|fmt|gsm8k``: lint, format and build traces from GSM8K.

The trace language sits below its compiler, so nothing here imports ``dslkit.compilers``:
``gsm8k`` converts; ``python -m dslkit.compilers gsm8k`` converts and verifies with the solver.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import dslkit.cli
from dslkit import jsonio
from dslkit.errors import Diagnostic, DslkitError, InputError

from .canonical import canonicalize
from .parser import parse
from .printer import to_text

__all__ = ["Verifier", "build_parser", "main", "register", "register_gsm8k_arguments", "run_gsm8k"]

# command modules of this CLI, each with register(subparsers); see dslkit.cli
_COMMANDS = ("trace_dsl.cli",)


def _read(path: str) -> str | None:
    """The file's text (``-`` is stdin), or None after reporting why it cannot be read.

    Stdin is read as bytes like a file (dslkit.jsonio.read_text), so the same bytes get the
    same answer either way whatever the terminal's locale.
    """
    try:
        return jsonio.read_text(path)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)  # the message names the file and position
        return None


def _diagnose(text: str) -> tuple[str | None, list[Diagnostic]]:
    result = parse(text, errors="collect")
    if result.trace is None:
        return None, list(result.diagnostics)
    return to_text(canonicalize(result.trace)), []


def _report(
    path: str, diags: list[Diagnostic], as_json: bool, extra: dict[str, object] | None = None
) -> None:
    ok = not any(d.is_error for d in diags)
    if as_json:
        obj: dict[str, object] = {
            "file": path,
            "ok": ok,
            "diagnostics": [d.to_dict() for d in diags],
        }
        obj.update(extra or {})
        print(json.dumps(obj))
    else:
        for d in diags:
            print(f"{path}:{d.line}:{d.column}: {d.format()}", file=sys.stderr)


def _check(args: argparse.Namespace) -> int:
    failed = False
    for path in args.files:
        text = _read(path)
        if text is None:
            return 2
        _, diags = _diagnose(text)
        failed |= bool(diags)
        _report(path, diags, args.json)
        if not diags and not args.json:
            print(f"{path}: ok")
    return 1 if failed else 0


def _fmt(args: argparse.Namespace) -> int:
    failed = False
    for path in args.files:
        text = _read(path)
        if text is None:
            return 2
        canonical, diags = _diagnose(text)
        if canonical is None:
            failed = True
            _report(path, diags, args.json)
            continue
        changed = canonical != text
        if args.check:
            failed |= changed
        if args.write and changed and path != "-":
            Path(path).write_text(canonical, encoding="utf-8")
        if args.json:
            _report(path, [], True, {"changed": changed, "text": canonical})
        elif not args.write and not args.check:
            sys.stdout.write(canonical)
        elif args.check and changed:
            print(f"{path}: not canonical", file=sys.stderr)
    return 1 if failed else 0


#: ``verify(trace_text, gold_answer) -> status``: a solver check for :func:`run_gsm8k`
#: ("correct" counts as verified). The trace language cannot solve traces itself; the
#: compilers' ``gsm8k`` command passes the solver in.
Verifier = Callable[[str, "int | Fraction"], str]


def run_gsm8k(args: argparse.Namespace, verify: Verifier | None = None) -> int:
    """Convert a GSM8K jsonl split into traces; with ``verify``, also check every trace.

    Shared by ``python -m trace_dsl gsm8k`` (conversion only: the language never imports its
    compiler) and ``python -m dslkit.compilers gsm8k`` (conversion checked by the solver).

    Args:
        args: ``path``, ``out``, ``report`` and ``limit`` as :func:`register_gsm8k_arguments`
            declares them.
        verify: the solver check, or None to convert only.

    Returns:
        0 when the split was read (whatever converted), 2 when it cannot be read.
    """
    from .gsm8k import Conversion, convert_detailed
    from .gsm8k_grounding import KINDS

    start = time.perf_counter()
    try:  # the toolkit's reader: bytes checked as UTF-8, a BOM dropped, '-' is stdin
        lines = io.StringIO(jsonio.read_text(args.path), newline=None).readlines()
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.limit:
        lines = lines[: args.limit]
    categories: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    converted = correct = 0
    out = open(args.out, "w", encoding="utf-8") if args.out else None  # noqa: SIM115
    try:
        for n, line in enumerate(lines, 1):
            try:
                row = jsonio.loads(line, source=f"{args.path}:{n}")
            except InputError as exc:  # not JSON, nested too deep, NaN: exit 2, positioned
                print(f"error: {exc}", file=sys.stderr)
                return 2
            try:
                question, answer = row["question"], row["answer"]
            except (KeyError, TypeError):
                print(
                    f"{args.path}:{n}: not a GSM8K row (needs 'question' and 'answer')",
                    file=sys.stderr,
                )
                return 2
            conv = convert_detailed(question, answer)
            record: dict[str, object] = {"question": question}
            if isinstance(conv, Conversion):
                text = to_text(conv.trace)
                converted += 1
                kinds.update(g.kind for g in conv.inits)
                if verify is None:
                    status, category = "converted", None
                else:
                    status = verify(text, conv.answer)
                    correct += status == "correct"
                    category = None if status == "correct" else f"verify_{status}"
                answer_value: object = (
                    conv.answer if isinstance(conv.answer, int) else float(conv.answer)
                )
                record.update(trace=text, answer=answer_value, status=status,
                              grounded_ratio=round(conv.grounded_ratio, 4), failure_category=category)  # fmt: skip
            else:
                category = conv.category
                record.update(trace=None, answer=None, status="failed", grounded_ratio=None,
                              failure_category=category)  # fmt: skip
            if category:
                categories[category] += 1
            if out is not None:
                out.write(json.dumps(record) + "\n")
    finally:
        if out is not None:
            out.close()
    total = len(lines)
    inits = sum(kinds.values())

    def rate(*of: str) -> float:
        return round(sum(kinds[k] for k in of) / inits, 4) if inits else 0.0

    summary: dict[str, object] = {
        "problems": total,
        "converted": converted,
        "converted_rate": round(converted / total, 4) if total else 0.0,
    }
    if verify is not None:
        summary["correct"] = correct
        summary["correct_rate"] = round(correct / total, 4) if total else 0.0
    summary.update(
        inits=inits,
        # grounded in the question: written there, counted from a list there, or a unit
        # constant converting between units it names (see trace_dsl.gsm8k_grounding)
        grounded_rate=rate("grounded", "counted", "constant"),
        stated_rate=rate("grounded", "counted"),  # written or counted
        written_rate=rate("grounded"),
        init_kinds={kind: kinds[kind] for kind in KINDS},
        failures=dict(categories.most_common()),
        seconds=round(time.perf_counter() - start, 2),
    )
    if args.report:
        Path(args.report).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    done, what, share = (
        (correct, "converted and correct", summary["correct_rate"])
        if verify
        else (converted, "converted", summary["converted_rate"])
    )
    print(
        f"{what}: {done}/{total} ({share:.2%}); "
        f"inits grounded in the question: {summary['grounded_rate']:.2%} (written "
        f"{summary['written_rate']:.2%}, counted from a list {rate('counted'):.2%}, unit "
        f"constant of its units {rate('constant'):.2%}); from outside knowledge "
        f"{rate('ungrounded'):.2%}; {summary['seconds']}s"
    )
    for cat, count in categories.most_common():
        print(f"  {cat}: {count}")
    return 0


def register_gsm8k_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments :func:`run_gsm8k` reads (one definition for both ``gsm8k`` commands)."""
    p.add_argument("path", metavar="PATH.jsonl")
    p.add_argument("--out", metavar="TRACES.jsonl", help="write one JSON line per problem")
    p.add_argument("--report", metavar="REPORT.json", help="write the summary as JSON")
    p.add_argument("--limit", type=int, default=0, help="only the first N problems")


def register(sub: Any) -> None:
    """Add ``check``, ``fmt`` and ``gsm8k`` to ``sub`` (from ``add_subparsers``)."""
    p = sub.add_parser("check", help="parse and validate trace files ('-' reads stdin)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=_check)
    p = sub.add_parser("fmt", help="print trace files in canonical form")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="one JSON object per file (with 'text')")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite files in place")
    mode.add_argument("--check", action="store_true", help="exit 1 when a file is not canonical")
    p.set_defaults(func=_fmt)
    p = sub.add_parser(
        "gsm8k",
        help="convert a GSM8K jsonl split into traces (to verify them with the solver: "
        "python -m dslkit.compilers gsm8k)",
    )
    register_gsm8k_arguments(p)
    p.set_defaults(func=run_gsm8k)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m trace_dsl`` (commands from :func:`register`)."""
    return dslkit.cli.build_parser("python -m trace_dsl", "dslkit trace DSL tools.", _COMMANDS)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 errors found, 2 usage)."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except DslkitError as exc:  # pragma: no cover - commands report problems themselves
        print(str(exc), file=sys.stderr)
        return 1
