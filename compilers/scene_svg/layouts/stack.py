"""Card families: poster_stack, dashboard_cards, concept_editorial, utility_micrographic.

Components are grouped into bands in source order (consecutive cards form a grid band, stage
cards a flow band, compare bars a chart band, badges a badge band, formulas a strip); bands
take their natural heights, scaled to fill the region.
"""

from __future__ import annotations

from collections.abc import Callable

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect, Section, parse_number
from dslkit.compilers.scene_svg.draw import bar_row, card, card_sections, panel, pill
from dslkit.compilers.scene_svg.layouts.common import (
    card_height,
    fill_heights,
    grid,
    grid_floor,
    min_grid_row,
    nice_max,
    text_w,
)
from dslkit.compilers.scene_svg.text import measure_text

from scene_dsl.ast import Component

__all__ = ["layout_concept", "layout_dashboard", "layout_micrographic", "layout_poster"]

CARDS = ("section_card", "info_card", "concept_panel", "artifact_panel")


def _band_kind(name: str) -> str:
    if name in CARDS:
        return "cards"
    if name in ("stage_card", "flow_arrow"):
        return "stages"
    if name == "compare_bar":
        return "bars"
    if name == "micrographic_badge":
        return "badges"
    return name  # formula_strip, principle_pair, micrographic_band: one band each


def bands(comps: list[Component]) -> list[tuple[str, list[Component]]]:
    """Group consecutive components of one kind into bands (source order)."""
    out: list[tuple[str, list[Component]]] = []
    for c in comps:
        kind = _band_kind(c.name)
        if out and out[-1][0] == kind and kind in ("cards", "stages", "bars", "badges"):
            out[-1][1].append(c)
        else:
            out.append((kind, [c]))

    # an arrow written apart from the stages it joins belongs to their band (the nearest
    # earlier one, else the first): a band of arrows alone would have nothing to connect
    def has_stages(group: list[Component]) -> bool:
        return any(c.name == "stage_card" for c in group)

    first = next((g for k, g in out if k == "stages" and has_stages(g)), None)
    last: list[Component] | None = None
    kept: list[tuple[str, list[Component]]] = []
    for kind, group in out:
        if kind == "stages" and not has_stages(group):
            home = last or first
            if home is not None:
                home.extend(group)
            continue
        if kind == "stages":
            last = group
        kept.append((kind, group))
    return kept


class Band:
    """One band: natural height at a width, and a draw function for its rectangle."""

    def __init__(
        self,
        height: Callable[[float], float],
        draw: Callable[[Rect], object],
        grow: bool = True,
        floor: Callable[[float], float] | None = None,
    ) -> None:
        self.height = height
        self.draw = draw
        self.grow = grow
        self.floor = floor  # least height at a width that still shows every part of the band


def run_bands(ctx: Ctx, r: Rect, bands_: list[Band]) -> None:
    """Stack bands top to bottom, scaled to fill ``r``."""
    st = ctx.style
    if not bands_:
        return
    natural = [b.height(r.w) for b in bands_]
    gap = st.gap
    if sum(natural) + gap * (len(natural) - 1) > r.h:
        gap = st.gap * 0.5  # crowded: tighter gaps before any band is squeezed
    # every band keeps room for about one line of text plus padding, so squeezing never
    # leaves an empty component box; the larger bands give up the difference
    line = min_grid_row(ctx)
    floors = [line if b.floor is None else max(line, b.floor(r.w)) for b in bands_]
    hs = fill_heights(natural, r.h, gap, grow=1.8, floor=floors)
    total = sum(hs) + gap * (len(hs) - 1)
    y = r.y + max(0.0, (r.h - total) / 2) if total < r.h * 0.7 else r.y
    for b, h in zip(bands_, hs, strict=False):
        b.draw(Rect(r.x, y, r.w, h))
        y += h + gap


def card_band(ctx: Ctx, comps: list[Component], parent: str, cols: int) -> Band:
    items = [ctx.item(c) for c in comps]
    cols = max(1, min(cols, len(items)))

    def is_hero(it: Item) -> bool:
        return it.variant() == "hero" and cols > 1

    def height(w: float) -> float:
        rows: list[float] = []
        row: list[Item] = []
        colw = (w - ctx.style.gap * (cols - 1)) / cols
        for it in items:
            if is_hero(it):
                rows.append(card_height(ctx, it, w, scale=1.15))
                continue
            row.append(it)
            if len(row) == cols:
                rows.append(max(card_height(ctx, x, colw) for x in row))
                row = []
        if row:
            rows.append(max(card_height(ctx, x, colw) for x in row))
        return sum(rows) + ctx.style.gap * (len(rows) - 1)

    def draw(r: Rect) -> None:
        def one(cell: Rect, it: Item, i: int) -> None:
            card(
                ctx,
                cell,
                it,
                parent=parent,
                index=it.index,
                scale=1.15 if is_hero(it) else 1.0,
                value_big=is_hero(it),
            )

        grid(
            ctx,
            r,
            items,
            cols,
            parent,
            draw=one,
            spans=is_hero,
            grow=3.0,
            heights=lambda it, w: card_height(ctx, it, w, scale=1.15 if is_hero(it) else 1.0),
        )

    return Band(height, draw, floor=lambda w: grid_floor(ctx, w, items, cols, is_hero))


def bars_panel(
    ctx: Ctx, r: Rect, items: list[Item], parent: str, *, title: str | None = None
) -> str:
    """A panel of horizontal compare bars sharing one value scale."""
    st = ctx.style
    pal = st.palette
    pid = panel(ctx, r, parent=parent, stem="bars")
    inner = r.inset(st.pad)
    if title:
        tr, inner = inner.take_top(st.font * LINE_HEIGHT, 8)
        ctx.text(tr, title, st.font, color=pal.muted, parent=pid, max_lines=1, weight="bold")
    nums = [n for n in (_num(it) for it in items) if n is not None]
    vmax = nice_max(max(nums)) if nums else 1.0
    values = [it.text("value", primary=False) or "" for it in items]
    value_w = (
        max(
            (measure_text(v, st.font * 1.05, weight="bold", mono=True) for v in values), default=0.0
        )
        + 14
    )
    labels = [it.roles.get("label") or it.roles.get("title") or "" for it in items]
    label_w = min(
        inner.w * 0.32,
        max((text_w(str(x), st.font * 1.02, True) for x in labels), default=60.0) + 8,
    )
    rows = inner.rows(len(items), st.gap * 0.5)
    for _i, (row, it) in enumerate(zip(rows, items, strict=False)):
        bar_row(
            ctx, row, it, parent=pid, index=it.index, vmax=vmax, label_w=label_w, value_w=value_w
        )
    return pid


def _num(it: Item) -> float | None:
    from dslkit.compilers.scene_svg.canvas import parse_number

    return parse_number(it.roles.get("value"))


def bars_band(ctx: Ctx, comps: list[Component], parent: str) -> Band:
    items = [ctx.item(c) for c in comps]
    row_h = ctx.style.font * 3.4
    return Band(
        lambda w: len(items) * row_h + 2 * ctx.style.pad,
        lambda r: bars_panel(ctx, r, items, parent),
    )


def badge_tile(ctx: Ctx, r: Rect, it: Item, parent: str) -> None:
    """A metric tile: big mono value, label under it, accent underline."""
    st = ctx.style
    pal = st.palette
    tone = st.tone_at(it.index, it.tone())
    color = pal.accent(tone)
    tid = panel(ctx, r, parent=parent, stem="tile")
    ctx.rect(
        Rect(r.x + st.pad, r.b - 5, max(0.0, min(48.0, r.w - 2 * st.pad)), 3), fill=color, rx=1.5
    )
    inner = r.inset(st.pad * 0.8, st.pad * 0.6)
    secs = []
    value = it.text("value", primary=False)
    label = it.text("label", "title", "caption")
    if value:
        secs.append(
            Section(
                "value",
                value,
                st.font * 1.9,
                color,
                "bold",
                mono=True,
                max_lines=1,
                gap=2,
                anchor="middle",
            )
        )
    if label:
        secs.append(
            Section("label", label, st.font * 0.85, pal.muted, max_lines=2, gap=0, anchor="middle")
        )
    # a badge object {label, caption}: the caption goes under the label (unless it was the label)
    caption = (
        it.text("caption", primary=False)
        if it.has("caption") and "caption" not in it.taken
        else None
    )
    if caption:
        if secs:
            secs[-1].gap = 2
        secs.append(
            Section(
                "caption", caption, st.font * 0.75, pal.muted, max_lines=2, gap=0, anchor="middle"
            )
        )
    ctx.stack(inner, secs, parent=tid, comp=it.comp, valign="middle")


def badges_band(ctx: Ctx, comps: list[Component], parent: str) -> Band:
    items = [ctx.item(c) for c in comps]
    h = ctx.style.font * (1.9 + 1.7) * LINE_HEIGHT * 0.85 + ctx.style.pad * 1.2

    def draw(r: Rect) -> None:
        cols = min(len(items), 6)
        rows = (len(items) + cols - 1) // cols
        for ri, rr in enumerate(r.rows(rows, ctx.style.gap)):
            for cell, it in zip(
                rr.columns(cols, ctx.style.gap), items[ri * cols : (ri + 1) * cols], strict=False
            ):
                badge_tile(ctx, cell, it, parent)

    return Band(lambda w: h * ((len(items) + 5) // 6), draw, grow=False)


def formula_band(ctx: Ctx, comp: Component, parent: str) -> Band:
    it = ctx.item(comp)
    st = ctx.style
    pal = st.palette

    def secs() -> list[Section]:
        formula = it.text("formula", "text", "value", "equation")
        caption = it.text("caption", "note", "body", primary=False)
        out = []
        title = it.text("title", primary=False) if it.has("title") else None
        if title:  # a formula strip object {title, equation, bullets} leads with its title
            out.append(
                Section(
                    "title",
                    title,
                    st.font * 1.0,
                    st.accent(it.index, it.tone()),
                    "bold",
                    max_lines=1,
                    gap=4,
                    anchor="middle",
                )
            )
        if formula:
            out.append(
                Section(
                    "formula",
                    formula,
                    st.font * 1.3,
                    pal.ink,
                    "bold",
                    mono=True,
                    max_lines=2,
                    gap=6,
                    anchor="middle",
                )
            )
        if caption:
            out.append(
                Section(
                    "caption",
                    caption,
                    st.font * 0.85,
                    pal.muted,
                    max_lines=2,
                    gap=0,
                    anchor="middle",
                )
            )
        bullets = it.texts("bullets", "points") if it.has("bullets", "points") else []
        if bullets:
            # the bullets sit in one row of columns under the equation (one line each)
            if out:
                out[-1].gap = 6
            cols = "     ".join("\u2022 " + b for b in bullets)
            out.append(
                Section(
                    "bullets", cols, st.font * 0.85, pal.ink, max_lines=3, gap=0, anchor="middle"
                )
            )
        return out

    def draw(r: Rect) -> None:
        if r.h < 6.5 * LINE_HEIGHT + 4:
            # never an empty dashed box: with no room for one line the strip is left out
            ctx.warn("S702", comp, "formula", "no room for this formula strip; it was left out")
            return
        pid = panel(
            ctx,
            r,
            parent=parent,
            stem="formula",
            fill=pal.surface2,
            dash="6 5",
            stroke=st.accent(it.index, it.tone()),
        )
        # short strips trade vertical padding for their line of text
        dy = min(st.pad * 0.7, max(2.0, (r.h - st.font * 1.3 * LINE_HEIGHT) / 2))
        ctx.stack(r.inset(st.pad, dy), secs(), parent=pid, comp=comp, valign="middle")

    return Band(lambda w: ctx.stack_height(secs(), w - 2 * st.pad) + st.pad * 1.4, draw, grow=False)


def principle_band(ctx: Ctx, comp: Component, parent: str) -> Band:
    """Two principles side by side joined by a double arrow."""
    it = ctx.item(comp)
    st = ctx.style
    pal = st.palette
    # each side is a string, or (CKE) an object {title, body, bullets} drawn as a small card
    sides = {role: it.child(role) for role in ("left", "right")}
    left = None if sides["left"] else it.text("left", "title", "label")
    right = None if sides["right"] else it.text("right", "body", "caption", primary=False)

    def side_secs(text: str | None, role: str) -> list[Section]:
        sub = sides.get(role)
        if sub is not None:
            return card_sections(ctx, sub, st.tone_at(it.index + (role == "right")))
        return (
            [
                Section(
                    role, text, st.font * 1.05, pal.ink, "bold", max_lines=3, gap=0, anchor="middle"
                )
            ]
            if text
            else []
        )

    def height(w: float) -> float:
        cw = (w - 60) / 2 - 2 * st.pad
        return (
            max(
                ctx.stack_height(side_secs(left, "left"), cw),
                ctx.stack_height(side_secs(right, "right"), cw),
            )
            + 2 * st.pad
        )

    def draw(r: Rect) -> None:
        a, rest = r.take_left((r.w - 60) / 2, 60)
        b = rest
        for cell, text, role, k in ((a, left, "left", 0), (b, right, "right", 1)):
            pid = panel(ctx, cell, parent=parent, stem="principle")
            ctx.rect(
                Rect(cell.x + 1, cell.y + 1, 5, cell.h - 2),
                fill=st.accent(it.index + k, it.tone()),
                rx=2,
            )
            ctx.stack(
                cell.inset(st.pad)
                if sides[role] is None
                else Rect(
                    cell.x + st.pad + 6,
                    cell.y + st.pad,
                    max(1.0, cell.w - 2 * st.pad - 6),
                    max(0.0, cell.h - 2 * st.pad),
                ),
                side_secs(text, role),
                parent=pid,
                comp=comp,
                valign="middle" if sides[role] is None else "top",
            )
        mx = r.cx
        ctx.line(mx - 20, r.cy, mx + 20, r.cy, stroke=st.accent(it.index), sw=2)
        ctx.path(
            f"M{mx - 14:.0f} {r.cy - 6:.1f} L{mx - 22:.0f} {r.cy:.1f} L{mx - 14:.0f} {r.cy + 6:.1f}",
            stroke=st.accent(it.index),
            sw=2,
        )
        ctx.path(
            f"M{mx + 14:.0f} {r.cy - 6:.1f} L{mx + 22:.0f} {r.cy:.1f} L{mx + 14:.0f} {r.cy + 6:.1f}",
            stroke=st.accent(it.index),
            sw=2,
        )

    return Band(height, draw, grow=False)


def width_band(ctx: Ctx, it: Item, parent: str) -> Band:
    """A micrographic band object ``{label, width}``: a bar ``width`` (0-1) of the band's
    width, its label inside (or after the bar when the bar is too short for it)."""
    st = ctx.style
    pal = st.palette
    comp = it.comp
    raw = parse_number(it.raw("width"))  # 0.42, "0.42" (bools and text without a number: 0)
    frac = max(0.0, min(1.0, raw)) if raw is not None and raw == raw else 0.0  # NaN -> 0
    label = it.text("label", "title", "name") or ""
    size = st.font * 0.95
    bar_h = size * 2.2

    def draw(r: Rect) -> None:
        tone = st.tone_at(it.index, it.tone())
        color = pal.accent(tone)
        pid = panel(ctx, r, parent=parent, stem="band", fill=pal.surface)
        inner = r.inset(st.pad * 0.6, max(2.0, (r.h - bar_h) / 2))
        bw = max(inner.h, inner.w * frac)
        grad = ctx.gradient(color, pal.soft(tone))
        ctx.rect(Rect(inner.x, inner.y, bw, inner.h), fill=f"url(#{grad})", rx=inner.h / 2)
        need = measure_text(label, size, weight="bold") + 24
        if need <= bw:
            # the bar starts in its soft tone, so the label takes the page ink
            tr, ink = Rect(inner.x + 12, inner.y, bw - 24, inner.h), pal.ink
        else:
            tr, ink = (
                Rect(inner.x + bw + 10, inner.y, max(1.0, inner.r - bw - 10), inner.h),
                pal.ink,
            )
        ctx.text(
            tr,
            label,
            size,
            color=ink,
            parent=pid,
            comp=comp,
            role="label",
            max_lines=1,
            weight="bold",
            valign="middle",
        )

    return Band(lambda w: bar_h + st.pad * 1.2, draw, grow=False)


def micro_band(ctx: Ctx, comp: Component, parent: str) -> Band:
    """A titled band of item chips (or a width bar, for a ``{label, width}`` object)."""
    it = ctx.item(comp)
    st = ctx.style
    pal = st.palette
    if it.has("width") and not it.has("items", "bullets", "parts"):
        return width_band(ctx, it, parent)
    title = it.text("title", "label", primary=False)
    entries = it.texts("items", "bullets", "parts")
    size = st.font * 0.88
    chip_h = size * 1.7

    def layout_chips(w: float) -> list[list[str]]:
        rows: list[list[str]] = [[]]
        x = 0.0
        for e in entries:
            cw = measure_text(e, size, weight="bold") + size * 1.4
            if rows[-1] and x + cw > w:
                rows.append([])
                x = 0.0
            rows[-1].append(e)
            x += cw + 8
        return rows

    def height(w: float) -> float:
        inner = w - 2 * st.pad
        h = len(layout_chips(inner)) * (chip_h + 8) + 2 * st.pad
        return h + (st.font * LINE_HEIGHT + 8 if title else 0)

    def draw(r: Rect) -> None:
        pid = panel(ctx, r, parent=parent, stem="band")
        inner = r.inset(st.pad)
        if title:
            tr, inner = inner.take_top(st.font * LINE_HEIGHT, 8)
            ctx.text(
                tr,
                title,
                st.font,
                color=pal.ink,
                parent=pid,
                comp=comp,
                role="title",
                max_lines=1,
                weight="bold",
            )
        y = inner.y
        for k, row in enumerate(layout_chips(inner.w)):
            if y + chip_h > inner.b + 0.01:
                ctx.warn("S702", comp, "items", "chips left out: no room in the band")
                break
            x = inner.x
            for j, e in enumerate(row):
                w = pill(
                    ctx,
                    x,
                    y,
                    e,
                    size,
                    tone=st.tone_at(it.index + j + k, it.tone()),
                    parent=pid,
                    max_w=inner.r - x,
                )
                x += w + 8
            y += chip_h + 8

    return Band(height, draw, grow=False)


def stage_band(ctx: Ctx, comps: list[Component], parent: str) -> Band:
    from dslkit.compilers.scene_svg.layouts.lanes import flow_rows, flow_rows_floor

    stages = [c for c in comps if c.name == "stage_card"]
    arrows = [c for c in comps if c.name == "flow_arrow"]
    st = ctx.style

    def height(w: float) -> float:
        per = max(1, int((w + 40) // (170 + 40)))
        rows = (len(stages) + per - 1) // per
        return rows * st.font * 9 + (rows - 1) * 40 + 22

    return Band(
        height,
        lambda r: flow_rows(ctx, r, stages, arrows, parent),
        floor=lambda w: flow_rows_floor(ctx, w, stages, arrows),
    )


def make_bands(ctx: Ctx, comps: list[Component], parent: str, cols: int) -> list[Band]:
    out: list[Band] = []
    for kind, group in bands(comps):
        if kind == "cards":
            out.append(card_band(ctx, group, parent, cols))
        elif kind == "stages":
            out.append(stage_band(ctx, group, parent))
        elif kind == "bars":
            out.append(bars_band(ctx, group, parent))
        elif kind == "badges":
            out.append(badges_band(ctx, group, parent))
        elif kind == "formula_strip":
            out.append(formula_band(ctx, group[0], parent))
        elif kind == "principle_pair":
            out.append(principle_band(ctx, group[0], parent))
        elif kind == "micrographic_band":
            out.append(micro_band(ctx, group[0], parent))
        elif kind == "terminal_panel":
            from dslkit.compilers.scene_svg.layouts.lanes import terminal, terminal_height

            out.append(_terminal_band(ctx, group[0], parent, terminal, terminal_height))
    return out


def _terminal_band(
    ctx: Ctx,
    comp: Component,
    parent: str,
    draw: Callable[[Ctx, Rect, Item, str], object],
    height: Callable[[Ctx, Component], float],
) -> Band:
    it = ctx.item(comp)
    nat = height(ctx, comp)
    return Band(lambda w: nat, lambda r: draw(ctx, r, it, parent), grow=False)


def layout_poster(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """poster_stack: a tall stack of bands; cards fill ``columns`` per row (hero cards span)."""
    cols = ctx.style.columns if ctx.style.canvas != "tall" else min(ctx.style.columns, 2)
    run_bands(ctx, r, make_bands(ctx, comps, parent, cols))


def layout_dashboard(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """dashboard_cards: metric tiles on top, a card grid of ``columns``, bars at the bottom."""
    order = {"badges": 0, "cards": 1, "bars": 2}
    grouped: dict[str, list[Component]] = {}
    for c in comps:
        grouped.setdefault(_band_kind(c.name), []).append(c)
    out: list[Band] = []
    for kind in sorted(grouped, key=lambda k: order.get(k, 3)):
        out.extend(make_bands(ctx, grouped[kind], parent, ctx.style.columns))
    run_bands(ctx, r, out)


def layout_concept(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """concept_editorial: concept panels in ``columns``, principle pairs and formulas as strips."""
    run_bands(ctx, r, make_bands(ctx, comps, parent, ctx.style.columns))


def layout_micrographic(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """utility_micrographic: metric tiles (up to six a row) and chip bands."""
    run_bands(ctx, r, make_bands(ctx, comps, parent, ctx.style.columns))
