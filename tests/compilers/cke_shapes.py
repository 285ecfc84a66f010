"""Synthetic scenes for the content shapes the CKE v7 corpus binds to whole objects.

Every fixture is written here (no corpus file or text): a layout, components whose ``ref``
points at a whole content object, and the content. ``SHAPES`` maps a name to
``(scene_text, content, texts)`` where ``texts`` are strings that must be visible in the SVG.
"""

from __future__ import annotations

from typing import Any

HEAD = {"headline": "Synthetic headline", "subtitle": "A made-up subtitle"}


def _scene(layout: str, body: str, extra: str = "") -> str:
    return f"[scene]\n[layout:{layout}] {extra}\n[header_band:head]\n{body}\n[/scene]\n"


SHAPES: dict[str, tuple[str, dict[str, Any], list[str]]] = {
    "table_rows_objects": (
        _scene("table_matrix", "[legend_block:legend]\n[table_block:groups.0]\n[note_band:foot]"),
        {
            "head": HEAD,
            "legend": {
                "title": "Key of tints",
                "note": "Tinted rows matter",
                "warning": "Orange rows are risky",
                "items": ["plain", "lit"],
            },
            "groups": [
                {
                    "title": "Widget grid",
                    "caption": "caption under the widget grid",
                    "header": ["Kind", "Bits", "Use", "Risk"],
                    "rows": [
                        {"cells": ["wobble", "7", "sprockets", "low"], "state": "highlight"},
                        {"cells": ["flange", "13", "gizmos", "high"], "state": "warning"},
                    ],
                }
            ],
            "foot": {"title": "Footnote title", "body": "footnote body text"},
        },
        [
            "Key of tints",
            "Tinted rows matter",
            "Orange rows are risky",
            "caption under the widget grid",
            "wobble",
            "sprockets",
            "flange",
            "gizmos",
            "Footnote title",
            "footnote body text",
        ],
    ),
    "graph_detail_lists": (
        _scene(
            "decision_tree",
            "[entry_badge:entry]\n[decision_node:root|nodes.root]\n[decision_node:leaf|nodes.leaf]\n"
            "[decision_edge:root->leaf|edges.go]\n[outcome_panel:done|outcomes.done]\n"
            "[decision_edge:leaf->done|edges.fin]\n[footer_note:foot]",
        ),
        {
            "head": HEAD,
            "entry": {"label": "Way in"},
            "nodes": {
                "root": {"title": "Root check", "body": "is it green", "detail": ["dx one"]},
                "leaf": {"title": "Leaf check", "body": "is it round", "detail": ["dx two", "dx3"]},
            },
            "edges": {"go": "yes", "fin": "then"},
            "outcomes": {"done": {"title": "All done", "body": "ship it", "detail": ["dx four"]}},
            "foot": {"note": "footer remark"},
        },
        [
            "Way in",
            "Root check",
            "dx one",
            "Leaf check",
            "dx two",
            "All done",
            "dx four",
            "footer remark",
        ],
    ),
    "technical_parts": (
        _scene(
            "technical_diagram",
            "[graph_node:n1|nodes.n1]\n[graph_node:n2|nodes.n2]\n[formula_strip:formula]\n"
            "[artifact_panel:arts.left]\n[artifact_panel:arts.right]\n[footer_note:foot]",
        ),
        {
            "head": HEAD,
            "nodes": {
                "n1": {
                    "title": "Gather",
                    "body": "collect crumbs",
                    "detail": ["crumb a", "crumb b"],
                },
                "n2": {"title": "Bake", "body": "heat crumbs", "detail": ["oven c", "oven d"]},
            },
            "formula": {
                "title": "Loaf rule",
                "equation": "loaf = crumbs * heat",
                "bullets": ["more heat", "less crumb", "same loaf"],
            },
            "arts": {
                "left": {"title": "Tray", "body": "left tray body", "detail": ["tray x"]},
                "right": {"title": "Rack", "body": "right rack body", "detail": ["rack y"]},
            },
            "foot": {"title": "Foot title", "body": "foot body"},
        },
        [
            "Gather",
            "crumb a",
            "oven d",
            "Loaf rule",
            "loaf = crumbs * heat",
            "same loaf",
            "left tray body",
            "tray x",
            "rack y",
            "Foot title",
            "foot body",
        ],
    ),
    "concept_pairs": (
        _scene(
            "concept_editorial",
            "[principle_pair:pairs.left|pairs.right]\n[concept_panel:panels.0]\n"
            "[callout_strip:callout]",
        ),
        {
            "head": {**HEAD, "kicker": "Kick line"},
            "pairs": {
                "left": {"title": "Lefty", "body": "left body", "bullets": ["l1", "l2"]},
                "right": {"title": "Righty", "body": "right body", "bullets": ["r1", "r2"]},
            },
            "panels": [
                {
                    "tag": "TAGGY",
                    "title": "Panel one",
                    "summary": "panel summary",
                    "bullets": ["pb1"],
                    "accent": "green",
                    "note": "panel note",
                }
            ],
            "callout": {"title": "Call title", "points": ["pt one", "pt two"], "footer": "cfoot"},
        },
        [
            "Kick line",
            "Lefty",
            "left body",
            "l2",
            "Righty",
            "r1",
            "TAGGY",
            "panel summary",
            "pb1",
            "panel note",
            "Call title",
            "pt one",
            "pt two",
            "cfoot",
        ],
    ),
    "memory_parts_lines": (
        _scene(
            "memory_map",
            "[address_strip:offsets]\n[memory_segment:a|segs.a]\n[memory_segment:b|segs.b]\n"
            "[region_bracket:a->b|segs.mid]\n[info_card:cards.one]\n[info_card:cards.two]",
        ),
        {
            "head": HEAD,
            "offsets": ["0x00", "0x40", "0x80"],
            "segs": {
                "a": {"title": "Seg A", "size": "64 B", "caption": "cap a", "parts": ["pa", "pb"]},
                "b": {"title": "Seg B", "size": "32 B", "caption": "cap b", "tone": "header"},
                "mid": {"title": "Mid span", "caption": "mid caption"},
            },
            "cards": {
                "one": {"title": "Card one", "items": ["item q"]},
                "two": {"title": "Card two", "lines": ["line r", "line s"]},
            },
        },
        [
            "0x00",
            "0x80",
            "Seg A",
            "64 B",
            "cap a",
            "pa",
            "pb",
            "Seg B",
            "Mid span",
            "mid caption",
            "item q",
            "line r",
            "line s",
        ],
    ),
    "board_keys": (
        _scene(
            "comparison_board",
            "[legend_block:legend]\n[comparison_column:left|cols.left]\n"
            "[comparison_column:right|cols.right]\n[comparison_metric:left|mets.m1]\n"
            "[comparison_callout:calls.c1]\n[footer_note:foot]",
        ),
        {
            "head": HEAD,
            "legend": {"title": "Legend t", "items": ["li1"], "note": "legend n"},
            "cols": {
                "left": {
                    "kicker": "KICK L",
                    "title": "Col left",
                    "subtitle": "sub left",
                    "chips": ["chip a", "chip b"],
                    "bullets": ["bul a"],
                    "stat": "9x",
                    "accent": "amber",
                    "note": "note left",
                },
                "right": {"title": "Col right", "subtitle": "sub right", "stat": "3x"},
            },
            "mets": {
                "m1": {"label": "Speed", "value": "42", "detail": "per tick", "state": "green"}
            },
            "calls": {
                "c1": {
                    "badge": "BADGE",
                    "title": "Callout t",
                    "body": "callout body",
                    "lines": ["cl one"],
                    "state": "amber",
                }
            },
            "foot": {"note": "foot n"},
        },
        [
            "Legend t",
            "legend n",
            "KICK L",
            "Col left",
            "sub left",
            "chip a",
            "bul a",
            "9x",
            "note left",
            "Speed",
            "42",
            "per tick",
            "BADGE",
            "Callout t",
            "cl one",
        ],
    ),
    "timeline_lines": (
        _scene(
            "timeline",
            "[timeline_stage:s1|stages.s1|lane=top]\n[timeline_stage:s2|stages.s2|lane=bottom]\n"
            "[timeline_arrow:s1->s2]\n[footer_note:foot]",
        ),
        {
            "head": {**HEAD, "kicker": "tk", "accent": "green"},
            "stages": {
                "s1": {"badge": "B1", "title": "First", "lines": ["fl1", "fl2"], "accent": "blue"},
                "s2": {"badge": "B2", "title": "Second", "lines": ["sl1"], "accent": "amber"},
            },
            "foot": {"title": "Foot t", "body": "foot b"},
        },
        ["B1", "First", "fl1", "fl2", "B2", "sl1", "Foot t", "foot b"],
    ),
    "system_labels": (
        _scene(
            "system_diagram",
            "[system_stage:s1|stages.s1]\n[system_stage:s2|stages.s2]\n"
            "[system_link:s1->s2|links.a]\n[terminal_panel:term]\n[footer_note:foot]",
        ),
        {
            "head": HEAD,
            "stages": {
                "s1": {"badge": "SB1", "title": "Stage one", "body": "sbody", "detail": ["sd1"]},
                "s2": {"badge": "SB2", "title": "Stage two", "body": "sbody2", "detail": ["sd2"]},
            },
            "links": {"a": {"label": "hands off"}},
            "term": {"badge": "TB", "title": "Terminal t", "body": "terminal body"},
            "foot": {"title": "Foot t", "body": "foot b"},
        },
        [
            "SB1",
            "Stage one",
            "sd1",
            "sd2",
            "hands off",
            "TB",
            "Terminal t",
            "terminal body",
            "Foot t",
            "foot b",
        ],
    ),
    "spectrum_notes": (
        _scene(
            "spectrum_map",
            "[spectrum_pole:left|poles.left]\n[spectrum_pole:right|poles.right]\n"
            "[continuum_arc:arc]\n[marker_band:30|marks.m1]\n[footer_note:foot]",
        ),
        {
            "head": HEAD,
            "poles": {
                "left": {"title": "Cold end", "body": "cold body"},
                "right": {"title": "Hot end", "body": "hot body"},
            },
            "arc": {"label": "Warmth", "note": "arc note"},
            "marks": {"m1": {"title": "Tepid", "body": "tepid body"}},
            "foot": {"note": "foot n"},
        },
        ["Cold end", "cold body", "Hot end", "Warmth", "arc note", "Tepid", "tepid body"],
    ),
    "micro_bands": (
        _scene(
            "utility_micrographic",
            "[micrographic_badge:badge]\n[micrographic_band:bands.b1]\n[micrographic_band:bands.b2]",
        ),
        {
            "head": HEAD,
            "badge": {"label": "BIG", "caption": "badge caption"},
            "bands": {
                "b1": {"label": "band one", "width": 0.8},
                "b2": {"label": "band two", "width": 0.3},
            },
        },
        ["BIG", "badge caption", "band one", "band two"],
    ),
}
