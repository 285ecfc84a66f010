"""Tokenizer diagnostic codes (prefix ``K``), their names and failure classes, in one table.

Codes are stable: a code never changes meaning. ``K0xx`` build and I/O, ``K1xx`` reserved tokens
that carry payload, ``K2xx`` contract structure missing, ``K3xx`` structure that encodes to more
ids than the granularity promises, ``K4xx`` vocabulary shape warnings.
"""

from __future__ import annotations

from dslkit.errors import Diagnostic, Severity, TokenizerError

__all__ = ["CODES", "diag", "fail"]

# code -> (name, failure_class, severity)
CODES: dict[str, tuple[str, str, Severity]] = {
    "K001": ("bad-argument", "tokenizer_error", Severity.ERROR),
    "K002": ("empty-corpus", "tokenizer_error", Severity.ERROR),
    "K003": ("bad-corpus-file", "tokenizer_error", Severity.ERROR),
    "K004": ("not-a-tokenizer-dir", "tokenizer_error", Severity.ERROR),
    "K005": ("bad-rows-file", "tokenizer_error", Severity.ERROR),
    "K101": ("reserved-carries-payload", "tokenizer_lint", Severity.ERROR),
    "K102": ("reserved-not-from-contract", "tokenizer_lint", Severity.WARNING),
    "K201": ("missing-structure-token", "tokenizer_lint", Severity.ERROR),
    "K301": ("structure-too-many-ids", "tokenizer_lint", Severity.ERROR),
    "K401": ("mostly-single-bytes", "tokenizer_lint", Severity.WARNING),
}


def diag(code: str, message: str, *, line: int = 0, column: int = 0) -> Diagnostic:
    """Build a tokenizer :class:`Diagnostic` from the code table.

    Args:
        code: a key of :data:`CODES`.
        message: one sentence naming the token (or file) and why.
        line: 1-based line when the finding has a position in a file, else 0.
        column: 1-based column, else 0.

    Returns:
        The diagnostic with name, failure class and severity filled in from the table.
    """
    name, failure_class, severity = CODES[code]
    return Diagnostic(
        code=code,
        failure_class=failure_class,
        message=message,
        line=line,
        column=column,
        severity=severity,
        name=name,
    )


def fail(code: str, message: str, *, line: int = 0, column: int = 0) -> TokenizerError:
    """Return (for the caller to raise) a :class:`TokenizerError` carrying one diagnostic."""
    return TokenizerError("", [diag(code, message, line=line, column=column)])
