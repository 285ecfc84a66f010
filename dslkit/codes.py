"""One shape for every diagnostic code table of the toolkit.

Each package writes its codes down once, as a :class:`CodeTable` of :class:`Code` entries:
``scene_dsl.diagnostics.SCENE_CODES`` (``S0xx``-``S6xx``), ``trace_dsl.codes.TRACE_CODES``
(``T...``), ``dslkit.tokenizer.codes.TOKENIZER_CODES`` (``K...``) and, with the compilers,
``dslkit.compilers.codes.RENDER_CODES`` (``S7xx``) and ``SOLVER_CODES`` (``X2xx``). A table
builds the :class:`~dslkit.errors.Diagnostic` for a code (name, failure class and severity come
from the table, so a call site only says what happened and where) and the error that carries it.

Codes are stable: a code never changes meaning and is never reused, which is why a table
refuses a code written twice and why :func:`check_disjoint` exists for the tables together.
Depends on the standard library and :mod:`dslkit.errors` only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from dslkit.errors import Diagnostic, DslkitError, Severity, line_col

__all__ = ["Code", "CodeTable", "Positioned", "check_disjoint"]


@dataclass(frozen=True, slots=True)
class Code:
    """A diagnostic code: its stable id, kebab-case name, failure class and default severity."""

    code: str  # stable id, e.g. "S102"; never reused for another meaning
    name: str  # short kebab-case name printed beside the code, e.g. "missing-value"
    failure_class: str  # training-method class the probe counts, e.g. "syntax_error"
    severity: Severity = Severity.ERROR  # what a diagnostic of this code is unless overridden


class Positioned(Protocol):
    """Anything with a 1-based start position and a 0-based start offset (an AST ``Span``)."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def start(self) -> int: ...


class CodeTable(Mapping[str, Code]):
    """An immutable table of codes, looked up by id, that builds diagnostics and errors.

    A mapping ``code -> Code`` (so ``table["S102"].name``, ``"S102" in table``, ``set(table)``
    work), in the order the codes were written.

    Args:
        codes: the entries; a code written twice is a ``ValueError``.
        error: the :class:`~dslkit.errors.DslkitError` subclass :meth:`fail` builds by default.
    """

    __slots__ = ("_codes", "error")

    def __init__(self, codes: Iterable[Code], *, error: type[DslkitError] = DslkitError) -> None:
        table: dict[str, Code] = {}
        for entry in codes:
            if entry.code in table:
                raise ValueError(f"code {entry.code} is written twice in one table")
            table[entry.code] = entry
        self._codes = table
        self.error = error

    def __getitem__(self, code: str) -> Code:
        return self._codes[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._codes)

    def __len__(self) -> int:
        return len(self._codes)

    def __repr__(self) -> str:
        return f"CodeTable({len(self)} codes, error={self.error.__name__})"

    def diag(
        self,
        code: str,
        message: str,
        line: int = 0,
        column: int = 0,
        offset: int = -1,
        *,
        span: Positioned | None = None,
        text: str | None = None,
        severity: Severity | None = None,
    ) -> Diagnostic:
        """Build the diagnostic for ``code``.

        ``line``, ``column`` and ``offset`` may be given by position: the trace parser reports
        lark token positions that way, most other callers name them.

        Args:
            code: a code of this table (``KeyError`` otherwise: an unknown code is a bug).
            message: one sentence for a person.
            line: 1-based line, 0 when the problem has no position.
            column: 1-based character column, 0 when unknown.
            offset: 0-based character offset, -1 when unknown.
            span: an AST node's source span; supplies line, column and offset when given.
            text: the source; with an offset it gives line:column, and it adds the caret line.
            severity: overrides the code's default severity.

        Returns:
            A :class:`~dslkit.errors.Diagnostic` with the code's name and failure class.
        """
        entry = self._codes[code]
        if span is not None:
            line, column, offset = span.line, span.column, span.start
        if text is not None and offset >= 0:
            line, column = line_col(text, offset)
        d = Diagnostic(
            code=code,
            failure_class=entry.failure_class,
            message=message,
            line=line,
            column=column,
            severity=severity or entry.severity,
            offset=offset,
            name=entry.name,
        )
        return d.with_source(text) if text is not None and line > 0 else d

    def fail(
        self,
        code: str,
        message: str,
        line: int = 0,
        column: int = 0,
        offset: int = -1,
        *,
        span: Positioned | None = None,
        text: str | None = None,
        error: type[DslkitError] | None = None,
    ) -> DslkitError:
        """Build the error carrying one diagnostic of ``code``, for the caller to raise.

        It returns rather than raises so that call sites read ``raise TABLE.fail(...) from
        None`` (a clean traceback, and type checkers see that control flow ends there).

        Args:
            code, message, line, column, offset, span, text: as for :meth:`diag`.
            error: the error class; the table's :attr:`error` when omitted.

        Returns:
            An instance of ``error`` (or the table's error class) with the one diagnostic.
        """
        d = self.diag(code, message, line, column, offset, span=span, text=text)
        return (error or self.error)("", [d])


def check_disjoint(*tables: CodeTable) -> None:
    """Raise ``ValueError`` when a code id appears in more than one of ``tables``.

    Each table already refuses duplicates within itself; this checks across packages, so
    ``S701`` can never mean one thing to the scene language and another to the compiler.
    """
    seen: dict[str, int] = {}
    for i, table in enumerate(tables):
        for code in table:
            if code in seen and seen[code] != i:
                raise ValueError(f"code {code} is defined in two tables")
            seen[code] = i
