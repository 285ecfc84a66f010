"""spectrum_map: a gradient continuum between two poles, an arc over it, markers on it.

Poles are cards at the two ends (``side``); the bar runs between them with a gradient from
the left pole's tone to the right pole's; ``continuum_arc`` draws an arc over the bar with its
label at the apex; each ``marker_band`` sits at ``position`` percent with its label in the
first free lane under the bar (lanes stack so labels never overlap).
"""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Rect, Section
from dslkit.compilers.scene_svg.draw import card
from dslkit.compilers.scene_svg.layouts.common import card_height, text_w

from scene_dsl.ast import Component

__all__ = ["layout_spectrum"]


def layout_spectrum(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """Draw the spectrum family into ``r``."""
    st = ctx.style
    pal = st.palette
    f = st.font
    poles = {c.get("side"): c for c in comps if c.name == "spectrum_pole"}
    arc = next((c for c in comps if c.name == "continuum_arc"), None)
    markers = [c for c in comps if c.name == "marker_band"]
    pole_w = min(240.0, r.w * 0.22)
    tones = {}
    mid = r
    for side in ("left", "right"):
        c = poles.get(side)
        if c is None:
            continue
        it = ctx.item(c)
        tones[side] = it.tone() or _pole_tone(ctx, side)
        h = min(r.h * 0.5, max(90.0, f * 6))
        if it.has("body", "caption", "detail"):
            # a pole with a body keeps its natural height (up to 80% of the region)
            h = min(r.h * 0.8, max(h, card_height(ctx, it, pole_w) + 2 * f * LINE_HEIGHT))
        cell = Rect(r.x if side == "left" else r.r - pole_w, r.cy - h / 2, pole_w, h)
        card(
            ctx,
            cell,
            it,
            parent=parent,
            index=0 if side == "left" else 1,
            valign="middle",
            center=True,
            tone=tones[side],
            title_roles=("label", "title", "name"),
        )
    mid = Rect(r.x + pole_w + 24, r.y, max(10.0, r.w - 2 * pole_w - 48), r.h)
    left_c = pal.accent(tones.get("left", _pole_tone(ctx, "left")))
    right_c = pal.accent(tones.get("right", _pole_tone(ctx, "right")))
    bar_h = 16.0
    by = r.cy - bar_h / 2
    grad = ctx.gradient(right_c, left_c)
    if pal.glow:
        ctx.rect(Rect(mid.x - 3, by - 3, mid.w + 6, bar_h + 6), fill=left_c, rx=bar_h, opacity=0.2)
    ctx.rect(Rect(mid.x, by, mid.w, bar_h), fill=f"url(#{grad})", rx=bar_h / 2)
    if arc is not None:
        it = ctx.item(arc)
        color = st.accent(2, it.tone())
        top = max(r.y + f * 2.2, by - r.h * 0.32)
        d = (
            f"M{mid.x + 6:.1f} {by - 4:.1f} C{mid.x + mid.w * 0.25:.1f} {top:.1f} "
            f"{mid.x + mid.w * 0.75:.1f} {top:.1f} {mid.r - 6:.1f} {by - 4:.1f}"
        )
        ctx.path(d, stroke=color, sw=2, dash="6 5")
        label = it.text("label", "title", "text")
        if label:
            apex = by - 4 + 0.75 * (top - by + 4)
            lr = Rect(
                mid.x + mid.w * 0.2,
                max(r.y, apex - f * LINE_HEIGHT * 1.6),
                mid.w * 0.6,
                f * LINE_HEIGHT * 1.3,
            )
            ctx.text(
                lr,
                label,
                f,
                color=color,
                parent=parent,
                comp=arc,
                role="label",
                max_lines=1,
                weight="bold",
                anchor="middle",
            )
            note = (
                it.text("note", "caption", "body", primary=False)
                if it.has("note", "caption", "body")
                else None
            )
            if note:  # the arc's note under its label
                ctx.text(
                    Rect(
                        lr.x, lr.b, lr.w, min(f * 0.85 * LINE_HEIGHT * 2, max(0.0, by - lr.b - 6))
                    ),
                    note,
                    f * 0.85,
                    color=pal.muted,
                    parent=parent,
                    comp=arc,
                    role="note",
                    max_lines=2,
                    anchor="middle",
                )
    lanes: list[float] = []  # right edge of the last label in each lane
    lh = f * 0.9 * LINE_HEIGHT
    items = [ctx.item(c) for c in markers]
    bodies = any(it.has("body", "caption") for it in items)
    lane_h = lh * (6 if bodies else 2) + 8  # a marker with a body gets four more lines
    for k, c in enumerate(markers):
        it = items[k]
        raw_pos = c.get("position")
        if raw_pos is None:  # markers with no position (CKE bands) spread evenly, in order
            pos = round(100 * (k + 1) / (len(markers) + 1))
        else:
            pos = max(0, min(100, int(raw_pos or 0)))
        x = mid.x + mid.w * pos / 100
        color = st.accent(k + 2, it.tone())
        ctx.path(
            f"M{x - 7:.1f} {by - 12:.1f} L{x + 7:.1f} {by - 12:.1f} L{x:.1f} {by - 1:.1f} z",
            fill=color,
        )
        ctx.line(x, by + bar_h + 2, x, by + bar_h + 14, stroke=color, sw=1.5)
        label = it.text("label", "title", "text") or ""
        value = it.text("value", primary=False)
        text = f"{label} \u00b7 {value}" if value else label
        w = min(mid.w, max(60.0, text_w(text, f * 0.9, True) + 4), 220.0)
        if bodies:  # a body reads in its share of the continuum, not in its label's width
            w = min(mid.w, max(w, min(240.0, mid.w / (len(markers) + 1) - 12)))
        lx = max(mid.x, min(mid.r - w, x - w / 2))
        lane = next((i for i, right in enumerate(lanes) if lx >= right + 8), len(lanes))
        if lane == len(lanes):
            lanes.append(-1e9)
        ly = by + bar_h + 16 + lane * lane_h
        if ly + lh > r.b:
            ctx.warn("S702", c, "label", "no room left under the spectrum for this marker label")
            continue
        lanes[lane] = lx + w
        if lane:
            ctx.line(x, by + bar_h + 14, x, ly, stroke=color, sw=1, dash="2 3")
        body = it.text("body", "caption", primary=False) if bodies else None
        if body:
            box = Rect(lx, ly, w, min(lane_h - 8, r.b - ly))
            ctx.stack(
                box,
                [
                    Section(
                        "label", text, f * 0.9, pal.ink, "bold", max_lines=2, gap=2, anchor="middle"
                    ),
                    Section("body", body, f * 0.78, pal.muted, max_lines=4, gap=0, anchor="middle"),
                ],
                parent=parent,
                comp=c,
            )
            continue
        ctx.text(
            Rect(lx, ly, w, min(lane_h - 8, r.b - ly)),
            text,
            f * 0.9,
            color=pal.ink,
            parent=parent,
            comp=c,
            role="label",
            max_lines=2,
            weight="bold",
            anchor="middle",
        )


def _pole_tone(ctx: Ctx, side: str) -> str:
    """Left pole: the scene tone; right pole: the next tone of the theme, so the continuum
    always runs between two colours."""
    from dslkit.compilers.scene_svg.theme import MIXED_CYCLE

    st = ctx.style
    first = st.tone_at(0)
    if side == "left":
        return first
    cycle = MIXED_CYCLE[st.theme]
    return cycle[(cycle.index(first) + 1) % len(cycle)] if first in cycle else st.tone_at(1)
