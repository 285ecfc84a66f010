"""Geometry helpers shared by the family layouts: natural card heights, grids, bands."""

from __future__ import annotations

from collections.abc import Callable

from compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect
from compilers.scene_svg.draw import card, card_sections
from compilers.scene_svg.text import measure_text

__all__ = ["card_height", "fill_heights", "grid", "nice_max"]


def card_height(
    ctx: Ctx, item: Item, width: float, *, scale: float = 1.0, value_big: bool = False
) -> float:
    """Natural height of a content card of ``width`` (text at its preferred size)."""
    st = ctx.style
    inner_w = width - 2 * st.pad - (8 if st.rail != "none" else 0)
    secs = card_sections(
        ctx,
        item,
        st.tone_at(item.index),
        scale=scale,
        value_big=value_big or item.variant() == "metric",
    )
    h = ctx.stack_height(secs, max(10.0, inner_w)) + 2 * st.pad
    if item.has("badge", "kicker"):
        h += st.font * 0.78 * scale * 1.7 + 6
    return h


def fill_heights(
    natural: list[float], total: float, gap: float, grow: float = 1.5, floor: float = 0.0
) -> list[float]:
    """Scale ``natural`` heights to fill ``total`` (growing at most ``grow`` times).

    When they must shrink, each keeps at least ``min(natural, floor)`` while the room allows
    it; the rest of the cut comes from the part above that floor.
    """
    avail = max(0.0, total - gap * (len(natural) - 1))
    need = sum(natural)
    if need <= 0:
        return [avail / max(1, len(natural))] * len(natural)
    k = avail / need
    if k > grow:
        k = grow
    if k >= 1.0 or floor <= 0:
        return [h * k for h in natural]
    base = [min(h, floor) for h in natural]
    if sum(base) >= avail:
        return [h * k for h in natural]
    extra = sum(natural) - sum(base)
    k2 = (avail - sum(base)) / extra if extra > 0 else 0.0
    return [b + (h - b) * k2 for b, h in zip(base, natural, strict=True)]


def grid(
    ctx: Ctx,
    r: Rect,
    items: list[Item],
    cols: int,
    parent: str,
    *,
    draw: Callable[[Rect, Item, int], None] | None = None,
    heights: Callable[[Item, float], float] | None = None,
    spans: Callable[[Item], bool] | None = None,
    grow: float = 1.6,
) -> float:
    """Lay ``items`` out in rows of ``cols`` cards; items where ``spans`` is true take a whole row.

    Returns the height used.
    """
    st = ctx.style
    gap = st.gap
    # crowded: more columns (while cards stay >= 120 px wide) and tighter gaps beat rows
    # squeezed below one line of text, which would leave empty card boxes
    min_row = st.font * 0.8 * LINE_HEIGHT + 10
    while True:
        nrows = _count_rows(items, cols, spans)
        if nrows * min_row + gap * (nrows - 1) <= r.h:
            break
        if gap > st.gap * 0.5:
            gap = st.gap * 0.5
            continue
        wider = cols + 1
        if wider > len(items) or (r.w - gap * cols) / wider < 120.0:
            break
        cols = wider
    rows: list[list[Item]] = []
    for it in items:
        if spans is not None and spans(it):
            rows.append([it])
            rows.append([])
        else:
            if (
                not rows
                or len(rows[-1]) >= cols
                or (rows[-1] and spans is not None and spans(rows[-1][0]))
            ):
                rows.append([])
            rows[-1].append(it)
    rows = [row for row in rows if row]
    if not rows:
        return 0.0
    measure = heights or (lambda it, w: card_height(ctx, it, w))
    natural = []
    for row in rows:
        n = 1 if len(row) == 1 and spans is not None and spans(row[0]) else cols
        w = (r.w - gap * (n - 1)) / n
        natural.append(max(measure(it, w) for it in row))
    hs = fill_heights(natural, r.h, gap, grow)
    y = r.y
    idx = 0
    for row, h in zip(rows, hs, strict=False):
        n = 1 if len(row) == 1 and spans is not None and spans(row[0]) else cols
        cells = Rect(r.x, y, r.w, h).columns(n, gap)
        for cell, it in zip(cells, row, strict=False):
            if draw is not None:
                draw(cell, it, idx)
            else:
                card(ctx, cell, it, parent=parent, index=idx)
            idx += 1
        y += h + gap
    return y - gap - r.y


def _count_rows(items: list[Item], cols: int, spans: Callable[[Item], bool] | None) -> int:
    rows = 0
    open_n = cols  # cards in the current row (cols = no open row)
    for it in items:
        if spans is not None and spans(it):
            rows += 1
            open_n = cols
        elif open_n >= cols:
            rows += 1
            open_n = 1
        else:
            open_n += 1
    return rows


def nice_max(v: float) -> float:
    """Round ``v`` up to 1, 2, 2.5 or 5 times a power of ten (axis ends)."""
    if v <= 0:
        return 1.0
    import math

    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e + 1e-12:
            return m * e
    return 10 * e


def fmt_tick(v: float) -> str:
    """Short tick label: integers without decimals, else up to 2 decimals."""
    if abs(v - round(v)) < 1e-9:
        return str(round(v))
    return f"{v:.2f}".rstrip("0").rstrip(".")


def text_w(text: str, size: float, bold: bool = False, mono: bool = False) -> float:
    return measure_text(text, size, weight="bold" if bold else "normal", mono=mono)
