"""The content shapes of the CKE v7 corpus are drawn (issue 11), read back from the SVG itself.

Fixtures are synthetic (``cke_shapes.py``). Text is read from the SVG's own ``<text>``
elements (wrapped lines joined with a space), never from the compiler's records.
"""

from __future__ import annotations

import copy
import itertools
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from cke_shapes import SHAPES
from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import geometry_problems

from scene_dsl.contract import DEFAULT_CONTRACT

_NS = "{http://www.w3.org/2000/svg}"


def visible_text(svg_text: str) -> str:
    """Every ``<text>`` of the SVG, its lines joined with spaces, casefolded."""
    root = ET.fromstring(svg_text)
    out = []
    for el in root.iter(f"{_NS}text"):
        spans = el.findall(f"{_NS}tspan")
        parts = [s.text or "" for s in spans] if spans else [el.text or ""]
        out.append(" ".join(" ".join(parts).split()))
    return " | ".join(out).casefold()


def _codes(svg: Any, code: str) -> list[str]:
    return [w.message for w in svg.warnings if w.code == code]


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_every_content_key_is_drawn(name: str) -> None:
    text, content, expected = SHAPES[name]
    svg = compile_scene(text, content, grow=True)
    assert _codes(svg, "S703") == []  # nothing left unread
    assert _codes(svg, "S702") == []  # nothing cut: every string below must be whole
    seen = visible_text(svg.text)
    missing = [t for t in expected if t.casefold() not in seen]
    assert missing == []
    assert geometry_problems(svg) == []


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_an_unknown_key_is_reported(name: str) -> None:
    text, content, _ = SHAPES[name]
    content = copy.deepcopy(content)
    # an unknown key on the first object a non-header component binds to (a map of
    # objects, like nodes.{id}, gives its first object)
    target = next(v for k, v in content.items() if k != "head" and isinstance(v, dict))
    if all(isinstance(x, dict) for x in target.values()):
        target = next(iter(target.values()))
    target["zz_unheard_of"] = "never drawn"
    svg = compile_scene(text, content, grow=True)
    undrawn = _codes(svg, "S703")
    assert any("zz_unheard_of" in m for m in undrawn), undrawn
    assert "never drawn" not in visible_text(svg.text)


def test_row_objects_keep_their_state_tint() -> None:
    text, content, _ = SHAPES["table_rows_objects"]
    rows = content["groups"][0]["rows"]
    plain = copy.deepcopy(content)
    for row in plain["groups"][0]["rows"]:
        row["state"] = "normal"
    tinted = compile_scene(text, content).text
    flat = compile_scene(text, plain).text
    assert rows[1]["state"] == "warning"
    # a warning row adds a tinted row panel and a state stripe the normal rows do not have
    assert tinted.count("<rect") > flat.count("<rect")
    assert visible_text(tinted) == visible_text(flat)  # same cells either way


def test_principle_pair_objects_are_two_panels() -> None:
    text, content, _ = SHAPES["concept_pairs"]
    svg = compile_scene(text, content)
    seen = visible_text(svg.text)
    # each side keeps its own title, body and bullets, in that reading order
    for side in ("pairs.left", "pairs.right"):
        obj = content["pairs"][side.split(".")[1]]
        where = [seen.index(s.casefold()) for s in (obj["title"], obj["body"], obj["bullets"][0])]
        assert where == sorted(where)


def test_technical_nodes_without_edges_are_chained_in_order() -> None:
    text, content, _ = SHAPES["technical_parts"]
    svg = compile_scene(text, content)
    # one connector between the two nodes: an arrowhead marker is used once
    assert len(re.findall(r'marker-end="url\(#', svg.text)) == 1


def test_micrographic_band_width_sets_the_bar() -> None:
    text, content, _ = SHAPES["micro_bands"]
    svg = compile_scene(text, content)
    bars = [
        float(m)
        for m in re.findall(r'<rect x="[^"]+" y="[^"]+" width="([^"]+)"[^>]*fill="url\(#', svg.text)
    ]
    bars = [w for w in bars if w < svg.width]  # not the page's own gradient
    widths = {k: v["width"] for k, v in content["bands"].items()}
    assert len(bars) == 2
    # the bars keep the ratio of their widths (0.8 : 0.3)
    assert bars[0] / bars[1] == pytest.approx(widths["b1"] / widths["b2"], rel=0.02)


def test_grow_lays_a_crowded_page_out_taller() -> None:
    from svg_scene_factory import build

    # six cards of the test factory do not fit the wide canvas: the fixed page cuts text
    text, content = build("dashboard_cards", n=6)
    fixed = compile_scene(text, content)
    grown = compile_scene(text, content, grow=True)
    assert fixed.height == 675 and _codes(fixed, "S702")
    assert grown.height > fixed.height
    assert len(_codes(grown, "S702")) < len(_codes(fixed, "S702"))
    assert grown.width == fixed.width
    # a page that fits is never grown
    small_text, small_content, _ = SHAPES["micro_bands"]
    assert (
        compile_scene(small_text, small_content, grow=True).text
        == compile_scene(small_text, small_content).text
    )


# ---- topologies the CKE corpus writes that contract v1 cannot: a user contract -----------


def _cke_contract(tmp_path: Path) -> Path:
    """v1 plus ids on brackets, metrics, terminals and markers (no range/column/position)."""
    from importlib.resources import files

    data = json.loads((files("scene_dsl") / "contracts" / "v1.json").read_text(encoding="utf-8"))
    comps = data["components"]
    comps["region_bracket"] = {
        "fields": {"bracket_id": "id", "ref": "ref"},
        "required": ["bracket_id"],
        "row": [["bracket_id", "ref"]],
    }
    comps["comparison_metric"] = {
        "fields": {"metric_id": "id", "ref": "ref"},
        "required": ["metric_id"],
        "row": [["metric_id", "ref"]],
    }
    comps["terminal_panel"] = {
        "fields": {"panel_id": "id", "ref": "ref"},
        "required": ["panel_id"],
        "row": [["panel_id", "ref"]],
    }
    comps["marker_band"] = {
        "fields": {"band_id": "id", "ref": "ref"},
        "required": ["band_id"],
        "row": [["band_id", "ref"]],
    }
    comps["span_bracket"] = {"fields": {"ref": "ref"}, "row": [["ref"]]}
    path = tmp_path / "cke_like.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_a_bracket_without_a_range_is_an_elided_tower_slot(tmp_path: Path) -> None:
    contract = _cke_contract(tmp_path)
    text = (
        "[scene]\n[layout:memory_map]\n[memory_segment:a|segs.a]\n[region_bracket:gap|segs.gap]\n"
        "[memory_segment:b|segs.b]\n[/scene]\n"
    )
    content = {
        "segs": {
            "a": {"title": "Low seg"},
            "gap": {"title": "Skipped run", "caption": "many alike"},
            "b": {"title": "High seg"},
        }
    }
    svg = compile_scene(text, content, contract=contract)
    seen = visible_text(svg.text)
    # the slot sits between its neighbours, in source order
    assert seen.index("low seg") < seen.index("skipped run") < seen.index("high seg")
    assert "many alike" in seen and not _codes(svg, "S703")
    assert 'stroke-dasharray="6 5"' in svg.text  # drawn as a dashed slot, not a segment


def test_metrics_with_ids_of_their_own_form_a_grid(tmp_path: Path) -> None:
    contract = _cke_contract(tmp_path)
    text = (
        "[scene]\n[layout:comparison_board]\n[comparison_column:l|cols.l]\n"
        "[comparison_column:r|cols.r]\n[comparison_metric:m1|mets.m1]\n"
        "[comparison_metric:m2|mets.m2]\n[/scene]\n"
    )
    content = {
        "cols": {"l": {"title": "Lefthand"}, "r": {"title": "Righthand"}},
        "mets": {
            "m1": {"label": "Latency", "value": "12 ms", "detail": "lower wins"},
            "m2": {"label": "Volume", "value": "9 GB", "detail": "per day", "state": "green"},
        },
    }
    svg = compile_scene(text, content, contract=contract, grow=True)
    seen = visible_text(svg.text)
    for s in ("latency", "12 ms", "lower wins", "volume", "9 gb", "per day"):
        assert s in seen
    assert not _codes(svg, "S703")
    cards = [b for b in svg.boxes if b.kind == "card"]
    metric_rows = {round(b.y) for b in cards[-2:]}
    assert len(metric_rows) == 1  # the two metric cards share one row


def test_a_terminal_that_a_link_targets_joins_the_stage_row(tmp_path: Path) -> None:
    contract = _cke_contract(tmp_path)
    text = (
        "[scene]\n[layout:system_diagram]\n[system_stage:s1|st.s1]\n[system_stage:s2|st.s2]\n"
        "[system_link:s1->s2|links.a]\n[system_link:s2->term|links.b]\n"
        "[terminal_panel:term|term]\n[/scene]\n"
    )
    content = {
        "st": {"s1": {"title": "Intake"}, "s2": {"title": "Refine"}},
        "links": {"a": {"label": "raw"}, "b": {"label": "done"}},
        "term": {"badge": "OUT", "title": "Sink", "body": "the end"},
    }
    svg = compile_scene(text, content, contract=contract)
    cards = [b for b in svg.boxes if b.kind == "card"]
    assert len(cards) == 3 and len({round(b.y) for b in cards}) == 1  # one row
    assert len(re.findall(r'marker-end="url\(#', svg.text)) == 2  # both links drawn
    seen = visible_text(svg.text)
    for s in ("raw", "done", "out", "sink", "the end"):
        assert s in seen


def test_markers_without_positions_spread_in_order(tmp_path: Path) -> None:
    contract = _cke_contract(tmp_path)
    text = (
        "[scene]\n[layout:spectrum_map]\n[spectrum_pole:left|p.l]\n[spectrum_pole:right|p.r]\n"
        "[marker_band:b1|m.b1]\n[marker_band:b2|m.b2]\n[marker_band:b3|m.b3]\n[/scene]\n"
    )
    content = {
        "p": {"l": {"title": "Low"}, "r": {"title": "High"}},
        "m": {k: {"title": f"Mark {k}", "body": f"about {k}"} for k in ("b1", "b2", "b3")},
    }
    svg = compile_scene(text, content, contract=contract)
    tips = [
        float(x)
        for x in re.findall(r'<path d="M[^ ]+ [^ ]+ L[^ ]+ [^ ]+ L([^ ]+) [^ ]+ z"', svg.text)
    ]
    assert len(tips) == 3 and tips == sorted(tips) and len(set(tips)) == 3
    assert all(f"about b{i}" in visible_text(svg.text) for i in (1, 2, 3))


# ---- surfaces the dialect readers produce (contract v2) ----------------------------------


def test_literal_slugs_are_drawn_as_words() -> None:
    import scene_dsl

    text = (
        "[scene]\n[canvas:wide]\n[layout:dashboard_cards]\n[theme:infra_dark]\n[tone:blue]\n"
        "[topic:lit_demo]\n[header_band:odd_kicker|lantern_report|dim_and_bright]\n"
        "[section_card:glow_level|nine_lumens|after_dusk|variant=metric|accent=amber]\n"
        "[section_card:wick_count|three_wicks|per_lamp|variant=note|accent=green]\n"
        "[footer_note:kept_in_shed]\n[/scene]\n"
    )
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), {}, contract=DEFAULT_CONTRACT)
    seen = visible_text(svg.text)
    for words in (
        "lantern report",
        "dim and bright",
        "glow level",
        "nine lumens",
        "after dusk",
        "three wicks",
        "per lamp",
        "kept in shed",
        "odd kicker",
    ):
        assert words in seen, words
    assert "_" not in seen.replace("lit_demo", "")  # no slug shows through
    assert not _codes(svg, "S703")


def test_verbose_per_leaf_fields_fill_lists() -> None:
    import scene_dsl

    text = (
        "[scene]\n[layout:memory_map]\n[theme:infra_dark]\n[tone:green]\n[topic:leafy]\n"
        "[address_strip] [offset_ref:offs.0] [offset_ref:offs.1] [offset_ref:offs.2] "
        "[/address_strip]\n"
        "[memory_segment] [segment_id:pool] [title_ref:segs.pool.title] "
        "[subregion_ref:segs.pool.parts.0] [subregion_ref:segs.pool.parts.1] [/memory_segment]\n"
        "[info_card] [title_ref:cards.c.title] [code_ref:cards.c.lines.0] "
        "[code_ref:cards.c.lines.1] [/info_card]\n[/scene]\n"
    )
    content = {
        "offs": ["0xaa", "0xbb", "0xcc"],
        "segs": {"pool": {"title": "Pool zone", "parts": ["first part", "second part"]}},
        "cards": {"c": {"title": "Card heading", "lines": ["cmd one", "cmd two"]}},
    }
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    seen = visible_text(svg.text)
    # every repeated field's value is drawn, not only the last one
    for s in ("0xaa", "0xbb", "0xcc", "first part", "second part", "cmd one", "cmd two"):
        assert s in seen, s
    assert not _codes(svg, "S703")


def test_two_bars_are_a_duel_of_columns() -> None:
    text = (
        "[scene]\n[layout:comparison_span_chart]\n[compare_bar:bars.a]\n[compare_bar:bars.b]\n"
        "[axis:ax]\n[span_bracket:0|0|spans.a]\n[floor_band:floor]\n[/scene]\n"
    )
    content = {
        "bars": {
            "a": {"label": "Wide road", "value": "900 cars", "caption": "rush hour", "note": "n1"},
            "b": {"label": "Side lane", "value": "45 cars", "caption": "quiet", "note": "n2"},
        },
        "ax": {"label": "Traffic scale"},
        "spans": {"a": "twenty-fold"},
        "floor": {"label": "Toll gate", "value": "30 cars"},
    }
    svg = compile_scene(text, content, grow=True)
    cols = [b for b in svg.boxes if "-col" in b.id and b.kind == "panel"]
    assert len(cols) == 2
    left, right = sorted(cols, key=lambda b: b.x)
    assert left.x + left.w < right.x  # one column per side
    assert left.h > left.w  # vertical columns
    seen = visible_text(svg.text)
    for s in (
        "wide road",
        "900 cars",
        "rush hour",
        "side lane",
        "45 cars",
        "twenty-fold",
        "traffic scale",
        "toll gate",
    ):
        assert s in seen, s
    assert geometry_problems(svg) == [] and not _codes(svg, "S703")
    # the columns are the bars: bottoms aligned, the larger value's column the full height,
    # the smaller one as tall as its texts need (45 cars is a sliver on the 900 scale)
    assert left.y + left.h == pytest.approx(right.y + right.h, abs=0.01)
    assert right.h < left.h * 0.9
    assert right.h > left.h * 45 / 900 * 2
    # no chart panel is drawn behind the columns: the chart's box has no rect of its own
    chart = next(b for b in svg.boxes if "-chart" in b.id)
    assert f'id="{chart.id}"' not in svg.text
    # the floor is one strip across the chart, under both columns
    floor = next(b for b in svg.boxes if "-floor" in b.id)
    assert floor.x <= left.x and floor.x + floor.w >= right.x + right.w
    assert floor.y >= left.y + left.h - 0.01


def test_duel_column_heights_follow_the_values() -> None:
    text = (
        "[scene]\n[layout:comparison_span_chart]\n[compare_bar:bars.a]\n[compare_bar:bars.b]\n"
        "[/scene]\n"
    )
    content = {
        "bars": {
            "a": {"label": "Wide road", "value": "900 cars"},
            "b": {"label": "Side lane", "value": "450 cars"},
        }
    }
    svg = compile_scene(text, content)
    left, right = sorted((b for b in svg.boxes if "-col" in b.id), key=lambda b: b.x)
    assert right.h / left.h == pytest.approx(0.5, abs=0.01)


def test_duel_hosts_legend_and_free_notes_in_its_middle() -> None:
    text = (
        "[scene]\n[layout:comparison_span_chart]\n[theme:infra_dark]\n[tone:mixed]\n"
        "[topic:roads]\n[compare_bar:@bars.a.label|@bars.a.value]\n"
        "[compare_bar:@bars.b.label|@bars.b.value]\n"
        "[legend_row:amber=@lg.a|green=@lg.b]\n"
        "[annotation:@note.label|@note.text|accent=@note.accent]\n"
        "[thesis_box:@th.title|@th.body]\n[/scene]\n"
    )
    content = {
        "bars": {
            "a": {"label": "Wide road", "value": "900 cars"},
            "b": {"label": "Side lane", "value": "300 cars"},
        },
        "lg": {"a": "Road legend", "b": "Lane legend"},
        "note": {"label": "Side remark", "text": "Quiet at night", "accent": "amber"},
        "th": {"title": "Main point", "body": "Lanes matter less than gates."},
    }
    import scene_dsl

    # the CKE at-row dialect (D3): an annotation is label | note | accent, no target
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    root = ET.fromstring(svg.text)
    left, right = sorted((b for b in svg.boxes if "-col" in b.id), key=lambda b: b.x)

    def where(needle: str) -> tuple[float, float]:
        for el in root.iter(f"{_NS}text"):
            if needle in " ".join(" ".join(el.itertext()).split()):
                return float(el.get("x") or 0), float(el.get("y") or 0)
        raise AssertionError(needle)

    # legend, note and thesis all stand between the columns, in source order top to bottom
    ys = []
    for needle in ("Road legend", "Quiet at night", "Lanes matter"):
        x, y = where(needle)
        assert left.x + left.w < x < right.x, needle
        ys.append(y)
    assert ys == sorted(ys)
    # and none of them is a page strip under the chart
    assert max(ys) < left.y + left.h


def test_center_lane_stages_sit_on_the_axis() -> None:
    body = (
        "\n".join(f"[timeline_stage:s{i}|st.s{i}|lane=center]" for i in (1, 2, 3))
        + "\n[timeline_arrow:s1->s2]\n[timeline_arrow:s2->s3]"
    )
    text = f"[scene]\n[layout:timeline]\n{body}\n[/scene]\n"
    content = {"st": {f"s{i}": {"title": f"Phase {i}", "lines": [f"step {i}"]} for i in (1, 2, 3)}}
    svg = compile_scene(text, content)
    cards = sorted((b for b in svg.boxes if b.kind == "card"), key=lambda b: b.x)
    assert len(cards) == 3 and len({round(b.y + b.h / 2) for b in cards}) == 1  # one row
    assert all(a.x + a.w < b.x for a, b in itertools.pairwise(cards))  # a run between cards
    assert len(re.findall(r'marker-end="url\(#', svg.text)) == 2
    assert geometry_problems(svg) == []


_ROW = """[scene]
[canvas:wide] [layout:timeline] [theme:infra_dark] [tone:amber]
[header_band] [headline_ref:h.title] [/header_band]
[timeline_stage] [stage_id:a] [ref:s.a] [/timeline_stage]
[timeline_stage] [stage_id:b] [ref:s.b] [/timeline_stage]
[timeline_stage] [stage_id:c] [ref:s.c] [/timeline_stage]
[timeline_arrow] [from_ref:a] [to_ref:b] [/timeline_arrow]
[timeline_arrow] [from_ref:b] [to_ref:c] [/timeline_arrow]
[/scene]
"""
_ROW_CONTENT = {
    "h": {"title": "Three short steps"},
    "s": {k: {"title": f"Step {k}", "body": "One short line"} for k in "abc"},
}


def test_grow_drops_the_unused_band_of_a_sparse_page() -> None:
    """One row of short cards in a tall canvas: grow sizes the page to its content."""
    fixed = compile_scene(_ROW, _ROW_CONTENT)
    grown = compile_scene(_ROW, _ROW_CONTENT, grow=True)
    assert grown.width == fixed.width
    assert grown.height < fixed.height * 0.8
    assert not _codes(grown, "S702")
    cards = [b for b in grown.boxes if b.kind == "card"]
    assert len(cards) == len([b for b in fixed.boxes if b.kind == "card"]) >= 3
    assert all(b.y >= 0 and b.y + b.h <= grown.height for b in cards)
