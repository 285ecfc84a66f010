"""comparison_board and dual_panel_compare: columns of metrics with callouts.

Each comparison column is a panel with a title band; its metrics are rows of label + mono
value with a mini bar scaled against the same metric label in every column. Callouts run
full width under the columns. dual_panel_compare adds a "vs" badge between two panels and
puts info cards / concept panels in a band underneath.
"""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect, Section, parse_number
from dslkit.compilers.scene_svg.draw import VARIANT_TONE, card, card_sections, panel, pill
from dslkit.compilers.scene_svg.layouts.common import card_height, grid
from dslkit.compilers.scene_svg.layouts.stack import Band, run_bands
from dslkit.compilers.scene_svg.text import measure_text
from dslkit.compilers.scene_svg.theme import TONES

from scene_dsl.ast import Component

__all__ = ["layout_board", "layout_dual"]


def _columns(ctx: Ctx, r: Rect, comps: list[Component], parent: str, *, vs: bool) -> None:
    st = ctx.style
    pal = st.palette
    f = st.font
    cols = [c for c in comps if c.name == "comparison_column"]
    metrics = [c for c in comps if c.name == "comparison_metric"]
    col_items = [ctx.item(c) for c in cols]
    met_items = [(m.get("column") or "", ctx.item(m)) for m in metrics]
    best: dict[str, float] = {}
    for _, it in met_items:
        label = str(it.roles.get("label") or it.roles.get("title") or "")
        n = parse_number(it.roles.get("value"))
        if n is not None:
            best[label] = max(best.get(label, 0.0), abs(n))
    gap = st.gap * (3.2 if vs else 1.0)
    cells = r.columns(len(cols), gap)
    for i, (cell, c, it) in enumerate(zip(cells, cols, col_items, strict=False)):
        tone = st.tone_at(i, it.tone())
        color = pal.accent(tone)
        pid = panel(ctx, cell, parent=parent, stem="col")
        ctx.rect(Rect(cell.x + 1, cell.y + 1, cell.w - 2, 5), fill=color, rx=2.5)
        if pal.glow:
            ctx.rect(cell.inset(-3), fill="none", stroke=color, rx=15, sw=4, opacity=0.15)
        inner = cell.inset(st.pad)
        badge = it.text("badge", primary=False)
        head_h = f * 1.2 * LINE_HEIGHT * 2
        hr, inner = inner.take_top(head_h, 10)
        bw = 0.0
        if badge and hr.h >= f * 0.75 * 1.7:
            bw = pill(
                ctx,
                hr.r,
                hr.y,
                badge,
                f * 0.75,
                tone=tone,
                parent=pid,
                max_w=hr.w * 0.4,
                anchor="end",
            )
        secs = [
            Section(
                "title",
                it.text("title", "label", "headline") or "",
                f * 1.2,
                pal.ink,
                "bold",
                max_lines=2,
                gap=2,
            )
        ]
        sub = it.text("subtitle", "caption", "body", primary=False)
        if sub:
            secs.append(Section("subtitle", sub, f * 0.8, pal.muted, max_lines=1, gap=0))
        ctx.stack(Rect(hr.x, hr.y, max(1.0, hr.w - bw - 8), hr.h), secs, parent=pid, comp=c)
        ctx.line(inner.x, inner.y - 5, inner.r, inner.y - 5, stroke=pal.line, sw=1, dash="4 4")
        mine = [m for cid, m in met_items if cid == c.get("column_id")]
        extra = _column_extras(ctx, it, color)
        if extra:  # CKE column keys between the header and the metrics
            share = inner.h * (0.55 if mine else 1.0)
            er, inner = inner.take_top(min(share, ctx.stack_height(extra, inner.w)), 10)
            ctx.stack(er, extra, parent=pid, comp=c)
        if not mine:
            continue
        row_h = min(f * 4.2, (inner.h - (len(mine) - 1) * 6) / len(mine))
        y = inner.y
        for m in mine:
            mr = Rect(inner.x, y, inner.w, row_h)
            _metric(ctx, mr, m, pid, color, pal.soft(tone), best)
            y += row_h + 6
    if vs and len(cells) == 2:
        cx = (cells[0].r + cells[1].x) / 2
        cy = r.y + r.h * 0.42
        rad = min(22.0, (cells[1].x - cells[0].r) / 2 - 2)
        if rad > 8:
            ctx.circle(cx, cy, rad, fill=pal.surface2, stroke=st.accent(0), sw=2)
            ctx.draw_lines(
                cx,
                cy - f * 0.85 * LINE_HEIGHT / 2,
                ["vs"],
                f * 0.85,
                color=pal.ink,
                weight="bold",
                anchor="middle",
            )


def _column_extras(ctx: Ctx, it: Item, color: str) -> list[Section]:
    pal = ctx.style.palette
    f = ctx.style.font
    out: list[Section] = []
    kicker = it.text("kicker", primary=False) if it.has("kicker") else None
    if kicker:
        out.append(Section("kicker", kicker.upper(), f * 0.75, color, "bold", max_lines=1, gap=4))
    stat = it.text("stat", "score", primary=False) if it.has("stat", "score") else None
    if stat:
        out.append(Section("stat", stat, f * 1.35, color, "bold", mono=True, max_lines=1, gap=4))
    chips = it.texts("chips") if it.has("chips") else []
    if chips:
        out.append(
            Section("chips", "  \u00b7  ".join(chips), f * 0.8, color, "bold", max_lines=2, gap=4)
        )
    for k, b in enumerate(it.texts("bullets") if it.has("bullets") else []):
        out.append(Section(f"bullets.{k}", "\u2022 " + b, f * 0.85, pal.ink, max_lines=2, gap=3))
    note = it.text("note", primary=False) if it.has("note") else None
    if note:
        out.append(Section("note", note, f * 0.78, pal.muted, max_lines=2, gap=0))
    if out:
        out[-1].gap = 0
    return out


def _metric(
    ctx: Ctx, r: Rect, it: Item, parent: str, color: str, soft: str, best: dict[str, float]
) -> None:
    st = ctx.style
    pal = st.palette
    f = st.font
    label = it.text("label", "title") or ""
    value = it.text("value", primary=False) or ""
    note = it.text("caption", "note", "body", "detail", primary=False)
    state = _state_tone(it)
    if state is not None:  # a metric's own state colours its value and bar
        color, soft = ctx.style.palette.accent(state), ctx.style.palette.soft(state)
    bar_h = 6.0
    text_r = Rect(r.x, r.y, r.w, max(0.0, r.h - bar_h - 6))
    secs = []
    if label:
        secs.append(Section("label", label, f * 0.82, pal.muted, max_lines=1, gap=2))
    if value:
        secs.append(Section("value", value, f * 1.45, color, "bold", mono=True, max_lines=1, gap=2))
    if note:
        secs.append(Section("caption", note, f * 0.76, pal.muted, max_lines=1, gap=0))
    ctx.stack(text_r, secs, parent=parent, comp=it.comp)
    n = parse_number(it.roles.get("value"))
    top = best.get(str(it.roles.get("label") or it.roles.get("title") or ""))
    if n is not None and top:
        by = r.b - bar_h - 2
        ctx.rect(Rect(r.x, by, r.w, bar_h), fill=pal.surface2, rx=3)
        grad = ctx.gradient(color, soft)
        ctx.rect(
            Rect(r.x, by, max(bar_h, r.w * min(1.0, abs(n) / top)), bar_h),
            fill=f"url(#{grad})",
            rx=3,
        )


def _callouts(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> Rect:
    st = ctx.style
    pal = st.palette
    calls = [c for c in comps if c.name == "comparison_callout"]
    rest = r
    placed = []
    for c in reversed(calls):
        it = ctx.item(c)
        text = it.text("text", "body", "title") or ""
        h = ctx.stack_height(
            [Section("text", text, st.font, pal.ink, max_lines=2, gap=0)], r.w - 2 * st.pad - 40
        )
        cr, rest = rest.take_bottom(h + st.pad * 1.2, st.gap)
        placed.append((cr, it, text))
    for cr, it, text in reversed(placed):
        tone = st.tone_at(it.index, it.tone())
        cid = panel(
            ctx, cr, parent=parent, stem="callout", fill=pal.soft(tone), stroke=pal.accent(tone)
        )
        ctx.draw_lines(
            cr.x + st.pad + 6,
            cr.cy - st.font * 1.3 * LINE_HEIGHT / 2,
            ["\u2192"],
            st.font * 1.3,
            color=pal.accent(tone),
            weight="bold",
        )
        inner = Rect(
            cr.x + st.pad + 34,
            cr.y + st.pad * 0.6,
            max(1.0, cr.w - 2 * st.pad - 34),
            cr.h - st.pad * 1.2,
        )
        ctx.stack(
            inner,
            [Section("text", text, st.font, pal.ink, max_lines=2, gap=0)],
            parent=cid,
            comp=it.comp,
            valign="middle",
        )
    return rest


# a content ``state`` on a metric or callout: a tone name, or a row state mapped to one
# ("highlight" and "normal" keep the scene tone)
_STATE_TONES = {"success": "green", "warning": "amber", "danger": "amber"}


def _state_tone(it: Item) -> str | None:
    raw = it.raw("state") if it.has("state") else None
    if not isinstance(raw, str):
        return None
    return raw if raw in TONES else _STATE_TONES.get(raw)


def _state_wash(ctx: Ctx, it: Item, tone: str | None) -> str | None:
    """Fill of a card whose content names a ``state``: the wash of the state's tone (a state
    that names no tone, e.g. ``highlight``, takes the card's own accent); None without one."""
    if not it.has("state"):
        return None
    st = ctx.style
    return st.palette.soft(tone or st.tone_at(it.index, it.tone()))


def _keys(ctx: Ctx, comp: Component) -> set[str]:
    """Keys of the object a component's ref points at (peeked, nothing marked read)."""
    value = ctx.values.get(comp.get("ref") or "")
    return {str(k) for k in value} if isinstance(value, dict) else set()


_RICH_COLUMN = {"kicker", "stat", "chips", "bullets", "note"}
_RICH_CALLOUT = {"badge", "lines", "title"}


def _card_grid_band(
    ctx: Ctx, comps: list[Component], parent: str, cols: int, title_roles: tuple[str, ...] = ()
) -> Band:
    """A row (or rows) of content cards, each outlined in its accent; a card's content
    ``state`` names its tone and tints it."""
    items = [ctx.item(c) for c in comps]
    cols = max(1, min(cols, len(items)))

    rows = (len(items) + cols - 1) // cols

    def big(w: float, scale: float = 1.0) -> bool:
        # a value is the card's headline figure (set 2.1x) only while every value of the
        # band fits one line so; else all are set 1.5x, not cut with an ellipsis
        st = ctx.style
        cw = (w - st.gap * (cols - 1)) / cols - 2 * st.pad - (8 if st.rail != "none" else 0)
        size = st.font * scale * 2.1
        return all(
            measure_text(v, size, weight="bold", mono=True) <= cw
            for it in items
            if (v := it.text("value", primary=False))
        )

    def sections(it: Item, scale: float, vb: bool) -> list[Section]:
        # the sections card() would build (same tone), with a long value allowed a 2nd line
        st = ctx.style
        tone = _state_tone(it) or VARIANT_TONE.get(it.variant()) or st.tone_at(it.index, it.tone())
        secs = card_sections(ctx, it, tone, scale=scale, title_roles=title_roles, value_big=vb)
        for sec in secs:
            if sec.role == "value" and not vb:
                sec.max_lines = 2  # a long value wraps at the smaller size, never cut
        return secs

    def one_height(it: Item, w: float, scale: float, vb: bool) -> float:
        st = ctx.style
        inner_w = w - 2 * st.pad - (8 if st.rail != "none" else 0)
        h = ctx.stack_height(sections(it, scale, vb), max(10.0, inner_w)) + 2 * st.pad
        if it.has("badge", "kicker", "tag"):
            h += st.font * 0.78 * scale * 1.7 + 6
        return h

    def height(w: float, scale: float = 1.0) -> float:
        cw = (w - ctx.style.gap * (cols - 1)) / cols
        vb = big(w, scale)
        tallest = max(one_height(it, cw, scale, vb) for it in items)
        return rows * tallest + ctx.style.gap * (rows - 1)

    def draw(rr: Rect) -> None:
        # a crowded band sets its cards' text a little smaller (down to 72%) before the
        # card stacks start cutting lines and dropping sections
        scale = next((k for k in (1.0, 0.92, 0.85, 0.78) if height(rr.w, k) <= rr.h + 0.01), 0.72)
        vb = big(rr.w, scale)

        def one(cell: Rect, it: Item, i: int) -> None:
            tone = _state_tone(it)
            card(
                ctx,
                cell,
                it,
                parent=parent,
                index=it.index,
                tone=tone,
                # a card with a content state is tinted with that state's wash, as a table
                # row's state tints the row (CKE colours such cards by their state)
                fill=_state_wash(ctx, it, tone),
                title_roles=title_roles,
                value_big=vb,
                scale=scale,
                sections=sections(it, scale, vb),
                outline=True,  # each card outlined in its accent, as CKE's boards draw them
            )

        grid(
            ctx,
            rr,
            items,
            cols,
            parent,
            draw=one,
            heights=lambda it, w: one_height(it, w, scale, vb),
        )

    return Band(height, draw)


def layout_board(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """comparison_board: metric columns side by side, callouts underneath.

    Metrics naming a column sit in it. Metrics that name none (CKE boards give metrics ids
    of their own) form a grid of metric cards under the columns; columns with no metrics of
    their own and CKE content (kicker, stat, chips, bullets, note) are drawn as full cards;
    callouts carrying a title, badge or lines form a grid of cards at the bottom.
    """
    cols = [c for c in comps if c.name == "comparison_column"]
    col_ids = {c.get("column_id") for c in cols}
    metrics = [c for c in comps if c.name == "comparison_metric"]
    loose = [m for m in metrics if m.get("column") not in col_ids]
    calls = [c for c in comps if c.name == "comparison_callout"]
    rich_cols = not (set(metrics) - set(loose)) and any(_keys(ctx, c) & _RICH_COLUMN for c in cols)
    rich_calls = any(_keys(ctx, c) & _RICH_CALLOUT for c in calls)
    if not (loose or rich_cols or rich_calls):
        rest = _callouts(ctx, r, comps, parent)
        _columns(ctx, rest, comps, parent, vs=False)
        return
    st = ctx.style
    bands: list[Band] = []
    if cols:
        if rich_cols:
            bands.append(_card_grid_band(ctx, cols, parent, min(4, len(cols))))
        else:
            keep = [
                c
                for c in comps
                if c.name == "comparison_column" or (c in metrics and c not in loose)
            ]
            bands.append(
                Band(lambda w: st.font * 12, lambda rr: _columns(ctx, rr, keep, parent, vs=False))
            )
    if loose:
        bands.append(
            _card_grid_band(
                ctx, loose, parent, 4 if len(loose) >= 4 else len(loose), ("label", "title")
            )
        )
    if calls and rich_calls:
        bands.append(_card_grid_band(ctx, calls, parent, 3 if len(calls) >= 3 else 2))
    elif calls:
        keep_calls = calls
        bands.append(
            Band(
                lambda w: (st.font * LINE_HEIGHT * 2 + st.pad * 1.2 + st.gap) * len(keep_calls),
                lambda rr: _callouts(ctx, rr, keep_calls, parent),
            )
        )
    run_bands(ctx, r, bands)


def layout_dual(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """dual_panel_compare: two (or more) panels with a vs badge, then cards and callouts."""
    st = ctx.style
    rest = _callouts(ctx, r, comps, parent)
    extra = [c for c in comps if c.name in ("info_card", "concept_panel")]
    if extra:
        items = [ctx.item(c) for c in extra]
        w = (rest.w - st.gap * (len(items) - 1)) / len(items)
        h = min(rest.h * 0.4, max(card_height(ctx, it, w) for it in items))
        band, rest = rest.take_bottom(h, st.gap)
        for cell, it in zip(band.columns(len(items), st.gap), items, strict=False):
            card(ctx, cell, it, parent=parent, index=it.index)
    _columns(ctx, rest, comps, parent, vs=True)
