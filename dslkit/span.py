"""Source positions, one model for every language's AST.

A node's :class:`Span` rides along beside its fields and is excluded from equality
(``field(compare=False)``), so two parses of equal programs compare equal whatever their
layout. Diagnostics carry the same 1-based line and column.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Span"]


@dataclass(frozen=True, slots=True)
class Span:
    """A source range: 1-based line/column of the start, 0-based character offsets."""

    line: int
    column: int
    start: int  # offset of the first character
    end: int  # offset one past the last character
