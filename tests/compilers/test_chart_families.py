"""Layout rules of the chart families (table_matrix, comparison_board) that the CKE parity
work added, pinned on fixtures of our own: geometry and colours read back from the SVG."""

from __future__ import annotations

import re

from dslkit.compilers.scene_svg import compile_scene
from dslkit.compilers.scene_svg.theme import THEMES

import scene_dsl
from scene_dsl.contract import DEFAULT_CONTRACT

PAL = THEMES["infra_dark"]


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
