"""Invalid scenes and missing content raise CompileError with the scene diagnostics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import build

from dslkit.errors import CompileError


def test_missing_content_raises_s601_with_position() -> None:
    text, content = build("decision_tree")
    del content["header"]
    with pytest.raises(CompileError) as info:
        compile_scene(text, content)
    codes = {d.code for d in info.value.diagnostics}
    assert "S601" in codes
    d = next(d for d in info.value.diagnostics if d.code == "S601")
    assert d.line > 0 and d.column > 0
    assert "header" in d.message


def test_missing_nested_key_never_renders_a_placeholder() -> None:
    text = "[scene]\n[layout:dashboard_cards]\n[section_card] [title_ref:cards.0.title] [/section_card]\n[/scene]"
    with pytest.raises(CompileError) as info:
        compile_scene(text, {"cards": []})
    assert [d.code for d in info.value.diagnostics] == ["S601"]


def test_component_outside_family_is_a_compile_error() -> None:
    text = "[scene]\n[layout:table_matrix]\n[section_card] [title_ref:t] [/section_card]\n[/scene]"
    with pytest.raises(CompileError) as info:
        compile_scene(text, {"t": "x"})
    assert {d.code for d in info.value.diagnostics} >= {"S307", "S310"}


def test_syntax_error_is_a_compile_error() -> None:
    with pytest.raises(CompileError) as info:
        compile_scene("[scene] [layout:poster_stack] [section_card:", {})
    assert info.value.diagnostics and info.value.diagnostics[0].line >= 1


@pytest.mark.parametrize("bad", ["{not json", "[1, 2]", "42"])
def test_bad_content_json_is_s603(bad: str) -> None:
    text, _ = build("dashboard_cards")
    with pytest.raises(CompileError) as info:
        compile_scene(
            text, bad if bad.startswith(("{", "[")) else Path("/nonexistent/content.json")
        )
    assert info.value.code == "S603"


def test_content_as_text_path_or_mapping_gives_the_same_svg(tmp_path: Path) -> None:
    text, content = build("pipeline_lane")
    path = tmp_path / "content.json"
    path.write_text(json.dumps(content), encoding="utf-8")
    a = compile_scene(text, content).text
    assert compile_scene(text, json.dumps(content)).text == a
    assert compile_scene(text, path).text == a
    assert compile_scene(text, str(path)).text == a


def test_unread_content_key_is_s703() -> None:
    text, content = build("dashboard_cards")
    content["card0"]["mystery"] = "nobody draws this"
    svg = compile_scene(text, content)
    s703 = [w for w in svg.warnings if w.code == "S703"]
    assert len(s703) == 1 and "card0.mystery" in s703[0].message
    assert not s703[0].is_error


def test_svg_object_api(tmp_path: Path) -> None:
    text, content = build("timeline")
    svg = compile_scene(text, content)
    assert svg._repr_svg_() == svg.text
    out = svg.save(tmp_path / "x.svg")
    assert out.read_text(encoding="utf-8") == svg.text
    with pytest.raises(AttributeError):
        svg.text = "x"  # type: ignore[misc]
