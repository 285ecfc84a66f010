"""A uniform-grid index of rectangles: does a query rectangle overlap any stored one?

Layouts that place a label clear of every card and earlier label asked that question by
testing every rectangle placed so far, once per label: quadratic in the size of the graph
(1,000 nodes took 9 s). Bucketing rectangles by the grid cells they cover makes one query
cost the rectangles near it. Answers are exactly those of the linear scan, so output bytes
do not change.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Protocol

__all__ = ["RectIndex", "overlaps"]

CELL = 24.0  # px; about a label line: non-overlapping chips and cards share few cells
_MAX_CELLS = 256  # a rectangle covering more cells (a whole panel) is kept in a short list


class _Box(Protocol):
    @property
    def x(self) -> float: ...
    @property
    def y(self) -> float: ...
    @property
    def w(self) -> float: ...
    @property
    def h(self) -> float: ...


def overlaps(a: _Box, b: _Box, tol: float = 0.6) -> bool:
    """True when ``a`` and ``b`` overlap by more than ``tol`` px along both axes."""
    return (
        min(a.x + a.w, b.x + b.w) - max(a.x, b.x) > tol
        and min(a.y + a.h, b.y + b.h) - max(a.y, b.y) > tol
    )


def _too_thin(extent: float, at: float, tol: float) -> bool:
    # An overlap along an axis is at most the extent, plus float rounding of x + w and of the
    # subtraction (a few ulps of the coordinates): the margin keeps a rect exactly tol wide,
    # whose rounded overlap can come out a hair above tol, in the index.
    return extent < tol - 1e-9 * (1.0 + abs(at) + abs(extent))


class RectIndex:
    """Rectangles bucketed by the grid cells they cover.

    Two rectangles that overlap share at least one cell (the overlap lies in both), so a
    query only tests the rectangles filed under the cells it covers.
    """

    __slots__ = ("_big", "_cells", "_tol")

    def __init__(self, rects: Iterable[_Box] = (), *, tol: float = 0.6) -> None:
        self._cells: dict[tuple[int, int], list[_Box]] = {}
        self._big: list[_Box] = []
        self._tol = tol
        for r in rects:
            self.add(r)

    @staticmethod
    def _span(r: _Box) -> tuple[int, int, int, int] | None:
        if not all(math.isfinite(v) for v in (r.x, r.y, r.w, r.h)):
            return None  # cannot be bucketed: kept in the short list, tested one by one
        return (
            math.floor(r.x / CELL),
            math.floor((r.x + r.w) / CELL),
            math.floor(r.y / CELL),
            math.floor((r.y + r.h) / CELL),
        )

    def add(self, r: _Box) -> None:
        """File ``r`` under every cell it covers."""
        if _too_thin(r.w, r.x, self._tol) or _too_thin(r.h, r.y, self._tol):
            return  # never overlaps anything by more than tol on that axis: never a hit
        span = self._span(r)
        if span is None or (span[1] - span[0] + 1) * (span[3] - span[2] + 1) > _MAX_CELLS:
            self._big.append(r)
            return
        x0, x1, y0, y1 = span
        for cx in range(x0, x1 + 1):
            for cy in range(y0, y1 + 1):
                self._cells.setdefault((cx, cy), []).append(r)

    def hits(self, q: _Box) -> bool:
        """True when ``q`` overlaps a stored rectangle by more than ``tol`` on both axes."""
        tol = self._tol
        if any(overlaps(q, r, tol) for r in self._big):
            return True
        span = self._span(q)
        if span is None:
            return any(overlaps(q, r, tol) for rs in self._cells.values() for r in rs)
        x0, x1, y0, y1 = span
        if (x1 - x0 + 1) * (y1 - y0 + 1) > _MAX_CELLS * 4:  # a huge query: scan everything
            return any(overlaps(q, r, tol) for rs in self._cells.values() for r in rs)
        cells = self._cells
        for cx in range(x0, x1 + 1):
            for cy in range(y0, y1 + 1):
                bucket = cells.get((cx, cy))
                if bucket and any(overlaps(q, r, tol) for r in bucket):
                    return True
        return False
