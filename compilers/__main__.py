"""``python -m dslkit.compilers``: compile scenes, check gold packs, solve traces.

Each sub-command lives in its own module exposing ``register(subparsers)``; this file only
collects them, so the solver CLI never imports the render stack and vice versa.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# sub-command modules, in help order; each defines register(subparsers) -> None
_COMMAND_MODULES = ("dslkit.compilers.scene_cli", "dslkit.compilers.solve_cli")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dslkit.compilers",
        description="dslkit compilers: scene -> SVG/PNG, gold-pack checks, trace solving.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
