"""Text metrics, wrapping and fitting with the pinned DejaVu fonts.

Widths come from a table generated once from the font files
(``fonts/build_metrics.py`` -> ``fonts/dejavu_metrics.json``), so measuring needs no font file
and gives the same numbers on every machine. Kerning is ignored (cairo's SVG text path does not
kern either); code points the table lacks count one em, the width of the CJK or emoji glyph a
renderer falls back to, so a guess errs towards too wide, never towards overflow.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = [
    "ASCENT",
    "DESCENT",
    "ELLIPSIS",
    "FONT",
    "MONO_FONT",
    "Fit",
    "clean_text",
    "ellipsize",
    "fit_text",
    "measure_text",
    "wrap_text",
]

FONT = "DejaVu Sans"
MONO_FONT = "DejaVu Sans Mono"
ASCENT = 0.928  # em, DejaVu Sans
DESCENT = 0.236
ELLIPSIS = "\u2026"

# Characters XML 1.0 forbids (C0 controls but tab/newline, lone surrogates, U+FFFE/FFFF):
# content.json may carry them, the SVG must stay well-formed, so they are dropped.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


@lru_cache(maxsize=1)
def _tables() -> tuple[dict[str, dict[int, int]], int]:
    raw = (
        resources.files("dslkit.compilers.scene_svg.fonts")
        .joinpath("dejavu_metrics.json")
        .read_text("utf-8")
    )
    data = json.loads(raw)
    fallback = int(data["fallback"])
    faces: dict[str, dict[int, int]] = {}
    for face, spec in data["faces"].items():
        table: dict[int, int] = {}
        for lo, widths in spec["ranges"]:
            for i, w in enumerate(widths):
                if w >= 0:
                    table[lo + i] = w
        faces[face] = table
    return faces, fallback


def _face(weight: str, mono: bool) -> str:
    bold = weight == "bold"
    if mono:
        return "mono_bold" if bold else "mono"
    return "bold" if bold else "regular"


@lru_cache(maxsize=32768)
def _units(face: str, text: str) -> int:
    faces, fallback = _tables()
    table = faces[face]
    get = table.get
    return sum(get(ord(c), fallback) for c in text)


def measure_text(text: str, size: float, *, weight: str = "normal", mono: bool = False) -> float:
    """Advance width of ``text`` in px at font ``size`` px.

    Args:
        text: one line of text (newlines are not interpreted).
        size: font size in px.
        weight: ``"normal"`` or ``"bold"``.
        mono: measure with DejaVu Sans Mono instead of DejaVu Sans.

    Returns:
        The width in px (unkerned sum of advances).
    """
    return _units(_face(weight, mono), text) * size / 1000.0


@lru_cache(maxsize=8192)
def clean_text(value: str) -> str:
    """Drop characters XML cannot carry (C0 controls, lone surrogates, U+FFFE/FFFF)."""
    return _XML_BAD.sub("", value)


@lru_cache(maxsize=8192)
def _paragraphs(text: str) -> tuple[tuple[str, ...], ...]:
    # words of each paragraph; cached because layouts fit the same text at several sizes
    return tuple(
        tuple(w for w in _SPACE.sub(" ", para).strip().split(" ") if w)
        for para in clean_text(text).split("\n")
    )


def wrap_text(
    text: str,
    width_px: float,
    size: float,
    *,
    weight: str = "normal",
    mono: bool = False,
    max_lines: int | None = None,
) -> list[str]:
    """Greedy word wrap by pixel width.

    Args:
        text: the text; ``\\n`` starts a new line, other whitespace collapses.
        width_px: the line width in px.
        size: font size in px.
        weight: ``"normal"`` or ``"bold"``.
        mono: wrap with the monospaced face.
        max_lines: stop after this many lines plus one (enough to know it does not fit);
            keeps the work bounded for very long strings.

    Returns:
        The lines, each no wider than ``width_px`` (a single glyph wider than the line is
        the only exception). Lines break only between words; a word wider than the line is
        ellipsized on its own line (see :func:`has_overwide_word`).
    """
    face = _face(weight, mono)
    scale = size / 1000.0
    space = _units(face, " ") * scale
    limit = None if max_lines is None else max_lines + 1
    lines: list[str] = []
    for words in _paragraphs(text):
        cur = ""
        cur_w = 0.0
        for word in words:
            if not word:
                continue
            ww = _units(face, word) * scale
            if cur and cur_w + space + ww <= width_px:
                cur += " " + word
                cur_w += space + ww
                continue
            if cur:
                lines.append(cur)
                if limit is not None and len(lines) >= limit:
                    return lines
            if ww <= width_px:
                cur, cur_w = word, ww
                continue
            # lines break only between words: a single word wider than the line is cut
            # with an ellipsis on a line of its own (fit_text reports it as S702)
            lines.append(ellipsize(word, width_px, size, weight=weight, mono=mono))
            if limit is not None and len(lines) >= limit:
                return lines
            cur, cur_w = "", 0.0
        if cur:
            lines.append(cur)
            if limit is not None and len(lines) >= limit:
                return lines
    return lines


def ellipsize(
    text: str,
    width_px: float,
    size: float,
    *,
    weight: str = "normal",
    mono: bool = False,
    force: bool = False,
) -> str:
    """Cut ``text`` to fit ``width_px`` with a trailing ellipsis.

    Unchanged when it fits, unless ``force`` (the text continues elsewhere and the ellipsis
    must show it).
    """
    face = _face(weight, mono)
    scale = size / 1000.0
    if force:
        if _units(face, text + ELLIPSIS) * scale <= width_px:
            return text + ELLIPSIS
    elif _units(face, text) * scale <= width_px:
        return text
    room = width_px - _units(face, ELLIPSIS) * scale
    faces, fallback = _tables()
    get = faces[face].get
    acc = 0.0
    cut = 0
    for i, ch in enumerate(text):
        acc += get(ord(ch), fallback) * scale
        if acc > room:
            break
        cut = i + 1
    return text[:cut].rstrip() + ELLIPSIS


def has_overwide_word(
    text: str, width_px: float, size: float, *, weight: str = "normal", mono: bool = False
) -> bool:
    """Whether some word of ``text`` is wider than ``width_px`` (it cannot wrap cleanly)."""
    face = _face(weight, mono)
    limit = width_px * 1000.0 / size if size > 0 else 0.0
    return any(_units(face, w) > limit for words in _paragraphs(text) for w in words)


@dataclass(frozen=True, slots=True)
class Fit:
    """Text fitted into a box: the lines to draw and what it cost."""

    lines: tuple[str, ...]  # lines to draw, each within the width
    size: float  # font size used (px)
    shrunk: bool  # the size was reduced below the requested size
    ellipsized: bool  # text was cut and ends with an ellipsis


def fit_text(
    text: str,
    width_px: float,
    size: float,
    max_lines: int,
    *,
    weight: str = "normal",
    mono: bool = False,
    min_scale: float = 0.8,
) -> Fit:
    """Wrap ``text`` into at most ``max_lines`` lines of ``width_px``.

    Shrinks the font in small steps down to ``size * min_scale`` when the text needs more
    lines, then cuts the last line with an ellipsis.

    Args:
        text: the text to fit.
        width_px: line width in px.
        size: preferred font size in px.
        max_lines: most lines allowed (at least 1).
        weight: ``"normal"`` or ``"bold"``.
        mono: use the monospaced face.
        min_scale: smallest size as a share of ``size``.

    Returns:
        A :class:`Fit`.
    """
    max_lines = max(1, max_lines)
    width_px = max(1.0, width_px)
    lines = wrap_text(text, width_px, size, weight=weight, mono=mono, max_lines=max_lines)
    wide = has_overwide_word(text, width_px, size, weight=weight, mono=mono)
    if len(lines) <= max_lines and not wide:
        return Fit(tuple(lines), size, False, False)
    floor = size * min_scale
    cur = size
    while cur > floor + 1e-9:
        cur = max(floor, round(cur * 0.92, 2))
        lines = wrap_text(text, width_px, cur, weight=weight, mono=mono, max_lines=max_lines)
        wide = has_overwide_word(text, width_px, cur, weight=weight, mono=mono)
        if len(lines) <= max_lines and not wide:
            return Fit(tuple(lines), cur, True, False)
    if len(lines) <= max_lines:  # fits by lines, but a word had to be cut mid-word
        return Fit(tuple(lines), cur, cur < size, True)
    # ``lines`` was wrapped at ``cur`` and runs past ``max_lines``: the line at the limit is
    # the last one drawn, cut with an ellipsis to show the text goes on.
    last = ellipsize(lines[max_lines - 1], width_px, cur, weight=weight, mono=mono, force=True)
    return Fit((*lines[: max_lines - 1], last), cur, cur < size, True)
