"""The one way every dslkit command line is put together.

Each command module exposes ``register(subparsers)``, which adds its sub-commands (each with
``set_defaults(func=...)``); a CLI's ``main`` builds its parser with :func:`build_parser` from
a tuple of such module names and runs ``args.func(args)``. Modules are imported by name, one
at a time, so a CLI only pays for the command modules it lists (the solver's commands never
import the render stack). Every parser gets ``--version``, which prints ``dslkit X.Y.Z``.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Sequence

from dslkit import __version__

__all__ = ["build_parser", "version_text"]


def version_text() -> str:
    """What ``--version`` prints: ``dslkit X.Y.Z``."""
    return f"dslkit {__version__}"


def build_parser(prog: str, description: str, modules: Sequence[str]) -> argparse.ArgumentParser:
    """Build a CLI's parser from its command modules.

    Args:
        prog: the program name shown in usage lines, e.g. ``"python -m scene_dsl"``.
        description: one paragraph for ``--help``.
        modules: importable module names, in help order; each defines ``register(subparsers)``.

    Returns:
        The parser, with ``--version`` and a required sub-command.
    """
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--version", action="version", version=version_text())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in modules:
        importlib.import_module(name).register(sub)
    return parser
