"""Every scene diagnostic code, its short name and its failure class, in one table.

Codes are stable: a code never changes meaning. ``S0xx`` program frame, ``S1xx`` tokens,
``S2xx`` nesting, ``S3xx`` contract, ``S4xx`` leaks, ``S5xx`` limits, ``S6xx`` content binding,
``S7xx`` compiler/render warnings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dslkit.errors import Diagnostic, Severity, line_col

if TYPE_CHECKING:
    from scene_dsl.ast import Span

__all__ = ["CODES", "diag"]

# code -> (name, failure_class, severity)
CODES: dict[str, tuple[str, str, Severity]] = {
    "S001": ("missing-scene-open", "scene_prefix_failure", Severity.ERROR),
    "S002": ("missing-scene-close", "scene_suffix_failure", Severity.ERROR),
    "S003": ("text-after-scene", "scene_suffix_failure", Severity.ERROR),
    "S004": ("missing-layout", "scene_prefix_failure", Severity.ERROR),
    "S100": ("stray-text", "syntax_error", Severity.ERROR),
    "S101": ("malformed-token", "syntax_error", Severity.ERROR),
    "S102": ("missing-value", "syntax_error", Severity.ERROR),
    "S103": ("attribute-in-block", "block_nesting_failure", Severity.ERROR),
    "S104": ("dangling-field-role", "syntax_error", Severity.ERROR),
    "S105": ("stray-value-token", "syntax_error", Severity.ERROR),
    "S106": ("row-arity", "missing_required_field", Severity.ERROR),
    "S107": ("bad-edge", "syntax_error", Severity.ERROR),
    "S108": ("stray-close-bracket", "syntax_error", Severity.ERROR),
    "S109": ("unexpected-token", "syntax_error", Severity.ERROR),
    "S110": ("not-utf8", "syntax_error", Severity.ERROR),
    "S111": ("mixed-dialects", "dialect_mix", Severity.ERROR),
    "S201": ("stray-close", "block_nesting_failure", Severity.ERROR),
    "S202": ("wrong-close", "block_nesting_failure", Severity.ERROR),
    "S203": ("unclosed-block", "block_nesting_failure", Severity.ERROR),
    "S204": ("repeated-scene-open", "block_nesting_failure", Severity.ERROR),
    "S205": ("invalid-nesting", "block_nesting_failure", Severity.ERROR),
    "S301": ("duplicate-attr", "duplicate_attr", Severity.ERROR),
    "S302": ("unknown-attr", "unknown_attr", Severity.ERROR),
    "S303": ("unknown-value", "unknown_value", Severity.ERROR),
    "S304": ("unknown-component", "unknown_component", Severity.ERROR),
    "S305": ("unknown-field", "unknown_field", Severity.ERROR),
    "S306": ("missing-required-field", "missing_required_field", Severity.ERROR),
    "S307": ("component-not-in-family", "component_not_in_family", Severity.ERROR),
    "S308": ("duplicate-field", "duplicate_field", Severity.ERROR),
    "S309": ("duplicate-component", "duplicate_component", Severity.ERROR),
    "S310": ("family-missing-component", "missing_required_field", Severity.ERROR),
    "S311": ("tone-not-in-theme", "unknown_value", Severity.ERROR),
    "S312": ("tone-not-in-theme", "unknown_value", Severity.ERROR),
    "S313": ("duplicate-id", "duplicate_id", Severity.ERROR),
    "S314": ("unknown-id", "unresolved_ref", Severity.ERROR),
    "S315": ("bad-field-value", "unknown_value", Severity.ERROR),
    "S316": ("literal-where-ref", "unresolved_ref", Severity.ERROR),
    "S401": ("special-token-leak", "special_token_leak", Severity.ERROR),
    "S501": ("input-too-long", "limit_exceeded", Severity.ERROR),
    "S502": ("nesting-too-deep", "limit_exceeded", Severity.ERROR),
    "S601": ("unresolved-ref", "unresolved_ref", Severity.ERROR),
    "S602": ("unused-content", "unused_content", Severity.WARNING),
    "S603": ("bad-content", "unresolved_ref", Severity.ERROR),
    "S604": ("ref-wrong-shape", "content_shape", Severity.ERROR),
    "S701": ("text-shrunk", "text_fit", Severity.WARNING),
    "S702": ("text-ellipsized", "text_fit", Severity.WARNING),
    "S703": ("unread-content-key", "unused_content", Severity.WARNING),
    "S704": ("svg-not-well-formed", "render_failure", Severity.ERROR),
    "S705": ("external-reference", "unsafe_reference", Severity.WARNING),
}


def diag(
    code: str,
    message: str,
    *,
    text: str | None = None,
    offset: int = -1,
    line: int = 0,
    column: int = 0,
    severity: Severity | None = None,
    span: Span | None = None,
) -> Diagnostic:
    """Build a scene diagnostic from the code table.

    Args:
        code: a key of :data:`CODES`.
        message: one sentence for a person.
        text: the source, to compute line:column from ``offset`` and attach a caret line.
        offset: 0-based character offset in ``text`` (-1 when unknown).
        line: 1-based line, when known without the source.
        column: 1-based column, when known without the source.
        severity: override the table's severity.
        span: an AST node's source span; supplies line, column and offset when given.

    Returns:
        A :class:`Diagnostic` with the code's name and failure class.
    """
    name, failure_class, default_severity = CODES[code]
    if span is not None:
        line, column, offset = span.line, span.column, span.start
    if text is not None and offset >= 0:
        line, column = line_col(text, offset)
    d = Diagnostic(
        code=code,
        failure_class=failure_class,
        message=message,
        line=line,
        column=column,
        severity=severity or default_severity,
        offset=offset,
        name=name,
    )
    return d.with_source(text) if text is not None and line > 0 else d
