"""The six surfaces the C-Kernel-Engine v7 corpus writes the scene DSL in, as data.

Facts from ``cke-v7-dialects.md`` (the corpus itself is not copied here):

========  ======================================================================================
``d1``    gen1 id/ref rows: ``[decision_node:start|nodes.start]``, ``[decision_edge:a->b|edges.x]``
``d2``    spec id/ref rows: the same surface as d1 (``[timeline_stage:s1|stages.s1|lane=top]``)
``d3``    ``@``-ref rows: ``[compare_bar:@bars.a.label|@bars.a.value|@bars.a.caption|accent=@P]``
``d4``    literal-slug rows, no content.json: ``[section_card:overview|fast_path|why|variant=hero]``
``d5``    verbose field blocks: ``[memory_segment] [segment_id:x] [title_ref:segments.x.title] ...``
``d6``    verbose blocks with whole-object refs: ``[timeline_stage] [stage_id:s1] [ref:stages.s1]``
========  ======================================================================================

A dialect is data over the one contract, never a second AST: the row dialects differ from
dslkit's row form only in how positional parts map to fields (:data:`ROWS`), the block dialects
only in field spellings (the contract's ``aliases``), and every CKE dialect fills the
attributes a file leaves out with the default of the CKE renderer for its layout
(:data:`DEFAULTS`), so the canonical text of a CKE scene is explicit.
"""

from __future__ import annotations

import re

__all__ = [
    "BLOCK_DIALECTS",
    "CKE_DIALECTS",
    "D4_LAYOUTS",
    "DEFAULTS",
    "GEN1_LAYOUTS",
    "ROWS",
    "ROW_DIALECTS",
    "recognize_cke",
]

CKE_DIALECTS = ("d1", "d2", "d3", "d4", "d5", "d6")
ROW_DIALECTS = ("d1", "d2", "d3", "d4")
BLOCK_DIALECTS = ("d5", "d6")

# Layouts only the literal-slug dialect uses, and layouts only gen1 (d1) uses; the rest of the
# id/ref rows are d2 (table_matrix and decision_tree occur in both: they read the same).
D4_LAYOUTS = frozenset({"poster_stack", "dashboard_cards", "timeline_flow"})
GEN1_LAYOUTS = frozenset(
    {
        "architecture_map",
        "concept_editorial",
        "memory_training_map",
        "spectrum_map",
        "technical_diagram",
        "utility_micrographic",
    }
)

# CKE renderer defaults for an attribute a file omits (catalogue §1): spec09 draws the
# comparison/poster/dashboard/timeline_flow layouts, the spec12 line (12/13b/14a/15a) the
# tables, trees, memory maps, flow graphs and boards, spec14b/15b timelines and system
# diagrams. gen1's own renderer is lost; its families take the spec12-line values, which is
# what gen1 files that spell every attribute out use (frame panel).
_SPEC09 = {
    "canvas": "wide",
    "theme": "infra_dark",
    "tone": "blue",
    "frame": "card",
    "density": "balanced",
    "inset": "md",
    "gap": "md",
    "hero": "left",
    "columns": "1",
    "emphasis": "top",
    "rail": "none",
    "background": "none",
    "connector": "line",
}
_SPEC12 = {**_SPEC09, "frame": "panel"}
_SPEC14B = {**_SPEC12, "connector": "arrow"}
DEFAULTS: dict[str, dict[str, str]] = {
    **dict.fromkeys(
        (
            "comparison_span_chart",
            "dashboard_cards",
            "poster_stack",
            "timeline_flow",
            "pipeline_lane",
            "dual_panel_compare",
        ),
        _SPEC09,
    ),
    **dict.fromkeys(
        (
            "table_matrix",
            "decision_tree",
            "memory_map",
            "flow_graph",
            "comparison_board",
            *sorted(GEN1_LAYOUTS),
        ),
        _SPEC12,
    ),
    **dict.fromkeys(("timeline", "system_diagram"), _SPEC14B),
}

# Row signatures a row dialect reads differently from dslkit's row form (component -> the
# complete list that replaces the contract's). Everything not listed reads as in dslkit.
_ID_REF = {
    # id|P: the id the component declares, then the whole content object it binds.
    "info_card": "card_id",
    "formula_strip": "formula_id",
    "artifact_panel": "panel_id",
    "micrographic_badge": "badge_id",
    "micrographic_band": "band_id",
    "terminal_panel": "panel_id",
    "region_bracket": "bracket_id",
    "marker_band": "band_id",
    "comparison_metric": "metric_id",
}
_D12: dict[str, list[list[str]]] = {
    name: [["ref"], [ident, "ref"]] for name, ident in _ID_REF.items()
}
_D3: dict[str, list[list[str]]] = {
    "axis": [["ref"], ["label_ref", "note_ref"], ["label_ref", "min_ref", "max_ref"]],
    "annotation": [["ref"], ["label_ref", "note_ref"]],
    "span_bracket": [["label_ref"], ["label_ref", "value_ref"]],
    "thesis_box": [["ref"], ["title_ref", "line_ref*"]],
}
_D4: dict[str, list[list[str]]] = {
    "header_band": [
        ["headline_text"],
        ["headline_text", "subtitle_text"],
        ["kicker_text", "headline_text", "subtitle_text"],
    ],
    "section_card": [
        ["title_text"],
        ["title_text", "value_text"],
        ["title_text", "value_text", "caption_text"],
    ],
    "compare_bar": [
        ["label_text"],
        ["label_text", "value_text"],
        ["label_text", "value_text", "caption_text"],
    ],
    "stage_card": [["stage_id"], ["stage_id", "subtitle_text"]],
    "footer_note": [["note_text"]],
}
ROWS: dict[str, dict[str, list[list[str]]]] = {"d1": _D12, "d2": _D12, "d3": _D3, "d4": _D4}

# Text-only recognition (catalogue §0.2, without folder names).
_BLOCK_OPEN_RE = re.compile(r"\[(?!scene\])[A-Za-z_][A-Za-z0-9_]*\]")
_REF_FIELD_RE = re.compile(r"\[ref:")
_AT_PART_RE = re.compile(r"[:|=]@")  # an @ part; dslkit's [field:x] [@path] has "] [@"
_LAYOUT_RE = re.compile(r"\[layout:([A-Za-z0-9_]+)\]")


def recognize_cke(text: str) -> str:
    """Which CKE dialect ``text`` is written in (``"d1"`` ... ``"d6"``).

    Block tokens make it d5/d6 (d6 when a field is a whole-object ``[ref:]``); otherwise an
    ``@`` part makes it d3; otherwise the layout decides: d4 for the literal-slug layouts, d1
    for gen1-only layouts, d2 for the rest.
    """
    if _BLOCK_OPEN_RE.search(text):
        return "d6" if _REF_FIELD_RE.search(text) else "d5"
    if _AT_PART_RE.search(text):
        return "d3"
    m = _LAYOUT_RE.search(text)
    layout = m.group(1) if m else ""
    if layout in D4_LAYOUTS:
        return "d4"
    return "d1" if layout in GEN1_LAYOUTS else "d2"
