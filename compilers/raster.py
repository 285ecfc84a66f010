"""Rasterise SVG to PNG with cairosvg, never reaching outside the document.

Two guards, because either alone is one library change away from failing open:

1. before rasterising, every ``href`` / ``xlink:href`` that is not a ``#fragment`` or a
   ``data:`` URI is removed (and CSS ``url(...)``/``@import`` pointing outside is neutralised);
2. cairosvg runs with ``unsafe=False`` (no XML entities, no external DTDs) and with a URL
   fetcher that answers every non-``data:`` URL with an empty image, so even a reference the
   sanitiser missed cannot read a file or open a socket.

Output is deterministic: same SVG and width, same PNG bytes (cairo writes no timestamps).
"""

from __future__ import annotations

import io
import math
import re
from functools import lru_cache
from typing import Any, Protocol

from dslkit.compilers.codes import diag

from dslkit._extras import require
from dslkit.errors import CompileError, Diagnostic

__all__ = [
    "MAX_PIXELS",
    "MAX_SIDE",
    "MAX_USE_EXPANSION",
    "external_refs",
    "png_to_array",
    "sanitize_svg",
    "to_png",
]

MAX_SIDE = 32_767  # pixels per side: cairo's own image surface limit
MAX_PIXELS = 100_000_000  # 400 MB of RGBA: larger is refused before cairo allocates it
# Elements that <use> references add when expanded. Ten levels of ten-fold <use> turn a 2 KB
# document into 10**10 drawn elements; cairo draws about 4,000 per second, so this caps the
# extra work at seconds while leaving far more room than any compiled scene uses.
MAX_USE_EXPANSION = 10_000
_LENGTH = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*(px|pt|pc|mm|cm|in)?\s*\Z")
_UNIT_PX = {
    None: 1.0,
    "px": 1.0,
    "pt": 4 / 3,
    "pc": 16.0,
    "mm": 96 / 25.4,
    "cm": 96 / 2.54,
    "in": 96.0,
}
_NUMBERS = re.compile(r"[^\s,]+")

_EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"></svg>'
_XLINK = "{http://www.w3.org/1999/xlink}href"
# CSS references: url(...) that is not url(#id) or a data URI, and @import of anything.
_CSS_URL = re.compile(r"""url\(\s*(['"]?)(?!\s*#)(?!\s*data:)[^)]*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"@import[^;]*;?", re.IGNORECASE)


class _HasText(Protocol):
    @property
    def text(self) -> str: ...  # read-only is enough: a frozen Svg qualifies


def _svg_text(svg: str | bytes | _HasText) -> str:
    if isinstance(svg, bytes):
        return svg.decode("utf-8")
    if isinstance(svg, str):
        return svg
    return svg.text  # an ``Svg`` from compilers.scene_svg (duck-typed: no import cycle)


def _is_local(href: str) -> bool:
    ref = href.strip()
    return ref.startswith("#") or ref[:5].lower() == "data:"


def _parse(text: str) -> Any:
    # defusedxml refuses entity declarations and external DTDs: a billion-laughs or XXE
    # document fails here with a position instead of expanding.
    require("defusedxml", extra="render", feature="SVG sanitising")
    from defusedxml import ElementTree as SafeET
    from defusedxml.common import DefusedXmlException

    try:
        return SafeET.fromstring(text.encode("utf-8"))
    except DefusedXmlException as exc:
        raise CompileError.from_diagnostics([diag("S704", f"SVG refused: {exc}")]) from None
    except SafeET.ParseError as exc:
        line, column = getattr(exc, "position", (0, 0))
        d = diag("S704", f"SVG is not well-formed XML: {exc}", line=line, column=column + 1)
        raise CompileError.from_diagnostics([d.with_source(text)]) from None


def external_refs(svg: str | bytes | _HasText) -> list[str]:
    """List the references in an SVG that point outside the document.

    Args:
        svg: SVG text, bytes, or an object with ``.text`` (a compiled ``Svg``).

    Returns:
        Each non-fragment, non-``data:`` href value and each CSS ``url()``/``@import`` that
        reaches out, in document order. Empty for every SVG the scene compiler emits.

    Raises:
        CompileError: S704 when the text is not well-formed XML.
    """
    root = _parse(_svg_text(svg))
    found: list[str] = []
    for el in root.iter():
        for key in ("href", _XLINK):
            value = el.get(key)
            if value is not None and not _is_local(value):
                found.append(value)
        for css in (el.get("style") or "", el.text if _local_name(el.tag) == "style" else ""):
            found.extend(m.group(0) for m in _CSS_IMPORT.finditer(css or ""))
            found.extend(m.group(0) for m in _CSS_URL.finditer(css or ""))
    return found


def _local_name(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def sanitize_svg(svg: str | bytes | _HasText) -> tuple[str, list[Diagnostic]]:
    """Remove every reference that points outside the document.

    The text is returned unchanged (same bytes) when nothing needed removing, so the common
    case (compiler output) costs one parse and never re-serialises.

    Args:
        svg: SVG text, bytes, or an object with ``.text``.

    Returns:
        ``(clean_text, diagnostics)``: one S705 warning per removed reference.

    Raises:
        CompileError: S704 when the text is not well-formed XML.
    """
    text = _svg_text(svg)
    refs = external_refs(text)
    if not refs:
        return text, []
    from xml.etree import ElementTree as ET

    root = _parse(text)
    cut_uses = []
    for el in root.iter():
        for key in ("href", _XLINK):
            value = el.get(key)
            if value is not None and not _is_local(value):
                del el.attrib[key]
                if _local_name(el.tag) == "use":
                    cut_uses.append(el)
        if el.get("style"):
            el.set("style", _neutralise_css(el.get("style") or ""))
        if _local_name(el.tag) == "style" and el.text:
            el.text = _neutralise_css(el.text)
    if cut_uses:
        # a <use> left without its href makes cairosvg re-draw the document inside itself
        # until Python's recursion limit: the element goes with its reference
        parents = {child: parent for parent in root.iter() for child in parent}
        for el in cut_uses:
            if el in parents:
                parents[el].remove(el)
    ET.register_namespace("", "http://www.w3.org/2000/svg")
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    clean = ET.tostring(root, encoding="unicode")
    diags = [
        diag("S705", f"removed external reference {r[:80]!r} before rasterising") for r in refs
    ]
    return clean, diags


def _refuse(message: str) -> CompileError:
    return CompileError("", [diag("S704", message)])


def _length_px(value: str | None) -> float | None:
    """A root width/height in px, None when absent, relative (%, em) or not a plain length."""
    m = _LENGTH.match(value or "")
    return float(m.group(1)) * _UNIT_PX[m.group(2)] if m else None


def _check_size(root: Any, width: int | None) -> None:
    """Refuse a canvas cairo cannot or should not allocate, before it tries (S704)."""
    box: list[float] = []
    view_box = root.get("viewBox")
    if view_box is not None:
        try:
            box = [float(v) for v in _NUMBERS.findall(view_box)]
        except ValueError:
            box = []
        if len(box) != 4 or not all(math.isfinite(v) and abs(v) <= 1e9 for v in box):
            raise _refuse(f"viewBox {view_box[:60]!r} is not four finite numbers up to 1e9")
        if box[2] <= 0 or box[3] <= 0:
            raise _refuse(f"viewBox {view_box[:60]!r} has no positive width and height")
    sides = {}
    for name in ("width", "height"):
        px = _length_px(root.get(name))
        if px is not None and not (math.isfinite(px) and 0 < px <= MAX_SIDE):
            raise _refuse(f"SVG {name} {root.get(name)!r} is not a size between 0 and {MAX_SIDE}px")
        sides[name] = px if px is not None else (box[2 if name == "width" else 3] if box else None)
    w, h = sides["width"], sides["height"]
    if width is not None and w and h:
        w, h = float(width), width * h / w
    for side in (w, h):
        if side is not None and not 0 < side <= MAX_SIDE:
            raise _refuse(f"the PNG would be {w:.0f}x{h:.0f}px; at most {MAX_SIDE} per side")
    if w and h and w * h > MAX_PIXELS:
        raise _refuse(f"the PNG would be {w:.0f}x{h:.0f}px; at most {MAX_PIXELS} pixels")


def _check_use_expansion(root: Any) -> None:
    """Count what <use> adds when expanded; refuse fan-out bombs and reference cycles (S704)."""
    by_id = {el.get("id"): el for el in root.iter() if el.get("id") is not None}
    memo: dict[int, int] = {}  # id(element) -> elements it draws, expanded

    def href(el: Any) -> Any:
        ref = el.get(_XLINK) or el.get("href") or ""
        return by_id.get(ref[1:]) if ref.startswith("#") else None

    def drawn(top: Any) -> int:
        # iterative post-order walk: an element's count needs its children's and its target's
        stack: list[tuple[Any, bool]] = [(top, False)]
        active: set[int] = set()
        while stack:
            el, ready = stack.pop()
            key = id(el)
            if key in memo:
                continue
            parts = list(el)
            if _local_name(el.tag) == "use" and (target := href(el)) is not None:
                parts.append(target)
            if ready:
                active.discard(key)
                memo[key] = min(1 + sum(memo[id(p)] for p in parts), 1 << 62)
                continue
            if key in active:
                raise _refuse("a <use> references an element that contains it (a cycle)")
            active.add(key)
            stack.append((el, True))
            stack.extend((p, False) for p in parts if id(p) not in memo)
        return memo[id(top)]

    plain = sum(1 for _ in root.iter())
    total = drawn(root)
    if total - plain > MAX_USE_EXPANSION:
        raise _refuse(
            f"<use> references expand to {total - plain} more elements; at most "
            f"{MAX_USE_EXPANSION} are rasterised"
        )


def _neutralise_css(css: str) -> str:
    return _CSS_URL.sub("none", _CSS_IMPORT.sub("", css))


def _refuse_fetch(url: str, resource_type: str) -> bytes:
    # Last line of defence: only data: URIs are decoded; anything else is an empty image.
    if url and url[:5].lower() == "data:":
        from cairosvg.url import fetch

        return bytes(fetch(url, resource_type))
    return _EMPTY_SVG


# One line in each face the compiler uses (sans, sans bold, mono, mono bold).
_WARM_UP_SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="80" height="80" font-size="14" '
    b'font-family="DejaVu Sans, sans-serif">'
    b'<text x="2" y="16">Ag</text><text x="2" y="34" font-weight="bold">Ag</text>'
    b'<g font-family="DejaVu Sans Mono, monospace"><text x="2" y="52">Ag</text>'
    b'<text x="2" y="70" font-weight="bold">Ag</text></g></svg>'
)


@lru_cache(maxsize=1)
def _pin_font_state() -> None:
    # cairo keeps per-font state from the first render that uses a font face, and later
    # renders of other documents inherit it: without a fixed first render, the pixels of a
    # document depended on what the process had rasterised before it (a gold case checked
    # alone missed its own expected.png). Rendering one fixed document first pins that state.
    from cairosvg.surface import PNGSurface

    PNGSurface.convert(bytestring=_WARM_UP_SVG, unsafe=False, write_to=io.BytesIO())


def to_png(svg: str | bytes | _HasText, width: int | None = None) -> bytes:
    """Rasterise an SVG to PNG bytes without fetching anything external.

    Args:
        svg: SVG text, bytes, or a compiled ``Svg`` (anything with ``.text``).
        width: output width in pixels; the height keeps the aspect ratio. ``None`` renders at
            the SVG's own size.

    Returns:
        PNG bytes, identical for identical inputs whatever the process rasterised before.

    Raises:
        CompileError: S704 when the SVG is not well-formed XML or declares entities, when its
            size is negative, not finite or beyond :data:`MAX_SIDE` / :data:`MAX_PIXELS`,
            when ``<use>`` expands past :data:`MAX_USE_EXPANSION` elements or into a cycle,
            and when cairo refuses it.
        ValueError: ``width`` is not a positive integer.
    """
    if width is not None and (not isinstance(width, int) or width <= 0):
        raise ValueError(f"width must be a positive integer, not {width!r}")
    require("cairosvg", extra="render", feature="to_png")
    from cairocffi import CairoError
    from cairosvg.surface import PNGSurface

    clean, _ = sanitize_svg(svg)
    root = _parse(clean)
    _check_size(root, width)
    _check_use_expansion(root)
    _pin_font_state()
    out = io.BytesIO()
    try:
        PNGSurface.convert(
            bytestring=clean.encode("utf-8"),
            unsafe=False,
            url_fetcher=_refuse_fetch,
            output_width=width,
            write_to=out,
        )
    except (
        ValueError,
        TypeError,
        ZeroDivisionError,
        RecursionError,
        OverflowError,
        MemoryError,
        CairoError,
    ) as exc:
        # cairosvg raises bare Python errors on documents it cannot lay out (no size, a
        # <use> that references its own document, ...), cairo its own on sizes and matrices.
        raise CompileError.from_diagnostics(
            [diag("S704", f"cairosvg could not render: {exc}")]
        ) from None
    return out.getvalue()


def png_to_array(png: bytes, *, mode: str = "RGB") -> Any:
    """Decode PNG bytes to a numpy array.

    Args:
        png: PNG bytes (from :func:`to_png` or a file).
        mode: Pillow mode to convert to first ("RGB", "L", "RGBA").

    Returns:
        ``uint8`` array of shape ``(h, w, channels)`` (or ``(h, w)`` for "L").
    """
    require("numpy", extra="render", feature="png_to_array")
    require("PIL", extra="render", feature="png_to_array")
    import numpy as np
    from PIL import Image

    with Image.open(io.BytesIO(png)) as im:
        im.load()
        if mode != "RGBA" and ("A" in im.getbands() or "transparency" in im.info):
            # Composite transparency over white, as a browser shows it, instead of letting
            # convert() drop alpha and turn transparent pixels into whatever colour they hold.
            rgba = im.convert("RGBA")
            flat = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
            flat.alpha_composite(rgba)
            im = flat
        return np.asarray(im.convert(mode), dtype=np.uint8)
