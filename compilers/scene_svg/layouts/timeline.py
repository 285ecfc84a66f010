"""timeline: a horizontal axis with a dot per stage; stage cards above, below or on it.

Geometry: the axis runs through the middle of the body; stage ``i`` of ``n`` owns the column
``i`` of ``n`` equal columns and its dot sits at the column's centre. A card is never wider
than its column (less the gap), so cards on opposite sides never overlap in x and each card
stands over its own dot (the hand-made timelines and CKE's both space their cards so). Cards
above or below the axis share one height, the tallest one's natural height (as the hand-made
timelines draw their milestones), capped by the room between the axis and the body edge; the
date row beside the axis is reserved only when a stage has a date. ``lane=center`` sits a
card on the axis at its natural height, its text centred, the arrows running from card edge
to card edge. A stage card heads its badge in an accent band, then title and lines.
"""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect
from dslkit.compilers.scene_svg.draw import CARD_MIN_H, RADIUS, card_fits, card_sections, connector
from dslkit.compilers.scene_svg.layouts.lanes import _edge_label

from scene_dsl.ast import Component

__all__ = ["layout_timeline", "stage_card_height"]

EDGE_NAMES = ("timeline_arrow", "flow_arrow")
SIDES = ("top", "bottom", "center")
MAX_CARD_W = 300.0  # a card wider than this reads as a banner, not a milestone
TITLE_ROLES = ("title", "label", "name")


def _band_h(ctx: Ctx) -> float:
    """Height of a stage card's badge band: one line of badge text and its padding."""
    return ctx.style.font * 0.82 * LINE_HEIGHT + ctx.style.pad * 0.9


def stage_card_height(ctx: Ctx, it: Item, tone: str, width: float) -> float:
    """Natural height of a stage card of ``width`` (badge band included)."""
    st = ctx.style
    secs = card_sections(ctx, it, tone, title_roles=TITLE_ROLES)
    h = ctx.stack_height(secs, max(10.0, width - 2 * st.pad)) + 2 * st.pad
    if it.has("badge"):
        h += _band_h(ctx) - st.pad * 0.4
    return h


def _stage_card(ctx: Ctx, r: Rect, it: Item, tone: str, parent: str, center: bool = False) -> str:
    """A stage card: its badge in a band of the stage's accent across the card's top (the
    hand-made timelines head each milestone so; CKE draws an accent bar there), then title,
    body and lines. A date or version badge reads in full, never cut to a pill. A card on the
    axis (``center``) centres its text: it is a step the axis runs through, symmetric about it
    (the hand-made staged timelines centre theirs)."""
    st = ctx.style
    pal = st.palette
    cid = ctx.new_id("card")
    if not card_fits(r):
        ctx.warn("S702", it.comp, "title", "no room for this card at all; it was left out")
        return cid
    ctx.box(cid, "card", r, parent)
    ctx.open_group(cid + "g", it.text("title", "label") or it.name)
    ctx.rect(r, fill=pal.surface, stroke=pal.line, rx=RADIUS, bid=cid)
    inner = r.inset(st.pad, min(st.pad, max(2.0, (r.h - CARD_MIN_H) / 2)))
    badge = it.text("badge", primary=False) if it.has("badge") else None
    bh = _band_h(ctx)
    if badge and r.h > bh + CARD_MIN_H:
        # the band: the card's rounded top, filled with the accent, the badge on it in the
        # canvas colour
        k = RADIUS
        ctx.path(
            f"M{r.x:.2f} {r.y + bh:.2f} V{r.y + k:.2f} Q{r.x:.2f} {r.y:.2f} {r.x + k:.2f} "
            f"{r.y:.2f} H{r.r - k:.2f} Q{r.r:.2f} {r.y:.2f} {r.r:.2f} {r.y + k:.2f} "
            f"V{r.y + bh:.2f} Z",
            fill=pal.accent(tone),
            join=None,
        )
        ctx.text(
            Rect(r.x + st.pad * 0.5, r.y, max(1.0, r.w - st.pad), bh),
            badge,
            st.font * 0.82,
            color=pal.bg,
            parent=cid,
            comp=it.comp,
            role="badge",
            max_lines=1,
            weight="bold",
            anchor="middle",
            valign="middle",
        )
        top = r.y + bh + st.pad * 0.6
        inner = Rect(inner.x, top, inner.w, max(0.0, inner.b - top))
    if st.rail != "none" and r.h > 24:
        ctx.rect(
            Rect(r.x + 6, inner.y, 4, max(0.0, r.b - 10 - inner.y)),
            fill=pal.accent(tone) if st.rail == "accent" else pal.line,
            rx=2,
        )
        inner = Rect(inner.x + 8, inner.y, max(0.0, inner.w - 8), inner.h)
    secs = card_sections(ctx, it, tone, title_roles=TITLE_ROLES, center=center)
    ctx.stack(inner, secs, parent=cid, comp=it.comp)
    ctx.close_group()
    return cid


def layout_timeline(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """timeline: a horizontal axis with a dot per stage; cards alternate above and below it
    (a stage's ``lane`` pins it to a side or onto the axis); dates sit on the axis in mono."""
    st = ctx.style
    pal = st.palette
    stages = [c for c in comps if c.name not in EDGE_NAMES]
    edges = [c for c in comps if c.name in EDGE_NAMES]
    items = [ctx.item(c) for c in stages]
    n = len(items)
    if n == 0:
        return
    axis_y = r.cy
    colw = r.w / n
    side = []
    for i, c in enumerate(stages):
        lane = c.get("lane")
        side.append(lane if lane in SIDES else ("top" if i % 2 == 0 else "bottom"))
    # one column per stage: a card never reaches over a neighbour's dot
    cw = max(60.0, min(MAX_CARD_W, colw - st.gap, r.w))
    if "center" in side:  # cards on the axis leave a run between them for the arrows
        cw = max(60.0, min(cw, colw - 70.0))
    # the date row beside the axis is kept only when a stage has a date to put there
    dated = any(it.has("date", "when") for it in items)
    date_h = st.font * 0.9 * LINE_HEIGHT + 8 if dated else 8.0
    half = (r.h - 2 * date_h) / 2 - 14
    ctx.line(r.x, axis_y, r.r, axis_y, stroke=pal.line, sw=2.5)
    if pal.glow:
        ctx.line(r.x, axis_y, r.r, axis_y, stroke=st.accent(0), sw=6, opacity=0.2)
    # cards off the axis share one height: the tallest one's natural height
    tallest = max(
        (
            stage_card_height(ctx, it, st.tone_at(i, it.tone()), cw) + 4
            for i, it in enumerate(items)
            if side[i] != "center"
        ),
        default=0.0,
    )
    ids = {}
    cells: list[Rect] = []
    for i, it in enumerate(items):
        tone = st.tone_at(i, it.tone())
        color = pal.accent(tone)
        cx = r.x + colw * (i + 0.5)
        x = max(r.x, min(r.r - cw, cx - cw / 2))
        if side[i] == "center":  # on the axis itself, the axis running behind it
            nat = min(r.h - 2 * date_h, stage_card_height(ctx, it, tone, cw) + 4)
            cell = Rect(x, axis_y - nat / 2, cw, nat)
        else:  # above or below: the shared height, stemmed to its dot
            h = max(min(half, tallest), 0.0)
            y = axis_y - date_h - 14 - h if side[i] == "top" else axis_y + date_h + 14
            cell = Rect(x, y, cw, h)
            stem_from = cell.b if side[i] == "top" else cell.y
            ctx.line(cx, stem_from, cx, axis_y, stroke=color, sw=1.5, dash="3 3")
            ctx.circle(cx, axis_y, 7, fill=color, stroke=pal.bg, sw=2.5)
        cells.append(cell)
        date = it.text("date", "when", primary=False)
        if date:
            dr = Rect(
                max(r.x, cx - colw / 2 + 2),
                cell.b + 4
                if side[i] == "center"
                else (axis_y - date_h if side[i] == "bottom" else axis_y + 8),
                min(colw - 4, r.w),
                date_h - 8,
            )
            ctx.text(
                dr,
                date,
                st.font * 0.9,
                color=color,
                parent=parent,
                comp=it.comp,
                role="date",
                max_lines=1,
                weight="bold",
                mono=True,
                anchor="middle",
            )
        _stage_card(ctx, cell, it, tone, parent, center=side[i] == "center")
        if stages[i].get("stage_id"):
            ctx.anchors[str(stages[i].get("stage_id"))] = cell
        # where arrows leave and enter: the dot, or a centred card's own edges
        half_w = cell.w / 2 if side[i] == "center" else 0.0
        ids[stages[i].get("stage_id") or f"_{i}"] = (cx, axis_y, half_w)
    for e in edges:
        it = ctx.item(e)
        a_id, b_id = ctx.ends(e)
        a, b = ids.get(a_id), ids.get(b_id)
        label = it.text("label")
        if a is None or b is None:
            continue
        connector(ctx, [(a[0] + a[2] + 10, a[1]), (b[0] - b[2] - 10, b[1])], color=st.accent(0))
        if label:
            _edge_label(
                ctx,
                (a[0] + b[0]) / 2,
                a[1] + 4,
                abs(b[0] - a[0]) - 20,
                label,
                pal.muted,
                above=False,
                parent=parent,
                obstacles=cells,
                region=r,
                slide=(1.0, 0.0),
            )
