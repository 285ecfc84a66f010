"""Decision trees: an outcome reached from one question sits in that question's column.

Positions are read back from the compiled SVG (each card's ``<rect id="...-cardN">`` and its
group's ``aria-label``), not from the layout's internals.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import geometry_problems

NS = "{http://www.w3.org/2000/svg}"

SCENE = """[scene]
[canvas:wide] [layout:decision_tree] [theme:infra_dark] [tone:blue]
[decision_node] [node_id:root] [ref:n.root] [/decision_node]
[decision_node] [node_id:left] [ref:n.left] [/decision_node]
[decision_node] [node_id:right] [ref:n.right] [/decision_node]
[outcome_panel] [node_id:solo] [ref:o.solo] [row_state:success] [/outcome_panel]
[outcome_panel] [node_id:first] [ref:o.first] [/outcome_panel]
[outcome_panel] [node_id:second] [ref:o.second] [row_state:danger] [/outcome_panel]
[decision_edge] [from_ref:root] [to_ref:left] [branch_label_ref:e.a] [/decision_edge]
[decision_edge] [from_ref:root] [to_ref:right] [branch_label_ref:e.b] [/decision_edge]
[decision_edge] [from_ref:right] [to_ref:second] [branch_label_ref:e.c] [/decision_edge]
[decision_edge] [from_ref:left] [to_ref:solo] [/decision_edge]
[decision_edge] [from_ref:right] [to_ref:first] [/decision_edge]
[/scene]
"""


def _card(title: str) -> dict[str, str]:
    return {"title": title, "body": f"What {title.lower()} checks before the next step"}


CONTENT = {
    "n": {
        k: _card(t)
        for k, t in [("root", "Root gate"), ("left", "Left gate"), ("right", "Right gate")]
    },
    "o": {k: _card(t) for k, t in [("solo", "Solo"), ("first", "First"), ("second", "Second")]},
    "e": {"a": "yes", "b": "no", "c": "late"},
}


def _boxes(svg_text: str) -> dict[str, tuple[float, float, float, float]]:
    """Card title -> (x, y, w, h) of its rectangle, read from the SVG."""
    root = ET.fromstring(svg_text)
    rects = {
        r.get("id"): r for r in root.iter(NS + "rect") if re.search(r"-card\d+$", r.get("id", ""))
    }
    out = {}
    for g in root.iter(NS + "g"):
        gid = g.get("id", "")
        if gid.endswith("g") and gid[:-1] in rects:
            r = rects[gid[:-1]]
            out[g.get("aria-label", "")] = tuple(
                float(r.get(k, "0")) for k in ("x", "y", "width", "height")
            )
    return out


def _under(child: tuple[float, ...], parent: tuple[float, ...]) -> bool:
    """Below ``parent`` and overlapping it horizontally."""
    cx, cy, cw, _ = child
    px, py, pw, ph = parent
    return cy >= py + ph and cx < px + pw and px < cx + cw


def test_outcomes_sit_in_their_question_column() -> None:
    svg = compile_scene(SCENE, CONTENT)
    b = _boxes(svg.text)
    assert set(b) >= {"Root gate", "Left gate", "Right gate", "Solo", "First", "Second"}
    assert _under(b["Solo"], b["Left gate"]) and not _under(b["Solo"], b["Right gate"])
    assert _under(b["First"], b["Right gate"]) and not _under(b["First"], b["Left gate"])
    # the second outcome of one question: one row deeper, same column
    assert _under(b["Second"], b["First"]) and _under(b["Second"], b["Right gate"])
    assert b["Solo"][1] == b["First"][1]  # the first outcomes share the row below
    assert geometry_problems(svg) == []


def test_a_question_with_a_child_question_keeps_layers() -> None:
    """The root has child questions: its outcomes are not stacked under it."""
    svg = compile_scene(SCENE, CONTENT)
    b = _boxes(svg.text)
    assert b["Left gate"][1] == b["Right gate"][1]
    assert b["Left gate"][1] >= b["Root gate"][1] + b["Root gate"][3]
