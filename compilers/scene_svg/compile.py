"""``compile_scene``: scene + content.json -> :class:`Svg`.

Order of work: parse (when given text), validate against the contract with the content
(any error raises :class:`CompileError` carrying the diagnostics), bind refs, resolve the style,
then draw the page (background, frame, emphasis, header, strips, family body, footer) and
assemble the document. Nothing here depends on dict order or hashing of the process, so the
same input gives the same bytes in every process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from dslkit.compilers.scene_svg import layouts
from dslkit.compilers.scene_svg.canvas import LINE_HEIGHT, Ctx, Item, Rect
from dslkit.compilers.scene_svg.layouts import LAYOUTS
from dslkit.compilers.scene_svg.page import (
    background,
    draw_footer,
    draw_header,
    draw_strip,
    emphasis,
    frame,
    header_height,
    strip_height,
)
from dslkit.compilers.scene_svg.svg import Svg
from dslkit.compilers.scene_svg.text import FONT, clean_text
from dslkit.compilers.scene_svg.theme import resolve_style

import scene_dsl
from dslkit import jsonio
from dslkit.errors import CompileError, DslkitError, InputError, expect_type
from scene_dsl.ast import Component, Scene
from scene_dsl.contract import DEFAULT_CONTRACT, Contract, load_contract
from scene_dsl.diagnostics import diag

__all__ = ["compile_scene"]

_GROWTH = (1.0, 1.25, 1.5, 1.75, 2.0)  # page heights tried, as multiples of the canvas
# grow: a body leaving more than _SLACK_MIN of the page unused loses _SLACK_CUT of that band
_SLACK_MIN, _SLACK_CUT = 0.2, 0.9


def _load_content(content: Mapping[str, Any] | str | Path) -> Mapping[str, Any]:
    if isinstance(content, Mapping):
        return content
    try:
        if isinstance(content, Path) or (
            isinstance(content, str) and not content.lstrip("\ufeff \t\r\n").startswith(("{", "["))
        ):
            data = jsonio.load(content)
        else:
            data = jsonio.loads(content, source="content")
    except InputError as exc:  # unreadable, not UTF-8, not JSON, too deep, NaN
        raise CompileError.from_diagnostics(
            [diag("S603", f"content is not readable JSON: {exc}")]
        ) from None
    if not isinstance(data, Mapping):
        raise CompileError.from_diagnostics(
            [diag("S603", f"content must be a JSON object, not {type(data).__name__}")]
        )
    return data


@lru_cache(maxsize=8)
def _contract_tables(contract: Contract) -> tuple[dict[str, dict[str, str]], frozenset[str]]:
    kinds = {
        name: {f.name: f.kind for f in spec.fields} for name, spec in contract.components.items()
    }
    fams = list(contract.families.values())
    common = frozenset.intersection(*(f.admits for f in fams)) if fams else frozenset()
    return kinds, common


def compile_scene(
    scene: Scene | str,
    content: Mapping[str, Any] | str | Path,
    *,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    theme_overrides: Mapping[str, str] | None = None,
    grow: bool = False,
) -> Svg:
    """Compile a scene and its content into an SVG.

    Args:
        scene: a parsed :class:`Scene`, or scene text (row or block form).
        content: the content.json as a mapping, JSON text, or a path to the file.
        contract: contract name, path or object.
        theme_overrides: palette colours to replace, ``{"bg": "#101010", "blue": "#3b82f6"}``
            (``#rrggbb`` only).
        grow: when text would be cut for lack of room (S702), lay the page out again up to
            twice as tall and keep the height that cuts least, as the CKE renderers grow
            their pages; a page that fits but whose body leaves over a fifth of the page
            unused (a single row of cards) is laid out again that much shorter, kept only if
            nothing is then cut (default ``False``: the canvas height always).

    Returns:
        The :class:`Svg` (text, size, fit warnings, placed boxes).

    Raises:
        CompileError: the scene does not parse or validate, or a content ref does not
            resolve; it carries the scene diagnostics with positions.
    """
    expect_type(scene, (Scene, str), "compile_scene(scene)")
    expect_type(content, (Mapping, str, Path), "compile_scene(content)")
    if theme_overrides is not None:
        expect_type(theme_overrides, Mapping, "compile_scene(theme_overrides)")
    spec = load_contract(contract)
    source = None
    if isinstance(scene, str):
        source = scene.removeprefix("\ufeff")  # parse() ignores a BOM; carets must too
        try:
            scene = scene_dsl.parse(scene, contract=spec)
        except DslkitError as exc:
            raise CompileError.from_diagnostics(exc.diagnostics) from None
    data = _load_content(content)
    problems = [d for d in scene_dsl.validate(scene, spec, data, source=source) if d.is_error]
    if problems:
        raise CompileError.from_diagnostics(problems)
    values = scene_dsl.bind(scene, data, contract=spec, report_unused=False).values
    kinds, common = _contract_tables(spec)
    style = resolve_style(scene, spec, theme_overrides)
    # ids derive from the canonical scene without defaults: equal scenes get equal ids
    canon = scene_dsl.to_text(scene_dsl.canonicalize(scene, spec, omit_defaults=True), form="row")
    prefix = "s" + hashlib.sha1(canon.encode("utf-8")).hexdigest()[:6]
    best: tuple[int, Ctx, str, str] | None = None
    for factor in _GROWTH if grow else (1.0,):
        # The canvas fixes the width and the least height. A page whose text would be cut
        # (S702) is laid out again taller, as the CKE renderers grow theirs: the first height
        # that cuts nothing wins, else the one that cuts least. A page that fits is never
        # touched, so its output does not depend on this.
        page = style if factor == 1.0 else replace(style, height=round(style.height * factor))
        ctx = Ctx(style=page, prefix=prefix, values=values, ref_kinds=kinds)
        title, desc = _draw(ctx, scene, common)
        cut = sum(1 for w in ctx.warnings if w.code == "S702")
        if best is None or cut < best[0]:
            best = (cut, ctx, title, desc)
        if cut == 0:
            break
    assert best is not None
    if grow and best[0] == 0 and best[1].style.height == style.height:
        # the other way round: a page whose body leaves a large band unused (a single row
        # of cards centred in a tall canvas) is laid out again without it, as the CKE
        # renderers size such pages to their content; kept only if nothing is then cut
        slack = _body_slack(best[1])
        if slack > _SLACK_MIN * style.height:
            height = max(round(style.height - slack * _SLACK_CUT), round(style.width * 0.3))
            page = replace(style, height=height)
            ctx = Ctx(style=page, prefix=prefix, values=values, ref_kinds=kinds)
            title, desc = _draw(ctx, scene, common)
            if not any(w.code == "S702" for w in ctx.warnings):
                best = (0, ctx, title, desc)
    _, ctx, title, desc = best
    style = ctx.style
    for item in ctx.items:
        for role, path in item.unread():
            ctx.warn(
                "S703", item.comp, role, f"content {path} is not read by the {item.name} renderer"
            )
    return Svg(
        text=_assemble(ctx, title, desc),
        width=style.width,
        height=style.height,
        warnings=tuple(ctx.warnings),
        boxes=tuple(ctx.boxes),
    )


def _draw(ctx: Ctx, scene: Scene, common: frozenset[str]) -> tuple[str, str]:
    st = ctx.style
    canvas = Rect(0, 0, st.width, st.height)
    content = canvas.inset(st.margin)
    background(ctx)
    frame(ctx, content)
    emphasis(ctx, content)
    header = next((c for c in scene.components if c.name == "header_band"), None)
    footer = next((c for c in scene.components if c.name == "footer_note"), None)
    family = [c for c in scene.components if c.name not in common]
    # common components the family draws in its own body (layouts.hosted) join it in source
    # order; the other common ones are page strips above or below it
    if footer is not None and family and layouts.hosted(ctx, family, footer):
        footer = None
    first = scene.components.index(family[0]) if family else len(scene.components)
    strips_top: list[Component] = []
    strips_bottom: list[Component] = []
    body = list(family)
    for i, c in enumerate(scene.components):
        if c.name not in common:
            continue
        if family and layouts.hosted(ctx, family, c):
            body.append(c)
        elif c.name not in ("header_band", "footer_note"):
            (strips_top if i < first else strips_bottom).append(c)
    family = body

    title = st.topic.replace("_", " ") or st.layout.replace("_", " ")
    subtitle = ""
    rest = content
    if header is not None:
        item = ctx.item(header)
        hh = min(header_height(ctx, item, content.w), content.h * 0.3)
        hr, rest = rest.take_top(hh, st.gap * 1.3)
        hid = f"{ctx.prefix}-header"
        ctx.box(hid, "panel", hr, None)
        draw_header(ctx, hr, item, hid)
        title = _peek(item, "headline", "title", "_primary") or title
        subtitle = _peek(item, "subtitle", "body") or ""
    if footer is not None or st.topic:
        fh = st.font * 0.8 * LINE_HEIGHT * (2 if footer is not None else 1) + 12
        fr, rest = rest.take_bottom(fh, st.gap)
        fid = f"{ctx.prefix}-footer"
        ctx.box(fid, "panel", fr, None)
        draw_footer(ctx, fr, ctx.item(footer) if footer is not None else None, fid)
    bid = f"{ctx.prefix}-body"
    ctx.box(bid, "panel", rest, None)
    deferred: list[tuple[Rect, list[Component], dict[int, Item]]] = []
    main = _strips(ctx, rest, strips_top, strips_bottom, bid, deferred)
    mid = f"{ctx.prefix}-main"
    ctx.box(mid, "panel", main, bid)
    ctx.open_group(mid, st.layout.replace("_", " "))
    LAYOUTS[st.layout](ctx, main, family, mid)
    ctx.close_group()
    # annotations are drawn once the body has placed their targets, so they can point at them
    for r, g, items in deferred:
        _draw_group(ctx, r, g, items, bid)
    names = [
        t for t in (_peek(i, "title", "label", "headline", "_primary") for i in ctx.items[:12]) if t
    ]
    desc = f"{st.layout.replace('_', ' ')} infographic. {subtitle} " + "; ".join(
        n for n in names if n != title
    )
    return title, desc.strip()


def _body_slack(ctx: Ctx) -> float:
    """Height of the family body that none of its direct children covers (0 when none)."""
    mid = f"{ctx.prefix}-main"
    main = next((b for b in ctx.boxes if b.id == mid), None)
    kids = [b for b in ctx.boxes if b.parent_id == mid]
    if main is None or not kids:
        return 0.0
    used = max(b.y + b.h for b in kids) - min(b.y for b in kids)
    return max(0.0, main.h - used)


def _peek(item: Item, *roles: str) -> str | None:
    for role in roles:
        value = item.roles.get(role)
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return clean_text(str(value))
    return None


def _strips(
    ctx: Ctx,
    body: Rect,
    top: list[Component],
    bottom: list[Component],
    parent: str,
    deferred: list[tuple[Rect, list[Component], dict[int, Item]]],
) -> Rect:
    """Place common components above/below the family body; return the body's rectangle."""
    st = ctx.style
    groups_top = _group_badges(top)
    groups_bottom = _group_badges(bottom)
    items = {id(c): ctx.item(c) for g in (*groups_top, *groups_bottom) for c in g}
    heights = {
        id(g[0]): strip_height(ctx, g[0], items[id(g[0])], body.w)
        for g in (*groups_top, *groups_bottom)
    }
    # Strips keep their natural height while they fit a share of the body; past it the
    # tallest are cut first (down to one line each), so the family body keeps its room.
    budget = body.h * 0.32 - st.gap * len(heights)
    one_line = st.font * LINE_HEIGHT + st.pad * 1.5
    if heights and sum(heights.values()) > budget:
        cap = max(heights.values())
        while cap > one_line and sum(min(h, cap) for h in heights.values()) > budget:
            cap -= 4.0
        heights = {k: min(h, max(cap, min(h, one_line))) for k, h in heights.items()}
    rest = body
    for g in groups_top:
        r, rest = rest.take_top(heights[id(g[0])], st.gap)
        if g[0].name == "annotation":
            deferred.append((r, g, items))
        else:
            _draw_group(ctx, r, g, items, parent)
    placed: list[tuple[Rect, list[Component]]] = []
    for g in reversed(groups_bottom):
        r, rest = rest.take_bottom(heights[id(g[0])], st.gap)
        placed.append((r, g))
    for r, g in reversed(placed):
        if g[0].name == "annotation":
            deferred.append((r, g, items))
        else:
            _draw_group(ctx, r, g, items, parent)
    return rest


def _group_badges(comps: list[Component]) -> list[list[Component]]:
    # Consecutive entry badges share one row of pills.
    out: list[list[Component]] = []
    for c in comps:
        if c.name == "entry_badge" and out and out[-1][0].name == "entry_badge":
            out[-1].append(c)
        else:
            out.append([c])
    return out


def _draw_group(
    ctx: Ctx, r: Rect, group: list[Component], items: dict[int, Item], parent: str
) -> None:
    if group[0].name != "entry_badge":
        draw_strip(ctx, r, group[0], items[id(group[0])], parent, 0)
        return
    x = r.x
    for i, c in enumerate(group):
        sub = Rect(x, r.y, max(0.0, r.r - x), r.h)
        if sub.w < 40:
            ctx.warn("S702", c, "label", "no room left in the badge row; badge left out")
            continue
        before = len(ctx.boxes)
        draw_strip(ctx, sub, c, items[id(c)], parent, i)
        if len(ctx.boxes) > before:
            x = ctx.boxes[-1].x + ctx.boxes[-1].w + 10


def _assemble(ctx: Ctx, title: str, desc: str) -> str:
    st = ctx.style
    p = ctx.prefix
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{st.width}" height="{st.height}" '
        f'viewBox="0 0 {st.width} {st.height}" role="img" aria-labelledby="{p}-title {p}-desc" '
        f'font-family="{FONT}, sans-serif" data-layout="{st.layout}" data-theme="{st.theme}">'
    )
    parts = [
        head,
        f'<title id="{p}-title">{escape(clean_text(title)[:300])}</title>',
        f'<desc id="{p}-desc">{escape(clean_text(desc)[:600])}</desc>',
    ]
    if ctx.defs:
        parts.append("<defs>" + "".join(ctx.defs.values()) + "</defs>")
    parts.extend(ctx.parts)
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
