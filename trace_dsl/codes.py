"""Stable diagnostic codes of the trace DSL (``T...``), in one table.

One table, so a code is never reused for another meaning and every code has a kebab-case
name and a failure class the probe can count. Tests walk this table: each code has a test.
The solver's execution codes (``X2xx``) live with the solver, in ``dslkit.compilers.codes``.
"""

from __future__ import annotations

from dslkit.codes import Code, CodeTable
from dslkit.errors import TraceSyntaxError

__all__ = ["TRACE_CODES", "diagnostic"]

_SYNTAX = "trace_syntax_failure"
_NUMBER = "trace_number_format"
_SCHEMA = "trace_schema_failure"
_VOCAB = "trace_vocabulary_failure"
_LIMIT = "trace_limit_exceeded"

# fmt: off
TRACE_CODES = CodeTable((
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
), error=TraceSyntaxError)
# fmt: on

#: Build a trace diagnostic: ``diagnostic(code, message, line=0, column=0, offset=-1)`` (the
#: parser passes lark positions in that order; see :meth:`dslkit.codes.CodeTable.diag`).
diagnostic = TRACE_CODES.diag
