"""Every scene diagnostic code, its short name and its failure class, in one table.

Codes are stable: a code never changes meaning. ``S0xx`` program frame, ``S1xx`` tokens,
``S2xx`` nesting, ``S3xx`` contract, ``S4xx`` leaks, ``S5xx`` limits, ``S6xx`` content binding.
The compiler's render codes (``S7xx``) live with the compiler, in ``dslkit.compilers.codes``:
the language sits below its compiler and does not define the compiler's codes.
"""

from __future__ import annotations

from dslkit.codes import Code, CodeTable
from dslkit.errors import SceneSyntaxError, Severity

__all__ = ["SCENE_CODES", "diag"]

# fmt: off
SCENE_CODES = CodeTable((
    Code("S001", "missing-scene-open", "scene_prefix_failure"),
    Code("S002", "missing-scene-close", "scene_suffix_failure"),
    Code("S003", "text-after-scene", "scene_suffix_failure"),
    Code("S004", "missing-layout", "scene_prefix_failure"),
    Code("S100", "stray-text", "syntax_error"),
    Code("S101", "malformed-token", "syntax_error"),
    Code("S102", "missing-value", "syntax_error"),
    Code("S103", "attribute-in-block", "block_nesting_failure"),
    Code("S104", "dangling-field-role", "syntax_error"),
    Code("S105", "stray-value-token", "syntax_error"),
    Code("S106", "row-arity", "missing_required_field"),
    Code("S107", "bad-edge", "syntax_error"),
    Code("S108", "stray-close-bracket", "syntax_error"),
    Code("S109", "unexpected-token", "syntax_error"),
    Code("S110", "not-utf8", "syntax_error"),
    Code("S111", "mixed-dialects", "dialect_mix"),
    Code("S201", "stray-close", "block_nesting_failure"),
    Code("S202", "wrong-close", "block_nesting_failure"),
    Code("S203", "unclosed-block", "block_nesting_failure"),
    Code("S204", "repeated-scene-open", "block_nesting_failure"),
    Code("S205", "invalid-nesting", "block_nesting_failure"),
    Code("S301", "duplicate-attr", "duplicate_attr"),
    Code("S302", "unknown-attr", "unknown_attr"),
    Code("S303", "unknown-value", "unknown_value"),
    Code("S304", "unknown-component", "unknown_component"),
    Code("S305", "unknown-field", "unknown_field"),
    Code("S306", "missing-required-field", "missing_required_field"),
    Code("S307", "component-not-in-family", "component_not_in_family"),
    Code("S308", "duplicate-field", "duplicate_field"),
    Code("S309", "duplicate-component", "duplicate_component"),
    Code("S310", "family-missing-component", "missing_required_field"),
    Code("S311", "tone-not-in-theme", "unknown_value"),
    Code("S312", "tone-not-in-theme", "unknown_value"),
    Code("S313", "duplicate-id", "duplicate_id"),
    Code("S314", "unknown-id", "unresolved_ref"),
    Code("S315", "bad-field-value", "unknown_value"),
    Code("S316", "literal-where-ref", "unresolved_ref"),
    Code("S401", "special-token-leak", "special_token_leak"),
    Code("S501", "input-too-long", "limit_exceeded"),
    Code("S502", "nesting-too-deep", "limit_exceeded"),
    Code("S601", "unresolved-ref", "unresolved_ref"),
    Code("S602", "unused-content", "unused_content", Severity.WARNING),
    Code("S603", "bad-content", "unresolved_ref"),
    Code("S604", "ref-wrong-shape", "content_shape"),
), error=SceneSyntaxError)
# fmt: on

#: Build a scene diagnostic: ``diag(code, message, *, text=, offset=, line=, column=, span=,
#: severity=)`` (see :meth:`dslkit.codes.CodeTable.diag`).
diag = SCENE_CODES.diag
