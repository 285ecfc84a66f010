"""Every dslkit command line is built one way (:mod:`dslkit.cli`) and answers ``--version``.

Each CLI lists its command modules; each module exposes ``register(subparsers)`` and every
sub-command it adds dispatches through ``func``. The train CLI's two modules do not import
each other.
"""

from __future__ import annotations

import argparse
import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import dslkit

REPO = Path(__file__).resolve().parents[2]

# CLI module (holds main, build_parser, _COMMANDS) -> the commands users rely on
CLIS = {
    "scene_dsl.cli": {"check", "fmt", "convert", "repair"},
    "trace_dsl.cli": {"check", "fmt", "gsm8k"},
    "dslkit.compilers.__main__": {"compile", "gold", "gallery", "solve", "gsm8k"},
    "dslkit.tokenizer.cli": {"build", "lint", "budget", "encode"},
    "dslkit.train.cli": {
        "fit",
        "synth",
        "synth-scenes",
        "synth-traces",
        "export-hf",
        "probe",
        "report",
        "repeat",
        "demo",
    },
}


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    actions = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(actions[0].choices) if actions else {}


def _leaves(name: str, parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """``{"gold check": parser, "solve": parser}``: the commands that run (nested ones too)."""
    nested = _subcommands(parser)
    if not nested:
        return {name: parser}
    return {k: v for sub, p in nested.items() for k, v in _leaves(f"{name} {sub}", p).items()}


@pytest.mark.parametrize("name", sorted(CLIS))
def test_cli_is_built_from_register_modules(name: str) -> None:
    cli = importlib.import_module(name)
    modules = cli._COMMANDS
    assert isinstance(modules, tuple) and modules
    commands = _subcommands(cli.build_parser())
    assert set(commands) == CLIS[name]
    registered: set[str] = set()
    for module_name in modules:
        module = importlib.import_module(module_name)
        assert callable(module.register), module_name
        parser = argparse.ArgumentParser()
        module.register(parser.add_subparsers())
        added = _subcommands(parser)
        assert not registered & set(added), f"{module_name} registers a command twice"
        registered |= set(added)
        for command, sub in added.items():
            for leaf, p in _leaves(command, sub).items():
                assert callable(p.get_default("func")), f"{module_name} {leaf} has no func"
    assert registered == set(commands)


@pytest.mark.parametrize("name", sorted(CLIS))
def test_every_cli_prints_the_version(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        importlib.import_module(name).main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"dslkit {dslkit.__version__}\n"


def test_version_from_the_module_entry_points() -> None:
    for module in (
        "scene_dsl",
        "trace_dsl",
        "dslkit.compilers",
        "dslkit.tokenizer",
        "dslkit.train",
    ):
        proc = subprocess.run(
            [sys.executable, "-m", module, "--version"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert (proc.returncode, proc.stdout) == (0, f"dslkit {dslkit.__version__}\n"), module


def test_train_cli_modules_do_not_import_each_other() -> None:
    for path, other in (("train/cli_probe.py", "dslkit.train.cli"), ("train/cli.py", "cli_probe")):
        tree = ast.parse((REPO / path).read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {
                    f"{node.module}.{a.name}" if node.module else a.name for a in node.names
                }
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            assert not any(n == other or n.endswith("." + other) for n in names), (path, names)
