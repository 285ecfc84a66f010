"""The one error and diagnostic hierarchy of dslkit.

Every package of the toolkit (``scene_dsl``, ``trace_dsl``, ``compilers``, ``tokenizer``,
``train``) reports problems with the :class:`Diagnostic` shape defined here and raises
subclasses of :class:`DslkitError`. There is no second definition anywhere: other packages
import from this module (it depends on nothing but the standard library, so importing it
stays cheap).

A diagnostic prints like::

    S102 missing-value @ 3:7: expected a value after ':'
      [canvas:]
            ^
"""

from __future__ import annotations

import bisect
import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

__all__ = [
    "ArgumentError",
    "ArtifactError",
    "CheckpointError",
    "CompileError",
    "ContractError",
    "Diagnostic",
    "DslSyntaxError",
    "DslkitError",
    "ErrorMode",
    "InputError",
    "LimitExceededError",
    "LineIndex",
    "MissingExtraError",
    "SceneSyntaxError",
    "SceneValidationError",
    "Severity",
    "SolverError",
    "TokenizerError",
    "TraceSyntaxError",
    "TraceValidationError",
    "ValidationError",
    "caret_context",
    "expect_type",
    "line_col",
]


class Severity(str, enum.Enum):
    """How bad a diagnostic is. Errors make a program invalid; warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    def __str__(self) -> str:  # so f-strings print "error", not "Severity.ERROR"
        return self.value


ErrorMode = str  # "raise" | "collect"; a plain str keeps call sites readable


def line_col(text: str, offset: int) -> tuple[int, int]:
    """Return the 1-based ``(line, column)`` of a 0-based character ``offset`` in ``text``.

    CRLF counts as one line break; the column counts characters, not bytes.
    """
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset) + 1
    start = text.rfind("\n", 0, offset) + 1
    return line, offset - start + 1


def caret_context(text: str, line: int, column: int, *, width: int = 100) -> tuple[str, str]:
    """Return ``(source_line, caret_line)`` for a 1-based position, clipped to ``width``.

    Long lines are windowed around the column so a 1 MB single-line input still gives a
    readable two-line context. One call costs O(text before the line's end); for many
    positions in one text use :class:`LineIndex`, which costs O(log lines + width) per call.
    """
    if line < 1:
        return "", ""
    start = 0
    for _ in range(line - 1):
        start = text.find("\n", start) + 1
        if start == 0:  # fewer lines than asked for
            return "", ""
    end = text.find("\n", start)
    return _window(text, start, len(text) if end < 0 else end, column, width)


def _window(text: str, start: int, end: int, column: int, width: int) -> tuple[str, str]:
    # The line is text[start:end] (no newline); only the shown window is ever copied.
    while end > start and text[end - 1] == "\r":
        end -= 1
    col = max(1, column)
    first = 0
    if end - start > width:
        first = max(0, min(col - 1 - width // 2, end - start - width))
    src = text[start + first : min(end, start + first + width)]
    # Control characters (NUL, tabs) would misalign the caret or corrupt terminals.
    shown = src if src.isprintable() else "".join(c if c.isprintable() else "?" for c in src)
    return shown, " " * (col - 1 - first) + "^"


class LineIndex:
    """The line starts of one text, found once, for many positions in it.

    Reporting thousands of findings in a large input must stay linear: :func:`line_col` and
    :func:`caret_context` scan from the start of the text on every call, this bisects.
    """

    __slots__ = ("starts", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0, *(m.end() for m in re.finditer("\n", text))]

    def line_col(self, offset: int) -> tuple[int, int]:
        """As :func:`line_col`, in O(log lines)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def caret_context(self, line: int, column: int, *, width: int = 100) -> tuple[str, str]:
        """As :func:`caret_context`, in O(width)."""
        if not 1 <= line <= len(self.starts):
            return "", ""
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return _window(self.text, self.starts[line - 1], end, column, width)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem found in a program, with a stable code and a 1-based position.

    Diagnostics are plain data: comparable, hashable, picklable and JSON-friendly via
    :meth:`to_dict`. Source context is excluded from equality so two runs over the same
    program compare equal regardless of how much context each captured.
    """

    code: str  # stable id, e.g. "S102"; never reused for another meaning
    failure_class: str  # training-method class, e.g. "scene_prefix_failure"
    message: str  # one sentence for a person
    line: int = 0  # 1-based; 0 when the problem has no position (e.g. whole-file)
    column: int = 0  # 1-based character column
    severity: Severity = Severity.ERROR
    offset: int = -1  # 0-based character offset, -1 when unknown
    name: str = ""  # short kebab-case name shown beside the code, e.g. "missing-value"
    source_line: str = field(default="", compare=False)
    caret: str = field(default="", compare=False)

    @property
    def is_error(self) -> bool:
        """True when the diagnostic makes the program invalid."""
        return self.severity is Severity.ERROR

    def with_source(self, text: str) -> Diagnostic:
        """Return a copy carrying the source line and caret for its position in ``text``."""
        if self.line <= 0:
            return self
        src, caret = caret_context(text, self.line, self.column)
        return replace(self, source_line=src, caret=caret)

    def headline(self) -> str:
        """``S102 missing-value @ 3:7: message`` (position omitted when unknown)."""
        label = f"{self.code} {self.name}" if self.name else self.code
        where = f" @ {self.line}:{self.column}" if self.line > 0 else ""
        sev = "" if self.is_error else f" ({self.severity})"
        return f"{label}{where}{sev}: {self.message}"

    def format(self) -> str:
        """The headline followed by the source line and a caret, when known."""
        out = self.headline()
        if self.source_line or self.caret:
            out += f"\n  {self.source_line}\n  {self.caret}"
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON shape used by every ``--json`` command line of the toolkit."""
        return {
            "code": self.code,
            "failure_class": self.failure_class,
            "severity": self.severity.value,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }

    def __str__(self) -> str:
        return self.format()


class DslkitError(Exception):
    """Base of every error the toolkit raises on purpose.

    Carries zero or more diagnostics. ``str(err)`` formats them with positions. Picklable,
    so errors cross process boundaries (multiprocessing, torch DataLoader workers).
    """

    def __init__(self, message: str = "", diagnostics: Sequence[Diagnostic] = ()) -> None:
        self.diagnostics: tuple[Diagnostic, ...] = tuple(diagnostics)
        if not message and self.diagnostics:
            message = "\n".join(d.format() for d in self.diagnostics)
        self.message = message
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.message, self.diagnostics))

    @property
    def diagnostic(self) -> Diagnostic | None:
        """The first (primary) diagnostic, if any."""
        return self.diagnostics[0] if self.diagnostics else None

    @property
    def code(self) -> str:
        """Code of the primary diagnostic ("" when there is none)."""
        d = self.diagnostic
        return d.code if d else ""

    @property
    def line(self) -> int:
        d = self.diagnostic
        return d.line if d else 0

    @property
    def column(self) -> int:
        d = self.diagnostic
        return d.column if d else 0

    @classmethod
    def from_diagnostics(cls, diagnostics: Iterable[Diagnostic]) -> DslkitError:
        """Build an error of this class from diagnostics (errors first)."""
        diags = sorted(diagnostics, key=lambda d: (not d.is_error, d.line, d.column))
        return cls("", diags)


class DslSyntaxError(DslkitError):
    """The text is not in the language: it does not parse."""


class SceneSyntaxError(DslSyntaxError):
    """A scene DSL text does not parse."""


class TraceSyntaxError(DslSyntaxError):
    """A trace DSL text does not parse."""


class LimitExceededError(DslSyntaxError):
    """An input exceeded a size or depth limit set by a parameter."""


class ValidationError(DslkitError):
    """A program parses but breaks its contract (vocabulary, references, structure)."""


class SceneValidationError(ValidationError):
    """A scene breaks its contract or its content binding."""


class TraceValidationError(ValidationError):
    """A trace breaks its expert vocabulary or structural rules."""


class ContractError(DslkitError):
    """A contract file is missing, malformed or inconsistent."""


class CompileError(DslkitError):
    """A compiler could not turn a program into its output (carries the scene diagnostics)."""


class SolverError(DslkitError):
    """The trace solver hit an execution error (division by zero, undefined variable, ...).

    The solver reports these as statuses; the exception exists for callers that ask to raise.
    """


class TokenizerError(DslkitError):
    """A tokenizer could not be built, saved, loaded or linted."""


class ArtifactError(DslkitError):
    """A file the toolkit wrote earlier (packed rows, a checkpoint) is missing, truncated,
    corrupt or of another format; the message names the file."""


class CheckpointError(ArtifactError):
    """A model or training checkpoint cannot be loaded (corrupt, wrong format, failed checksum)."""


class MissingExtraError(DslkitError, ImportError):
    """An optional dependency is not installed; the message names the dslkit extra to install.

    Also an ``ImportError``, so code that already falls back on ``ImportError`` keeps working.
    """

    def __init__(
        self,
        message: str = "",
        diagnostics: Sequence[Diagnostic] = (),
        *,
        module: str = "",
        extra: str = "",
    ) -> None:
        super().__init__(message, diagnostics)
        self.module = module  # the import name that is missing, e.g. "cairosvg"
        self.extra = extra  # the extra that installs it, e.g. "render"

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_missing_extra, (self.message, self.module, self.extra))


def _rebuild_missing_extra(message: str, module: str, extra: str) -> MissingExtraError:
    return MissingExtraError(message, module=module, extra=extra)


class InputError(DslkitError, ValueError):
    """An input file or stream could not be read as text or JSON (bytes that are not UTF-8,
    malformed JSON, nesting past the depth limit, a number JSON cannot carry).

    Also a ``ValueError``, so callers that guarded ``json.loads`` keep working.
    """


class ArgumentError(DslkitError, TypeError, ValueError):
    """A public function was called with an argument of the wrong type or an impossible
    value (``parse(None)``, ``theme_overrides=[...]``): a programming error, reported by name
    instead of an ``AttributeError`` from deep inside. Also a ``TypeError`` and ``ValueError``.
    """


def expect_type(value: object, types: type | tuple[type, ...], what: str) -> None:
    """Raise :class:`ArgumentError` unless ``value`` is an instance of ``types``.

    Args:
        value: the argument as passed.
        types: the accepted type or types.
        what: how to name the argument, e.g. ``"parse(text)"``.
    """
    if not isinstance(value, types):
        accepted = types if isinstance(types, tuple) else (types,)
        names = " or ".join(t.__name__ for t in accepted)
        raise ArgumentError(f"{what} must be {names}, not {type(value).__name__}")
