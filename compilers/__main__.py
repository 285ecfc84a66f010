"""``python -m dslkit.compilers``: compile scenes, check gold packs, solve traces.

Each sub-command lives in its own module exposing ``register(subparsers)``; this file only
collects them, so the solver CLI never imports the render stack and vice versa.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

import dslkit.cli

# sub-command modules, in help order; each defines register(subparsers) -> None
_COMMANDS = ("dslkit.compilers.scene_cli", "dslkit.compilers.solve_cli")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m dslkit.compilers`` (see :mod:`dslkit.cli`)."""
    return dslkit.cli.build_parser(
        "python -m dslkit.compilers",
        "dslkit compilers: scene -> SVG/PNG, gold-pack checks, trace solving.",
        _COMMANDS,
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
