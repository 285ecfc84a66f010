"""Hosted footer notes: a family that draws the scene's footer note in its own body.

The flow pages the CKE v7 scenes were drawn for close with a note set as a panel of its own
under the flow, not as a line at the foot of the page. A family listed in
``layouts.HOSTED`` with ``footer_note`` receives its footer notes and draws them with
:func:`with_notes`.
"""

from __future__ import annotations

from collections.abc import Callable

from dslkit.compilers.scene_svg.canvas import Ctx, Item, Rect, Section

from scene_dsl.ast import Component

__all__ = ["NOTE_SHARE", "with_notes"]

NOTE_SHARE = 0.3  # most of a crowded body its hosted footer notes may take


def with_notes(
    ctx: Ctx,
    r: Rect,
    comps: list[Component],
    parent: str,
    body: Callable[[Rect, list[Component]], list[Rect]],
) -> None:
    """Draw a family ``body`` at the top of ``r`` and its hosted footer notes under it.

    ``body(rect, components)`` draws the family (without the notes) and returns the cards it
    placed. The notes are panels that fill what the body leaves below its lowest card, each
    at least its natural height; on a crowded page they take at most ``NOTE_SHARE`` of ``r``
    (their text is then set smaller or cut, with S701/S702, never the body's cards).
    """
    st = ctx.style
    notes = [c for c in comps if c.name == "footer_note"]
    comps = [c for c in comps if c.name != "footer_note"]
    if not notes:
        body(r, comps)
        return
    items = [ctx.item(c) for c in notes]
    sections = [_note_sections(ctx, it) for it in items]
    need = [ctx.stack_height(s, r.w - st.pad * 3) + st.pad * 3 for s in sections]
    reserve = min(sum(need) + st.gap * 2 * len(need), r.h * NOTE_SHARE)
    body_r, _ = r.take_top(max(0.0, r.h - reserve - st.gap))
    cards = body(body_r, comps)
    bottom = max((x.b for x in cards), default=body_r.y)
    top = min(bottom + st.gap * 2, r.b - reserve)
    room = Rect(r.x, top, r.w, max(0.0, r.b - top))
    cells = room.rows_weighted(need, st.gap) if len(need) > 1 else [room]
    for cell, comp, secs in zip(cells, notes, sections, strict=True):
        _note_panel(ctx, cell, comp, secs, parent)


def _note_sections(ctx: Ctx, item: Item) -> list[Section]:
    st = ctx.style
    title = item.text("title", primary=False)
    text = item.text("text", "body", "note", "caption")
    secs = []
    if title:
        secs.append(Section("title", title, st.font, st.accent(0), "bold", max_lines=2, gap=6))
    if text:
        secs.append(Section("text", text, st.font * 0.95, st.palette.muted, max_lines=4, gap=0))
    return secs


def _note_panel(ctx: Ctx, r: Rect, comp: Component, secs: list[Section], parent: str) -> None:
    """A closing note as a panel of its own: a raised surface (the CKE footer strip's fill),
    its title and text at the top."""
    st = ctx.style
    sid = ctx.new_id("note")
    ctx.box(sid, "panel", r, parent)
    ctx.rect(r, fill=st.palette.surface2, stroke=st.palette.line, rx=10, bid=sid)
    ctx.stack(r.inset(st.pad * 1.5), secs, parent=sid, comp=comp)
