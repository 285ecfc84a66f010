"""Layout rules of the flow families (flow_graph, decision_tree, system_diagram, memory_map)
that bring them closer to the pages the CKE v7 scenes were drawn for.

Every fixture is written here, in the CKE row dialect, with its own content. Geometry is read
back from the compiled SVG: the placed boxes (``Svg.boxes``) and the ``<rect>`` elements.
"""

from __future__ import annotations

import itertools
import re

import pytest
from dslkit.compilers.scene_svg import Svg, compile_scene
from dslkit.compilers.scene_svg.theme import THEMES
from svg_scene_factory import geometry_problems

import scene_dsl

FLOW = """[scene]
[layout:flow_graph]
[theme:infra_dark]
[tone:green]
[density:balanced]
[topic:bread_run]
[header_band:header]
[decision_node:mix|nodes.mix]
[decision_node:proof|nodes.proof]
[decision_node:bake|nodes.bake]
[outcome_panel:shelf|shelf]
[decision_edge:mix->proof|edges.mix_proof]
[decision_edge:proof->bake|edges.proof_bake]
[decision_edge:bake->shelf|edges.bake_shelf]
[footer_note:footer]
[/scene]
"""

FLOW_CONTENT = {
    "header": {"headline": "A loaf from flour to shelf", "subtitle": "Four steps, one oven"},
    "nodes": {
        "mix": {"title": "Mix", "body": "Flour, water, salt."},
        "proof": {
            "title": "Proof",
            "body": "Let the dough rise somewhere warm until it has doubled in size, then "
            "knock it back and shape it into a tight round on a floured board.",
            "detail": ["two hours", "covered bowl", "warm corner"],
        },
        "bake": {"title": "Bake", "body": "Hot oven, steam first."},
    },
    "edges": {"mix_proof": "dough", "proof_bake": "shaped loaf", "bake_shelf": "cooled"},
    "shelf": {"title": "Shelf", "body": "Sliced and sold."},
    "footer": {"note": "Bread waits for nobody: every step is timed from the first mix."},
}

TREE = """[scene]
[layout:decision_tree]
[theme:infra_dark]
[tone:amber]
[topic:plant_care]
[header_band:header]
[entry_badge:entry]
[decision_node:start|nodes.start]
[decision_node:dry|nodes.dry]
[decision_node:pale|nodes.pale]
[decision_edge:start->dry|edges.start_dry]
[decision_edge:start->pale|edges.start_pale]
[outcome_panel:water|outcomes.water]
[outcome_panel:light|outcomes.light]
[decision_edge:dry->water|edges.dry_water]
[decision_edge:pale->light|edges.pale_light]
[footer_note:footer]
[/scene]
"""

TREE_CONTENT = {
    "header": {"headline": "Why is the plant drooping?", "subtitle": "Check soil before sun"},
    "entry": {"label": "START HERE"},
    "nodes": {
        "start": {"title": "Leaves drooping?", "body": "Look at the soil and the colour."},
        "dry": {"title": "Soil dry?", "body": "Push a finger in to the knuckle."},
        "pale": {"title": "Leaves pale?", "body": "Compare with new growth."},
    },
    "edges": {
        "start_dry": "soil",
        "start_pale": "colour",
        "dry_water": "yes",
        "pale_light": "yes",
    },
    "outcomes": {
        "water": {"title": "Water deeply", "body": "Until it drains."},
        "light": {"title": "More light", "body": "Move it nearer a window."},
    },
    "footer": {"note": "One change a week, then look again."},
}

SYSTEM = """[scene]
[layout:system_diagram]
[theme:infra_dark]
[tone:blue]
[topic:tea_line]
[header_band:header]
[system_stage:boil|stages.boil]
[system_stage:steep|stages.steep]
[system_stage:pour|stages.pour]
[system_link:boil->steep|links.boil_steep]
[system_link:steep->pour|links.steep_pour]
[/scene]
"""

SYSTEM_CONTENT = {
    "header": {"headline": "Tea service", "subtitle": "Three stations"},
    "stages": {
        "boil": {"badge": "HEAT", "title": "Boil", "body": "Fresh water only."},
        "steep": {"badge": "WAIT", "title": "Steep", "body": "Four minutes."},
        "pour": {"badge": "SERVE", "title": "Pour", "body": "Milk after."},
    },
    "links": {"boil_steep": {"label": "kettle"}, "steep_pour": {"label": "pot"}},
}

MEMORY = """[scene]
[layout:memory_map]
[theme:infra_dark]
[tone:purple]
[topic:pantry_shelves]
[header_band:header]
[address_strip:offsets]
[memory_segment:top|segments.top]
[memory_segment:middle|segments.middle]
[memory_segment:bottom|segments.bottom]
[info_card:stock|cards.stock]
[info_card:rule|cards.rule]
[/scene]
"""

MEMORY_CONTENT = {
    "header": {"headline": "Pantry shelves", "subtitle": "Everything has a fixed place"},
    "offsets": ["shelf 1", "shelf 2", "shelf 3"],
    "segments": {
        "top": {"title": "Top shelf", "size": "light jars", "caption": "spices and tea"},
        "middle": {"title": "Middle shelf", "size": "daily", "caption": "bread and jam"},
        "bottom": {"title": "Bottom shelf", "size": "heavy", "caption": "flour sacks"},
    },
    "cards": {
        "stock": {
            "title": "Always stocked",
            "items": ["flour", "salt", "yeast", "sugar", "tea", "oats"],
        },
        "rule": {"title": "Rule", "lines": ["heavy goes low"]},
    },
}


def _compile(text: str, content: dict[str, object]) -> Svg:
    svg = compile_scene(scene_dsl.parse(text, dialect="cke"), content)
    assert geometry_problems(svg) == []
    return svg


def _box(svg: Svg, suffix: str):  # type: ignore[no-untyped-def]
    return next(b for b in svg.boxes if b.id.endswith(suffix))


def _cards(svg: Svg) -> list:  # type: ignore[type-arg]
    return [b for b in svg.boxes if b.kind == "card"]


def _rect_attrs(svg: Svg, box_id: str) -> dict[str, str]:
    tag = re.search(rf'<rect [^>]*id="{re.escape(box_id)}"[^>]*>', svg.text)
    assert tag is not None, box_id
    return dict(re.findall(r'([a-z-]+)="([^"]*)"', tag.group(0)))


# -- flow_graph ---------------------------------------------------------------------------------


def test_flow_footer_note_is_a_panel_under_the_flow_not_the_page_footer() -> None:
    svg = _compile(FLOW, FLOW_CONTENT)
    main = _box(svg, "-main")
    note = next(b for b in svg.boxes if "-note" in b.id and b.kind == "panel")
    assert note.parent_id == main.id
    lowest = max(c.y + c.h for c in _cards(svg))
    assert note.y > lowest  # under every stage
    assert note.w == pytest.approx(main.w)  # across the body
    assert note.y + note.h == pytest.approx(main.y + main.h)  # down to the body's foot
    # the note's text lives in the panel; the page footer keeps only the topic tag
    footer = _box(svg, "-footer")
    in_footer = [b for b in svg.boxes if b.parent_id == footer.id and b.kind == "text"]
    in_note = [b for b in svg.boxes if b.parent_id == note.id and b.kind == "text"]
    assert in_note and all("pill" in b.id for b in in_footer)


def test_flow_without_footer_note_keeps_the_page_footer_only() -> None:
    text = FLOW.replace("[footer_note:footer]\n", "")
    svg = _compile(text, FLOW_CONTENT)
    assert not [b for b in svg.boxes if "-note" in b.id]


def test_flow_stages_share_one_height_and_start_under_the_header() -> None:
    svg = _compile(FLOW, FLOW_CONTENT)
    main = _box(svg, "-main")
    cards = _cards(svg)
    assert len(cards) == 4
    # one stage holds far more text than the others; they still share its height
    assert len({round(c.h, 2) for c in cards}) == 1
    assert len({round(c.y, 2) for c in cards}) == 1
    assert cards[0].y == pytest.approx(main.y)  # at the top of the body, not centred in it


def test_flow_channel_fits_a_label_on_two_lines() -> None:
    # a two-word label wraps onto two lines in its channel, so the channel is narrower than
    # the label set on one line and the width goes to the stages
    from dslkit.compilers.scene_svg.text import measure_text

    labels = {"mix_proof": "warm dough", "proof_bake": "shaped loaf", "bake_shelf": "cool rack"}
    svg = _compile(FLOW, {**FLOW_CONTENT, "edges": labels})
    cards = sorted(_cards(svg), key=lambda c: c.x)
    gaps = [b.x - (a.x + a.w) for a, b in itertools.pairwise(cards)]
    one_line = max(measure_text(t, 15 * 0.76) + 34 for t in labels.values())
    assert max(gaps) < one_line - 15


# -- the CKE panel look of graph and system cards -----------------------------------------------


@pytest.mark.parametrize(
    ("text", "content", "tone"),
    [
        (FLOW, FLOW_CONTENT, "green"),
        (TREE, TREE_CONTENT, "amber"),
        (SYSTEM, SYSTEM_CONTENT, "blue"),
    ],
)
def test_cards_take_the_panel_gradient_and_an_accent_outline(
    text: str, content: dict[str, object], tone: str
) -> None:
    svg = _compile(text, content)
    accent = THEMES["infra_dark"].accent(tone)
    plain = [c for c in _cards(svg) if "card" in c.id]
    assert plain
    gradients = dict(
        re.findall(
            r'<linearGradient id="([^"]+)"[^>]*><stop offset="0" stop-color="([^"]+)"', svg.text
        )
    )
    surface = THEMES["infra_dark"].surface
    outlined = 0
    for c in plain:
        attrs = _rect_attrs(svg, c.id)
        fill = attrs["fill"]
        if fill.startswith("url(#"):
            # the CKE panel gradient: the card surface at the top
            assert gradients[fill[5:-1]] == surface
            outlined += attrs["stroke"] == accent
    assert outlined >= 2  # stages/questions, not only tinted outcomes


# -- decision_tree ------------------------------------------------------------------------------


def test_tree_entry_badge_hangs_over_the_root() -> None:
    svg = _compile(TREE, TREE_CONTENT)
    main = _box(svg, "-main")
    pills = [b for b in svg.boxes if "pill" in b.id and b.parent_id == main.id]
    assert len(pills) == 1
    root = min(_cards(svg), key=lambda c: c.y)
    pill = pills[0]
    assert pill.x + pill.w / 2 == pytest.approx(root.x + root.w / 2, abs=1.0)
    assert pill.y + pill.h <= root.y
    # no strip of its own above the body
    assert not [b for b in svg.boxes if "-strip" in b.id]


def test_tree_rows_fill_their_bands() -> None:
    # one question holds far more text than any other card; the rows are even bands down
    # the page and every card fills most of its band, so short cards are not dwarfed by it

    content = {**TREE_CONTENT, "nodes": dict(TREE_CONTENT["nodes"])}  # type: ignore[arg-type]
    content["nodes"]["pale"] = {  # type: ignore[index]
        "title": "Leaves pale?",
        "body": "Compare the oldest leaves with the new growth at the tip of each stem, "
        "in daylight, and check the underside for spots or webbing as well.",
        "detail": ["yellow between veins", "spots underneath", "fine webbing"],
    }
    svg = _compile(TREE, content)
    heights = [c.h for c in _cards(svg)]
    assert min(heights) >= 0.85 * max(heights)


# -- memory_map ---------------------------------------------------------------------------------


def test_memory_side_cards_share_the_column_by_content() -> None:
    svg = _compile(MEMORY, MEMORY_CONTENT)
    side = sorted((c for c in _cards(svg)), key=lambda c: c.y)
    stock, rule = side[-2], side[-1]
    assert stock.x == rule.x  # the side column
    assert stock.h > rule.h * 1.5  # six items against one line
