"""Geometry helpers shared by the family layouts: natural card heights, grids, bands."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect
from dslkit.compilers.scene_svg.draw import card, card_sections
from dslkit.compilers.scene_svg.text import measure_text

__all__ = ["card_height", "fill_heights", "grid", "grid_floor", "min_grid_row", "nice_max"]


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
    if item.has("badge", "kicker", "tag"):
        h += st.font * 0.78 * scale * 1.7 + 6
    return h


def _level(values: list[float], total: float) -> float:
    """The level L with ``sum(min(v, L) for v in values) == total`` (``total`` <= the sum)."""
    rest = sorted(values)
    below = 0.0
    for i, v in enumerate(rest):
        level = (total - below) / (len(rest) - i)
        if level <= v:
            return max(0.0, level)
        below += v
    return rest[-1] if rest else 0.0


def fill_heights(
    natural: list[float],
    total: float,
    gap: float,
    grow: float = 1.5,
    floor: float | Sequence[float] = 0.0,
) -> list[float]:
    """Scale ``natural`` heights to fill ``total`` (growing at most ``grow`` times).

    When they must shrink, each keeps at least ``min(natural, floor)`` (one floor for all, or
    one per height) while the room allows it; the rest of the cut comes from the part above
    that floor. When even the floors do not fit, they are cut from the top down to a common
    level.
    """
    avail = max(0.0, total - gap * (len(natural) - 1))
    need = sum(natural)
    if need <= 0:
        return [avail / max(1, len(natural))] * len(natural)
    k = avail / need
    if k > grow:
        k = grow
    floors = [float(floor)] * len(natural) if isinstance(floor, int | float) else list(floor)
    if k >= 1.0 or not any(f > 0 for f in floors):
        return [h * k for h in natural]
    base = [min(h, f) for h, f in zip(natural, floors, strict=True)]
    if sum(base) >= avail:
        # not even the floors fit: the largest floors give way first, down to a common level,
        # so a band that asks for one line keeps it while a huge one is cut
        level = _level(base, avail)
        return [min(b, level) for b in base]
    extra = sum(natural) - sum(base)
    k2 = (avail - sum(base)) / extra if extra > 0 else 0.0
    return [b + (h - b) * k2 for b, h in zip(base, natural, strict=True)]


def _crowded(
    ctx: Ctx,
    width: float,
    height: float,
    items: list[Item],
    cols: int,
    spans: Callable[[Item], bool] | None,
) -> tuple[int, float]:
    """(columns, gap) of a grid in ``height``: when crowded, tighter gaps and more columns
    (while cards stay >= 120 px wide) beat rows squeezed below one line of text, which would
    leave empty card boxes."""
    st = ctx.style
    gap = st.gap
    min_row = min_grid_row(ctx)
    while True:
        nrows = _count_rows(items, cols, spans)
        if nrows * min_row + gap * (nrows - 1) <= height:
            break
        if gap > st.gap * 0.5:
            gap = st.gap * 0.5
            continue
        wider = cols + 1
        if wider > len(items) or (width - gap * cols) / wider < 120.0:
            break
        cols = wider
    return cols, gap


def min_grid_row(ctx: Ctx) -> float:
    """The least height of a row of cards: one line of text and its padding."""
    return ctx.style.font * 0.8 * LINE_HEIGHT + 10


def grid_floor(
    ctx: Ctx,
    width: float,
    items: list[Item],
    cols: int,
    spans: Callable[[Item], bool] | None = None,
) -> float:
    """Least height at ``width`` in which :func:`grid` keeps one line of every card."""
    cols, gap = _crowded(ctx, width, 0.0, items, cols, spans)
    nrows = _count_rows(items, cols, spans)
    return nrows * min_grid_row(ctx) + gap * (nrows - 1)


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
    cols, gap = _crowded(ctx, r.w, r.h, items, cols, spans)
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
