"""Stage families: pipeline_lane, timeline_flow, system_diagram (timeline: ``timeline.py``).

Stages are cards in reading order. ``flow_rows`` places them left to right and wraps to more
rows when they do not fit at a minimum width (or puts them in lanes when stages name one);
arrows between neighbours are straight, others route through the channel between rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Box, Ctx, Item, Rect, Section
from dslkit.compilers.scene_svg.draw import (
    CARD_MIN_H,
    CARD_MIN_W,
    card,
    card_fits,
    connector,
    panel,
    pill,
)
from dslkit.compilers.scene_svg.layouts.common import card_height, fill_heights
from dslkit.compilers.scene_svg.spatial import RectIndex
from dslkit.compilers.scene_svg.text import fit_text, measure_text

from scene_dsl.ast import Component

__all__ = [
    "flow_rows",
    "flow_rows_floor",
    "layout_pipeline",
    "layout_system",
    "layout_timeline_flow",
]

LANES = ("top", "center", "bottom")
STAGE_ID_FIELDS = ("stage_id", "node_id", "segment_id")


def _edge_label(
    ctx: Ctx,
    x: float,
    y: float,
    w: float,
    text: str,
    color: str,
    *,
    above: bool = True,
    parent: str | None = None,
    obstacles: list[Rect] | tuple[Rect, ...] = (),
    slide: tuple[float, float] = (0.0, -1.0),
    region: Rect | None = None,
) -> Rect | None:
    """A small connector label centred at (x, y) on a background chip.

    The chip is recorded as an ``edge_label`` box under ``parent``. When it would cover one
    of ``obstacles`` (node cards), a sibling box or an earlier edge label, or leave ``region``
    (default: the parent box), it slides along ``slide`` (a unit
    direction, e.g. up the connector) in chip-sized steps, then the other way; a label with
    no free spot nearby is still drawn where it was asked for. Returns the chip rectangle.
    """
    st = ctx.style
    pal = st.palette
    size = st.font * 0.76
    fit = fit_text(text, max(10.0, w - 10), size, 2, min_scale=0.85)
    if fit.shrunk or fit.ellipsized:
        ctx.warn(
            "S701" if not fit.ellipsized else "S702",
            None,
            "label",
            "connector label cut to fit the gap",
        )
    lh = fit.size * LINE_HEIGHT
    h = lh * len(fit.lines) + 4
    tw = max(measure_text(line, fit.size) for line in fit.lines) + 10
    top = y - h - 3 if above else y + 3
    # the chip stays inside its parent region and off every sibling box, card and label
    placed = _placed(ctx)
    bounds = region or Rect(0, 0, st.width, st.height)
    if region is None and parent in placed.first_box:
        box = placed.first_box[parent]
        bounds = Rect(box.x, box.y, box.w, box.h)
    blockers = [placed.obstacles(obstacles), placed.labels]
    if parent is not None and parent in placed.children:
        blockers.append(placed.children[parent])
    cx = min(max(x - tw / 2, bounds.x), bounds.r - tw)
    cy = min(max(top, bounds.y), bounds.b - h)
    chip = Rect(cx, cy, tw, h)

    def free(c: Rect) -> bool:
        inside = (
            c.x >= bounds.x - 0.01
            and c.y >= bounds.y - 0.01
            and c.r <= bounds.r + 0.01
            and c.b <= bounds.b + 0.01
        )
        return inside and not any(index.hits(c) for index in blockers)

    if not free(chip):
        dx, dy = slide
        px, py = -dy, dx  # the perpendicular direction
        moves = [
            (ux * k * (tw + 4) if ux else 0.0, uy * k * (h + 4) if uy else 0.0)
            for ux, uy in ((dx, dy), (px, py))
            for k in (1, -1, 2, -2, 3, -3)
        ]
        spot = next(
            (c for c in (Rect(chip.x + mx, chip.y + my, tw, h) for mx, my in moves) if free(c)),
            None,
        )
        if spot is None:
            ctx.warn("S702", None, "label", "no free room for a connector label; left out")
            return None
        chip = spot
    lid = ctx.new_id("elabel")
    ctx.box(lid, "edge_label", chip, parent)
    ctx.rect(chip, fill=pal.bg, rx=4, opacity=0.85)
    ctx.draw_lines(chip.cx, chip.y + 2, fit.lines, fit.size, color=color, anchor="middle")
    return chip


class _Placed:
    """What edge labels must keep clear of, indexed once per compile (see :mod:`.spatial`).

    Every label used to rescan every box placed so far: quadratic in the graph's size. Boxes
    are only ever appended, so each is filed once, when the next label is placed.
    """

    __slots__ = ("_obstacles", "_seen", "children", "first_box", "labels")

    def __init__(self) -> None:
        self._seen = 0  # ctx.boxes[: self._seen] are filed
        self.labels = RectIndex()  # every edge label so far
        self.children: dict[str, RectIndex] = {}  # parent id -> boxes placed inside it
        self.first_box: dict[str, Box] = {}  # box id -> the first box with that id
        self._obstacles: tuple[object, int, RectIndex] | None = None

    def sync(self, boxes: list[Box]) -> None:
        for b in boxes[self._seen :]:
            self.first_box.setdefault(b.id, b)
            if b.kind == "edge_label":
                self.labels.add(b)
            if b.parent_id is not None:
                self.children.setdefault(b.parent_id, RectIndex()).add(b)
        self._seen = len(boxes)

    def obstacles(self, rects: list[Rect] | tuple[Rect, ...]) -> RectIndex:
        # callers pass the same list for every label of a graph: index it once
        cached = self._obstacles
        if cached is None or cached[0] is not rects or cached[1] != len(rects):
            cached = self._obstacles = (rects, len(rects), RectIndex(rects))
        return cached[2]


def _placed(ctx: Ctx) -> _Placed:
    placed = ctx.caches.get("edge_labels")
    if not isinstance(placed, _Placed):
        placed = ctx.caches["edge_labels"] = _Placed()
    placed.sync(ctx.boxes)
    return placed


def stage_kicker(item: Item, index: int) -> str:
    date = item.text("date", "when", "kicker", primary=False)
    return date if date else f"{index + 1:02d}"


TOP_CHANNEL = 22.0  # room above the first row for arrows that skip a stage
ROW_MIN = CARD_MIN_H + 2  # a stage row that still holds its cards' one-line titles


class _Grid(NamedTuple):
    """Where stage cards go: (row, col) per stage, grid size, channels, natural row heights."""

    positions: list[tuple[int, int]]
    nrows: int
    ncols: int
    gx: float
    gy: float
    cw: float
    natural: list[float]
    lanes: list[str]


def _grid(
    ctx: Ctx,
    width: float,
    comps: list[Component],
    items: list[Item],
    labelled: bool,
    min_w: float,
    lanes: bool,
) -> _Grid:
    st = ctx.style
    gx = max(st.gap * 2, 64.0 if labelled else 40.0)
    n = len(items)
    used_lanes = [ln for ln in LANES if any(c.get("lane") == ln for c in comps)] if lanes else []
    positions: list[tuple[int, int]] = []  # (row, col)
    if len(used_lanes) > 1:
        lane_of = [
            used_lanes.index(str(c.get("lane"))) if c.get("lane") in used_lanes else 0
            for c in comps
        ]
        # each lane fills from the left in reading order; arrows between lanes route
        # through the channel between them
        seen = [0] * len(used_lanes)
        for i in range(n):
            positions.append((lane_of[i], seen[lane_of[i]]))
            seen[lane_of[i]] += 1
        nrows, ncols = len(used_lanes), max(seen)
    else:
        per_row = max(1, int((width + gx) // (min_w + gx)))
        nrows = math.ceil(n / per_row)
        per_row = math.ceil(n / nrows)
        positions = [(i // per_row, i % per_row) for i in range(n)]
        ncols = per_row
    gy = max(st.gap * 2, 56.0 if labelled else 40.0) if nrows > 1 else st.gap
    cw = (width - gx * (ncols - 1)) / ncols
    natural = [0.0] * nrows
    for i, it in enumerate(items):
        row = positions[i][0]
        natural[row] = max(natural[row], card_height(ctx, it, cw) + st.font * 0.78 * 1.7 + 6)
    return _Grid(positions, nrows, ncols, gx, gy, cw, natural, used_lanes)


def _peek(ctx: Ctx, comps: list[Component], edges: list[Component]) -> tuple[list[Item], bool]:
    """Stage items and whether any edge has a label, without marking content as read."""
    kinds = ctx.ref_kinds
    items = [Item(c, ctx.values, kinds.get(c.name, {}), 0) for c in comps]
    labelled = any(
        Item(e, ctx.values, kinds.get(e.name, {}), 0).has("label", "_primary") for e in edges
    )
    return items, labelled


def flow_rows_height(
    ctx: Ctx,
    width: float,
    comps: list[Component],
    edges: list[Component],
    *,
    min_w: float = 150.0,
    lanes: bool = True,
) -> float:
    """Natural height of :func:`flow_rows` at ``width`` (nothing is drawn or read)."""
    items, labelled = _peek(ctx, comps, edges)
    if not items:
        return 0.0
    _, nrows, _, _, gy, _, natural, _ = _grid(ctx, width, comps, items, labelled, min_w, lanes)
    return TOP_CHANNEL + sum(natural) + gy * (nrows - 1)


def _gap_min(labelled: bool) -> float:
    """The closest two stage rows may come: room for an arrow (and its label) between them."""
    return 30.0 if labelled else 16.0


def _fit_grid(
    ctx: Ctx,
    width: float,
    height: float,
    comps: list[Component],
    items: list[Item],
    labelled: bool,
    min_w: float,
    lanes: bool,
) -> _Grid:
    """The grid at ``min_w``; with narrower cards (fewer rows) while one-line rows overflow."""
    g = _grid(ctx, width, comps, items, labelled, min_w, lanes)
    while (
        g.nrows > 1
        and len(g.lanes) < 2
        and g.nrows * ROW_MIN + _gap_min(labelled) * (g.nrows - 1) > height
        and min_w > 2 * CARD_MIN_W
    ):
        min_w = max(2 * CARD_MIN_W, min_w * 0.8)
        g = _grid(ctx, width, comps, items, labelled, min_w, lanes)
    return g


def flow_rows_floor(
    ctx: Ctx,
    width: float,
    comps: list[Component],
    edges: list[Component],
    *,
    lanes: bool = True,
) -> float:
    """Least height at ``width`` in which :func:`flow_rows` draws every stage (one line each)."""
    items, labelled = _peek(ctx, comps, edges)
    if not items:
        return 0.0
    g = _fit_grid(ctx, width, 0.0, comps, items, labelled, 2 * CARD_MIN_W, lanes)
    return TOP_CHANNEL + g.nrows * ROW_MIN + _gap_min(labelled) * (g.nrows - 1)


def flow_rows(
    ctx: Ctx,
    r: Rect,
    comps: list[Component],
    edges: list[Component],
    parent: str,
    *,
    min_w: float = 150.0,
    implicit: bool = True,
    lanes: bool = True,
    underlay: Callable[[list[Rect]], None] | None = None,
    panel_cards: bool = False,
) -> dict[str, Rect]:
    """Place stage cards (wrapping or in lanes) and draw the arrows between them.

    ``panel_cards``: the cards take the CKE panel look, the panel gradient (surface at the
    top to the raised surface at the bottom) and an accent outline.

    Returns stage id -> card rectangle.
    """
    st = ctx.style
    pal = st.palette
    items = [ctx.item(c) for c in comps]
    ids = [
        next((c.get(f) for f in STAGE_ID_FIELDS if c.get(f)), None) or ctx.comp_id(c) or f"_{i}"
        for i, c in enumerate(comps)
    ]
    edge_items = [(e, ctx.item(e)) for e in edges]
    labelled = any(it.has("label", "_primary") for _, it in edge_items)
    n = len(items)
    if n == 0:
        return {}
    area = Rect(r.x, r.y + TOP_CHANNEL, r.w, max(0.0, r.h - TOP_CHANNEL))
    g = _fit_grid(ctx, r.w, area.h, comps, items, labelled, min_w, lanes)
    positions, nrows, _ncols, gx, gy, cw, natural, used_lanes = g
    if nrows > 1:
        # crowded: tighter gaps between rows, down to room for an arrow label
        gy = min(gy, max(_gap_min(labelled), (area.h - nrows * ROW_MIN) / (nrows - 1)))
    if nrows * ROW_MIN + gy * (nrows - 1) <= area.h:
        hs = fill_heights(natural, area.h, gy, grow=1.25, floor=ROW_MIN)
    else:  # even one-line rows overflow: the rows that fit stay legible, the rest are left out
        hs = [ROW_MIN] * nrows
    total = sum(hs) + gy * (nrows - 1)
    y0 = area.y + max(0.0, (area.h - total) / 2)
    row_y = []
    y = y0
    for h in hs:
        row_y.append(y)
        y += h + gy
    if len(used_lanes) > 1:
        for row in range(nrows):
            band = Rect(area.x - 8, row_y[row] - 6, area.w + 16, hs[row] + 12)
            ctx.rect(band, fill=pal.surface2, rx=14, opacity=0.35)
    cells = [Rect(area.x + col * (cw + gx), row_y[row], cw, hs[row]) for row, col in positions]
    if underlay is not None:
        underlay(cells)
    rects: dict[str, Rect] = {}  # only cards that are drawn: arrows never point at nothing
    panel_fill = (
        f"url(#{ctx.gradient(pal.surface2, pal.surface, vertical=True)})" if panel_cards else None
    )
    for i, it in enumerate(items):
        cell = cells[i]
        if cell.b > r.b + 0.5:
            ctx.warn(
                "S702", it.comp, "title", "no room for this stage below the others; it was left out"
            )
            continue
        if card_fits(cell):
            rects[ids[i]] = cell
        if not ids[i].startswith("_"):
            ctx.anchors[ids[i]] = cell
        card(
            ctx,
            cell,
            it,
            parent=parent,
            index=i,
            kicker=stage_kicker(it, i),
            title_roles=("title", "label", "name"),
            fill=panel_fill,
            outline=panel_cards,
        )
    pairs: list[tuple[str, str, Item | None]] = [(*ctx.ends(e), it) for e, it in edge_items]
    if not pairs and implicit:
        pairs = [(ids[i], ids[i + 1], None) for i in range(n - 1)]
    index_of = {sid: i for i, sid in enumerate(ids)}
    for k, (a_id, b_id, eit) in enumerate(pairs):
        a, b = rects.get(a_id), rects.get(b_id)
        if a is None or b is None:
            continue
        tone = st.tone_at(
            index_of.get(a_id, 0), items[index_of[a_id]].tone() if a_id in index_of else None
        )
        color = pal.accent(tone)
        label = eit.text("label") if eit is not None else None
        pa, pb = positions[index_of[a_id]], positions[index_of[b_id]]
        if pa[0] == pb[0] and pb[1] == pa[1] + 1:
            yy = a.cy if abs(a.cy - b.cy) < 1 else (a.cy + b.cy) / 2
            connector(ctx, [(a.r + 4, yy), (b.x - 6, yy)], color=color)
            if label:
                _edge_label(
                    ctx,
                    (a.r + b.x) / 2,
                    yy - 6,
                    gx,
                    label,
                    pal.muted,
                    parent=parent,
                    obstacles=cells,
                    region=r,
                )
        elif pa[0] == pb[0]:
            ch = a.y - 12 - (k % 2) * 6
            pts = [(a.cx, a.y - 2), (a.cx, ch), (b.cx, ch), (b.cx, b.y - 4)]
            connector(ctx, pts, color=color, vertical=True)
            if label:
                _edge_label(
                    ctx,
                    (a.cx + b.cx) / 2,
                    ch,
                    min(abs(b.cx - a.cx), 180.0),
                    label,
                    pal.muted,
                    parent=parent,
                    obstacles=cells,
                    region=r,
                    slide=(1.0, 0.0),
                )
        else:
            down = b.y > a.y
            ch = (a.b + b.y) / 2 if down else (b.b + a.y) / 2
            start = (a.cx, a.b + 2) if down else (a.cx, a.y - 2)
            end = (b.cx, b.y - 4) if down else (b.cx, b.b + 4)
            connector(ctx, [start, (a.cx, ch), (b.cx, ch), end], color=color, vertical=True)
            if label:
                _edge_label(
                    ctx,
                    (a.cx + b.cx) / 2,
                    ch + 8,
                    min(max(abs(b.cx - a.cx), cw), 180.0),
                    label,
                    pal.muted,
                    parent=parent,
                    obstacles=cells,
                    region=r,
                    slide=(1.0, 0.0),
                )
    return rects


def _split(
    comps: list[Component], edge_names: tuple[str, ...]
) -> tuple[list[Component], list[Component]]:
    stages = [c for c in comps if c.name not in edge_names]
    edges = [c for c in comps if c.name in edge_names]
    return stages, edges


def layout_pipeline(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """pipeline_lane: stage cards in lanes (or wrapped rows) joined by arrows."""
    stages, edges = _split(comps, ("flow_arrow",))
    flow_rows(ctx, r, stages, edges, parent)


def layout_timeline_flow(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """timeline_flow: stage cards with arrows above a time rail with one tick per stage."""
    st = ctx.style
    pal = st.palette
    stages, edges = _split(comps, ("flow_arrow", "timeline_arrow"))
    rail_h = 26.0
    body, rail = r.take_top(max(0.0, r.h - rail_h), 6)
    rects = flow_rows(ctx, body, stages, edges, parent)
    if not rects:
        return
    y = rail.cy
    ctx.line(rail.x, y, rail.r, y, stroke=pal.line, sw=2)
    for i, rect in enumerate(rects.values()):
        color = st.accent(i)
        ctx.circle(rect.cx, y, 5.5, fill=color, stroke=pal.bg, sw=2)


def layout_system(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """system_diagram: stages sit on a link line (a bus through their middles), system links
    are arrows between them, terminal panels take the lower part."""
    st = ctx.style
    pal = st.palette
    stages = [c for c in comps if c.name == "system_stage"]
    links = [c for c in comps if c.name == "system_link"]
    terms = [c for c in comps if c.name == "terminal_panel"]
    # a terminal that a link points at (it declares an id) is the last card of the row, as
    # CKE draws it; the others take the lower part
    targets = {ctx.ends(link)[1] for link in links}
    inline = [t for t in terms if ctx.comp_id(t) and ctx.comp_id(t) in targets]
    if inline:
        stages = [c for c in comps if c.name == "system_stage" or c in inline]
        terms = [t for t in terms if t not in inline]
    body = r
    if terms:
        nat = max(terminal_height(ctx, t) for t in terms)
        th = min(r.h * (0.4 if st.canvas != "tall" else 0.3), nat)
        gap = st.gap * 1.5
        # stages at their natural height (grown a little) sit right above the terminals and
        # the pair is centred, so no empty band opens between them
        need = flow_rows_height(ctx, r.w, stages, links, lanes=False) if stages else 0.0
        stage_h = min(max(0.0, r.h - th - gap), need * 1.25)
        top = r.y + max(0.0, (r.h - stage_h - gap - th) / 2)
        body = Rect(r.x, top, r.w, stage_h)
        tr = Rect(r.x, body.b + gap, r.w, th)
        cols = tr.columns(len(terms), st.gap)
        for cell, t in zip(cols, terms, strict=False):
            terminal(ctx, cell, ctx.item(t), parent)
    if stages:

        def bus(cells: list[Rect]) -> None:
            # the link line: one rail through the middle of each row of stages, from its
            # first stage to its last (never past them to the canvas edge)
            rows: dict[float, list[Rect]] = {}
            for c in cells:
                rows.setdefault(round(c.cy, 2), []).append(c)
            for y in sorted(rows):
                x0 = min(c.x for c in rows[y])
                x1 = max(c.r for c in rows[y])
                if pal.glow:
                    ctx.line(x0, y, x1, y, stroke=st.accent(0), sw=8, opacity=0.18)
                ctx.line(x0, y, x1, y, stroke=pal.line, sw=3)

        rects = flow_rows(
            ctx,
            body,
            stages,
            links,
            parent,
            implicit=False,
            lanes=False,
            underlay=bus,
            panel_cards=True,
        )
        for i, rect in enumerate(rects.values()):
            ctx.circle(rect.cx, rect.b + 1, 4, fill=st.accent(i))


def terminal_height(ctx: Ctx, comp: Component) -> float:
    """Natural height of a terminal panel: title bar plus its lines."""
    n = len(comp.get_all("line_ref"))
    value = ctx.values.get(comp.get("ref") or "")
    if not n and isinstance(value, dict):
        lines = value.get("lines") or value.get("items")
        n = len(lines) if isinstance(lines, list) else str(value.get("body", "")).count("\n") + 1
    n = max(n, 2)
    return 26.0 + 24.0 + n * ctx.style.font * 0.82 * LINE_HEIGHT * 1.15


def terminal(ctx: Ctx, r: Rect, item: Item, parent: str) -> str:
    """A terminal window: title bar with three dots, monospaced lines with a prompt."""
    st = ctx.style
    pal = st.palette
    tid = panel(ctx, r, parent=parent, stem="term", fill=pal.terminal_bg, stroke=pal.line)
    bar = min(26.0, r.h * 0.5)
    for k, c in enumerate((pal.danger, pal.amber, pal.green)):
        ctx.circle(r.x + 16 + k * 14, r.y + bar / 2, 4.5, fill=c)
    title = item.text("title", "label", primary=False)
    badge = item.text("badge", primary=False) if item.has("badge") else None
    bw = 0.0
    if badge and r.w > 160 and bar > 14:  # a badge pill at the right end of the title bar
        bw = (
            pill(
                ctx,
                r.r - 8,
                r.y + (bar - st.font * 0.7 * 1.7) / 2,
                badge,
                st.font * 0.7,
                tone=st.tone_at(item.index, item.tone()),
                parent=tid,
                max_w=r.w * 0.35,
                anchor="end",
            )
            + 8
        )
    if title and r.w > 120 and bar > 12:
        ctx.text(
            Rect(r.x + 64, r.y + 3, max(1.0, r.w - 76 - bw), bar - 6),
            title,
            st.font * 0.78,
            color=pal.muted,
            parent=tid,
            comp=item.comp,
            role="title",
            max_lines=1,
            mono=True,
            valign="middle",
        )
    ctx.line(r.x, r.y + bar, r.r, r.y + bar, stroke=pal.line, sw=1)
    lines = item.texts("lines", "items")
    if not lines:
        body = item.text("body", "text")
        lines = body.split("\n") if body else []
    size = st.font * 0.82
    secs = [
        Section(
            f"lines.{i}",
            ("$ " if not ln.startswith(("$", ">", "#")) and i == 0 else "") + ln,
            size,
            pal.terminal_ink if i else pal.green,
            mono=True,
            max_lines=2,
            gap=2,
        )
        for i, ln in enumerate(lines)
    ]
    inner = Rect(r.x + 14, r.y + bar + 10, max(1.0, r.w - 28), max(0.0, r.h - bar - 20))
    ctx.stack(inner, secs, parent=tid, comp=item.comp)
    return tid
