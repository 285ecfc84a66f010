"""The compiled result: SVG text plus what the compile decided (size, warnings, boxes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dslkit.compilers.scene_svg.canvas import Box

from dslkit.errors import Diagnostic

__all__ = ["Box", "Svg"]


@dataclass(frozen=True, slots=True)
class Svg:
    """A compiled scene.

    Shows inline in a notebook (``_repr_svg_``); ``to_png`` rasterises it with cairosvg.
    """

    text: str  # the SVG document (UTF-8 text, no XML declaration)
    width: int  # px
    height: int  # px
    warnings: tuple[Diagnostic, ...] = ()  # S701 shrunk, S702 ellipsized, S703 unread content
    boxes: tuple[Box, ...] = ()  # every placed panel, card and text box

    def save(self, path: str | Path) -> Path:
        """Write the SVG to ``path`` (UTF-8) and return the path."""
        p = Path(path)
        p.write_text(self.text, encoding="utf-8")
        return p

    def to_png(self, width: int | None = None) -> bytes:
        """Rasterise to PNG bytes (``width`` px wide, the SVG's own size when None)."""
        from dslkit.compilers.raster import to_png  # lazy: cairosvg is only needed here

        return to_png(self, width)

    def _repr_svg_(self) -> str:
        return self.text

    def __str__(self) -> str:
        return self.text
