"""Tokenizer diagnostic codes (prefix ``K``), their names and failure classes, in one table.

Codes are stable: a code never changes meaning. ``K0xx`` build and I/O, ``K1xx`` reserved tokens
that carry payload, ``K2xx`` contract structure missing, ``K3xx`` structure that encodes to more
ids than the granularity promises, ``K4xx`` vocabulary shape warnings.
"""

from __future__ import annotations

from dslkit.codes import Code, CodeTable
from dslkit.errors import Severity, TokenizerError

__all__ = ["TOKENIZER_CODES", "diag", "fail"]

_ERROR = "tokenizer_error"
_LINT = "tokenizer_lint"

# fmt: off
TOKENIZER_CODES = CodeTable((
    Code("K001", "bad-argument", _ERROR),
    Code("K002", "empty-corpus", _ERROR),
    Code("K003", "bad-corpus-file", _ERROR),
    Code("K004", "not-a-tokenizer-dir", _ERROR),
    Code("K005", "bad-rows-file", _ERROR),
    Code("K101", "reserved-carries-payload", _LINT),
    Code("K102", "reserved-not-from-contract", _LINT, Severity.WARNING),
    Code("K201", "missing-structure-token", _LINT),
    Code("K301", "structure-too-many-ids", _LINT),
    Code("K401", "mostly-single-bytes", _LINT, Severity.WARNING),
), error=TokenizerError)
# fmt: on

#: Build a tokenizer diagnostic: ``diag(code, message, *, line=, column=)``.
diag = TOKENIZER_CODES.diag
#: Build (for the caller to raise) a :class:`TokenizerError` carrying one diagnostic.
fail = TOKENIZER_CODES.fail
