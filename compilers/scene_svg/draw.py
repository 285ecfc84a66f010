"""Drawing primitives shared by every layout: cards, pills, bars, strips, connectors.

Each primitive takes a rectangle decided by the layout and fits its content inside it, so a
layout only decides geometry and a primitive only decides looks.
"""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import (
    LINE_HEIGHT,
    Ctx,
    Item,
    Rect,
    Section,
    num,
    parse_number,
)
from dslkit.compilers.scene_svg.text import fit_text, measure_text

__all__ = [
    "bar_row",
    "card",
    "card_fits",
    "card_sections",
    "connector",
    "panel",
    "pill",
    "pill_width",
]

RADIUS = 12.0
# the smallest card that still holds one line of 6.5 px text; anything smaller is left out
CARD_MIN_H = 6.5 * LINE_HEIGHT + 4
CARD_MIN_W = 24.0


def card_fits(r: Rect) -> bool:
    """Whether :func:`card` can draw into ``r`` (else it leaves the card out with S702)."""
    return r.h >= CARD_MIN_H and r.w >= CARD_MIN_W


VARIANT_TONE = {"warning": "amber", "success": "green"}


def panel(
    ctx: Ctx,
    r: Rect,
    *,
    parent: str | None,
    stem: str = "panel",
    fill: str | None = None,
    stroke: str | None = None,
    dash: str | None = None,
    label: str | None = None,
    rx: float = RADIUS,
) -> str:
    """A rounded surface panel registered as a ``panel`` box; returns its id."""
    pal = ctx.style.palette
    pid = ctx.new_id(stem)
    ctx.box(pid, "panel", r, parent)
    ctx.rect(r, fill=fill or pal.surface, stroke=stroke or pal.line, rx=rx, dash=dash, bid=pid)
    return pid


def pill_width(text: str, size: float) -> float:
    return measure_text(text, size, weight="bold") + size * 1.4


def pill(
    ctx: Ctx,
    x: float,
    y: float,
    text: str,
    size: float,
    *,
    tone: str,
    parent: str,
    max_w: float | None = None,
    anchor: str = "start",
    solid: bool = False,
) -> float:
    """A rounded badge. Returns its width (0 when it cannot fit ``max_w`` at all)."""
    pal = ctx.style.palette
    h = size * 1.7
    w = pill_width(text, size)
    if max_w is not None and w > max_w:
        room = max_w - size * 1.4
        if room < size * 2:
            return 0.0
        fit = fit_text(text, room, size, 1, weight="bold", min_scale=1.0)
        text = fit.lines[0] if fit.lines else ""
        ctx.warn("S702", None, "badge", "badge text cut to fit")
        w = pill_width(text, size)
    x0 = x if anchor == "start" else x - w
    r = Rect(x0, y, w, h)
    pid = ctx.new_id("pill")
    ctx.box(pid, "text", r, parent)
    color = pal.accent(tone)
    ctx.rect(r, fill=color if solid else pal.soft(tone), stroke=color, rx=h / 2, sw=1, bid=pid)
    ink = pal.bg if solid else color
    ctx.draw_lines(
        r.cx,
        y + (h - size * LINE_HEIGHT) / 2,
        [text],
        size,
        color=ink,
        weight="bold",
        anchor="middle",
    )
    return w


def card_sections(
    ctx: Ctx,
    item: Item,
    tone: str,
    *,
    scale: float = 1.0,
    title_roles: tuple[str, ...] = (),
    value_big: bool = False,
    body_lines: int = 4,
    center: bool = False,
) -> list[Section]:
    """Sections of a content card in reading order: title, value, body, bullets, caption."""
    st = ctx.style
    pal = st.palette
    f = st.font * scale
    anchor = "middle" if center else "start"
    out: list[Section] = []
    title = item.text(*(title_roles or ("title", "headline", "label", "name")))
    if title:
        out.append(
            Section("title", title, f * 1.18, pal.ink, "bold", max_lines=2, gap=6, anchor=anchor)
        )
    value = item.text("value", primary=False)
    if value:
        out.append(
            Section(
                "value",
                value,
                f * (2.1 if value_big else 1.5),
                pal.accent(tone),
                "bold",
                mono=True,
                max_lines=1,
                gap=6,
                anchor=anchor,
            )
        )
    body = item.text("body", "detail", "text", "description", primary=False)
    if body:
        out.append(
            Section(
                "body",
                body,
                f * 0.93,
                pal.muted if value else pal.ink,
                max_lines=body_lines,
                gap=6,
                anchor=anchor,
            )
        )
    bullets = item.texts("bullets", "items", "parts")
    for i, b in enumerate(bullets[:8]):
        out.append(
            Section(
                f"bullets.{i}", "\u2022 " + b, f * 0.9, pal.ink, max_lines=2, gap=3, anchor=anchor
            )
        )
    caption = item.text("caption", "note", "subtitle", primary=False)
    if caption:
        out.append(
            Section("caption", caption, f * 0.82, pal.muted, max_lines=2, gap=4, anchor=anchor)
        )
    size = item.text("size", primary=False)
    if size:
        out.append(
            Section("size", size, f * 0.85, pal.muted, mono=True, max_lines=1, gap=4, anchor=anchor)
        )
    used = {
        item.pick(*(title_roles or ("title", "headline", "label", "name"))),
        item.pick("body", "detail", "text", "description", primary=False),
        item.pick("bullets", "items", "parts", lists=True),
        item.pick("caption", "note", "subtitle", primary=False),
        "value",
        "size",
    }
    _extra_sections(ctx, item, tone, f, anchor, out, used)
    if out:
        out[-1].gap = 0.0
    return out


# Content keys the CKE corpus puts on card objects beyond the ones read above. Each is drawn
# only when present and still unread, so a card whose keys were all read draws exactly as
# before; a key in none of these lists stays unread and is reported (S703).
_EXTRA_TEXT = ("summary", "stat", "equation")  # kicker/tag/badge: card() draws them
_EXTRA_LISTS = ("detail", "bullets", "items", "parts", "points", "lines", "chips")
_EXTRA_NOTES = ("body", "subtitle", "caption", "note", "footer")


def _extra_sections(
    ctx: Ctx,
    item: Item,
    tone: str,
    f: float,
    anchor: str,
    out: list[Section],
    used: set[str | None],
) -> None:
    pal = ctx.style.palette
    at = 1 if out and out[0].role == "title" else 0
    for role in _EXTRA_TEXT:
        if role in used or not item.has(role):
            continue
        text = item.text(role, primary=False)
        if not text:
            continue
        if role in ("stat", "equation"):
            sec = Section(role, text, f * 1.05, pal.accent(tone), "bold", mono=True, max_lines=2)
        else:
            sec = Section(role, text, f * 0.93, pal.muted, max_lines=3)
        sec.gap = 5
        sec.anchor = anchor
        out.insert(at, sec)
        at += 1
    for role in _EXTRA_LISTS:
        if role in used or not item.has(role):
            continue
        entries = item.texts(role)
        mono = role == "lines"
        mark = "" if mono else ("\u203a " if role == "detail" else "\u2022 ")
        if role == "chips" and entries:
            out.append(
                Section(
                    role,
                    "  \u00b7  ".join(entries),
                    f * 0.82,
                    pal.accent(tone),
                    "bold",
                    max_lines=2,
                    gap=4,
                    anchor=anchor,
                )
            )
            continue
        for i, e in enumerate(entries[:8]):
            out.append(
                Section(
                    f"{role}.{i}",
                    mark + e,
                    f * (0.82 if mono else 0.86),
                    pal.muted if role == "detail" else pal.ink,
                    mono=mono,
                    max_lines=2,
                    gap=3,
                    anchor=anchor,
                )
            )
    for role in _EXTRA_NOTES:
        if role in used or not item.has(role):
            continue
        text = item.text(role, primary=False)
        if text:
            out.append(Section(role, text, f * 0.82, pal.muted, max_lines=2, gap=4, anchor=anchor))


def card(
    ctx: Ctx,
    r: Rect,
    item: Item,
    *,
    parent: str,
    index: int = 0,
    scale: float = 1.0,
    sections: list[Section] | None = None,
    kicker: str | None = None,
    valign: str = "top",
    value_big: bool = False,
    center: bool = False,
    fill: str | None = None,
    tone: str | None = None,
    title_roles: tuple[str, ...] = (),
    outline: bool = False,
) -> str:
    """A rounded content card with optional rail, badge and kicker; returns its id.
    ``outline``: the card's border takes its accent (hero, warning and success cards always
    do)."""
    st = ctx.style
    pal = st.palette
    variant = item.variant()
    tone = tone or VARIANT_TONE.get(variant) or st.tone_at(index, item.tone())
    color = pal.accent(tone)
    cid = ctx.new_id("card")
    if not card_fits(r):
        # too small to hold even one tiny line: an empty component box would be a lie,
        # so the card is left out (the layout had no room for it) with a warning
        ctx.warn("S702", item.comp, "title", "no room for this card at all; it was left out")
        return cid
    ctx.box(cid, "card", r, parent)
    ctx.open_group(cid + "g", item.text("title", "headline", "label") or item.name)
    hero = variant in ("hero", "metric")
    base_fill = fill or (pal.surface2 if hero else pal.surface)
    ctx.rect(
        r,
        fill=base_fill,
        stroke=color if outline or variant in ("hero", "warning", "success") else pal.line,
        rx=RADIUS,
        sw=1.4 if hero else 1,
        dash="5 4" if variant == "note" else None,
        bid=cid,
    )
    if hero:  # a soft accent wash across the top of hero cards
        ctx.rect(Rect(r.x + 1, r.y + 1, r.w - 2, min(r.h - 2, 6)), fill=color, rx=3, opacity=0.85)
    if pal.glow and hero:
        ctx.rect(r.inset(-3), fill="none", stroke=color, rx=RADIUS + 3, sw=4, opacity=0.18)
    pad = st.pad
    # short cards trade vertical padding for a line of text
    inner = r.inset(pad, min(pad, max(2.0, (r.h - st.font * 1.2 * 1.28) / 2 - 2)))
    if inner.w < 24 and r.w > 16:  # a narrow card trades side padding for its text
        inner = Rect(r.x + 4, inner.y, r.w - 8, inner.h)
    if st.rail != "none" and r.h > 24:
        rail_color = color if st.rail == "accent" else pal.line
        ctx.rect(Rect(r.x + 6, r.y + 10, 4, r.h - 20), fill=rail_color, rx=2)
        inner = Rect(inner.x + 8, inner.y, max(0.0, inner.w - 8), inner.h)
    badge = item.text("badge", primary=False)
    kicker = kicker if kicker is not None else item.text("kicker", "tag", primary=False)
    small = st.font * 0.78 * scale
    title_h = st.font * 1.18 * scale * LINE_HEIGHT
    if (badge or kicker) and inner.h >= small * 1.7 + 6 + title_h:
        row_h = small * 1.7
        bw = 0.0
        if badge:
            bw = pill(
                ctx,
                inner.r,
                inner.y,
                badge,
                small,
                tone=tone,
                parent=cid,
                max_w=inner.w * 0.6,
                anchor="end",
            )
        if kicker:
            kr = Rect(inner.x, inner.y, max(0.0, inner.w - bw - 8), row_h)
            if kr.w > small * 3:
                ctx.text(
                    kr,
                    kicker.upper(),
                    small,
                    color=color,
                    parent=cid,
                    comp=item.comp,
                    role="kicker",
                    max_lines=1,
                    weight="bold",
                    valign="middle",
                )
        _, inner = inner.take_top(row_h, 6)
    secs = (
        sections
        if sections is not None
        else card_sections(
            ctx,
            item,
            tone,
            scale=scale,
            value_big=value_big or variant == "metric",
            center=center,
            title_roles=title_roles,
        )
    )
    if inner.h > 4 and inner.w > 8:
        ctx.stack(inner, secs, parent=cid, comp=item.comp, valign=valign)
    elif secs:
        ctx.warn("S702", item.comp, secs[0].role, "card too small for any text; it was left out")
    ctx.close_group()
    return cid


def bar_row(
    ctx: Ctx,
    r: Rect,
    item: Item,
    *,
    parent: str,
    index: int,
    vmax: float,
    label_w: float,
    value_w: float,
    vmin: float = 0.0,
    avoid: tuple[float, ...] = (),
) -> Rect:
    """One horizontal compare bar: label (+ caption) on the left, gradient bar, mono value.

    ``avoid`` lists values (on the bar scale) where vertical lines cross the row (floors):
    the value label moves past them instead of sitting on a line.
    Returns the bar zone (the value scale), so charts can draw axes and floors on it.
    """
    st = ctx.style
    pal = st.palette
    tone = st.tone_at(index, item.tone())
    color = pal.accent(tone)
    rid = ctx.new_id("bar")
    ctx.box(rid, "panel", r, parent)
    ctx.rect(r, fill="none", bid=rid)
    label = item.text("label", "title", "name") or ""
    value_raw = item.raw("value")
    value = item.text("value", primary=False) or ""
    caption = item.text("caption", "body", primary=False)
    note = item.text("note", primary=False)
    f = st.font
    lab = Rect(r.x, r.y, label_w, r.h)
    secs = [Section("label", label, f * 1.02, pal.ink, "bold", max_lines=2, gap=3)]
    if caption:
        secs.append(Section("caption", caption, f * 0.8, pal.muted, max_lines=2, gap=2))
    ctx.stack(lab, secs, parent=rid, comp=item.comp, valign="middle")
    track = Rect(r.x + label_w + 14, r.y, max(0.0, r.w - label_w - 14), r.h)
    bar_h = min(max(10.0, r.h * 0.38), 26.0)
    vw = min(value_w, track.w * 0.45)
    bar_zone = Rect(track.x, track.y, max(0.0, track.w - vw), track.h)
    by = r.cy - bar_h / 2 - (f * 0.4 if note else 0)
    ctx.rect(Rect(bar_zone.x, by, bar_zone.w, bar_h), fill=pal.surface2, rx=bar_h / 2)
    n = parse_number(value_raw)
    if n is not None and vmax > vmin:
        frac = max(0.0, min(1.0, (n - vmin) / (vmax - vmin)))
        fw = max(bar_h, bar_zone.w * frac)
        grad = ctx.gradient(color, pal.soft(tone))
        if pal.glow:
            ctx.rect(
                Rect(bar_zone.x - 2, by - 2, fw + 4, bar_h + 4),
                fill=color,
                rx=bar_h / 2 + 2,
                opacity=0.22,
            )
        ctx.rect(Rect(bar_zone.x, by, fw, bar_h), fill=f"url(#{grad})", rx=bar_h / 2)
        end = bar_zone.x + fw
    else:
        end = bar_zone.x
    if value:
        vx = end + 8
        tw = measure_text(value, f * 1.05, weight="bold", mono=True)
        span = (vmax - vmin) or 1.0
        lines_x = sorted(
            bar_zone.x + bar_zone.w * max(0.0, min(1.0, (v - vmin) / span)) for v in avoid
        )
        for lx in lines_x:  # step over every floor line the label would sit on
            if vx - 4 <= lx <= vx + tw + 4 and lx + 6 + tw <= track.r:
                vx = lx + 6
        vr = Rect(vx, max(r.y, by + bar_h / 2 - f * 0.7), max(1.0, track.r - vx), min(f * 1.4, r.h))
        ctx.text(
            vr,
            value,
            f * 1.05,
            color=color,
            parent=rid,
            comp=item.comp,
            role="value",
            max_lines=1,
            weight="bold",
            mono=True,
            valign="middle",
        )
    if note:
        nr = Rect(bar_zone.x, by + bar_h + 3, bar_zone.w, max(0.0, r.b - by - bar_h - 3))
        if nr.h > f * 0.8:
            ctx.text(
                nr,
                note,
                f * 0.78,
                color=pal.muted,
                parent=rid,
                comp=item.comp,
                role="note",
                max_lines=1,
            )
    return bar_zone


def _poly(pts: list[tuple[float, float]]) -> str:
    return "M" + " L".join(f"{num(x)} {num(y)}" for x, y in pts)


def connector(
    ctx: Ctx,
    pts: list[tuple[float, float]],
    *,
    color: str,
    vertical: bool = False,
    style: str | None = None,
    width: float = 1.8,
) -> None:
    """Draw a connector through ``pts`` in the scene's connector style.

    ``line``: plain polyline; ``arrow``: polyline with an arrowhead; ``bracket``: square elbows
    with end ticks; ``curve``: one cubic from the first to the last point with an arrowhead.
    """
    st = ctx.style
    style = style or st.connector
    pal = st.palette
    if len(pts) < 2:
        return
    if style == "curve":
        (x0, y0), (x1, y1) = pts[0], pts[-1]
        if vertical:
            my = (y0 + y1) / 2
            d = f"M{num(x0)} {num(y0)} C{num(x0)} {num(my)} {num(x1)} {num(my)} {num(x1)} {num(y1)}"
        else:
            mx = (x0 + x1) / 2
            d = f"M{num(x0)} {num(y0)} C{num(mx)} {num(y0)} {num(mx)} {num(y1)} {num(x1)} {num(y1)}"
    else:
        d = _poly(pts)
    if pal.glow:
        ctx.path(d, stroke=color, sw=width + 5, opacity=0.2)
    marker = ctx.marker(color) if style in ("arrow", "curve") else None
    ctx.path(
        d, stroke=color, sw=width, marker=marker, join="miter" if style == "bracket" else "round"
    )
    if style == "bracket":
        for (x, y), (px, py) in ((pts[0], pts[1]), (pts[-1], pts[-2])):
            if abs(px - x) > abs(py - y):  # horizontal end: vertical tick
                ctx.line(x, y - 6, x, y + 6, stroke=color, sw=width)
            else:
                ctx.line(x - 6, y, x + 6, y, stroke=color, sw=width)
    elif style == "line":
        ctx.circle(pts[-1][0], pts[-1][1], 3, fill=color)
