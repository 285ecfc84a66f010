"""The compilers' diagnostic codes, in the toolkit's one table shape (:mod:`dslkit.codes`).

- ``S7xx`` (:data:`RENDER_CODES`): warnings and errors of the scene compiler and rasteriser.
  They share the scene's ``S`` prefix because a user reads them beside the scene's own codes,
  but the language (``scene_dsl``, ``S0xx``-``S6xx``) sits below its compiler and does not
  define them.
- ``X2xx`` (:data:`SOLVER_CODES`): execution failures of the trace solver.

Codes are stable: a code never changes meaning and none is shared with another table.
"""

from __future__ import annotations

from dslkit.codes import Code, CodeTable
from dslkit.errors import CompileError, Severity, SolverError

__all__ = ["RENDER_CODES", "SOLVER_CODES", "diag"]

_EXEC = "trace_execution_failure"

# fmt: off
RENDER_CODES = CodeTable((
    Code("S701", "text-shrunk", "text_fit", Severity.WARNING),
    Code("S702", "text-ellipsized", "text_fit", Severity.WARNING),
    Code("S703", "unread-content-key", "unused_content", Severity.WARNING),
    Code("S704", "svg-not-well-formed", "render_failure"),
    Code("S705", "external-reference", "unsafe_reference", Severity.WARNING),
), error=CompileError)

SOLVER_CODES = CodeTable((
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
), error=SolverError)
# fmt: on

#: Build a render diagnostic (``S7xx``): ``diag(code, message, *, line=, column=, ...)``.
diag = RENDER_CODES.diag
