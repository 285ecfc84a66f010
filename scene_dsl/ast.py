"""Typed, frozen AST of the scene DSL.

Both surfaces (row form and block form) parse to the same nodes. Source spans ride along
but are excluded from equality, so two parses of equal programs compare equal whatever
their form, whitespace or ``@`` spelling.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from dslkit.errors import LimitExceededError
from dslkit.span import Span  # the position model shared with trace_dsl

__all__ = ["MAX_NESTING", "Attr", "Component", "Field", "Scene", "Span"]

# Hard ceiling on component nesting, whatever a parser's max_depth says. Equality, hashing,
# repr, canonicalisation and printing of nodes all recurse through children; this bound keeps
# every one of them far from Python's recursion limit (v1 nests two levels).
MAX_NESTING = 100


@dataclass(frozen=True, slots=True)
class Attr:
    """A scene attribute token such as ``[theme:infra_dark]``."""

    key: str  # attribute name, e.g. "theme"
    value: str  # raw value text, e.g. "infra_dark" (ints stay text: "3")
    span: Span | None = field(default=None, compare=False, repr=False)
    # Filled in by a dialect reader from that dialect's default (the source omitted it):
    # equal to an explicit attribute, but a writer of the same dialect leaves it out again.
    implicit: bool = field(default=False, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Field:
    """One named field of a component: ``[title_ref:cards.0.title]`` or a row part."""

    name: str  # contract field name, e.g. "title_ref"
    value: str  # value without the optional leading '@'
    span: Span | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class Component:
    """A component with its fields in order and its nested sub-blocks."""

    name: str  # component name, e.g. "section_card"
    fields: tuple[Field, ...] = ()  # repeated fields keep their order
    children: tuple[Component, ...] = ()  # nested sub-blocks, e.g. table_row in table_block
    span: Span | None = field(default=None, compare=False, repr=False)
    # nesting depth, 1 for a component without children; computed, never passed
    depth: int = field(default=1, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        depth = 1 + max((c.depth for c in self.children), default=0)
        if depth > MAX_NESTING:
            raise LimitExceededError(
                f"component [{self.name}] nests {depth} levels deep; at most {MAX_NESTING}"
            )
        object.__setattr__(self, "depth", depth)  # frozen: set once, here

    def get(self, name: str, default: str | None = None) -> str | None:
        """Value of the first field called ``name``."""
        for f in self.fields:
            if f.name == name:
                return f.value
        return default

    def get_all(self, name: str) -> tuple[str, ...]:
        """Values of every field called ``name`` (repeatable fields), in order."""
        return tuple(f.value for f in self.fields if f.name == name)

    def with_fields(self, fields: tuple[Field, ...]) -> Component:
        return replace(self, fields=fields)


@dataclass(frozen=True, slots=True)
class Scene:
    """A whole ``[scene] ... [/scene]`` program."""

    attrs: tuple[Attr, ...] = ()  # scene attributes in source order
    components: tuple[Component, ...] = ()  # top-level components in drawing order
    span: Span | None = field(default=None, compare=False, repr=False)

    def attr(self, key: str, default: str | None = None) -> str | None:
        """Value of the first attribute called ``key``."""
        for a in self.attrs:
            if a.key == key:
                return a.value
        return default

    @property
    def layout(self) -> str | None:
        return self.attr("layout")

    def walk(self) -> list[Component]:
        """Every component, parents before children, in source order (iterative: no recursion)."""
        out: list[Component] = []
        stack = list(reversed(self.components))
        while stack:
            comp = stack.pop()
            out.append(comp)
            stack.extend(reversed(comp.children))
        return out
