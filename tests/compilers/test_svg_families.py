"""Every layout family compiles to well-formed, accessible SVG that respects the geometry."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from svg_scene_factory import FAMILIES, build, geometry_problems

from compilers.scene_svg import Svg, compile_scene
from compilers.scene_svg.layouts import LAYOUTS

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
