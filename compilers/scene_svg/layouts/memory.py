"""memory_map and memory_training_map: an address strip over a segment tower, region
brackets beside it, info cards (or stages and bars) to the side.

Segment heights follow their ``size`` when it is numeric (each keeps a minimum share so a
tiny segment stays legible); brackets span from their first to their last segment.
"""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect, Section, parse_number
from dslkit.compilers.scene_svg.draw import card, panel
from dslkit.compilers.scene_svg.layouts.common import card_height, text_w

from scene_dsl.ast import Component

__all__ = ["layout_memory", "layout_memory_training"]

STATE_TONE = {"success": "green", "warning": "amber", "highlight": "blue", "danger": "purple"}


def _tower(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    st = ctx.style
    pal = st.palette
    f = st.font
    segs = [c for c in comps if c.name == "memory_segment"]
    addr = next((c for c in comps if c.name == "address_strip"), None)
    brackets = [c for c in comps if c.name == "region_bracket"]
    # a bracket with no segment range (CKE: an id and a {title, caption} object) stands for
    # the segments elided between its neighbours: it takes a slot of its own in the tower
    elided = {id(c) for c in brackets if not (c.get("from_ref") and c.get("to_ref"))}
    brackets = [c for c in brackets if id(c) not in elided]
    bw = min(210.0, r.w * 0.34) if brackets else 0.0
    col, bcol = (r.take_left(r.w - bw - 12, 12)) if bw else (r, None)
    offsets: list[str] = []
    if addr is not None:
        it = ctx.item(addr)
        if not it.has("start", "label", "title", "_primary"):
            # a list of offset labels (CKE): an address column down the tower's left edge
            offsets = it.texts("items", "offsets", "lines")
    if offsets:
        aw = min(col.w * 0.3, max(text_w(o, f * 0.8, mono=True) for o in offsets) + 22)
        acol, col = col.take_left(aw, 8)
        _address_column(ctx, acol, offsets, addr, parent)
    elif addr is not None:
        ar, col = col.take_top(f * 0.85 * LINE_HEIGHT + 18, 8)
        aid = panel(ctx, ar, parent=parent, stem="addr", fill=pal.surface2, rx=8)
        start = it.text("start", "label", "title") or ""
        end = it.text("end", primary=False) or ""
        inner = ar.inset(10, 4)
        ctx.line(inner.x, inner.b - 1, inner.r, inner.b - 1, stroke=pal.line, sw=1)
        for k in range(9):
            x = inner.x + inner.w * k / 8
            ctx.line(x, inner.b - (6 if k % 4 else 10), x, inner.b - 1, stroke=pal.muted, sw=1)
        half = Rect(inner.x, inner.y, inner.w / 2 - 4, inner.h - 8)
        ctx.text(
            half,
            start,
            f * 0.85,
            color=pal.ink,
            parent=aid,
            comp=addr,
            role="start",
            max_lines=1,
            mono=True,
            valign="middle",
        )
        if end:
            ctx.text(
                Rect(inner.cx + 4, inner.y, inner.w / 2 - 4, inner.h - 8),
                end,
                f * 0.85,
                color=pal.ink,
                parent=aid,
                comp=addr,
                role="end",
                max_lines=1,
                mono=True,
                anchor="end",
                valign="middle",
            )
    segs = [c for c in comps if c.name == "memory_segment" or id(c) in elided]
    items = [ctx.item(c) for c in segs]
    sizes = [
        None if id(c) in elided else parse_number(it.roles.get("size"))
        for c, it in zip(segs, items, strict=True)
    ]
    known = [s for s in sizes if s is not None and s > 0]
    base = (sum(known) / len(known)) if known else 1.0
    weights = [max((s if s is not None and s > 0 else base), 0.0) for s in sizes]
    total = sum(weights) or 1.0
    n = len(items)
    sgap = min(3.0, col.h / max(1, n - 1) * 0.1) if n > 1 else 0.0
    min_h = min(f * 2.4, (col.h - sgap * (n - 1)) / max(1, n))
    free = col.h - n * min_h - (n - 1) * sgap
    hs = [min_h + max(0.0, free) * w / total for w in weights]
    y = col.y
    where: dict[str, tuple[float, float]] = {}
    for i, (it, h) in enumerate(zip(items, hs, strict=False)):
        seg = Rect(col.x, y, col.w, h)
        if id(segs[i]) in elided:
            _elided(ctx, seg, it, parent, i)
            y += h + sgap
            continue
        state = it.state()
        tone = STATE_TONE.get(state) or st.tone_at(i, it.tone())
        color = pal.accent(tone)
        fill = pal.soft(tone)
        seg_tone = it.raw("tone") if it.has("tone") else None
        if isinstance(seg_tone, str) and seg_tone in STATE_TONE.values():
            color, fill = pal.accent(seg_tone), pal.soft(seg_tone)
        elif seg_tone is not None:  # a named segment kind (CKE "header"): a plain surface
            fill = pal.surface2
        sid = panel(ctx, seg, parent=parent, stem="seg", fill=fill, stroke=color, rx=6)
        ctx.rect(Rect(seg.x, seg.y, 6, seg.h), fill=color, rx=3)
        size = it.text("size", primary=False)
        inner = seg.inset(14, 4)
        sw = min(inner.w * 0.4, text_w(size, f * 0.9, mono=True) + 4) if size else 0.0
        label_r = Rect(inner.x, inner.y, max(1.0, inner.w - sw - 10), inner.h)
        secs = [
            Section(
                "label",
                it.text("label", "title") or "",
                f * 0.98,
                pal.ink,
                "bold",
                max_lines=2,
                gap=2,
            )
        ]
        body = it.text("body", "caption", "note", primary=False)
        if body:
            secs.append(Section("body", body, f * 0.8, pal.muted, max_lines=2, gap=0))
        parts = it.texts("parts", "items") if it.has("parts", "items") else []
        chip_f = f * 0.78
        chip_h = chip_f * LINE_HEIGHT + 8
        chip_ws = [text_w(p, chip_f, mono=True) + 20 for p in parts]
        # sub-regions side by side in the segment, right of its label, as CKE draws a layer's
        # Q K V O MLP: when one row of chips fits beside a label column of 30% and the size
        chip_zone = Rect(
            inner.x + inner.w * 0.3,
            seg.cy - chip_h / 2,
            max(0.0, inner.w * 0.7 - sw - (10 if sw else 0)),
            chip_h,
        )
        if parts and sum(chip_ws) + 8 * (len(parts) - 1) <= chip_zone.w and seg.h >= chip_h + 8:
            label_r = Rect(inner.x, inner.y, inner.w * 0.3 - 10, inner.h)
            extra = (chip_zone.w - sum(chip_ws) - 8 * (len(parts) - 1)) / len(parts)
            x = chip_zone.x
            for p, cw in zip(parts, chip_ws, strict=True):
                chip = Rect(x, chip_zone.y, cw + extra, chip_h)
                ctx.rect(chip, fill=pal.surface, stroke=pal.line, rx=5)
                ctx.text(
                    chip,
                    p,
                    chip_f,
                    color=color,
                    parent=sid,
                    comp=it.comp,
                    role="parts",
                    max_lines=1,
                    weight="bold",
                    mono=True,
                    anchor="middle",
                    valign="middle",
                )
                x = chip.r + 8
            parts = []
        if parts:  # sub-regions of the segment, one line of chips under its caption
            secs[-1].gap = 3
            secs.append(
                Section(
                    "parts",
                    "  \u00b7  ".join(parts),
                    f * 0.78,
                    color,
                    "bold",
                    mono=True,
                    max_lines=2,
                    gap=0,
                )
            )
        ctx.stack(label_r, secs, parent=sid, comp=it.comp, valign="middle")
        if size:
            ctx.text(
                Rect(inner.r - sw, inner.y, sw, inner.h),
                size,
                f * 0.9,
                color=color,
                parent=sid,
                comp=it.comp,
                role="size",
                max_lines=1,
                weight="bold",
                mono=True,
                anchor="end",
                valign="middle",
            )
        where[segs[i].get("segment_id") or ""] = (seg.y, seg.b)
        y += h + sgap
    if bcol is None:
        return
    last = -1e9
    for k, c in enumerate(brackets):
        it = ctx.item(c)
        a, b = where.get(c.get("from_ref") or ""), where.get(c.get("to_ref") or "")
        if a is None or b is None:
            continue
        y0, y1 = min(a[0], b[0]) + 3, max(a[1], b[1]) - 3
        color = st.accent(k, it.tone())
        x = bcol.x + 4 + (k % 3) * 7
        ctx.path(
            f"M{x:.1f} {y0:.1f} H{x + 10:.1f} V{y1:.1f} H{x:.1f}", stroke=color, sw=2, join="miter"
        )
        sub = it.child("label")  # a label object {title, caption}
        label = (
            " \u2014 ".join(
                t for t in (sub.text("title", "label"), sub.text("caption", "body")) if t
            )
            if sub is not None
            else it.text("label")
        )
        if label:
            lx = bcol.x + 34
            lh = f * 0.85 * LINE_HEIGHT
            h = min(3 * lh, max(lh, y1 - y0))
            ly = max((y0 + y1) / 2 - h / 2, last + 6)
            lr = Rect(lx, ly, max(1.0, bcol.r - lx), max(0.0, min(h, r.b - ly)))
            if lr.h >= lh:
                last = ly + ctx.text(
                    lr,
                    label,
                    f * 0.85,
                    color=color,
                    parent=parent,
                    comp=c,
                    role="label",
                    max_lines=3,
                    weight="bold",
                )
            else:
                ctx.warn("S702", c, "label", "no room for the bracket label")


def _address_column(
    ctx: Ctx, r: Rect, offsets: list[str], comp: Component | None, parent: str
) -> None:
    """Offset labels down the tower's left edge, each with a dot on a thin rail."""
    st = ctx.style
    pal = st.palette
    size = st.font * 0.8
    lh = size * LINE_HEIGHT
    rail_x = r.r - 6
    ctx.line(rail_x, r.y, rail_x, r.b, stroke=pal.line, sw=1)
    n = len(offsets)
    for k, text in enumerate(offsets):
        cy = r.y + (r.h - lh) * (k / (n - 1) if n > 1 else 0.0) + lh / 2
        ctx.circle(rail_x, cy, 3, fill=st.accent(0))
        ctx.text(
            Rect(r.x, cy - lh / 2, max(1.0, r.w - 14), lh),
            text,
            size,
            color=pal.muted,
            parent=parent,
            comp=comp,
            role="items",
            max_lines=1,
            mono=True,
            anchor="end",
        )


def _elided(ctx: Ctx, r: Rect, it: Item, parent: str, index: int) -> None:
    """A range-less region bracket: a dashed slot with a side bracket, title and caption."""
    st = ctx.style
    pal = st.palette
    color = st.accent(index, it.tone())
    sid = panel(
        ctx, r, parent=parent, stem="region", fill="none", stroke=pal.line, dash="6 5", rx=6
    )
    ctx.path(
        f"M{r.x + 14:.1f} {r.y + 4:.1f} H{r.x + 8:.1f} V{r.b - 4:.1f} H{r.x + 14:.1f}",
        stroke=color,
        sw=2,
        join="miter",
    )
    f = st.font
    secs = [
        Section(
            "title", it.text("title", "label") or "", f * 0.95, color, "bold", max_lines=1, gap=2
        )
    ]
    caption = it.text("caption", "body", "note", primary=False)
    if caption:
        secs.append(Section("caption", caption, f * 0.8, pal.muted, max_lines=2, gap=0))
    ctx.stack(r.inset(22, 3), secs, parent=sid, comp=it.comp, valign="middle")


def _side_cards(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    from dslkit.compilers.scene_svg.layouts.stack import bars_panel

    st = ctx.style
    cards = [c for c in comps if c.name == "info_card"]
    bars = [c for c in comps if c.name == "compare_bar"]
    blocks = len(cards) + (1 if bars else 0)
    items = [ctx.item(c) for c in cards]
    if cards and not bars:
        # the cards share the column in proportion to what they hold (a four-item card is
        # taller than a two-line one), as the CKE side columns size their cards by content
        cells = r.rows_weighted([card_height(ctx, it, r.w) for it in items], st.gap)
    else:
        cells = r.rows(max(1, blocks), st.gap)
    for cell, it in zip(cells, items, strict=False):
        card(ctx, cell, it, parent=parent, index=it.index)
    if bars:
        bars_panel(ctx, cells[len(cards)], [ctx.item(c) for c in bars], parent)


def layout_memory(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """memory_map: tower (+ brackets) on the left, info cards on the right (below on tall)."""
    st = ctx.style
    has_side = any(c.name == "info_card" for c in comps)
    if not has_side:
        _tower(ctx, r, comps, parent)
        return
    if st.canvas == "tall":
        side, main = r.take_bottom(r.h * 0.3, st.gap * 1.5)
    else:
        side, main = r.take_right(r.w * 0.34, st.gap * 1.5)
    _tower(ctx, main, comps, parent)
    _side_cards(ctx, side, comps, parent)


def layout_memory_training(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """memory_training_map: the memory tower; training stages as a flow and compare bars
    beside it (wide) or below it (tall, square)."""
    from dslkit.compilers.scene_svg.layouts.lanes import flow_rows

    st = ctx.style
    stages = [c for c in comps if c.name == "stage_card"]
    arrows = [c for c in comps if c.name == "flow_arrow"]
    has_bars = any(c.name == "compare_bar" for c in comps)
    if not stages and not has_bars:
        _tower(ctx, r, comps, parent)
        return
    if st.canvas == "wide":
        side, main = r.take_right(r.w * 0.5, st.gap * 1.5)
        _tower(ctx, main, comps, parent)
        if stages and has_bars:
            top, bottom = side.take_top(side.h * 0.55, st.gap)
            flow_rows(ctx, top, stages, arrows, parent, min_w=120.0)
            _side_cards(ctx, bottom, comps, parent)
        elif stages:
            flow_rows(ctx, side, stages, arrows, parent, min_w=120.0)
        else:
            _side_cards(ctx, side, comps, parent)
        return
    main = r
    if stages:
        band, main = r.take_bottom(min(r.h * 0.36, st.font * 9 + 22), st.gap * 1.5)
        flow_rows(ctx, band, stages, arrows, parent)
    if has_bars:
        side, main = main.take_right(main.w * 0.36, st.gap * 1.5)
        _side_cards(ctx, side, comps, parent)
    _tower(ctx, main, comps, parent)
