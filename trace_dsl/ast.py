"""Trace AST: frozen, slotted dataclasses; one class per step kind.

Numbers are exact: ``int`` when integral, else :class:`fractions.Fraction` (always a
terminating decimal when it came from text or JSON). An argument is a variable name (``str``)
or a number. Source positions ride along as a :class:`~dslkit.span.Span` (the scene AST's
position model; ``line``/``column`` read it, 0 when the node was built rather than parsed) and
are excluded from equality, so two parses of equal programs compare equal. Printing lives in
``printer.py``; invariants in :func:`trace_dsl.validate.validate`; the keys of each step in
:mod:`trace_dsl.schema`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import ClassVar

from dslkit.span import Span

__all__ = [
    "PERCENT_OPS",
    "AddEntity",
    "Arg",
    "Compare",
    "Compute",
    "Consume",
    "Formula",
    "Given",
    "Init",
    "Number",
    "Percent",
    "Query",
    "Span",
    "State",
    "Step",
    "SubTrace",
    "Trace",
    "Transfer",
]

Number = int | Fraction
Arg = str | int | Fraction  # a variable name or a literal number


class _Positioned:
    """``line``/``column`` of a node, read from its span (0 when it has none)."""

    __slots__ = ()
    span: Span | None

    @property
    def line(self) -> int:
        """1-based line of the node's first character (0: not parsed from text)."""
        return self.span.line if self.span is not None else 0

    @property
    def column(self) -> int:
        """1-based column of the node's first character (0: not parsed from text)."""
        return self.span.column if self.span is not None else 0


@dataclass(frozen=True, slots=True)
class Init(_Positioned):
    """``{op: init, var, value | source}``: bind a number, or pipe in an earlier answer."""

    op: ClassVar[str] = "init"
    var: str  # variable written
    value: Number | None = None  # literal value (exactly one of value/source is set)
    source: str | None = None  # "prev.result" or "subN.result"
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Given(_Positioned):
    """``{op: given, values: {name: number, ...}}``: several inits at once."""

    op: ClassVar[str] = "given"
    values: tuple[tuple[str, Number], ...]  # (name, value) in source order
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Compute(_Positioned):
    """``{op: compute, compute_op, args, var}``: apply an arithmetic op and write ``var``."""

    op: ClassVar[str] = "compute"
    compute_op: str  # one of experts.COMPUTE_OPS
    args: tuple[Arg, ...]  # variable names or numbers
    var: str  # variable written
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Compare(_Positioned):
    """``{op: compare, compute_op, args, var}``: the comparison expert's compute."""

    op: ClassVar[str] = "compare"
    compute_op: str  # one of experts.COMPUTE_OPS
    args: tuple[Arg, ...]  # variable names or numbers
    var: str  # variable written
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Query(_Positioned):
    """``{op: query, var}``: the answer is the value of ``var`` (the last query wins)."""

    op: ClassVar[str] = "query"
    var: str  # variable read
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class State(_Positioned):
    """``{op: state, assertions: {name: number}}``: assert current values."""

    op: ClassVar[str] = "state"
    assertions: tuple[tuple[str, Number], ...]  # (name, expected value) in source order
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Formula(_Positioned):
    """``{op: formula, expression}``: a human-readable formula; accepted, no effect."""

    op: ClassVar[str] = "formula"
    expression: str  # free text, printed double-quoted
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Transfer(_Positioned):
    """``{op: transfer, from_entity, to_entity, amount}``: move an amount between entities."""

    op: ClassVar[str] = "transfer"
    from_entity: str  # entity decreased (must hold at least ``amount``)
    to_entity: str  # entity increased (starts at 0 when new)
    amount: Arg  # variable name or number
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Consume(_Positioned):
    """``{op: consume, entity, amount}``: use up part of an initialised entity."""

    op: ClassVar[str] = "consume"
    entity: str  # entity decreased (must exist and hold at least ``amount``)
    amount: Arg  # variable name or number
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class AddEntity(_Positioned):
    """``{op: add_entity, entity, amount}``: add to an entity (created at 0 when new)."""

    op: ClassVar[str] = "add_entity"
    entity: str  # entity increased
    amount: Arg  # variable name or number
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Percent(_Positioned):
    """``{op: percent_off | percent_increase | percent_of, base, rate, var}``."""

    op: str  # "percent_off" | "percent_increase" | "percent_of"
    base: Arg  # variable name or number
    rate: Arg  # percent, e.g. 20 for 20%
    var: str  # variable written
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


Step = (
    Init
    | Given
    | Compute
    | Compare
    | Query
    | State
    | Formula
    | Transfer
    | Consume
    | AddEntity
    | Percent
)

PERCENT_OPS: tuple[str, ...] = ("percent_off", "percent_increase", "percent_of")


@dataclass(frozen=True, slots=True)
class SubTrace(_Positioned):
    """One ``{expert, trace}`` block: an expert name and its steps."""

    expert: str  # expert whose vocabulary the steps use
    steps: tuple[Step, ...]  # run in order with a fresh state
    span: Span | None = field(default=None, compare=False, repr=False)  # where it was written


@dataclass(frozen=True, slots=True)
class Trace:
    """A whole program: one sub-trace (single form) or a list of them (composed form)."""

    blocks: tuple[SubTrace, ...]  # at least one
    composed: bool = False  # printed as a list of blocks (answers piped by ``source``)

    @property
    def expert(self) -> str:
        """The expert of the last block (the one whose answer is the trace's answer)."""
        return self.blocks[-1].expert

    @property
    def steps(self) -> tuple[Step, ...]:
        """All steps of all blocks, in order."""
        return tuple(s for b in self.blocks for s in b.steps)
