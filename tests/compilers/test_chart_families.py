"""Layout rules of the chart families (table_matrix, comparison_board) that the CKE parity
work added, pinned on fixtures of our own: geometry and colours read back from the SVG."""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET

from dslkit.compilers.scene_svg import compile_scene
from dslkit.compilers.scene_svg.theme import THEMES

import scene_dsl
from scene_dsl.contract import DEFAULT_CONTRACT

PAL = THEMES["infra_dark"]
NS = "{http://www.w3.org/2000/svg}"


def _rect_attr(svg: str, rect_id: str, attr: str) -> str:
    match = re.search(rf'<rect [^>]*id="{re.escape(rect_id)}"[^>]*>', svg)
    assert match, rect_id
    value = re.search(rf' {attr}="([^"]*)"', match.group(0))
    assert value, (rect_id, attr)
    return value.group(1)


def test_table_block_outline_takes_its_accent() -> None:
    text = (
        "[scene]\n[layout:table_matrix]\n[theme:infra_dark]\n[tone:blue]\n[topic:orchard]\n"
        "[table_block:groups.0]\n[table_block:groups.1]\n[/scene]\n"
    )
    rows = [{"cells": ["Apple", "40 t"], "state": "normal"}]
    content = {
        "groups": [
            {"title": "North field", "header": ["Fruit", "Yield"], "rows": rows, "accent": "green"},
            {"title": "South field", "header": ["Fruit", "Yield"], "rows": rows},
        ]
    }
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    tables = [b.id for b in svg.boxes if re.search(r"-table\d+$", b.id)]
    assert len(tables) == 2
    # each group's outline is its own accent (content accent, else the scene tone), never the
    # neutral hairline every other panel uses
    strokes = [_rect_attr(svg.text, t, "stroke") for t in tables]
    assert strokes == [PAL.green, PAL.blue]
    assert PAL.line not in strokes


def test_board_card_with_a_state_is_tinted_by_it() -> None:
    text = (
        "[scene]\n[layout:comparison_board]\n[theme:infra_dark]\n[tone:amber]\n[topic:orchard]\n"
        "[header_band:head]\n[comparison_column:left|cols.left]\n"
        "[comparison_metric:m1|mets.m1]\n[comparison_metric:m2|mets.m2]\n"
        "[comparison_metric:m3|mets.m3]\n[/scene]\n"
    )
    content = {
        "head": {"headline": "Orchard yields"},
        "cols": {"left": {"title": "Trees", "kicker": "Field", "bullets": ["old", "young"]}},
        "mets": {
            "m1": {"label": "Apples", "value": "40 t", "detail": "north rows", "state": "green"},
            "m2": {"label": "Pears", "value": "12 t", "detail": "south rows"},
            "m3": {"label": "Plums", "value": "7 t", "detail": "east rows", "state": "highlight"},
        },
    }
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    cards = sorted((b for b in svg.boxes if b.kind == "card"), key=lambda b: (b.y, b.x))
    assert len(cards) == 4  # the column card, then the three metric cards in a row
    fills = [_rect_attr(svg.text, b.id, "fill") for b in cards[1:]]
    # a named state tints with its tone's wash; a state naming no tone with the card's accent
    # (the scene tone here); no state, the plain card surface
    assert fills == [PAL.green_soft, PAL.surface, PAL.amber_soft]


_TIMELINE = (
    "[scene]\n[layout:timeline]\n[theme:infra_dark]\n[tone:blue]\n[topic:harvest]\n"
    + "\n".join(f"[timeline_stage:s{i}|stages.s{i}]" for i in range(5))
    + "\n"
    + "\n".join(f"[timeline_arrow:s{i}->s{i + 1}]" for i in range(4))
    + "\n[/scene]\n"
)
_STAGES = {
    "stages": {
        f"s{i}": {
            "badge": f"Week {i + 1}",
            "title": f"Harvest step {i + 1}",
            "lines": ["pick the ripe rows"] * (1 + i % 3),
        }
        for i in range(5)
    }
}


def _timeline() -> tuple[object, list[object]]:
    svg = compile_scene(
        scene_dsl.parse(_TIMELINE, dialect="auto"), _STAGES, contract=DEFAULT_CONTRACT
    )
    cards = sorted((b for b in svg.boxes if b.kind == "card"), key=lambda b: b.x)
    assert len(cards) == 5
    return svg, cards


def test_timeline_cards_keep_to_their_own_column() -> None:
    svg, cards = _timeline()
    # alternating sides, yet no card reaches over its neighbour's column: each card holds
    # its own dot's x and none overlaps another in x
    for a, b in itertools.pairwise(cards):
        assert a.x + a.w < b.x
    dots = sorted(float(x) for x in re.findall(r'<circle cx="([^"]+)" cy="[^"]+" r="7"', svg.text))
    assert len(dots) == 5
    for card, x in zip(cards, dots, strict=True):
        assert card.x < x < card.x + card.w


def test_timeline_cards_off_the_axis_share_one_height() -> None:
    _, cards = _timeline()
    # one, two and three lines of text: the cards still stand equally tall
    assert len({round(b.h, 2) for b in cards}) == 1


def test_timeline_badge_heads_the_card_in_an_accent_band() -> None:
    svg, cards = _timeline()
    root = ET.fromstring(svg.text)
    for i, card in enumerate(cards):
        el = next(e for e in root.iter(f"{NS}text") if "".join(e.itertext()) == f"Week {i + 1}")
        # the badge sits in the card's top band, drawn in the canvas colour on the accent
        y = float(el.get("y") or 0)
        assert card.y < y < card.y + card.h * 0.4
        assert el.get("fill") == PAL.bg
        assert el.get("text-anchor") == "middle"
    bands = re.findall(r'<path d="M[^"]*Q[^"]*Z" fill="([^"]+)"', svg.text)
    assert len(bands) == 5 and set(bands) <= {PAL.blue, PAL.amber, PAL.green, PAL.purple}


def test_timeline_card_on_the_axis_centres_its_text() -> None:
    lanes = ["top", "center", "center", "center", "center"]
    text = _TIMELINE
    for i, lane in enumerate(lanes):
        text = text.replace(f"stages.s{i}]", f"stages.s{i}|lane={lane}]")
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), _STAGES, contract=DEFAULT_CONTRACT)
    root = ET.fromstring(svg.text)
    anchors = {}
    for i in range(5):
        el = next(
            e
            for e in root.iter(f"{NS}text")
            if " ".join(" ".join(e.itertext()).split()) == f"Harvest step {i + 1}"
        )
        anchors[i] = el.get("text-anchor", "start")
    # the top card reads from its left edge; the cards on the axis are centred
    assert anchors[0] == "start"
    assert all(anchors[i] == "middle" for i in range(1, 5))


def test_board_metric_values_that_do_not_fit_big_are_set_smaller_not_cut() -> None:
    text = (
        "[scene]\n[layout:comparison_board]\n[theme:infra_dark]\n[tone:amber]\n[topic:orchard]\n"
        "[header_band:head]\n[comparison_column:left|cols.left]\n"
        + "\n".join(f"[comparison_metric:m{i}|mets.m{i}]" for i in range(4))
        + "\n[/scene]\n"
    )
    values = ["40 t", "12 / 30 / 48 tonnes", "7 t", "grows every autumn"]
    content = {
        "head": {"headline": "Orchard yields"},
        "cols": {"left": {"title": "Trees", "kicker": "Field", "bullets": ["old", "young"]}},
        "mets": {f"m{i}": {"label": f"Plot {i}", "value": v} for i, v in enumerate(values)},
    }
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    root = ET.fromstring(svg.text)
    texts = [" ".join(" ".join(e.itertext()).split()) for e in root.iter(f"{NS}text")]
    # every value reads in full (no ellipsis, no S702), and the band's values share one size
    for v in values:
        assert v in texts, v
    assert not [w for w in svg.warnings if w.code == "S702"]
    sizes = {
        e.get("font-size")
        for e in root.iter(f"{NS}text")
        if " ".join(" ".join(e.itertext()).split()) in values
    }
    assert len(sizes) == 1


def test_legend_warning_takes_its_own_line_rather_than_being_cut() -> None:
    text = (
        "[scene]\n[layout:table_matrix]\n[theme:infra_dark]\n[tone:blue]\n[topic:orchard]\n"
        "[legend_block:legend]\n[table_block:groups.0]\n[/scene]\n"
    )
    note = "Rows list each orchard plot with its yield, its soil and the crew that tends it."
    warning = (
        "Tinted rows are the plots whose yield fell short of the target in the last two seasons."
    )
    content = {
        "legend": {"title": "Key", "items": ["north", "south"], "note": note, "warning": warning},
        "groups": [{"title": "Plots", "header": ["Plot", "Yield"], "rows": [["A", "4 t"]]}],
    }
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    root = ET.fromstring(svg.text)
    where = {}
    for el in root.iter(f"{NS}text"):
        t = " ".join(" ".join(el.itertext()).split())
        if t in (note, warning):
            where[t] = (float(el.get("x") or 0), float(el.get("y") or 0))
    # both read in full: the warning, too long for the rest of the note's line, starts the
    # next line at the legend's left edge
    assert set(where) == {note, warning}
    assert not [w for w in svg.warnings if w.code in ("S701", "S702")]
    assert where[warning][1] > where[note][1]
    assert where[warning][0] == where[note][0]


def test_duel_column_label_heads_it_in_an_accent_band() -> None:
    text = (
        "[scene]\n[layout:comparison_span_chart]\n[theme:infra_dark]\n[tone:blue]\n"
        "[compare_bar:bars.a|accent=amber]\n[compare_bar:bars.b|accent=green]\n[/scene]\n"
    )
    content = {
        "bars": {
            "a": {"label": "Wide road", "value": "900 cars", "caption": "rush hour"},
            "b": {"label": "Side lane", "value": "300 cars", "caption": "quiet"},
        }
    }
    svg = compile_scene(text, content)
    root = ET.fromstring(svg.text)
    cols = sorted((b for b in svg.boxes if "-col" in b.id), key=lambda b: b.x)
    assert len(cols) == 2
    pairs = zip(cols, ("Wide road", "Side lane"), (PAL.amber, PAL.green), strict=True)
    for col, label, accent in pairs:
        el = next(e for e in root.iter(f"{NS}text") if "".join(e.itertext()) == label)
        y = float(el.get("y") or 0)
        # the label is set in the canvas colour on a band of the bar's accent at the top
        assert el.get("fill") == PAL.bg
        assert col.y < y < col.y + 40
        assert re.search(rf'<path d="M{col.x:.2f} [^"]*Z" fill="{accent}"', svg.text), label


def test_table_rows_are_separate_raised_bands() -> None:
    text = (
        "[scene]\n[layout:table_matrix]\n[theme:infra_dark]\n[tone:blue]\n[topic:orchard]\n"
        "[table_block:groups.0]\n[/scene]\n"
    )
    rows = [
        {"cells": ["Apple", "40 t"], "state": "normal"},
        {"cells": ["Pear", "12 t"], "state": "warning"},
        {"cells": ["Plum", "7 t"], "state": "normal"},
    ]
    content = {"groups": [{"title": "North field", "header": ["Fruit", "Yield"], "rows": rows}]}
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    bands = sorted((b for b in svg.boxes if re.search(r"-row\d+$", b.id)), key=lambda b: b.y)
    assert len(bands) == 3
    # a normal row is raised on the panel, a stated row tinted by its state
    fills = [_rect_attr(svg.text, b.id, "fill") for b in bands]
    assert fills == [PAL.surface2, PAL.amber_soft, PAL.surface2]
    # and each band stands a little apart from the next
    for a, b in itertools.pairwise(bands):
        assert a.y + a.h < b.y


def test_board_cards_are_outlined_in_their_accent() -> None:
    text = (
        "[scene]\n[layout:comparison_board]\n[theme:infra_dark]\n[tone:amber]\n[topic:orchard]\n"
        "[header_band:head]\n[comparison_column:left|cols.left]\n"
        "[comparison_column:right|cols.right]\n[comparison_metric:m1|mets.m1]\n"
        "[comparison_metric:m2|mets.m2]\n[/scene]\n"
    )
    content = {
        "head": {"headline": "Orchard yields"},
        "cols": {
            "left": {"title": "Trees", "kicker": "Field", "accent": "green"},
            "right": {"title": "Vines", "kicker": "Slope"},
        },
        "mets": {
            "m1": {"label": "Apples", "value": "40 t", "state": "blue"},
            "m2": {"label": "Pears", "value": "12 t"},
        },
    }
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content, contract=DEFAULT_CONTRACT)
    cards = sorted((b for b in svg.boxes if b.kind == "card"), key=lambda b: (b.y, b.x))
    strokes = [_rect_attr(svg.text, b.id, "stroke") for b in cards]
    # the content accent, else the scene tone; a metric's state names its own
    assert strokes == [PAL.green, PAL.amber, PAL.blue, PAL.amber]


def test_duel_hosts_free_notes_but_leaves_targeted_ones_to_their_target() -> None:
    from dslkit.compilers.scene_svg.layouts.chart import duel_hosts

    from scene_dsl.ast import Component, Field

    assert duel_hosts(Component("thesis_box", (Field("ref", "th"),)))
    assert duel_hosts(Component("legend_row", (Field("amber_ref", "lg.a"),)))
    assert duel_hosts(Component("annotation", (Field("label_ref", "n.label"),)))
    # an annotation that points at a card stays a strip beside that card
    assert not duel_hosts(Component("annotation", (Field("target", "road"),)))
    assert not duel_hosts(Component("divider", (Field("style", "dash"),)))
