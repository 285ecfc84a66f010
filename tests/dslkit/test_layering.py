"""The layering of DESIGN.md holds in the code: languages below compilers, light imports.

- ``scene_dsl`` and ``trace_dsl`` never import ``dslkit.compilers`` (nor tokenizer or train),
  not even inside a function: checked on the source, and by running their CLIs;
- ``import trace_dsl`` does not load the scene language's parser, contract, repair or validator.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LANGUAGES = ("scene_dsl", "trace_dsl")
ABOVE = ("dslkit.compilers", "dslkit.tokenizer", "dslkit.train")


def _run(code: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _imported_names(path: Path) -> set[str]:
    """Every module an ``import``/``from ... import`` in ``path`` names, at any depth."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


@pytest.mark.parametrize("package", LANGUAGES)
def test_languages_never_import_what_sits_above_them(package: str) -> None:
    files = sorted((REPO / package).rglob("*.py"))
    assert files
    bad = {
        f"{path.relative_to(REPO)}: {name}"
        for path in files
        for name in _imported_names(path)
        if name.startswith(ABOVE) or name.split(".")[0] in ("compilers", "tokenizer", "train")
    }
    assert not bad, sorted(bad)


def test_import_trace_dsl_does_not_load_the_scene_language() -> None:
    proc = _run(
        """
        import json, sys, trace_dsl
        print(json.dumps([m for m in sys.modules if m.startswith(("scene_dsl", "dslkit"))]))
        """
    )
    assert proc.returncode == 0, proc.stderr
    loaded = set(json.loads(proc.stdout))
    heavy = {"scene_dsl.parser", "scene_dsl.contract", "scene_dsl.repair", "scene_dsl.validate"}
    assert not loaded & heavy, loaded
    assert not {m for m in loaded if m.startswith("dslkit.compilers")}, loaded


def test_language_clis_run_without_the_compilers(tmp_path: Path) -> None:
    trace = REPO / "examples" / "traces" / "janet_eggs.trace"
    scene = sorted((REPO / "examples" / "scenes").glob("*.dsl"))[0]
    rows = tmp_path / "mini.jsonl"
    row = {
        "question": "Janet has 16 eggs and eats 3. How many?",
        "answer": "<<16-3=13>>13\n#### 13",
    }
    rows.write_text(json.dumps(row) + "\n")
    proc = _run(
        f"""
        import contextlib, io, sys
        from scene_dsl.cli import main as scene_main
        from trace_dsl.cli import main as trace_main
        with contextlib.redirect_stdout(io.StringIO()):
            codes = [
                trace_main(["check", {str(trace)!r}]),
                trace_main(["fmt", {str(trace)!r}]),
                trace_main(["gsm8k", {str(rows)!r}]),
                scene_main(["check", {str(scene)!r}]),
                scene_main(["fmt", {str(scene)!r}]),
            ]
        print(codes, sorted(m for m in sys.modules if m.startswith({ABOVE!r})))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[0, 0, 0, 0, 0] []"
