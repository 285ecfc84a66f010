"""comparison_span_chart: horizontal compare bars on one value axis, span brackets, floors.

Geometry: a chart panel; a label column, a bar zone (the value scale) and a value column per
row; an axis under the rows (``axis``: min/max/label/ticks); ``span_bracket start..end``
brackets rows start to end (0-based bar indices, clamped) in a column on the right;
``floor_band`` draws a dashed floor line at its value across every bar and a legend line under
the axis. Exactly two bars with no printed scale (no axis min/max) are a duel: two vertical
columns at the chart's edges on one scale, each bar's bracket beside it toward the middle.
"""

from __future__ import annotations

import math

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect, Section, parse_number
from dslkit.compilers.scene_svg.draw import bar_row, panel
from dslkit.compilers.scene_svg.layouts.common import fmt_tick, nice_max, text_w
from dslkit.compilers.scene_svg.text import measure_text

from scene_dsl.ast import Component

__all__ = ["duel_hosts", "is_duel", "layout_span_chart"]

# page components a duel draws in its own middle instead of a page strip (CKE's duel: the
# legend and a free note on top of the middle, the thesis under them)
_DUEL_HOSTS = ("thesis_box", "legend_row", "annotation")


def duel_hosts(comp: Component) -> bool:
    """Whether a duel draws ``comp`` in its middle: a thesis, a legend row, or an annotation
    that points at no card (one with a ``target`` stays a strip beside its target)."""
    return comp.name in _DUEL_HOSTS and not (comp.name == "annotation" and comp.get("target"))


def is_duel(ctx: Ctx, comps: list[Component]) -> bool:
    """Two bars and no value scale to print (no axis min/max): the chart is a duel."""
    bars = [c for c in comps if c.name == "compare_bar"]
    axis_c = next((c for c in comps if c.name == "axis"), None)
    if len(bars) != 2:
        return False
    if axis_c is None:
        return True
    # a probe, not registered with the page: its keys are read by the axis renderer later
    probe = Item(axis_c, ctx.values, ctx.ref_kinds.get(axis_c.name, {}), len(ctx.items))
    return not probe.has("min", "max")


def layout_span_chart(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """Draw the chart family into ``r``. A duel also draws the ``thesis_box`` components the
    page hands it, in its middle (the page hands them only to a duel, see :func:`is_duel`)."""
    st = ctx.style
    pal = st.palette
    bars = [ctx.item(c) for c in comps if c.name == "compare_bar"]
    axis_c = next((c for c in comps if c.name == "axis"), None)
    axis = ctx.item(axis_c) if axis_c is not None else None
    spans = [ctx.item(c) for c in comps if c.name == "span_bracket"]
    floors = [ctx.item(c) for c in comps if c.name == "floor_band"]
    if is_duel(ctx, comps):
        # two bars and no value scale to print: a duel, one column per side (CKE's shape)
        hosted = [c for c in comps if duel_hosts(c)]
        _duel(ctx, r, bars, axis, spans, floors, parent, hosted)
        return
    pid = panel(ctx, r, parent=parent, stem="chart")
    inner = r.inset(st.pad * 1.2)
    f = st.font
    small = f * 0.8
    # bottom: floors legend, axis
    legend_h = (small * LINE_HEIGHT + 6) * len(floors)
    if legend_h:
        legend, inner = inner.take_bottom(legend_h, 8)
    axis_h = small * LINE_HEIGHT * (2.2 if axis is not None and axis.has("label") else 1.2) + 8
    axis_r, inner = inner.take_bottom(axis_h, 4)
    bracket_w = min(200.0, inner.w * 0.22) if spans else 0.0
    if bracket_w:
        bracket_col, inner = inner.take_right(bracket_w, 10)
    values = [it.text("value", primary=False) or "" for it in bars]
    nums = [parse_number(it.roles.get("value")) for it in bars]
    vmin = 0.0
    vmax_data = max((n for n in nums if n is not None), default=1.0)
    vmax = nice_max(vmax_data)
    if axis is not None:
        lo = parse_number(axis.raw("min")) if axis.has("min") else None
        hi = parse_number(axis.raw("max")) if axis.has("max") else None
        vmin = lo if lo is not None else vmin
        vmax = hi if hi is not None and hi > vmin else vmax
    if vmax <= vmin:  # an axis minimum above every value: keep a span, or all ticks coincide
        vmax = vmin + nice_max(abs(vmin) or 1.0)
    value_w = (
        max((measure_text(v, f * 1.05, weight="bold", mono=True) for v in values), default=0.0) + 14
    )
    labels = [str(it.roles.get("label") or it.roles.get("title") or "") for it in bars]
    label_w = min(
        inner.w * 0.3, max((text_w(x, f * 1.02, True) for x in labels), default=60.0) + 10
    )
    n = max(1, len(bars))
    row_gap = st.gap * 0.6
    row_h = min((inner.h - row_gap * (n - 1)) / n, f * 5.2)
    total = row_h * n + row_gap * (n - 1)
    # rows, axis and legend stay together as one block, centred in the panel
    lift = (inner.h - total) / 2
    rows = Rect(inner.x, inner.y + lift, inner.w, total).rows(n, row_gap)
    axis_r = Rect(axis_r.x, axis_r.y - lift, axis_r.w, axis_r.h)
    if legend_h:
        legend = Rect(legend.x, legend.y - lift, legend.w, legend.h)
    zone = None
    floor_values = tuple(
        v for v in (parse_number(it.roles.get("value")) for it in floors) if v is not None
    )
    for i, (row, it) in enumerate(zip(rows, bars, strict=False)):
        zone = bar_row(
            ctx,
            row,
            it,
            parent=pid,
            index=i,
            vmax=vmax,
            vmin=vmin,
            label_w=label_w,
            value_w=value_w,
            avoid=floor_values,
        )
    if zone is None:
        return
    zx, zw = zone.x, zone.w

    def xpos(v: float) -> float:
        return zx + zw * max(0.0, min(1.0, (v - vmin) / (vmax - vmin or 1.0)))

    # axis
    ay = axis_r.y + 4
    ctx.line(zx, ay, zx + zw, ay, stroke=pal.line, sw=1.5)
    ticks = int(axis_c.get("ticks") or 5) if axis_c is not None else 5
    label_end = -math.inf  # right edge of the last tick label: a label never covers another
    for k in range(ticks + 1):
        v = vmin + (vmax - vmin) * k / ticks
        x = xpos(v)
        ctx.line(x, ay, x, ay + 5, stroke=pal.line, sw=1.2)
        ctx.line(x, rows[0].y, x, rows[-1].b, stroke=pal.line, sw=0.6, dash="2 5", opacity=0.6)
        label = fmt_tick(v)
        tw = text_w(label, small, mono=True) + 2
        tx = max(axis_r.x, min(axis_r.r - tw, x - tw / 2))
        if tx < label_end + 4:
            continue
        label_end = tx + tw
        ctx.text(
            Rect(tx, ay + 7, tw, small * LINE_HEIGHT),
            label,
            small,
            color=pal.muted,
            parent=pid,
            max_lines=1,
            mono=True,
        )
    if axis is not None:
        axis_label = axis.text("label", "title")
        axis_note = axis.text("note", primary=False) if axis.has("note") else None
        if axis_note:  # an axis object's note runs after its label
            axis_label = f"{axis_label} \u2014 {axis_note}" if axis_label else axis_note
        if axis_label:
            ctx.text(
                Rect(zx, ay + 9 + small * LINE_HEIGHT, zw, small * LINE_HEIGHT),
                axis_label,
                small,
                color=pal.muted,
                parent=pid,
                comp=axis.comp,
                role="label",
                max_lines=1,
                anchor="middle",
            )
    # floors
    for k, it in enumerate(floors):
        tone_c = pal.danger if k == 0 else st.accent(k + 1)
        fv = parse_number(it.roles.get("value"))
        label = it.text("label", "title") or ""
        value = it.text("value", primary=False)
        if fv is not None:
            x = xpos(fv)
            ctx.line(x, rows[0].y - 6, x, rows[-1].b + 6, stroke=tone_c, sw=1.6, dash="6 4")
        lr = Rect(legend.x, legend.y + k * (small * LINE_HEIGHT + 6), legend.w, small * LINE_HEIGHT)
        ctx.rect(Rect(lr.x, lr.cy - 1, 22, 2.5), fill=tone_c)
        text = f"{label} \u00b7 {value}" if value else label
        ctx.text(
            Rect(lr.x + 30, lr.y, lr.w - 30, lr.h),
            text,
            small,
            color=pal.ink,
            parent=pid,
            comp=it.comp,
            role="label",
            max_lines=1,
        )
    # span brackets
    last_bottom = -1e9
    for k, it in enumerate(spans):
        if it.comp.get("start") is None and it.comp.get("end") is None:
            a = b = k  # a bracket with no bar range (CKE) belongs to the bar of its own rank
        else:
            a = int(it.comp.get("start") or 0)
            b = int(it.comp.get("end") or 0)
        a, b = sorted((min(a, n - 1), min(b, n - 1)))
        color = st.accent(k, it.tone())
        x = bracket_col.x + 6 + (k % 3) * 6
        y0, y1 = rows[a].y + 4, rows[b].b - 4
        ctx.path(
            f"M{x:.1f} {y0:.1f} H{x + 8:.1f} V{y1:.1f} H{x:.1f}", stroke=color, sw=2, join="miter"
        )
        span_label = it.text("label")
        span_value = it.text("value", primary=False) if it.has("value") else None
        if span_value:  # a bracket value (the gap it measures) leads its label
            span_label = f"{span_value} \u00b7 {span_label}" if span_label else span_value
        if span_label:
            lx = bracket_col.x + 30
            size = small
            lh = size * LINE_HEIGHT
            lines_h = min(3 * lh, max(lh, y1 - y0))
            ly = max((y0 + y1) / 2 - lines_h / 2, last_bottom + 6, r.y + 4)
            lr = Rect(lx, ly, max(1.0, bracket_col.r - lx), min(lines_h, max(0.0, inner.b - ly)))
            if lr.h >= lh * 0.8:
                used = ctx.text(
                    lr,
                    span_label,
                    size,
                    color=color,
                    parent=pid,
                    comp=it.comp,
                    role="label",
                    max_lines=3,
                    weight="bold",
                )
                last_bottom = ly + used
            else:
                ctx.warn("S702", it.comp, "label", "no room for the bracket label")


def _duel(
    ctx: Ctx,
    r: Rect,
    bars: list[Item],
    axis: Item | None,
    spans: list[Item],
    floors: list[Item],
    parent: str,
    hosted: list[Component],
) -> None:
    """Two bars as vertical columns at the left and right edges of the chart, standing on the
    page (no chart panel: CKE's duel and the hand-made duels draw none); each column's height
    follows its value on one scale (bottom-aligned, never shorter than its texts need), filled
    from the bottom; the floors form one full-width strip the columns stand on (dashed lines
    across the columns at a floor's value); each bar's bracket (span_bracket k, or the one
    whose range starts at k) stands beside its column toward the middle; the axis label and
    note sit at the bottom of the middle; the hosted components (legend, free annotations,
    theses: :func:`duel_hosts`) stack in the centre between the brackets, in source order."""
    st = ctx.style
    pal = st.palette
    f = st.font
    pid = ctx.new_id("chart")
    ctx.box(pid, "panel", r, parent)
    inner = r.inset(st.pad * 1.2, 0)
    small = f * 0.8
    if floors:
        floor_h = small * LINE_HEIGHT * len(floors) + st.pad * 0.9
        floor_r, inner = inner.take_bottom(floor_h, 0)
        floor_r = Rect(r.x + st.pad * 0.6, floor_r.y, r.w - st.pad * 1.2, floor_r.h)
    # with hosted notes in the middle the columns give it room (CKE's duel: about a fifth each)
    col_w = min(inner.w * (0.19 if hosted else 0.24), 280.0)
    nums = [parse_number(it.roles.get("value")) for it in bars]
    top = max((abs(n) for n in nums if n is not None), default=0.0)
    floor_values = [parse_number(it.roles.get("value")) for it in floors]
    top = max([top, *(abs(v) for v in floor_values if v is not None)]) or 1.0
    tracks: list[Rect] = []
    for k, it in enumerate(bars):
        tone = st.tone_at(k, it.tone())
        color = pal.accent(tone)
        x = inner.x if k == 0 else inner.r - col_w
        label = it.text("label", "title", "name") or ""
        notes = [
            (role, t)
            for role in ("caption", "note", "body")
            if it.has(role) and (t := it.text(role, primary=False))
        ]
        value = it.text("value", primary=False) or ""
        head = Section("label", label, f * 1.05, pal.bg, "bold", max_lines=2, anchor="middle")
        secs = [
            Section(
                "value",
                value,
                f * 1.6,  # the column's headline figure (CKE sets it 24 px on a 15 px base)
                pal.ink,
                "bold",
                mono=True,
                max_lines=2,
                anchor="middle",
                gap=10,
            ),
        ]
        foot = [
            Section(role, t, small, pal.muted, max_lines=3, gap=4, anchor="middle")
            for role, t in notes
        ]
        body_w = col_w - st.pad * 1.6
        # the label heads the column in a band of its accent (the hand-made duels title
        # each side so), then the value, the notes at the foot
        band_h = ctx.stack_height([head], body_w) + st.pad * 0.8 if label else 0.0
        need = (
            band_h
            + ctx.stack_height(secs, body_w)
            + ctx.stack_height(foot, body_w)
            + st.pad * 1.6
            + 22
        )
        n = nums[k]
        share = min(1.0, abs(n) / top) if n is not None else 1.0
        col_h = min(inner.h, max(need, inner.h * share))
        col = Rect(x, inner.b - col_h, col_w, col_h)
        cid = ctx.new_id("col")
        ctx.box(cid, "panel", col, pid)
        ctx.rect(col, fill=pal.soft(tone), stroke=color, sw=1.5, rx=10, bid=cid)
        body = col.inset(st.pad * 0.8)
        if band_h:
            ctx.path(_top_band(col, band_h, 10.0), fill=color, join=None)
            band = Rect(body.x, col.y, body.w, band_h)
            ctx.stack(band, [head], parent=cid, comp=it.comp, valign="middle")
            body = Rect(body.x, band.b + 8, body.w, max(0.0, body.b - band.b - 8))
        foot_need = ctx.stack_height(foot, body.w)
        if foot:
            # the notes take what the value leaves (at least 45% of the body)
            room = max(body.h * 0.45, body.h - ctx.stack_height(secs, body.w) - 6)
            fr, body = body.take_bottom(min(foot_need, room), 6)
            ctx.stack(fr, foot, parent=cid, comp=it.comp, valign="bottom")
        ctx.stack(body, secs, parent=cid, comp=it.comp)
        tracks.append(col)
    # floors: one strip under both columns, dashed lines across the columns at a value
    for j, fv in enumerate(floor_values):
        tone_c = pal.danger if j == 0 else st.accent(j + 1)
        if fv is not None:
            for trk in tracks:
                y = trk.b - (inner.h * min(1.0, abs(fv) / top))
                if trk.y < y < trk.b:
                    ctx.line(trk.x - 6, y, trk.r + 6, y, stroke=tone_c, sw=1.6, dash="6 4")
    if floors:
        fid = ctx.new_id("floor")
        ctx.box(fid, "panel", floor_r, pid)
        ctx.rect(floor_r, fill=pal.surface, stroke=pal.line, rx=4, bid=fid)
        rows = floor_r.inset(st.pad, st.pad * 0.45).rows(len(floors), 0)
        for j, (it, row) in enumerate(zip(floors, rows, strict=True)):
            fl_label = it.text("label", "title") or ""
            fl_value = it.text("value", primary=False)
            ctx.text(
                row,
                f"{fl_label} \u00b7 {fl_value}" if fl_value else fl_label,
                small,
                color=pal.danger if j == 0 else st.accent(j + 1),
                parent=fid,
                comp=it.comp,
                role="label",
                max_lines=1,
                anchor="middle",
                valign="middle",
            )
    # the middle: brackets beside their columns, the axis text at the bottom
    mid = Rect(inner.x + col_w + 12, inner.y, max(0.0, inner.w - 2 * col_w - 24), inner.h)
    if axis is not None and mid.w > 40:
        text = axis.text("label", "title")
        note = axis.text("note", primary=False) if axis.has("note") else None
        ctx.line(
            mid.cx,
            mid.y + 4,
            mid.cx,
            mid.b - small * LINE_HEIGHT * 2.6,
            stroke=pal.line,
            sw=1,
            dash="3 5",
        )
        lines = " \u2014 ".join(t for t in (text, note) if t)
        if lines:
            ctx.text(
                Rect(mid.x, mid.b - small * LINE_HEIGHT * 2.2, mid.w, small * LINE_HEIGHT * 2.2),
                lines,
                small,
                color=pal.muted,
                parent=pid,
                comp=axis.comp,
                role="label",
                max_lines=2,
                anchor="middle",
                valign="bottom",
            )
    side_w = min(mid.w * (0.2 if hosted else 0.45), 220.0)
    if hosted:  # the brackets' side takes what their texts need, the hosted notes the rest
        side_w = min(side_w, max(60.0, _bracket_text_w(ctx, spans) + 26))
    if hosted and mid.w - 2 * side_w > 120:
        _middle_stack(ctx, mid, side_w, hosted, pid, small * LINE_HEIGHT * 2.6)
    for k, it in enumerate(spans):
        start = it.comp.get("start")
        b = min(1, int(start)) if start is not None else k
        if b > 1 or b >= len(tracks) or side_w < 40:
            continue
        trk = tracks[b]
        color = st.accent(b, bars[b].tone())
        y0, y1 = trk.y, trk.b
        x = mid.x + 4 if b == 0 else mid.r - 4
        dx = 10 if b == 0 else -10
        ctx.path(
            f"M{x:.1f} {y0:.1f} H{x + dx:.1f} V{y1:.1f} H{x:.1f}", stroke=color, sw=2, join="miter"
        )
        span_label = it.text("label")
        span_value = it.text("value", primary=False) if it.has("value") else None
        secs = []
        if span_value:
            secs.append(
                Section(
                    "value",
                    span_value,
                    f * 1.3,
                    color,
                    "bold",
                    mono=True,
                    max_lines=1,
                    gap=2,
                    anchor="start" if b == 0 else "end",
                )
            )
        if span_label:
            secs.append(
                Section(
                    "label",
                    span_label,
                    small,
                    pal.muted,
                    max_lines=3,
                    gap=0,
                    anchor="start" if b == 0 else "end",
                )
            )
        if secs:
            lx = x + dx + 6 if b == 0 else mid.r - side_w
            lw = side_w - abs(dx) - 10
            need = ctx.stack_height(secs, lw)
            ly = max(mid.y, min((y0 + y1) / 2 - need / 2, mid.b - need))
            ctx.stack(Rect(lx, ly, lw, min(need, mid.b - ly)), secs, parent=pid, comp=it.comp)


def _top_band(r: Rect, h: float, k: float) -> str:
    """Path of the top ``h`` of a rounded rectangle ``r`` (corner radius ``k``)."""
    return (
        f"M{r.x:.2f} {r.y + h:.2f} V{r.y + k:.2f} Q{r.x:.2f} {r.y:.2f} {r.x + k:.2f} {r.y:.2f} "
        f"H{r.r - k:.2f} Q{r.r:.2f} {r.y:.2f} {r.r:.2f} {r.y + k:.2f} V{r.y + h:.2f} Z"
    )


def _bracket_text_w(ctx: Ctx, spans: list[Item]) -> float:
    """Width the duel's bracket texts need: the value on one line, a label wrapped to at
    most 110 px (it may take three lines)."""
    f = ctx.style.font
    widest = 0.0
    for it in spans:
        value = it.text("value", primary=False) if it.has("value") else None
        label = it.text("label")
        if value:
            widest = max(widest, measure_text(value, f * 1.3, weight="bold", mono=True))
        if label:
            widest = max(widest, min(110.0, measure_text(label, f * 0.8)))
    return widest


def _middle_stack(
    ctx: Ctx, mid: Rect, side_w: float, hosted: list[Component], parent: str, foot: float
) -> None:
    """Stack the hosted components in the centre of a duel's middle, in source order, from
    its top (CKE's duel: legend and notes on top, the thesis under them), above the axis
    text (``foot``); each keeps its natural height while the middle holds it."""
    from dslkit.compilers.scene_svg.page import draw_strip, strip_height

    st = ctx.style
    zone = Rect(mid.x + side_w, mid.y, mid.w - 2 * side_w, max(0.0, mid.h - foot - st.gap))
    items = [ctx.item(c) for c in hosted]
    heights = [
        strip_height(ctx, c, it, zone.w, column=True) for c, it in zip(hosted, items, strict=True)
    ]
    room = zone.h - st.gap * (len(hosted) - 1)
    if sum(heights) > room > 0:  # share the middle in proportion, never past it
        heights = [h * room / sum(heights) for h in heights]
    y = zone.y
    for i, (c, it, h) in enumerate(zip(hosted, items, heights, strict=True)):
        draw_strip(ctx, Rect(zone.x, y, zone.w, h), c, it, parent, i, column=True)
        y += h + st.gap
