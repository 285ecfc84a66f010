"""Generate the pinned font metrics table shipped with ``dslkit.compilers.scene_svg``.

Run once (it is not imported at run time)::

    python -m dslkit.compilers.scene_svg.fonts.build_metrics

It reads DejaVu Sans (regular and bold) and DejaVu Sans Mono with Pillow/FreeType and writes
``dejavu_metrics.json``: the advance width of every code point in a fixed set of ranges, in
units of 1/1000 em, plus a fallback for everything else. Measuring text then needs no font file
and no FreeType call, which keeps compiling a scene fast and identical on every machine.
"""

from __future__ import annotations

import json
from pathlib import Path

from PIL import ImageFont

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FACES = {
    "regular": "DejaVuSans.ttf",
    "bold": "DejaVuSans-Bold.ttf",
    "mono": "DejaVuSansMono.ttf",
    "mono_bold": "DejaVuSansMono-Bold.ttf",
}
# Latin, Latin-1, Latin Extended-A/B, IPA-free Greek and Cyrillic, punctuation, currency,
# letterlike, arrows, math operators, box drawing, block and geometric shapes.
RANGES = [
    (0x20, 0x7E),
    (0xA0, 0x24F),
    (0x370, 0x3FF),
    (0x400, 0x4FF),
    (0x2000, 0x206F),
    (0x20A0, 0x20CF),
    (0x2100, 0x214F),
    (0x2190, 0x21FF),
    (0x2200, 0x22FF),
    (0x2500, 0x25FF),
    (0x2600, 0x26FF),
]
SIZE = 1000  # px per em: advances come out directly in 1/1000 em
# Code points the font lacks get this width: a renderer falls back to another font, where
# CJK and emoji are about one em wide, so one em is the safe (never-overflowing) guess.
FALLBACK = 1000


def _has_glyph(probe: ImageFont.FreeTypeFont, ch: str, notdef: tuple[object, bytes]) -> bool:
    # A missing glyph renders as the .notdef box; compare against it at a small size.
    if ch.isspace():
        return True
    mask = probe.getmask(ch)
    return (mask.size, bytes(mask)) != notdef


def build() -> dict[str, object]:
    """Measure every face and return the JSON-ready table."""
    out: dict[str, object] = {
        "font": "DejaVu Sans",
        "mono_font": "DejaVu Sans Mono",
        "units_per_em": SIZE,
        "fallback": FALLBACK,
        # ascent/descent of DejaVu Sans in 1/1000 em, for baseline placement
        "ascent": 928,
        "descent": 236,
        "faces": {},
    }
    faces: dict[str, dict[str, object]] = {}
    for face, filename in FACES.items():
        basic = ImageFont.Layout.BASIC  # no shaping: one code point, one advance
        font = ImageFont.truetype(str(FONT_DIR / filename), SIZE, layout_engine=basic)
        probe = ImageFont.truetype(str(FONT_DIR / filename), 24, layout_engine=basic)
        blank = probe.getmask("\uffff")
        notdef = (blank.size, bytes(blank))
        ranges = []
        for lo, hi in RANGES:
            widths = []
            for cp in range(lo, hi + 1):
                ch = chr(cp)
                widths.append(round(font.getlength(ch)) if _has_glyph(probe, ch, notdef) else -1)
            ranges.append([lo, widths])
        faces[face] = {"file": filename, "ranges": ranges}
    out["faces"] = faces
    return out


def main() -> None:
    """Write ``dejavu_metrics.json`` next to this script."""
    path = Path(__file__).with_name("dejavu_metrics.json")
    path.write_text(json.dumps(build(), separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {path} ({path.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
