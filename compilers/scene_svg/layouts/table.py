"""table_matrix: group panels, each with a title, a header row and rows tinted by row_state.

Each group's outline takes its accent; each row is a band of its own, raised on the panel
(normal rows) or tinted by its state, a little apart from its neighbours (as CKE's tables and
the hand-made matrices draw rows).

Column widths follow the measured width of their widest cell (each column keeps a minimum
share); numeric cells are set in mono. Several table blocks sit side by side up to
``columns`` (stacked on a tall canvas), sized by their row counts.
"""

from __future__ import annotations

import re

from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect
from dslkit.compilers.scene_svg.draw import panel
from dslkit.compilers.scene_svg.text import measure_text

from scene_dsl.ast import Component

__all__ = ["layout_table"]

_NUMERIC = re.compile(
    r"\s*[-+~\u2248]?\$?\d[\d,.]*\s*(%|x|ms|s|GB|MB|KB|GiB|MiB|B|bit|bits|k|M)?\s*\Z"
)
STATE_TONE = {"highlight": None, "success": "green", "warning": "amber", "danger": "danger"}


def _cells(
    ctx: Ctx, comp: Component
) -> tuple[Item, list[str], list[tuple[Item | None, list[str], str]]]:
    item = ctx.item(comp)
    header: list[str] = []
    rows: list[tuple[Item | None, list[str], str]] = []
    for child in comp.children:
        it = ctx.item(child)
        cells = it.texts("cells")
        if child.name == "table_header":
            header = cells
        else:
            rows.append((it, cells, it.state()))
    if not header:
        header = item.texts("columns", "header")
    if not rows:
        # rows as lists, or as CKE row objects {cells, state} whose state tints the row
        rows = [(None, r, state or "normal") for r, state in item.state_rows("rows")]
    return item, header, rows


def layout_table(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """Draw every table block of the scene into ``r``."""
    st = ctx.style
    blocks = [_cells(ctx, c) for c in comps if c.name == "table_block"]
    if not blocks:
        return
    cols = 1 if st.canvas == "tall" else max(1, min(st.columns, len(blocks)))
    rows_of_blocks = [blocks[i : i + cols] for i in range(0, len(blocks), cols)]
    f = st.font

    def natural(
        block: tuple[Item, list[str], list[tuple[Item | None, list[str], str]]], em: float
    ) -> float:
        item, header, rows = block
        title = f * 1.1 * LINE_HEIGHT + 8 if item.has("title", "label") else 0.0
        caption = f * 0.85 * LINE_HEIGHT + 6 if item.has("caption") else 0.0
        return 2 * st.pad + title + caption + (len(rows) + (1 if header else 0)) * f * em

    # blocks take their natural height (rows of 3.4 em, 2.6 when tight); the group is
    # centred vertically
    for em in (3.4, 3.0, 2.6):
        nat = [max(natural(b, em) for b in row) for row in rows_of_blocks]
        need = sum(nat) + st.gap * (len(nat) - 1)
        if need <= r.h:
            break
    area = r if need >= r.h else Rect(r.x, r.y + (r.h - need) / 2, r.w, need)
    for band, row in zip(area.rows_weighted(nat, st.gap), rows_of_blocks, strict=True):
        for cell, block in zip(band.columns(len(row), st.gap), row, strict=True):
            _block(ctx, cell, *block, parent=parent)


def _block(
    ctx: Ctx,
    r: Rect,
    item: Item,
    header: list[str],
    rows: list[tuple[Item | None, list[str], str]],
    *,
    parent: str,
) -> None:
    st = ctx.style
    pal = st.palette
    tone = st.tone_at(item.index, item.tone())
    color = pal.accent(tone)
    # the block's outline takes its accent, as CKE's table panels and the hand-made matrices
    # draw them: each group reads as one coloured unit
    gid = panel(ctx, r, parent=parent, stem="table", stroke=color)
    ctx.rect(Rect(r.x + 1, r.y + 1, r.w - 2, 4), fill=color, rx=2)
    inner = r.inset(st.pad)
    f = st.font
    title = item.text("title", "label")
    if title:
        tr, inner = inner.take_top(f * 1.1 * LINE_HEIGHT, 8)
        ctx.text(
            tr,
            title,
            f * 1.1,
            color=pal.ink,
            parent=gid,
            comp=item.comp,
            role="title",
            max_lines=1,
            weight="bold",
        )
    caption = item.text("caption", primary=False) if item.has("caption") else None
    if caption:  # the block's caption runs under its title
        cr, inner = inner.take_top(f * 0.85 * LINE_HEIGHT, 6)
        ctx.text(
            cr,
            caption,
            f * 0.85,
            color=pal.muted,
            parent=gid,
            comp=item.comp,
            role="caption",
            max_lines=1,
        )
    ncols = max([len(header)] + [len(c) for _, c, _ in rows] + [1])
    widths = [0.0] * ncols
    for cells in [header] + [c for _, c, _ in rows]:
        for i, text in enumerate(cells):
            widths[i] = max(widths[i], min(measure_text(text, f * 0.92), 360.0))
    gap = 14.0
    avail = inner.w - gap * (ncols + 1)
    total = sum(widths) or 1.0
    floor_share = avail / ncols * 0.45
    shares = [max(floor_share, avail * w / total) for w in widths]
    k = avail / sum(shares)
    shares = [s * k for s in shares]
    nrows = len(rows) + (1 if header else 0)
    row_h = min(f * 3.4, inner.h / max(1, nrows)) if nrows else 0.0
    y = inner.y
    if header:
        hr = Rect(inner.x, y, inner.w, row_h)
        hid = panel(ctx, hr, parent=gid, stem="thead", fill=pal.surface2, stroke=pal.surface2, rx=6)
        _row_cells(ctx, hr, header, shares, gap, hid, f * 0.8, pal.muted, item, header=True)
        y += row_h
    for k_row, (it, cells, state) in enumerate(rows):
        rr = Rect(inner.x, y, inner.w, row_h)
        if rr.b > inner.b + 0.01:
            ctx.warn("S702", item.comp, "rows", f"{len(rows) - k_row} table rows left out: no room")
            break
        st_tone = STATE_TONE.get(state, "") if state != "normal" else ""
        fill = pal.surface2  # a normal row is a raised band on the panel (CKE, the matrices)
        if state == "highlight":
            fill = pal.soft(tone)
        elif st_tone == "danger":
            fill = pal.danger
        elif st_tone:
            fill = pal.soft(st_tone)
        # rows are bands a little apart, each raised (or tinted by its state) on the panel
        band = Rect(rr.x, rr.y + 2, rr.w, max(0.0, rr.h - 4))
        rid = panel(ctx, band, parent=gid, stem="row", fill=fill, stroke=fill, rx=6)
        if st_tone == "danger":
            ctx.rect(band, fill=pal.surface, rx=6, opacity=0.8)
        if state != "normal":
            stripe = (
                color
                if state == "highlight"
                else (pal.danger if st_tone == "danger" else pal.accent(st_tone or tone))
            )
            ctx.rect(Rect(rr.x, rr.y + 4, 3, max(0.0, rr.h - 8)), fill=stripe, rx=1.5)
        _row_cells(ctx, band, cells, shares, gap, rid, f * 0.92, pal.ink, it or item)
        y += row_h


def _row_cells(
    ctx: Ctx,
    r: Rect,
    cells: list[str],
    shares: list[float],
    gap: float,
    parent: str,
    size: float,
    color: str,
    item: Item,
    header: bool = False,
) -> None:
    x = r.x + gap
    for i, share in enumerate(shares):
        text = cells[i] if i < len(cells) else ""
        if text:
            mono = not header and bool(_NUMERIC.match(text))
            ctx.text(
                Rect(x, r.y + 2, share, max(0.0, r.h - 4)),
                text.upper() if header else text,
                size,
                color=color,
                parent=parent,
                comp=item.comp,
                role="cells",
                max_lines=2,
                weight="bold" if header or i == 0 else "normal",
                mono=mono,
                valign="middle",
            )
        x += share + gap
