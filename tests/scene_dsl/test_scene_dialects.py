"""Dialects: dslkit's forms and the six CKE v7 surfaces read into one AST and write back."""

from __future__ import annotations

import contextlib
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scene_dsl
from dslkit.errors import DslkitError, SceneSyntaxError
from scene_dsl.ast import Attr, Scene
from scene_dsl.cli import main
from scene_dsl.dialects import cke
from scene_dsl.strategies import fuzz_texts, sample_scene, scenes

FIXTURES = Path(__file__).parent / "fixtures" / "cke"
GOLD = Path(__file__).resolve().parents[2] / "examples" / "gold"
CASES = sorted(FIXTURES.rglob("*.dsl"))
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _content(path: Path) -> dict[str, object] | None:
    c = path.with_name(path.name[: -len(".dsl")] + ".content.json")
    return json.loads(c.read_text("utf-8")) if c.exists() else None


def _explicit(scene: Scene) -> Scene:
    """``scene`` with every attribute a CKE reader would fill spelled out (canonical order)."""
    contract = scene_dsl.load_contract()
    defaults = cke.DEFAULTS.get(scene.layout or "", {})
    have = {a.key for a in scene.attrs}
    attrs = [*scene.attrs, *(Attr(k, v) for k, v in defaults.items() if k not in have)]
    attrs.sort(key=lambda a: contract.attribute_rank(a.key))
    return Scene(tuple(attrs), scene.components)


def test_scene_dialect_fixtures_cover_every_dialect() -> None:
    assert {p.parent.name for p in CASES} == set(cke.CKE_DIALECTS)


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_scene_dialect_fixture_reads_clean_and_writes_back(path: Path) -> None:
    text = path.read_text("utf-8")
    dialect = path.parent.name
    assert scene_dsl.recognize(text) == dialect
    assert scene_dsl.check(text, dialect="auto", content=_content(path)) == []
    scene = scene_dsl.parse(text, dialect="auto")
    assert scene == scene_dsl.parse(text, dialect="cke") == scene_dsl.parse(text, dialect=dialect)
    canonical = scene_dsl.canonicalize(scene)
    # read -> canonical -> its own dialect: the same tokens, whitespace aside
    assert scene_dsl.to_text(canonical, dialect=dialect).split() == text.split()
    # and through dslkit's own text the AST survives (explicit attributes included)
    for form in ("block", "row"):
        dslkit_text = scene_dsl.to_text(canonical, form=form)
        assert scene_dsl.recognize(dslkit_text) == "dslkit"
        assert scene_dsl.parse(dslkit_text, dialect="auto") == canonical


def test_scene_dialect_twins_read_to_one_ast() -> None:
    # The compact d2 rows and their verbose d6 blocks say the same thing: one AST.
    d2 = scene_dsl.parse((FIXTURES / "d2" / "serving_system.dsl").read_text(), dialect="cke")
    d6 = scene_dsl.parse((FIXTURES / "d6" / "serving_system.dsl").read_text(), dialect="cke")
    assert d2 == d6
    link = d6.components[4]
    assert [(f.name, f.value) for f in link.fields] == [
        ("from_ref", "stage_1"),
        ("to_ref", "stage_2"),
        ("label_ref", "links.stage_1_stage_2"),
    ]


def _fields(scene: Scene, i: int) -> list[tuple[str, str]]:
    return [(f.name, f.value) for f in scene.components[i].fields]


def test_scene_dialect_ast_conventions() -> None:
    d1 = scene_dsl.parse((FIXTURES / "d1" / "kv_cache_layout.dsl").read_text(), dialect="cke")
    assert _fields(d1, 4) == [("bracket_id", "hot_window"), ("ref", "segments.hot_window")]
    assert _fields(d1, 6) == [("card_id", "page_table"), ("ref", "cards.page_table")]
    # omitted attributes take the CKE memory-map renderer's defaults, marked implicit
    assert d1.attr("frame") == "panel" and d1.attr("connector") == "line"
    assert d1.attr("columns") == "1" and d1.attr("canvas") == "wide"
    assert {a.key for a in d1.attrs if a.implicit} == {
        "canvas", "frame", "inset", "gap", "hero", "columns", "emphasis", "rail",
        "background", "connector",
    }  # fmt: skip
    timeline = scene_dsl.parse(
        (FIXTURES / "d2" / "release_timeline.dsl").read_text(), dialect="cke"
    )
    assert timeline.attr("connector") == "arrow" and timeline.attr("frame") == "panel"
    assert _fields(timeline, 1) == [
        ("stage_id", "stage_1"),
        ("ref", "stages.stage_1"),
        ("lane", "top"),
    ]
    d3 = scene_dsl.parse((FIXTURES / "d3" / "bandwidth_gap.dsl").read_text(), dialect="cke")
    assert ("accent_ref", "bars.hbm.accent") in _fields(d3, 1)
    assert _fields(d3, 4) == [("amber_ref", "legend.fast"), ("green_ref", "legend.slow")]
    assert [n for n, _ in _fields(d3, 10)] == ["title_ref", "line_ref", "line_ref"]
    d4 = scene_dsl.parse((FIXTURES / "d4" / "cache_hit_poster.dsl").read_text(), dialect="cke")
    assert _fields(d4, 0) == [
        ("kicker_text", "serving_notes"),
        ("headline_text", "prefix_cache_hits"),
        ("subtitle_text", "why_reuse_matters"),
    ]
    assert ("accent", "green") in _fields(d4, 1 + 1)
    d5 = scene_dsl.parse((FIXTURES / "d5" / "paged_attention_tree.dsl").read_text(), dialect="cke")
    assert _fields(d5, 5)[0] == ("node_id", "preempt")  # D5 panel_id is outcome_panel.node_id
    assert _fields(d5, 7) == [("text_ref", "footer.note")]
    mem = scene_dsl.parse((FIXTURES / "d5" / "unified_memory_map.dsl").read_text(), dialect="cke")
    assert [n for n, _ in _fields(mem, 2)][:2] == ["segment_id", "label_ref"]


def test_scene_dialect_cke_writer_omits_only_what_it_filled() -> None:
    text = (FIXTURES / "d1" / "kv_cache_layout.dsl").read_text()
    scene = scene_dsl.parse(text, dialect="cke")
    assert "[frame:" not in scene_dsl.to_text(scene, dialect="cke")
    # the same scene read from dslkit text has every attribute explicit: the writer keeps them
    explicit = scene_dsl.parse(scene_dsl.to_text(scene), dialect="dslkit")
    assert explicit == scene
    assert "[frame:panel]" in scene_dsl.to_text(explicit, dialect="cke")


@pytest.mark.skipif(not GOLD.is_dir(), reason="gold pack not present")
def test_scene_dialect_auto_reads_dslkit_files_as_dslkit() -> None:
    for path in sorted(GOLD.glob("*/scene*.dsl")):
        text = path.read_text("utf-8")
        assert scene_dsl.recognize(text) == "dslkit", path
        assert scene_dsl.parse(text, dialect="auto") == scene_dsl.parse(text)


# -- bad input: positioned diagnostics, never a traceback, never a silent blank ----------------
HEAD = "[scene]\n[layout:memory_map]\n[theme:infra_dark]\n[tone:blue]\n[topic:t]\n"


def _codes(text: str, **kw: object) -> list[tuple[str, int, int]]:
    diags = scene_dsl.check(text, dialect="cke", **kw)  # type: ignore[arg-type]
    return [(d.code, d.line, d.column) for d in diags if d.is_error]


def test_scene_dialect_unknown_component_is_positioned() -> None:
    text = HEAD + "[memory_segment:a|segments.a]\n[widget_strip:w|widgets.w]\n[/scene]\n"
    assert ("S304", 7, 1) in _codes(text)
    with pytest.raises(SceneSyntaxError) as info:
        scene_dsl.parse(text, dialect="cke")
    assert info.value.code == "S304" and "widget_strip" in info.value.message
    block = HEAD + "[widget_strip]\n[ref:widgets.w]\n[/widget_strip]\n[/scene]\n"
    assert [c for c in _codes(block) if c[0] == "S304"] == [("S304", 6, 1)]  # reported once
    with pytest.raises(SceneSyntaxError, match="widget_strip"):
        scene_dsl.parse(block, dialect="cke")


def test_scene_dialect_mixed_blocks_and_rows_name_both() -> None:
    text = (
        HEAD + "[memory_segment]\n[segment_id:a]\n[ref:segments.a]\n[/memory_segment]\n"
        "[info_card:c|cards.c]\n[/scene]\n"
    )
    assert scene_dsl.recognize(text) == "d6"
    diags = [d for d in scene_dsl.check(text, dialect="cke") if d.code == "S111"]
    assert [(d.line, d.column) for d in diags] == [(10, 1)]
    assert "D6" in diags[0].message and "D1-D4" in diags[0].message
    d1_with_at = HEAD + "[memory_segment:a|segments.a]\n[info_card:c|@cards.c]\n[/scene]\n"
    diags = [d for d in scene_dsl.check(d1_with_at, dialect="d2") if d.code == "S111"]
    assert [(d.line, d.column) for d in diags] == [(7, 14)] and "D3" in diags[0].message


def test_scene_dialect_wrong_shape_and_slug_where_ref() -> None:
    text = HEAD + "[memory_segment:a|segments.a]\n[info_card:c|cards.c]\n[/scene]\n"
    assert _codes(text, content={"segments": {"a": {"title": "A"}}, "cards": {"c": "text"}}) == [
        ("S604", 7, 14)
    ]
    assert _codes(text, content={"segments": {"a": {"title": "A"}}, "cards": {"c": {}}}) == []
    slug = "[scene]\n[layout:poster_stack]\n[theme:infra_dark]\n[tone:blue]\n[section_card:a|b]\n[info_card:fast_path]\n[/scene]\n"
    assert [c for c in _codes(slug) if c[0] == "S316"] == [("S316", 6, 12)]


@SETTINGS
@given(fuzz_texts(), st.sampled_from(["auto", "cke", "d1", "d3", "d4", "d5"]))
def test_scene_dialect_readers_raise_only_toolkit_errors(text: str, dialect: str) -> None:
    with contextlib.suppress(DslkitError):  # any other exception fails the test
        scene_dsl.parse(text, dialect=dialect)
    diags = scene_dsl.check(text, dialect=dialect)
    assert all(d.code and d.failure_class for d in diags)


# -- round trips over generated scenes -----------------------------------------------------------
@SETTINGS
@given(scenes("v2"))
def test_scene_dialect_cke_round_trip(scene: Scene) -> None:
    s = _explicit(scene)
    assert scene_dsl.canonicalize(s) == s
    assert scene_dsl.parse(scene_dsl.to_text(s, dialect="cke"), dialect="cke") == s
    # written with attributes left out, CKE reading fills them in, in canonical order
    assert scene_dsl.parse(scene_dsl.to_text(scene, dialect="cke"), dialect="cke") == s


@SETTINGS
@given(scenes("v2"), st.sampled_from(["block", "row"]), st.booleans())
def test_scene_v2_dslkit_forms_round_trip(scene: Scene, form: str, inline: bool) -> None:
    # v2's new fields (ids, *_text, accent_ref, repeated refs) print and parse back in both forms
    assert scene_dsl.validate(scene) == []
    text = scene_dsl.to_text(scene, form=form, inline=inline)
    assert scene_dsl.parse(text) == scene
    if inline and "@" not in text:
        return  # one line, no @ part: spec14a CKE files look like this too (auto says cke)
    assert scene_dsl.recognize(text) == "dslkit"
    assert scene_dsl.parse(text, dialect="auto") == scene


def test_scene_dialect_every_writer_round_trips_what_it_can_express() -> None:
    rng = random.Random(11)
    contract = scene_dsl.load_contract()
    for family in sorted(contract.families):
        for _ in range(6):
            s = _explicit(sample_scene(rng, "v2", family=family))
            nested = any(c.children for c in s.components)
            refs = any(
                (fs := contract.components[c.name].field(f.name)) is not None and fs.kind == "ref"
                for c in s.walk()
                for f in c.fields
            )
            for dialect in cke.CKE_DIALECTS:
                if (nested and dialect in cke.ROW_DIALECTS) or (refs and dialect == "d4"):
                    continue
                text = scene_dsl.to_text(s, dialect=dialect)
                assert scene_dsl.parse(text, dialect=dialect) == s, (dialect, text)


def test_scene_dialect_row_writer_refuses_nested_blocks() -> None:
    text = (FIXTURES / "d5" / "quant_formats_table.dsl").read_text()
    scene = scene_dsl.parse(text, dialect="cke")
    with pytest.raises(ValueError, match="nested blocks"):
        scene_dsl.to_text(scene, dialect="d2")
    assert scene_dsl.recognize(scene_dsl.to_text(scene, dialect="cke")) == "d5"


# -- command line ---------------------------------------------------------------------------------
def test_scene_dialect_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = FIXTURES / "d3" / "bandwidth_gap.dsl"
    content = path.with_name("bandwidth_gap.content.json")
    assert main(["check", str(path), "--content", str(content)]) == 0
    assert main(["check", str(path), "--dialect", "dslkit", "--content", str(content)]) == 1
    capsys.readouterr()
    assert main(["convert", str(path), "--to", "dslkit", "--form", "row"]) == 0
    row = capsys.readouterr().out
    assert scene_dsl.parse(row) == scene_dsl.parse(path.read_text(), dialect="cke")
    out = tmp_path / "back.dsl"
    out.write_text(row)
    assert main(["convert", str(out), "--to", "cke"]) == 0
    assert capsys.readouterr().out.split() == path.read_text().split()
