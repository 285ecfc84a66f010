"""``python -m dslkit.compilers compile --dialect auto|dslkit|cke|d1..d6``.

A scene file is read in the dialect asked for (``auto``, the default, recognises it from the
text) and the resulting AST is compiled; the fixtures are the project's own CKE-dialect files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dslkit.compilers.__main__ import main
from dslkit.compilers.scene_svg import compile_scene

import scene_dsl

CKE = Path(__file__).resolve().parents[1] / "scene_dsl" / "fixtures" / "cke"


def _compile(tmp_path: Path, scene: Path, content: Path, *extra: str) -> tuple[int, Path]:
    out = tmp_path / "out.svg"
    code = main(["compile", str(scene), "--content", str(content), "-o", str(out), *extra])
    return code, out


@pytest.fixture
def empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.json"
    path.write_text("{}", encoding="utf-8")
    return path


@pytest.mark.parametrize("dialect", [None, "auto", "cke", "d4"])
def test_literal_slug_file_compiles_when_read_as_cke(
    tmp_path: Path, empty: Path, dialect: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    scene = CKE / "d4" / "rollout_steps.dsl"
    extra = () if dialect is None else ("--dialect", dialect)
    code, out = _compile(tmp_path, scene, empty, *extra)
    assert code == 0, capsys.readouterr().err
    expected = compile_scene(scene_dsl.parse(scene.read_text("utf-8"), dialect="cke"), {})
    assert out.read_text("utf-8") == expected.text


def test_literal_slug_file_read_as_dslkit_fails_with_positions(
    tmp_path: Path, empty: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # read as dslkit text, the slugs are content refs that resolve nowhere
    code, out = _compile(tmp_path, CKE / "d4" / "rollout_steps.dsl", empty, "--dialect", "dslkit")
    err = capsys.readouterr().err
    assert code == 1 and not out.exists()
    assert "rollout_steps.dsl:" in err and "^" in err


def test_row_dialect_reads_cke_defaults_only_when_read_as_cke(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = CKE / "d2"
    scene, content = folder / "release_timeline.dsl", folder / "release_timeline.content.json"
    code, out = _compile(tmp_path, scene, content)
    assert code == 0, capsys.readouterr().err
    auto = out.read_text("utf-8")
    parsed = scene_dsl.parse(scene.read_text("utf-8"), dialect="cke")
    data = json.loads(content.read_text("utf-8"))
    assert auto == compile_scene(parsed, data).text
    code, out = _compile(tmp_path, scene, content, "--dialect", "dslkit")
    assert code == 0, capsys.readouterr().err
    # dslkit's reading leaves the omitted attributes at dslkit's defaults: another page
    assert out.read_text("utf-8") != auto


def test_unknown_dialect_is_a_usage_error(tmp_path: Path, empty: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        _compile(tmp_path, CKE / "d4" / "rollout_steps.dsl", empty, "--dialect", "sql")
    assert exc.value.code == 2
