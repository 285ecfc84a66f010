"""``python -m scene_dsl``: check, format, convert and repair scene files.

Exit codes: 0 when every file is fine, 1 when any file has an error, 2 on usage errors
(bad flags, unreadable files, malformed content.json or contract).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any

import dslkit.cli
from dslkit import jsonio
from dslkit.errors import DslkitError
from scene_dsl.canonical import canonicalize
from scene_dsl.check import check
from scene_dsl.contract import DEFAULT_CONTRACT, load_contract
from scene_dsl.dialects import READ_DIALECTS, parse, to_text
from scene_dsl.repair import repair

__all__ = ["add_dialect_option", "build_parser", "main", "register"]

# command modules of this CLI, each with register(subparsers); see dslkit.cli
_COMMANDS = ("scene_dsl.cli",)


class _UsageError(Exception):
    """Bad invocation: reported on stderr with exit code 2."""


def _read(path: str) -> str:
    # stdin is read as bytes like a file, so both give the same answer (InputError: exit 2)
    return jsonio.read_text(path)


def _load_content(path: str | None) -> Any:
    # dslkit's one JSON reader: depth limit, BOM, a positioned InputError (exit 2)
    return None if path is None else jsonio.load(path)


def _cmd_check(args: argparse.Namespace) -> int:
    contract = load_contract(args.contract)
    content = _load_content(args.content)
    failed = False
    for path in args.files:
        diags = check(_read(path), contract=contract, content=content, dialect=args.dialect)
        ok = not any(d.is_error for d in diags)
        failed |= not ok
        if args.json:
            print(json.dumps({"file": path, "ok": ok, "diagnostics": [d.to_dict() for d in diags]}))
        else:
            for d in diags:
                print(f"{path}:{d.format()}")
            errors = sum(d.is_error for d in diags)
            print(
                f"{path}: {'ok' if ok else 'FAILED'} ({errors} error(s), {len(diags) - errors} warning(s))"
            )
    return 1 if failed else 0


def _parse_or_report(path: str, contract: Any, dialect: str) -> Any:
    text = _read(path)
    try:
        return parse(text, dialect=dialect, contract=contract)
    except DslkitError as exc:
        for d in exc.diagnostics:
            print(f"{path}:{d.format()}", file=sys.stderr)
        return None


def _cmd_fmt(args: argparse.Namespace) -> int:
    contract = load_contract(args.contract)
    status = 0
    for path in args.files:
        scene = _parse_or_report(path, contract, args.dialect)
        if scene is None:
            status = 1
            continue
        scene = canonicalize(scene, contract, omit_defaults=args.omit_defaults)
        to = getattr(args, "to", "dslkit")
        text = to_text(scene, dialect=to, form=args.form, inline=args.inline, contract=contract)
        sys.stdout.write(text + ("\n" if args.inline and to == "dslkit" else ""))
    return status


def _cmd_convert(args: argparse.Namespace) -> int:
    return _cmd_fmt(args)


def _cmd_repair(args: argparse.Namespace) -> int:
    contract = load_contract(args.contract)
    status = 0
    for path in args.files:
        try:
            scene, fixes = repair(_read(path), contract, dialect=args.dialect)
        except DslkitError as exc:
            for d in exc.diagnostics:
                print(f"{path}:{d.format()}", file=sys.stderr)
            status = 1
            continue
        text = to_text(scene, form=args.form, contract=contract)
        if args.json:
            print(json.dumps({"file": path, "text": text, "fixes": [f.to_dict() for f in fixes]}))
        else:
            sys.stdout.write(text)
            for f in fixes:
                where = f"{f.line}:{f.column}: " if f.line else ""
                print(f"{path}:{where}fix {f.code}: {f.message}", file=sys.stderr)
    return status


def add_dialect_option(p: argparse.ArgumentParser, default: str = "auto") -> None:
    """Add ``--dialect auto|dslkit|cke|d1..d6`` to a command that reads scene files; every
    command of both CLIs that reads a scene takes it the same way.

    Args:
        p: the sub-command's parser.
        default: the dialect when the flag is not given (``auto``; ``repair`` reads model
            output, dslkit text, unless told otherwise).
    """
    p.add_argument(
        "--dialect",
        choices=READ_DIALECTS,
        default=default,
        help="surface the files are written in: dslkit's own forms, any CKE dialect, one "
        f"of d1-d6, or auto: recognised per file (default: {default})",
    )


def register(sub: Any) -> None:
    """Add ``check``, ``fmt``, ``convert`` and ``repair`` to ``sub`` (from ``add_subparsers``)."""

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("files", nargs="+", metavar="FILE", help="scene files ('-' reads stdin)")
        p.add_argument(
            "--contract",
            default=DEFAULT_CONTRACT,
            help=f"bundled contract name or path (default: {DEFAULT_CONTRACT})",
        )

    p = sub.add_parser("check", help="report syntax, contract and content problems")
    common(p)
    add_dialect_option(p)
    p.add_argument("--content", metavar="C.json", help="content.json to resolve refs against")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=_cmd_check)

    for name, helptext, func in (
        ("fmt", "print the canonical text", _cmd_fmt),
        ("convert", "print the scene in another form", _cmd_convert),
    ):
        p = sub.add_parser(name, help=helptext)
        common(p)
        add_dialect_option(p)
        p.add_argument("--form", choices=("block", "row"), default="block", help="dslkit form")
        if name == "convert":
            p.add_argument(
                "--to",
                choices=("dslkit", "cke"),
                default="dslkit",
                help="write dslkit text (--form) or the CKE dialect of each scene's layout",
            )
        p.add_argument(
            "--inline", action="store_true", help="one line, single spaces (training rows)"
        )
        p.add_argument(
            "--omit-defaults", action="store_true", help="drop default-valued attributes"
        )
        p.set_defaults(func=func)

    p = sub.add_parser("repair", help="deterministically repair model output; fixes go to stderr")
    common(p)
    # model output is dslkit text; a one-line block-form row would look like CKE to auto
    add_dialect_option(p, default="dslkit")
    p.add_argument("--form", choices=("block", "row"), default="block")
    p.add_argument("--json", action="store_true", help="print {file, text, fixes} per file")
    p.set_defaults(func=_cmd_repair)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m scene_dsl`` (commands from :func:`register`)."""
    return dslkit.cli.build_parser(
        "python -m scene_dsl", "Check, format, convert and repair scene DSL files.", _COMMANDS
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (_UsageError, DslkitError) as exc:  # contract or content problems are usage errors
        print(f"error: {exc}", file=sys.stderr)
        return 2
