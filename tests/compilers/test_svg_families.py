"""Every layout family compiles to well-formed, accessible SVG that respects the geometry."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from dslkit.compilers.scene_svg import Svg, compile_scene
from dslkit.compilers.scene_svg.layouts import LAYOUTS
from svg_scene_factory import FAMILIES, build, geometry_problems

NS = "{http://www.w3.org/2000/svg}"
SHAPES = [
    (f, canvas, long)
    for f in FAMILIES
    for canvas in ("wide", "tall", "square")
    for long in (False, True)
]


def _compile(
    family: str, canvas: str = "wide", long: bool = False, n: int = 3, **attrs: str
) -> Svg:
    text, content = build(family, n=n, long=long, attrs={"canvas": canvas, **attrs})
    return compile_scene(text, content)


def test_every_contract_family_has_a_layout() -> None:
    import scene_dsl

    assert set(scene_dsl.load_contract("v1").families) == set(LAYOUTS) == set(FAMILIES)


@pytest.mark.parametrize(("family", "canvas", "long"), SHAPES)
def test_family_compiles_well_formed_and_accessible(family: str, canvas: str, long: bool) -> None:
    svg = _compile(family, canvas, long)
    root = ET.fromstring(svg.text)
    assert root.tag == NS + "svg"
    assert root.get("role") == "img"
    assert root.get("width") == str(svg.width) and root.get("height") == str(svg.height)
    title, desc = root.find(NS + "title"), root.find(NS + "desc")
    assert title is not None and title.text
    assert desc is not None and desc.text
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)), "element ids must be unique"
    assert geometry_problems(svg) == []


@pytest.mark.parametrize("family", FAMILIES)
def test_family_renders_its_content(family: str) -> None:
    text, content = build(family)
    svg = compile_scene(text, content)
    # every content string the scene references shows up (escaped) in the drawing, unless
    # the compiler said it cut or dropped text
    if not any(w.code == "S702" for w in svg.warnings):
        assert content["header"]["headline"] in svg.text
    assert not [w for w in svg.warnings if w.code == "S703"], [w.headline() for w in svg.warnings]
    kinds = {b.kind for b in svg.boxes}
    assert {"panel", "text"} <= kinds


@pytest.mark.parametrize("family", FAMILIES)
def test_long_text_is_fitted_with_warnings(family: str) -> None:
    svg = _compile(family, "wide", long=True, n=5)
    assert geometry_problems(svg) == []
    assert {w.code for w in svg.warnings} & {"S701", "S702"}
    assert all(not w.is_error for w in svg.warnings)


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("n", [1, 8])
def test_family_scales_with_component_count(family: str, n: int) -> None:
    svg = _compile(family, "wide", n=n)
    assert geometry_problems(svg) == []
    ET.fromstring(svg.text)


@pytest.mark.parametrize("family", FAMILIES)
def test_family_compiles_without_common_components(family: str) -> None:
    text, content = build(family, common=False)
    svg = compile_scene(text, content)
    assert geometry_problems(svg) == []


def _gold_cases() -> list[str]:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "examples" / "gold"
    return sorted(p.name for p in root.iterdir() if (p / "scene.dsl").exists())


@pytest.mark.parametrize("case", _gold_cases())
def test_gold_case_respects_geometry(case: str) -> None:
    import json
    from pathlib import Path

    d = Path(__file__).resolve().parents[2] / "examples" / "gold" / case
    svg = compile_scene((d / "scene.dsl").read_text(), json.loads((d / "content.json").read_text()))
    assert geometry_problems(svg) == []


@pytest.mark.parametrize("family", ["flow_graph", "architecture_map", "decision_tree"])
@pytest.mark.parametrize("canvas", ["wide", "tall"])
def test_graph_edge_labels_are_boxes(family: str, canvas: str) -> None:
    svg = _compile(family, canvas, n=6)
    labels = [b for b in svg.boxes if b.kind == "edge_label"]
    assert labels, "labelled edges must record their label chips"
    assert geometry_problems(svg) == []


@pytest.mark.parametrize("family", ["poster_stack", "dashboard_cards", "concept_editorial"])
@pytest.mark.parametrize("long", [False, True])
def test_crowded_wide_scenes_draw_no_empty_component_boxes(family: str, long: bool) -> None:
    svg = _compile(family, "wide", long=long, n=3)
    parent = {b.id: b.parent_id for b in svg.boxes}
    holds_text: set[str] = set()
    for b in svg.boxes:
        if b.kind == "text":
            p = b.parent_id
            while p is not None and p not in holds_text:
                holds_text.add(p)
                p = parent.get(p)
    empty = [
        b
        for b in svg.boxes
        if (b.kind == "card" or "-formula" in b.id or "-strip" in b.id) and b.id not in holds_text
    ]
    assert empty == []
    assert geometry_problems(svg) == []


def _crowded_poster(stages: int, infos: int) -> tuple[str, dict[str, object]]:
    """A wide poster with a long stage flow and a grid of info cards under it."""
    lines = [
        "[scene]",
        "[canvas:wide] [layout:poster_stack] [theme:paper_editorial] [density:compact]",
        "[header_band] [headline_ref:headline] [/header_band]",
    ]
    steps: dict[str, object] = {}
    arrows: dict[str, str] = {}
    info: dict[str, object] = {}
    for i in range(stages):
        lines.append(f"[stage_card] [stage_id:s{i}] [ref:steps.s{i}] [/stage_card]")
        steps[f"s{i}"] = {"title": f"Stage {i}", "body": "what happens in this stage"}
    for i in range(stages - 1):
        lines.append(
            f"[flow_arrow] [from_ref:s{i}] [to_ref:s{i + 1}] [label_ref:arrows.a{i}] [/flow_arrow]"
        )
        arrows[f"a{i}"] = "next"
    for j in range(infos):
        lines.append(f"[info_card] [ref:info.i{j}] [/info_card]")
        info[f"i{j}"] = {"title": "Note", "body": "Five exponent bits overflow at 65,504."}
    lines.append("[/scene]")
    content = {"headline": "A long pipeline", "steps": steps, "arrows": arrows, "info": info}
    return "\n".join(lines), content


@pytest.mark.parametrize("stages", [16, 24, 60])
def test_crowded_stage_flow_keeps_every_stage_and_arrow(stages: int) -> None:
    # cards get narrower and rows closer before any stage is squeezed out; before this, 24
    # stages above 12 info cards lost every card while their arrows stayed on the page
    svg = compile_scene(*_crowded_poster(stages, 12))
    assert geometry_problems(svg) == []
    # bodies give way first; a stage's title (and so its card) is shrunk, never left out
    assert not [
        w for w in svg.warnings if w.message.startswith("stage_card.title") and w.code == "S702"
    ]
    assert svg.text.count("marker-end") == stages - 1
    for stage in range(stages):
        assert f">Stage {stage}<" in svg.text


def test_stage_flow_beyond_the_page_drops_whole_stages_with_their_arrows() -> None:
    svg = compile_scene(*_crowded_poster(300, 12))
    assert geometry_problems(svg) == []
    drawn = sum(b.kind == "card" for b in svg.boxes) - 12  # every info card is drawn
    assert 0 < drawn < 300
    # the stages left out are the last ones in reading order (stage i is on line 4 + i)
    left_out = sorted(
        w.line - 4
        for w in svg.warnings
        if w.message.startswith("stage_card.title") and "left out" in w.message
    )
    assert left_out == list(range(drawn, 300))
    # an arrow only between two drawn cards
    assert svg.text.count("marker-end") == drawn - 1


def test_ellipsis_warnings_match_the_drawn_text() -> None:
    svg = compile_scene(*_crowded_poster(300, 12))
    cut = [w for w in svg.warnings if "ellipsis" in w.message]
    assert cut and svg.text.count("…") >= len(cut)
    # 16 stages fit their titles whole: no ellipsis drawn, none reported
    svg = compile_scene(*_crowded_poster(16, 8))
    assert "…" not in svg.text
    assert not [w for w in svg.warnings if "ellipsis" in w.message]


def test_arrow_written_apart_from_its_stages_joins_their_band() -> None:
    # found by the property test: a flow_arrow after a divider formed a band of its own with
    # a negative height, pushing the last card out of the page
    text = """[scene]
[layout:poster_stack] [density:airy] [gap:lg] [columns:3]
[info_card] [ref:info.0] [/info_card]
[stage_card] [stage_id:a] [ref:stage.a] [/stage_card]
[stage_card] [stage_id:b] [ref:stage.b] [/stage_card]
[divider] [style:gap] [/divider]
[info_card] [ref:info.1] [variant:hero] [/info_card]
[flow_arrow] [from_ref:a] [to_ref:b] [label_ref:label] [/flow_arrow]
[/scene]"""
    content = {
        "info": [{"title": "First", "body": "a note"}, {"title": "Hero", "body": "the point"}],
        "stage": {"a": {"title": "Load"}, "b": {"title": "Serve"}},
        "label": "then",
    }
    svg = compile_scene(text, content)
    assert geometry_problems(svg) == []
    assert svg.text.count("marker-end") == 1 and ">then<" in svg.text
    assert not [w for w in svg.warnings if w.code == "S703"]


def test_axis_minimum_above_the_data_keeps_distinct_ticks() -> None:
    # found by the property test: min 1 over values of 0 made every tick the same label
    text = """[scene]
[layout:comparison_span_chart]
[compare_bar] [label_ref:bar.label] [value_ref:bar.value] [/compare_bar]
[axis] [label_ref:axis.label] [min_ref:axis.min] [max_ref:axis.max] [ticks:2] [/axis]
[/scene]"""
    content = {
        "bar": {"label": "idle", "value": "0"},
        "axis": {"label": "load", "min": "1", "max": "0"},
    }
    svg = compile_scene(text, content)
    assert geometry_problems(svg) == []
    ticks = re.findall(r'font-family="DejaVu Sans Mono[^>]*>([0-9.]+)<', svg.text)
    # the axis runs 1..2 (the bar's own "0" is mono text too)
    assert {"1", "1.5", "2"} <= set(ticks) and len(ticks) == len(set(ticks)), ticks
