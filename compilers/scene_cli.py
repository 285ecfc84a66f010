"""Scene sub-commands of ``python -m dslkit.compilers``: compile, gold check, gallery.

    python -m dslkit.compilers compile SCENE --content C.json -o OUT.svg [--png OUT.png --width N]
                                      [--dialect auto|dslkit|cke|d1..d6] [--contract v2]
    python -m dslkit.compilers gold check DIR [--json] [--update]
    python -m dslkit.compilers gallery DIR -o gallery.html

Exit codes (the toolkit's convention): 0 done, 1 the scene or a gold case has problems
(diagnostics with positions on stderr), 2 usage errors and input that cannot be read (a
missing or non-UTF-8 file, content that is not JSON). Nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from dslkit import jsonio
from dslkit.errors import Diagnostic, DslkitError, InputError
from scene_dsl.cli import add_dialect_option
from scene_dsl.contract import DEFAULT_CONTRACT

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``compile``, ``gold`` and ``gallery`` sub-commands.

    Args:
        subparsers: the object returned by ``ArgumentParser.add_subparsers``.
    """
    p = subparsers.add_parser(
        "compile",
        help="compile a scene + content.json to SVG (and PNG)",
        description="Compile a scene DSL file with its content.json to SVG, optionally PNG.",
    )
    p.add_argument("scene", metavar="SCENE", help="scene DSL file (row or block form; - is stdin)")
    p.add_argument(
        "--content", "-c", required=True, metavar="C.json", help="content.json (- is stdin)"
    )
    p.add_argument("-o", "--output", required=True, metavar="OUT.svg", help="SVG to write")
    p.add_argument("--png", metavar="OUT.png", help="also rasterise to this PNG")
    p.add_argument(
        "--width", type=int, metavar="N", help="PNG width in pixels (default: SVG width)"
    )
    p.add_argument(
        "--contract",
        default=DEFAULT_CONTRACT,
        help=f"contract name or path (default {DEFAULT_CONTRACT}, which reads every dialect)",
    )
    add_dialect_option(p)
    p.set_defaults(func=_cmd_compile)

    gold = subparsers.add_parser("gold", help="gold-pack gate", description="Gold-pack commands.")
    gold_sub = gold.add_subparsers(dest="gold_command", metavar="ACTION", required=True)
    g = gold_sub.add_parser(
        "check",
        help="check every case of a gold pack",
        description="Round-trip every case: forms, canonical text, refs, contract, SVG bytes, PNG SSIM.",
    )
    g.add_argument("directory", metavar="DIR", help="gold pack folder")
    g.add_argument("--json", action="store_true", help="print the report as JSON")
    g.add_argument(
        "--update", action="store_true", help="rewrite scene.row.dsl and the goldens first"
    )
    g.add_argument("--contract", default="v1", help="contract name or path (default v1)")
    g.set_defaults(func=_cmd_gold_check)

    gal = subparsers.add_parser(
        "gallery",
        help="write one self-contained HTML page of a gold pack",
        description="Every case's render beside its DSL, prompt and check results, in one HTML file.",
    )
    gal.add_argument("directory", metavar="DIR", help="gold pack folder")
    gal.add_argument("-o", "--output", required=True, metavar="gallery.html", help="HTML to write")
    gal.add_argument("--contract", default="v1", help="contract name or path (default v1)")
    gal.set_defaults(func=_cmd_gallery)


def _print_diags(label: str, diags: Iterable[Diagnostic], text: str | None = None) -> None:
    for d in diags:
        if text is not None and d.line > 0 and not d.source_line:
            d = d.with_source(text)
        print(f"{label}: {d.format()}", file=sys.stderr)


def _cmd_compile(args: argparse.Namespace) -> int:
    if args.scene == "-" and args.content == "-":
        print("error: only one of SCENE and --content can be - (stdin)", file=sys.stderr)
        return 2
    if args.width is not None and args.width <= 0:
        print(f"error: --width must be a positive integer, not {args.width}", file=sys.stderr)
        return 2
    try:
        text = jsonio.read_text(args.scene)
        content = jsonio.load(args.content)
    except InputError as exc:  # unreadable, not UTF-8, not JSON, nested too deep
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from dslkit.compilers.scene_svg import compile_scene

    import scene_dsl

    try:
        # read in the dialect asked for (auto: recognised from the text), then compile the AST
        scene = scene_dsl.parse(text, dialect=args.dialect, contract=args.contract)
        svg = compile_scene(scene, content, contract=args.contract)
    except DslkitError as exc:
        if exc.diagnostics:
            _print_diags(args.scene, exc.diagnostics, text)
        else:
            print(f"{args.scene}: {exc}", file=sys.stderr)
        return 1
    _print_diags(args.scene, svg.warnings, text)
    try:
        Path(args.output).write_bytes(svg.text.encode("utf-8"))
        if args.png:
            from dslkit.compilers.raster import to_png

            Path(args.png).write_bytes(to_png(svg.text, width=args.width))
    except OSError as exc:
        print(f"error: cannot write output: {exc}", file=sys.stderr)
        return 2
    except DslkitError as exc:
        _print_diags(args.scene, exc.diagnostics)
        return 1
    size = f"{svg.width}x{svg.height}"
    print(f"wrote {args.output} ({size})" + (f" and {args.png}" if args.png else ""))
    return 0


def _cmd_gold_check(args: argparse.Namespace) -> int:
    from dslkit.compilers.gold import check_gold_pack

    try:
        report = check_gold_pack(args.directory, update=args.update, contract=args.contract)
    except NotADirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_dict(), indent=2, sort_keys=False))
    else:
        if report.updated:
            print(f"updated {len(report.updated)} files")
        print(report.format())
    return 0 if report.ok else 1


def _cmd_gallery(args: argparse.Namespace) -> int:
    from dslkit.compilers.gallery import build_gallery

    try:
        html, report = build_gallery(args.directory, contract=args.contract)
    except NotADirectoryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        Path(args.output).write_text(html, encoding="utf-8")
    except OSError as exc:
        print(f"error: cannot write {args.output}: {exc}", file=sys.stderr)
        return 2
    passed = sum(c.ok for c in report.cases)
    print(f"wrote {args.output}: {len(report.cases)} cases, {passed} pass")
    return 0
