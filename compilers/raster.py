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
import re
from functools import lru_cache
from typing import Any, Protocol

from dslkit.compilers.codes import diag

from dslkit._extras import require
from dslkit.errors import CompileError, Diagnostic

__all__ = ["external_refs", "png_to_array", "sanitize_svg", "to_png"]

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
        CompileError: S704 when the SVG is not well-formed XML or declares entities.
        ValueError: ``width`` is not a positive integer.
    """
    if width is not None and (not isinstance(width, int) or width <= 0):
        raise ValueError(f"width must be a positive integer, not {width!r}")
    require("cairosvg", extra="render", feature="to_png")
    from cairosvg.surface import PNGSurface

    clean, _ = sanitize_svg(svg)
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
    except (ValueError, TypeError, ZeroDivisionError, RecursionError) as exc:
        # cairosvg raises bare Python errors on documents it cannot lay out (no size, a
        # <use> that references its own document, ...).
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
