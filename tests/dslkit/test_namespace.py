"""The installed layout: generic names live under ``dslkit``, never top-level.

A user's notebook folder commonly holds a ``train.py``, a ``tokenizer/`` package or a
``compilers.py``; with the current directory first on ``sys.path`` those must not shadow
dslkit's own modules, and dslkit must not shadow them either.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest


def _run(cwd: Path, code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def user_folder(tmp_path: Path) -> Path:
    (tmp_path / "train.py").write_text("WHO = 'user train.py'\n")
    (tmp_path / "tokenizer").mkdir()
    (tmp_path / "tokenizer" / "__init__.py").write_text("WHO = 'user tokenizer/'\n")
    (tmp_path / "compilers.py").write_text("WHO = 'user compilers.py'\n")
    return tmp_path


def test_dslkit_imports_beside_a_users_train_tokenizer_and_compilers(user_folder: Path) -> None:
    proc = _run(
        user_folder,
        """
        import train, tokenizer, compilers
        from dslkit.train.decoding import Decoder
        from dslkit.tokenizer import load, build
        from dslkit.compilers import compile_scene, verify
        import scene_dsl, trace_dsl, dslkit
        # the user's own modules are untouched by dslkit's imports
        print(train.WHO, '|', tokenizer.WHO, '|', compilers.WHO)
        print(dslkit.__version__ == scene_dsl.__version__)
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == [
        "user train.py | user tokenizer/ | user compilers.py",
        "True",
    ]


@pytest.mark.parametrize("module", ["dslkit.compilers", "dslkit.tokenizer", "dslkit.train"])
def test_cli_modules_run_beside_a_users_files(user_folder: Path, module: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", module, "--help"],
        cwd=user_folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"python -m {module}" in proc.stdout


def test_no_generic_top_level_names_are_installed(tmp_path: Path) -> None:
    proc = _run(
        tmp_path,
        """
        import importlib.util
        print([n for n in ('compilers', 'tokenizer', 'train') if importlib.util.find_spec(n)])
        """,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_import_dslkit_gives_the_version_and_the_shared_errors() -> None:
    import dslkit
    import scene_dsl

    assert dslkit.__version__
    assert scene_dsl.SceneSyntaxError is dslkit.SceneSyntaxError
    assert issubclass(dslkit.SolverError, dslkit.DslkitError)
