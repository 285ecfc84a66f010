"""Stable diagnostic codes of the trace DSL (``T...``) and the trace solver (``X...``).

One table, so a code is never reused for another meaning and every code has a kebab-case
name and a failure class the probe can count. Tests walk this table: each code has a test.
"""

from __future__ import annotations

from typing import NamedTuple

from dslkit.errors import Diagnostic


class Code(NamedTuple):
    """A diagnostic code: its stable id, kebab-case name and failure class."""

    code: str
    name: str
    failure_class: str


_SYNTAX = "trace_syntax_failure"
_NUMBER = "trace_number_format"
_SCHEMA = "trace_schema_failure"
_VOCAB = "trace_vocabulary_failure"
_LIMIT = "trace_limit_exceeded"
_EXEC = "trace_execution_failure"

# fmt: off
TRACE_CODES: dict[str, Code] = {c.code: c for c in (
    # -- input limits
    Code("T001", "input-too-large", _LIMIT),
    Code("T002", "too-many-steps", _LIMIT),
    Code("T003", "number-too-long", _LIMIT),
    # -- syntax (the text is not in the grammar)
    Code("T101", "unexpected-character", _SYNTAX),
    Code("T102", "tab-character", _SYNTAX),
    Code("T103", "anchor-alias-or-tag", _SYNTAX),
    Code("T104", "thousands-separator", _NUMBER),
    Code("T105", "colon-in-number", _NUMBER),
    Code("T106", "bad-number", _NUMBER),
    Code("T107", "unexpected-token", _SYNTAX),
    Code("T108", "unexpected-end", _SYNTAX),
    Code("T109", "bad-indentation", _SYNTAX),
    Code("T110", "empty-input", _SYNTAX),
    # -- schema (parses as the YAML subset, but is not a trace)
    Code("T201", "unknown-key", _SCHEMA),
    Code("T202", "duplicate-key", _SCHEMA),
    Code("T203", "missing-key", _SCHEMA),
    Code("T204", "wrong-type", _SCHEMA),
    Code("T205", "unknown-op", _SCHEMA),
    Code("T206", "unknown-compute-op", _SCHEMA),
    Code("T207", "value-and-source", _SCHEMA),
    Code("T208", "bad-source", _SCHEMA),
    Code("T209", "reserved-name", _SCHEMA),
    Code("T210", "empty-trace", _SCHEMA),
    # -- vocabulary (checked by validate())
    Code("T301", "unknown-expert", _VOCAB),
    Code("T302", "op-not-in-expert", _VOCAB),
    Code("T303", "not-representable", _SCHEMA),
)}

SOLVER_CODES: dict[str, Code] = {c.code: c for c in (
    Code("X201", "division-by-zero", _EXEC),
    Code("X202", "undefined-variable", _EXEC),
    Code("X203", "init-only-query", _EXEC),
    Code("X204", "op-not-in-expert", _EXEC),
    Code("X205", "missing-piped-value", _EXEC),
    Code("X206", "overflow", _EXEC),
    Code("X207", "insufficient-amount", _EXEC),
    Code("X208", "uninitialised-entity", _EXEC),
    Code("X209", "no-query", _EXEC),
    Code("X210", "bad-arity", _EXEC),
    Code("X211", "domain-error", _EXEC),
    Code("X212", "assertion-failed", _EXEC),
    Code("X213", "unknown-expert", _EXEC),
    Code("X214", "too-many-steps", _EXEC),
)}
# fmt: on


def diagnostic(
    code: str, message: str, line: int = 0, column: int = 0, offset: int = -1
) -> Diagnostic:
    """Build a :class:`Diagnostic` for a code of either table.

    Args:
        code: a key of :data:`TRACE_CODES` or :data:`SOLVER_CODES`.
        message: one sentence for a person.
        line: 1-based line, 0 when unknown.
        column: 1-based column, 0 when unknown.
        offset: 0-based character offset, -1 when unknown.

    Returns:
        The diagnostic, with the code's name and failure class filled in.
    """
    entry = TRACE_CODES.get(code) or SOLVER_CODES[code]
    return Diagnostic(
        code=code,
        failure_class=entry.failure_class,
        message=message,
        line=line,
        column=column,
        offset=offset,
        name=entry.name,
    )
