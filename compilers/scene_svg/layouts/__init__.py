"""Layout engines, one per family: ``LAYOUTS[family](ctx, rect, components, parent_id)``.

Each engine receives the family components (common components are drawn by the page) in
source order and the rectangle left for the body, and places cards, panels and connectors
inside it without overlap.
"""

from __future__ import annotations

from collections.abc import Callable

from dslkit.compilers.scene_svg.canvas import Ctx, Rect
from dslkit.compilers.scene_svg.layouts.board import layout_board, layout_dual
from dslkit.compilers.scene_svg.layouts.chart import duel_hosts, is_duel, layout_span_chart
from dslkit.compilers.scene_svg.layouts.graph import (
    layout_architecture,
    layout_decision,
    layout_flow,
    layout_technical,
)
from dslkit.compilers.scene_svg.layouts.lanes import (
    layout_pipeline,
    layout_system,
    layout_timeline_flow,
)
from dslkit.compilers.scene_svg.layouts.memory import layout_memory, layout_memory_training
from dslkit.compilers.scene_svg.layouts.spectrum import layout_spectrum
from dslkit.compilers.scene_svg.layouts.stack import (
    layout_concept,
    layout_dashboard,
    layout_micrographic,
    layout_poster,
)
from dslkit.compilers.scene_svg.layouts.table import layout_table
from dslkit.compilers.scene_svg.layouts.timeline import layout_timeline

from scene_dsl.ast import Component

__all__ = ["HOSTED", "LAYOUTS", "Layout", "hosted"]

Layout = Callable[[Ctx, Rect, list[Component], str], None]

LAYOUTS: dict[str, Layout] = {
    "poster_stack": layout_poster,
    "comparison_span_chart": layout_span_chart,
    "pipeline_lane": layout_pipeline,
    "dashboard_cards": layout_dashboard,
    "timeline_flow": layout_timeline_flow,
    "timeline": layout_timeline,
    "system_diagram": layout_system,
    "concept_editorial": layout_concept,
    "utility_micrographic": layout_micrographic,
    "dual_panel_compare": layout_dual,
    "table_matrix": layout_table,
    "decision_tree": layout_decision,
    "memory_map": layout_memory,
    "flow_graph": layout_flow,
    "comparison_board": layout_board,
    "architecture_map": layout_architecture,
    "spectrum_map": layout_spectrum,
    "technical_diagram": layout_technical,
    "memory_training_map": layout_memory_training,
}


# Common components a family draws inside its own body instead of on the page: a flow's closing
# note is a panel under the flow, a decision tree's entry badge the pill its root hangs from.
# The family receives them in its component list, in source order.
HOSTED: dict[str, frozenset[str]] = {
    "flow_graph": frozenset({"footer_note"}),
    "decision_tree": frozenset({"entry_badge"}),
}


def hosted(ctx: Ctx, family: list[Component], comp: Component) -> bool:
    """Whether the family of the scene's layout draws the common component ``comp`` in its own
    body (:data:`HOSTED` by name; a comparison duel also hosts its thesis, legend row and free
    notes: :func:`.chart.duel_hosts`) instead of on the page."""
    layout = ctx.style.layout
    if comp.name in HOSTED.get(layout, ()):
        return True
    return layout == "comparison_span_chart" and duel_hosts(comp) and is_duel(ctx, family)
