"""The page around every family: background motif, frame, emphasis, header band, strips, footer.

Common components (the contract's ``common_components``) render here the same way in every
family. Components written before the first family component stack above the family body,
the rest below it, in source order.
"""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect, Section, num
from dslkit.compilers.scene_svg.draw import RADIUS, pill, pill_width
from dslkit.compilers.scene_svg.text import measure_text
from dslkit.compilers.scene_svg.theme import TONES

from scene_dsl.ast import Component

__all__ = [
    "background",
    "draw_footer",
    "draw_header",
    "draw_strip",
    "emphasis",
    "frame",
    "strip_height",
]


def background(ctx: Ctx) -> None:
    """Canvas fill (a subtle diagonal gradient) and the background motif."""
    st = ctx.style
    pal = st.palette
    w, h = st.width, st.height
    # top-left bg to bottom-right bg2, as the CKE renderers fill their canvas
    grad = ctx.gradient(pal.bg2, pal.bg, diagonal=True)
    ctx.rect(Rect(0, 0, w, h), fill=f"url(#{grad})")
    motif = st.background
    # every motif (and the glow pool) is clipped to the canvas: mesh diagonals and rings
    # are drawn past the edges and must not show outside the document box
    cid = ctx.new_id("clip")
    ctx.defs[f"clip:{cid}"] = (
        f'<clipPath id="{cid}"><rect x="0" y="0" width="{w}" height="{h}"/></clipPath>'
    )
    ctx.add(f'<g clip-path="url(#{cid})">')
    if motif == "grid":
        step = 40.0
        d = "".join(f"M{num(x)} 0V{h}" for x in _steps(step, w)) + "".join(
            f"M0 {num(y)}H{w}" for y in _steps(step, h)
        )
        ctx.path(d, stroke=pal.faint, sw=1, join=None)
    elif motif == "mesh":
        step = 56.0
        d = "".join(f"M{num(x)} 0L{num(x + h)} {h}" for x in _steps(step, w + h, start=-h))
        d += "".join(f"M{num(x)} 0L{num(x - h)} {h}" for x in _steps(step, w + h))
        ctx.path(d, stroke=pal.faint, sw=1, join=None)
    elif motif == "rings":
        cx, cy = w * 0.86, h * 0.18
        for i in range(1, 9):
            ctx.circle(cx, cy, 70.0 * i, fill="none", stroke=pal.faint, sw=1.5)
    if pal.glow:  # a soft glow pool behind the header
        ctx.circle(w * 0.18, 0, min(w, h) * 0.45, fill=st.accent(0), opacity=0.06)
    ctx.add("</g>")


def _steps(step: float, limit: float, start: float = 0.0) -> list[float]:
    out = []
    x = start + step
    while x < limit:
        out.append(x)
        x += step
    return out


def frame(ctx: Ctx, content: Rect) -> None:
    """``frame:card`` draws a rounded border around the content; ``frame:panel`` a filled panel."""
    st = ctx.style
    pal = st.palette
    outer = content.inset(-min(16.0, st.margin * 0.5))
    if st.frame == "card":
        ctx.rect(outer, fill="none", stroke=pal.line, rx=RADIUS + 6, sw=1.5)
    elif st.frame == "panel":
        ctx.rect(outer, fill=pal.surface, stroke=pal.line, rx=RADIUS + 6, sw=1, opacity=0.16)


def emphasis(ctx: Ctx, content: Rect) -> None:
    """Accent mark: ``top`` a bar across the top edge, ``left`` a bar down the left edge,
    ``center`` a short bar centred above the content."""
    st = ctx.style
    color = st.accent(0)
    if st.emphasis == "top":
        ctx.rect(Rect(0, 0, st.width, 5), fill=color)
    elif st.emphasis == "left":
        ctx.rect(Rect(0, 0, 6, st.height), fill=color)
    else:
        ctx.rect(Rect(st.width / 2 - 40, max(4.0, content.y - 22), 80, 4), fill=color, rx=2)


def _header_sections(ctx: Ctx, item: Item) -> tuple[str | None, list[Section]]:
    st = ctx.style
    pal = st.palette
    anchor = "middle" if st.hero == "center" else "start"
    kicker = item.text("kicker", primary=False)
    head = item.text("headline", "title")
    sub = item.text("subtitle", "body", "caption", primary=False)
    big = 34.0 if st.width >= 1000 else 31.0
    secs = []
    if head:
        secs.append(
            Section(
                "headline",
                head,
                big * (st.font / 15.0),
                pal.ink,
                "bold",
                max_lines=2,
                gap=8,
                anchor=anchor,
            )
        )
    if sub and st.hero != "split":
        secs.append(
            Section("subtitle", sub, st.font * 1.13, pal.muted, max_lines=2, gap=0, anchor=anchor)
        )
    return kicker, secs


def header_height(ctx: Ctx, item: Item, width: float) -> float:
    kicker, secs = _header_sections(ctx, item)
    # measuring must not mark roles read twice in a different order; Item.text is idempotent
    h = ctx.stack_height(secs, width * (0.6 if ctx.style.hero == "split" else 1.0))
    if kicker:
        h += ctx.style.font * 0.85 * LINE_HEIGHT + 8
    return h + 10


def draw_header(ctx: Ctx, r: Rect, item: Item, parent: str) -> None:
    """Kicker (accent caps with a tick), headline, subtitle; ``hero`` sets the alignment:
    left, center, or split (headline left, subtitle in a right column)."""
    st = ctx.style
    pal = st.palette
    kicker, secs = _header_sections(ctx, item)
    tone = st.tone_at(0, item.tone())
    color = pal.accent(tone)
    body = r
    if kicker:
        ks = st.font * 0.85
        kh = ks * LINE_HEIGHT
        kr, body = r.take_top(kh, 8)
        centred = st.hero == "center"
        if not centred:  # a short rule, then the kicker beside it
            ctx.rect(Rect(kr.x, kr.cy - 1.5, 18, 3), fill=color, rx=1.5)
            kr = Rect(kr.x + 26, kr.y, max(1.0, kr.w - 26), kh)
        ctx.text(
            kr,
            kicker.upper(),
            ks,
            color=color,
            parent=parent,
            comp=item.comp,
            role="kicker",
            max_lines=1,
            weight="bold",
            anchor="middle" if centred else "start",
        )
    if st.hero == "split":
        left, right = body.take_left(body.w * 0.6, 24)
        ctx.stack(left, secs, parent=parent, comp=item.comp)
        sub = item.text("subtitle", "body", "caption", primary=False)
        if sub:
            ctx.line(right.x - 12, right.y + 4, right.x - 12, right.b - 4, stroke=color, sw=2)
            ctx.stack(
                right,
                [Section("subtitle", sub, st.font * 1.05, pal.muted, max_lines=4, gap=0)],
                parent=parent,
                comp=item.comp,
                valign="middle",
            )
    else:
        ctx.stack(body, secs, parent=parent, comp=item.comp)


def draw_footer(ctx: Ctx, r: Rect, item: Item | None, parent: str) -> None:
    """Dashed rule, footer text on the left, the topic tag in mono on the right."""
    st = ctx.style
    pal = st.palette
    size = st.font * 0.8
    if item is not None and item.has("title") and item.has("body", "note", "text"):
        # a footer object {title, body} is a boxed note, as the CKE pages draw it
        ctx.rect(r, fill=pal.surface, stroke=pal.line, rx=10)
        inner = r.inset(12, 4)
    else:
        ctx.line(r.x, r.y + 1, r.r, r.y + 1, stroke=pal.line, sw=1, dash="4 5")
        inner = Rect(r.x, r.y + 8, r.w, max(0.0, r.h - 8))
    tag = st.topic.replace("_", " ") if st.topic else ""
    tag_w = min(inner.w * 0.35, pill_width(tag, size * 0.9)) if tag else 0.0
    if tag and inner.h >= size * 1.6:
        pill(
            ctx,
            inner.r,
            inner.y + (inner.h - size * 1.53) / 2,
            tag,
            size * 0.9,
            tone=st.tone_at(0),
            parent=parent,
            max_w=tag_w,
            anchor="end",
        )
    if item is not None:
        text = item.text("text", "body", "note", "caption", "title")
        title = (
            item.text("title", primary=False)
            if item.pick("title") != item.pick("text", "body", "note", "caption", "title")
            else None
        )
        if text and title:  # a footer object {title, body}: "Title — body" on the footer line
            text = f"{title} \u2014 {text}"
        if text:
            tr = Rect(inner.x, inner.y, max(1.0, inner.w - tag_w - 16), inner.h)
            ctx.text(
                tr,
                text,
                size,
                color=pal.muted,
                parent=parent,
                comp=item.comp,
                role="text",
                max_lines=2,
                valign="middle",
            )


# ---- strips (common components) ---------------------------------------------------------


# one-text strips: content roles (first present wins), size as a share of the font, weight
_TEXT_STRIPS = {
    "conclusion_strip": (("text", "body", "title", "label"), 1.05, "bold"),
    "callout_strip": (("text", "body", "title", "label"), 0.98, "normal"),
    # the target id is topology (where the note points), never printed as content
    "annotation": (("text", "body", "note", "label"), 0.88, "normal"),
}


def _strip_sections(ctx: Ctx, item: Item, kind: str, column: bool = False) -> list[Section]:
    # column: the strip stands in a narrow column (a duel's middle), not across the page, so
    # its title and body may take the lines a full-width strip gets in one
    st = ctx.style
    pal = st.palette
    f = st.font
    out: list[Section] = []
    if kind in ("thesis_box", "note_band"):
        title = item.text("title", "kicker", "label", primary=False)
        body = item.text("body", "text", "detail", "caption")
        # numbered lines (a thesis {title, line_1, line_2}) follow the body, one run each
        numbered = sorted(
            (k for k in item.roles if k.startswith("line_") and k[5:].isdigit()),
            key=lambda k: int(k[5:]),
        )
        lines = [t for k in numbered if (t := item.text(k, primary=False))]
        lines += item.texts("lines") if item.has("lines") else []
        if lines:
            body = "  ".join([body, *lines]) if body else "  ".join(lines)
        if title:
            out.append(
                Section(
                    "title",
                    title,
                    f * 0.95,
                    st.accent(0, item.tone()),
                    "bold",
                    max_lines=3 if column else 1,
                    gap=4,
                )
            )
        if body:
            out.append(
                Section(
                    "body",
                    body,
                    f * (1.12 if kind == "thesis_box" else 0.95),
                    pal.ink,
                    "bold" if kind == "thesis_box" else "normal",
                    max_lines=8 if column else 3,
                    gap=0,
                )
            )
    elif kind == "callout_strip" and item.has("points", "footer"):
        # a callout object {title, points, footer}: title, the points in one row, the footer
        title = item.text("title", "text", "body", "label")
        if title:
            out.append(Section("title", title, f * 0.98, pal.ink, "bold", max_lines=2, gap=4))
        points = item.texts("points", "bullets", "items")
        if points:
            row = "     ".join("\u2022 " + p for p in points)
            out.append(Section("points", row, f * 0.9, pal.ink, max_lines=3, gap=4))
        footer = item.text("footer", "note", primary=False)
        if footer:
            out.append(
                Section("footer", footer, f * 0.8, pal.muted, max_lines=1, gap=0, anchor="end")
            )
        if out:
            out[-1].gap = 0
    elif kind in _TEXT_STRIPS:
        roles, scale, weight = _TEXT_STRIPS[kind]
        first = item.pick(*roles)
        text = item.text(*roles)
        more = [
            t
            for role in (*roles, "note")
            if role != first and item.has(role) and (t := item.text(role, primary=False))
        ]
        if text and more:  # an object with a label and a note: both, on one run of text
            text = " \u2014 ".join([text, *more])
        if text:
            color = pal.muted if kind == "annotation" else pal.ink
            out.append(Section("text", text, f * scale, color, weight, max_lines=2, gap=0))
    return out


def strip_height(
    ctx: Ctx, comp: Component, item: Item, width: float, column: bool = False
) -> float:
    """Natural height of one strip at ``width`` (``column``: standing in a narrow column)."""
    st = ctx.style
    if comp.name == "divider":
        return 10.0
    if comp.name in ("entry_badge",):
        return st.font * 0.85 * 1.7
    if comp.name in ("legend_row", "legend_block"):
        # one more line per line of note/warning (they share one while both fit)
        extra = (
            1.1 * _legend_note_lines(ctx, item, width)[-1][3]
            if item.has("note", "warning")
            else 0.0
        )
        return st.font * 0.85 * LINE_HEIGHT * ((2.2 if item.has("title") else 1.0) + extra) + 12
    secs = _strip_sections(ctx, item, comp.name, column)
    return ctx.stack_height(secs, width - 2 * st.pad - 12) + 2 * st.pad * 0.75


def draw_strip(
    ctx: Ctx,
    r: Rect,
    comp: Component,
    item: Item,
    parent: str,
    index: int,
    column: bool = False,
) -> None:
    """Draw one common component in ``r`` (already sized by the page; ``column``: a narrow
    column's strip, whose text may take more lines)."""
    st = ctx.style
    pal = st.palette
    tone = st.tone_at(index, item.tone())
    color = pal.accent(tone)
    name = comp.name
    if name == "divider":
        style = comp.get("style") or "line"
        dash = {"line": None, "dash": "8 6", "dot": "1.5 6", "gap": None}[style]
        if style != "gap":
            ctx.line(
                r.x,
                r.cy,
                r.r,
                r.cy,
                stroke=pal.line,
                sw=1.5,
                dash=dash,
                cap="round" if style == "dot" else None,
            )
        return
    if name == "entry_badge":
        label = item.text("label", "title")
        value = item.text("value", primary=False)
        text = f"{label}: {value}" if label and value else (label or value or "")
        if text:
            pill(ctx, r.x, r.y, text, st.font * 0.85, tone=tone, parent=parent, max_w=r.w)
        return
    if name in ("legend_row", "legend_block"):
        _legend(ctx, r, item, parent)
        return
    if name == "annotation":
        r = _annotation_rect(ctx, r, comp, item)
    sid = ctx.new_id("strip")
    ctx.box(sid, "panel", r, parent)
    fill = {"conclusion_strip": pal.soft(tone), "note_band": pal.surface2}.get(name, pal.surface)
    stroke = color if name in ("conclusion_strip", "thesis_box") else pal.line
    if name == "annotation" and comp.get("target") in ctx.anchors:
        stroke = color
    ctx.rect(
        r, fill=fill, stroke=stroke, rx=10, dash="5 4" if name == "annotation" else None, bid=sid
    )
    if name in ("thesis_box", "callout_strip", "note_band"):
        ctx.rect(Rect(r.x + 5, r.y + 8, 4, max(0.0, r.h - 16)), fill=color, rx=2)
    inner = r.inset(st.pad, st.pad * 0.75)
    inner = Rect(inner.x + 8, inner.y, max(1.0, inner.w - 8), inner.h)
    secs = _strip_sections(ctx, item, name, column)
    if len(secs) == 2 and ctx.stack_height(secs, inner.w) > inner.h + 0.01:
        # no room for a title line: run the title into the body ("Title — body")
        title, body = secs
        body.text = f"{title.text} — {body.text}"
        secs = [body]
    ctx.stack(inner, secs, parent=sid, comp=comp, valign="middle")


def _annotation_rect(ctx: Ctx, r: Rect, comp: Component, item: Item) -> Rect:
    """An annotation sits under (or over) its target: as wide as its text needs, starting at
    the target's left edge, with a dotted leader from the target to the note."""
    st = ctx.style
    target = ctx.anchors.get(str(comp.get("target") or ""))
    if target is None:
        return r
    secs = _strip_sections(ctx, item, "annotation")
    text_w = max((measure_text(s.text, s.size) for s in secs), default=0.0)
    w = min(r.w, max(160.0, text_w + 2 * st.pad + 8 + 4))
    x = min(max(r.x, target.x), r.r - w)
    box = Rect(x, r.y, w, r.h)
    color = ctx.style.accent(0, item.tone())
    lx = min(max(target.cx, box.x + 16), box.r - 16)
    if target.b <= box.y:
        y0, y1 = target.b + 2, box.y
    elif target.y >= box.b:
        y0, y1 = target.y - 2, box.b
    else:
        return box
    ctx.line(lx, y0, lx, y1, stroke=color, sw=1.5, dash="2 4", cap="round")
    ctx.circle(lx, y0, 3, fill=color)
    return box


# colour words a legend entry may start with ("red: too slow") -> the tone drawn for them
_COLOUR_WORDS = {"red": "danger", "orange": "amber", "yellow": "amber", "violet": "purple"}


def _legend(ctx: Ctx, r: Rect, item: Item, parent: str) -> None:
    st = ctx.style
    pal = st.palette
    size = st.font * 0.85
    lh = size * LINE_HEIGHT
    y = r.y
    title = item.text("title", primary=False)
    if title:
        ctx.text(
            Rect(r.x, y, r.w, lh),
            title,
            size,
            color=pal.muted,
            parent=parent,
            comp=item.comp,
            role="title",
            max_lines=1,
            weight="bold",
        )
        y += lh + 4
    entries: list[tuple[str, str]] = []
    for tone in (*TONES, "mixed"):
        text = item.text(tone, primary=False)
        if text:
            entries.append((tone, text))
    for i, text in enumerate(item.texts("items")):
        # "green: safe choice" names its own colour; otherwise the scene's tones cycle
        word = text.split(":", 1)[0].strip().lower() if ":" in text else ""
        tone = _COLOUR_WORDS.get(word, word)
        entries.append((tone if tone in (*TONES, "danger") else st.tone_at(i), text))
    x = r.x
    for tone, text in entries:
        color = (
            pal.accent(tone) if tone in TONES else (pal.danger if tone == "danger" else pal.muted)
        )
        room = r.r - x - 16
        if room < size * 4:
            ctx.warn("S702", item.comp, "items", "legend entries cut: no room left on the line")
            break
        tw = min(room, measure_text(text, size) + 2)
        ctx.circle(x + 5, y + lh / 2, 5, fill=color)
        ctx.text(
            Rect(x + 14, y, tw, lh),
            text,
            size,
            color=pal.ink,
            parent=parent,
            comp=item.comp,
            role="items",
            max_lines=1,
        )
        x += 14 + tw + 18
    # a legend object's note and warning under the entries: on one line while both fit
    placed = _legend_note_lines(ctx, item, r.w) if item.has("note", "warning") else []
    for role, text, dx, line in placed:
        x, ly = r.x + dx, y + (lh + 4) * line
        room = r.r - x
        if room < size * 4 or ly + lh > r.b + 0.01:
            ctx.warn("S702", item.comp, role, "no room left for the legend line")
            break
        tw = min(
            room, measure_text(text, size, weight="bold" if role == "warning" else "normal") + 2
        )
        ctx.text(
            Rect(x, ly, tw, lh),
            text,
            size,
            color=pal.accent("amber") if role == "warning" else pal.muted,
            parent=parent,
            comp=item.comp,
            role=role,
            max_lines=1,
            weight="bold" if role == "warning" else "normal",
        )


def _legend_note_lines(ctx: Ctx, item: Item, width: float) -> list[tuple[str, str, float, int]]:
    """Where a legend's note and warning go: ``(role, text, x offset, line)``, line 1 being
    the one under the entries; the second starts a line of its own when the first leaves it
    no room (it would be cut, S702, on a shared line)."""
    size = ctx.style.font * 0.85
    out: list[tuple[str, str, float, int]] = []
    x, line = 0.0, 1
    for role in ("note", "warning"):
        text = item.text(role, primary=False) if item.has(role) else None
        if not text:
            continue
        tw = measure_text(text, size, weight="bold" if role == "warning" else "normal") + 2
        if x > 0 and x + tw > width:
            x, line = 0.0, line + 1
        out.append((role, text, x, line))
        x += tw + 24
    return out or [("", "", 0.0, 0)]
