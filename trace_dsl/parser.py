"""Parse trace text into a :class:`~trace_dsl.ast.Trace`, with positioned diagnostics.

Two front ends share one builder:

- the Lark LALR parser of ``trace.lark`` (the definition of the language; loaded once, lazily);
- a line-regex fast path that only recognises the canonical layout (what ``to_text`` prints and
  what models are trained to emit). It was added because Lark costs ~1 ms per GSM8K-sized trace
  and the solver's target is >= 5,000 traces/s. Anything the fast path does not recognise, and
  any input on which the builder reports a problem, is re-parsed by Lark, so every diagnostic
  comes from the grammar with exact positions. Property tests check both front ends agree.

Both produce a raw tree of plain tuples which :func:`_build` checks against the step schemas
(unknown, duplicate and missing keys, wrong value types) and turns into AST nodes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from functools import partial
from typing import Any, Literal, overload

from dslkit.errors import (
    Diagnostic,
    DslkitError,
    LimitExceededError,
    TraceSyntaxError,
    TraceValidationError,
    expect_type,
)

from .ast import (
    PERCENT_OPS,
    AddEntity,
    Arg,
    Compare,
    Compute,
    Consume,
    Formula,
    Given,
    Init,
    Number,
    Percent,
    Query,
    Span,
    State,
    Step,
    SubTrace,
    Trace,
    Transfer,
)
from .codes import diagnostic
from .experts import COMPUTE_OPS
from .schema import KINDS, SCHEMAS
from .validate import validate as _validate

__all__ = ["MAX_STEPS", "MAX_TEXT", "ParseResult", "parse"]

MAX_TEXT = 1_000_000  # characters; bigger inputs are refused before lexing
MAX_STEPS = 10_000  # steps over all blocks
MAX_NUMBER_CHARS = 64  # characters in one number literal

# YAML 1.1 reads these plain scalars as booleans or null; refuse them as names.
RESERVED_WORDS = ("yes", "no", "true", "false", "on", "off", "null")
RESERVED = frozenset(RESERVED_WORDS)
# refused anywhere, even inside a string (T102): YAML forbids tabs in indentation, and a tab
# elsewhere is almost always one a model or an editor put there by mistake
REFUSED_CHAR = "\t"

_NUMBER_RE = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SOURCE_RE = re.compile(r"(?:prev|sub(?:0|[1-9][0-9]*))\.result")
# a digit glued to ',' or ':' and another digit: 80,000 / 1:30 (never valid in this language)
_GLUED_RE = re.compile(r"[0-9]([,:])[0-9]")


@dataclass(frozen=True, slots=True)
class ParseResult:
    """What ``parse(..., errors="collect")`` returns: a trace (or None) and every problem."""

    trace: Trace | None  # None when the text does not parse
    diagnostics: tuple[Diagnostic, ...]  # errors first, then warnings

    @property
    def ok(self) -> bool:
        """True when there is no error."""
        return self.trace is not None and not any(d.is_error for d in self.diagnostics)


# --------------------------------------------------------------------------- raw tree
# value: (kind, payload, line, column); kind in num/name/str/seq/map
# pair: (key, line, column, value); step: (pairs, line, column)
# block: (expert, line, column, dash_column, trace_line, trace_column, steps)
V = tuple[str, Any, int, int]
RawPair = tuple[str, int, int, V]
RawStep = tuple[list[RawPair], int, int]
RawBlock = tuple[str, int, int, int, int, int, list[RawStep]]


class _Problems(Exception):
    """Internal: carries diagnostics out of the front ends."""

    def __init__(self, diags: list[Diagnostic], cls: type[DslkitError] = TraceSyntaxError):
        super().__init__()
        self.diags = diags
        self.cls = cls


# --------------------------------------------------------------------------- Lark front end
_LARK: Any = None


def _lark() -> Any:
    """Build the Lark parser once (lazily, so importing trace_dsl stays cheap)."""
    global _LARK
    if _LARK is None:
        from lark import Lark, Token, Transformer

        def val(tok: Any) -> Any:
            if isinstance(tok, Token):
                kind = {"NUMBER": "num", "NAME": "name", "STRING": "str"}[tok.type]
                payload = tok.value[1:-1] if kind == "str" else tok.value
                return (kind, payload, tok.line, tok.column)
            return tok

        class _Raw(Transformer):
            def pair(self, c: list[Any]) -> RawPair:
                return (c[0].value, c[0].line, c[0].column, val(c[1]))

            def flow_seq(self, c: list[Any]) -> V:
                return ("seq", [val(x) for x in c[1:] if x is not None], c[0].line, c[0].column)

            def flow_map(self, c: list[Any]) -> V:
                return ("map", [x for x in c[1:] if x is not None], c[0].line, c[0].column)

            def step(self, c: list[Any]) -> RawStep:
                return ([x for x in c[1:] if x is not None], c[0].line, c[0].column)

            def expert_pair(self, c: list[Any]) -> tuple[str, int, int]:
                return (c[1].value, c[0].line, c[0].column)

            def trace_key(self, c: list[Any]) -> tuple[int, int]:
                return (c[0].line, c[0].column)

            def single(self, c: list[Any]) -> tuple[bool, list[RawBlock]]:
                (name, line, col), (tl, tc) = c[0], c[1]
                return (False, [(name, line, col, 0, tl, tc, c[2:])])

            def block(self, c: list[Any]) -> RawBlock:
                (name, line, col), (tl, tc) = c[1], c[2]
                return (name, line, col, c[0].column, tl, tc, c[3:])

            def composed(self, c: list[Any]) -> tuple[bool, list[RawBlock]]:
                return (True, list(c))

            def start(self, c: list[Any]) -> Any:
                return c[0]

        _LARK = Lark.open_from_package(
            "trace_dsl",
            "trace.lark",
            parser="lalr",
            propagate_positions=True,
            transformer=_Raw(),
            maybe_placeholders=True,
        )
    return _LARK


def _lark_raw(text: str) -> tuple[bool, list[RawBlock]]:
    from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

    try:
        return _lark().parse(text)
    except UnexpectedCharacters as exc:
        pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
        ch = text[pos] if pos < len(text) else ""
        if ch in "&*!":
            code, msg = (
                "T103",
                f"{ch!r}: YAML anchors, aliases and tags are not part of the language",
            )
        elif ch == '"':
            code, msg = "T101", "unterminated or invalid string (no escapes, no newlines)"
        else:
            code, msg = "T101", f"unexpected character {ch!r}"
        raise _Problems([diagnostic(code, msg, exc.line, exc.column, pos)]) from None
    except UnexpectedToken as exc:
        tok = exc.token
        if tok.type == "$END":
            raise _Problems([_eof(text)]) from None
        expected = ", ".join(sorted(_pretty(t) for t in exc.expected)[:6])
        msg = f"unexpected {tok.value!r}; expected {expected}"
        raise _Problems(
            [diagnostic("T107", msg, tok.line, tok.column, tok.start_pos or -1)]
        ) from None
    except UnexpectedEOF:
        raise _Problems([_eof(text)]) from None


def _eof(text: str) -> Diagnostic:
    from dslkit.errors import line_col

    line, col = line_col(text, len(text))
    return diagnostic(
        "T108", "unexpected end of input (a trace needs at least one step)", line, col
    )


_PRETTY = {
    "NAME": "a name",
    "NUMBER": "a number",
    "STRING": "a string",
    "_NL": "a newline",
    "COLON": "':'",
    "COMMA": "','",
    "RBRACE": "'}'",
    "RSQB": "']'",
    "LBRACE": "'{'",
    "LSQB": "'['",
    "STEP_OPEN": "'- {'",
    "DASH": "'-'",
    "EXPERT": "'expert'",
    "TRACE": "'trace'",
}


def _pretty(terminal: str) -> str:
    return _PRETTY.get(terminal, terminal)


# --------------------------------------------------------------------------- fast front end
_NUM = r"-?[0-9]+(?:\.[0-9]+)?"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_PAIR_RE = re.compile(
    rf"({_NAME}): (?:({_NUM})|({_NAME})|\[([^\[\]{{}}\"]*)\]|\{{([^\[\]{{}}\"]*)\}}|\"([^\"\\\n]*)\")(, |\Z)"
)
_ITEM_RE = re.compile(rf"(?:({_NUM})|({_NAME}))\Z")
_MAP_ITEM_RE = re.compile(rf"({_NAME}): (?:({_NUM})|({_NAME}))\Z")
_EXPERT_LINE = re.compile(r"(- )?expert: ([A-Za-z_][A-Za-z0-9_]*)\Z")


def _fast_scalar(num: str | None, name: str | None) -> V:
    # fast-path values carry no position: the builder only reports on them after Lark re-parses
    return ("num", num, 0, 0) if num is not None else ("name", name, 0, 0)


def _fast_value(m: re.Match[str]) -> V | None:
    num, name, seq, mp, string = m.group(2, 3, 4, 5, 6)
    if num is not None or name is not None:
        return _fast_scalar(num, name)
    if string is not None:
        return ("str", string, 0, 0)
    if seq is not None:
        items: list[V] = []
        if seq:
            for part in seq.split(", "):
                im = _ITEM_RE.match(part)
                if im is None:
                    return None
                items.append(_fast_scalar(*im.group(1, 2)))
        return ("seq", items, 0, 0)
    pairs: list[RawPair] = []
    if mp:
        for part in mp.split(", "):
            im = _MAP_ITEM_RE.match(part)
            if im is None:
                return None
            pairs.append((im.group(1), 0, 0, _fast_scalar(*im.group(2, 3))))
    return ("map", pairs, 0, 0)


def _fast_step(line: str, indent: int, lineno: int) -> RawStep | None:
    body_start = indent + 3
    if not line.endswith("}") or line[indent:body_start] != "- {" or line[:indent].strip():
        return None
    body = line[body_start:-1]
    pairs: list[RawPair] = []
    pos, end = 0, len(body)
    while pos < end:
        m = _PAIR_RE.match(body, pos)
        if m is None:
            return None
        value = _fast_value(m)
        if value is None:
            return None
        pairs.append((m.group(1), 0, 0, value))
        pos = m.end()
        if m.group(7) == ", " and pos == end:
            return None  # trailing ", }"
    return (pairs, lineno, indent + 1)


def _fast_raw(text: str) -> tuple[bool, list[RawBlock]] | None:
    """Recognise the canonical layout only; None means "ask Lark"."""
    if "\r" in text or "#" in text:
        return None
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    n = len(lines)
    if n < 3:
        return None
    m = _EXPERT_LINE.match(lines[0])
    if m is None:
        return None
    composed = m.group(1) is not None
    indent = 2 if composed else 0
    trace_line = "  trace:" if composed else "trace:"
    blocks: list[RawBlock] = []
    i = 0
    while i < n:
        m = _EXPERT_LINE.match(lines[i])
        if m is None or (m.group(1) is not None) != composed or i + 1 >= n:
            return None
        if lines[i + 1] != trace_line:
            return None
        steps: list[RawStep] = []
        j = i + 2
        while j < n and lines[j].startswith("- {", indent):
            step = _fast_step(lines[j], indent, j + 1)
            if step is None:
                return None
            steps.append(step)
            j += 1
        if not steps:
            return None
        blocks.append(
            (
                m.group(2),
                i + 1,
                indent + 1 if composed else 1,
                1 if composed else 0,
                i + 2,
                indent + 1,
                steps,
            )
        )
        i = j
    if not composed and len(blocks) != 1:
        return None
    return (composed, blocks)


# --------------------------------------------------------------------------- builder
def _number(v: V, key: str, diags: list[Diagnostic]) -> Number | None:
    kind, raw, line, col = v
    if kind != "num":
        what = "a YAML boolean/null" if kind == "name" and raw.lower() in RESERVED else repr(raw)
        diags.append(diagnostic("T204", f"{key!r} needs a number, got {what}", line, col))
        return None
    if len(raw) > MAX_NUMBER_CHARS:
        diags.append(
            diagnostic(
                "T003", f"number literal longer than {MAX_NUMBER_CHARS} characters", line, col
            )
        )
        return None
    if _NUMBER_RE.fullmatch(raw) is None:
        diags.append(
            diagnostic(
                "T106", f"bad number {raw!r} (no leading zeros, no '+', no exponent)", line, col
            )
        )
        return None
    if "." not in raw:
        return int(raw)
    f = Fraction(raw)
    return f.numerator if f.denominator == 1 else f


def _ident(v: V, key: str, diags: list[Diagnostic]) -> str | None:
    kind, raw, line, col = v
    if kind != "name" or "." in raw:
        diags.append(diagnostic("T204", f"{key!r} needs a variable name, got {raw!r}", line, col))
        return None
    if raw.lower() in RESERVED:
        diags.append(
            diagnostic(
                "T209", f"{raw!r} reads as a YAML boolean/null; pick another name", line, col
            )
        )
        return None
    return raw


def _arg(v: V, key: str, diags: list[Diagnostic]) -> Arg | None:
    if v[0] == "num":
        return _number(v, key, diags)
    if v[0] == "name":
        return _ident(v, key, diags)
    diags.append(diagnostic("T204", f"{key!r} needs a variable name or a number", v[2], v[3]))
    return None


def _args(v: V, key: str, diags: list[Diagnostic]) -> tuple[Arg, ...] | None:
    if v[0] != "seq":
        diags.append(diagnostic("T204", f"{key!r} needs a list like [a, b]", v[2], v[3]))
        return None
    out = [_arg(item, key, diags) for item in v[1]]
    if any(a is None for a in out):
        return None
    return tuple(out)  # type: ignore[arg-type]


def _num_map(v: V, key: str, diags: list[Diagnostic]) -> tuple[tuple[str, Number], ...] | None:
    if v[0] != "map":
        diags.append(diagnostic("T204", f"{key!r} needs a map like {{name: 3}}", v[2], v[3]))
        return None
    seen: set[str] = set()
    out: list[tuple[str, Number]] = []
    ok = True
    for k, kl, kc, item in v[1]:
        if k in seen:
            diags.append(diagnostic("T202", f"duplicate name {k!r} in {key!r}", kl, kc))
            ok = False
        seen.add(k)
        name = _ident(("name", k, kl, kc), key, diags)
        num = _number(item, k, diags)
        if name is None or num is None:
            ok = False
        else:
            out.append((name, num))
    return tuple(out) if ok else None


def _compute_op(v: V, key: str, diags: list[Diagnostic]) -> str | None:
    if v[0] != "name" or v[1] not in COMPUTE_OPS:
        diags.append(
            diagnostic(
                "T206",
                f"unknown compute_op {v[1]!r}; expected one of {', '.join(COMPUTE_OPS)}",
                v[2],
                v[3],
            )
        )
        return None
    return v[1]


def _source(v: V, key: str, diags: list[Diagnostic]) -> str | None:
    if v[0] != "name" or _SOURCE_RE.fullmatch(v[1]) is None:
        diags.append(
            diagnostic(
                "T208", f"source must be prev.result or subN.result, got {v[1]!r}", v[2], v[3]
            )
        )
        return None
    return v[1]


def _text(v: V, key: str, diags: list[Diagnostic]) -> str | None:
    if v[0] in ("str", "name", "num"):
        return v[1]
    diags.append(diagnostic("T204", f"{key!r} needs a quoted string", v[2], v[3]))
    return None


# value kind (schema.KINDS) -> converter from a raw value (None and a diagnostic when wrong)
_CONVERT: dict[str, Any] = {
    "name": _ident,
    "number": _number,
    "arg": _arg,
    "args": _args,
    "compute_op": _compute_op,
    "source": _source,
    "text": _text,
    "num_map": _num_map,
}
assert set(_CONVERT) == set(KINDS)
# op -> AST node (its fields are named after the step's keys)
_NODES: dict[str, Any] = {
    "init": Init,
    "given": Given,
    "compute": Compute,
    "compare": Compare,
    "query": Query,
    "state": State,
    "formula": Formula,
    "transfer": Transfer,
    "consume": Consume,
    "add_entity": AddEntity,
    **{op: partial(Percent, op) for op in PERCENT_OPS},
}
assert set(_NODES) == set(SCHEMAS)


def _build_step(raw: RawStep, diags: list[Diagnostic], lines: _Lines | None) -> Step | None:
    pairs, line, col = raw
    fields: dict[str, V] = {}
    bad = False
    for key, kl, kc, value in pairs:
        if key in fields:
            diags.append(diagnostic("T202", f"duplicate key {key!r}", kl, kc))
            bad = True
        else:
            fields[key] = value
    opv = fields.pop("op", None)
    if opv is None:
        diags.append(diagnostic("T203", "step has no 'op' key", line, col))
        return None
    if opv[0] != "name" or opv[1] not in SCHEMAS:
        diags.append(
            diagnostic(
                "T205",
                f"unknown op {opv[1]!r}; expected one of {', '.join(sorted(SCHEMAS))}",
                opv[2],
                opv[3],
            )
        )
        return None
    op: str = opv[1]
    schema = SCHEMAS[op]
    out: dict[str, Any] = {}
    for spec in schema.keys:
        v = fields.pop(spec.name, None)
        if v is None:
            if spec.required:
                diags.append(diagnostic("T203", f"{op!r} step needs {spec.name!r}", line, col))
                bad = True
            continue
        converted = _CONVERT[spec.kind](v, spec.name, diags)
        if converted is None:
            bad = True
        out[spec.name] = converted
    for key, (_, kl, kc, _v) in ((k, _find(pairs, k)) for k in fields):
        allowed = ", ".join(schema.names)
        diags.append(
            diagnostic(
                "T201", f"unknown key {key!r} for op {op!r} (allowed: op, {allowed})", kl, kc
            )
        )
        bad = True
    if bad:
        return None
    for group in schema.one_of:
        if sum(name in out for name in group) != 1:
            either = " or ".join(repr(name) for name in group)
            diags.append(diagnostic("T207", f"{op} needs exactly one of {either}", line, col))
            return None
    span = lines.step(line, col) if lines is not None else None
    return _NODES[op](**out, span=span)


def _find(pairs: list[RawPair], key: str) -> RawPair:
    return next(p for p in pairs if p[0] == key)


class _Lines:
    """Line starts of a text, to turn the raw tree's (line, column) into spans."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0]
        i = text.find("\n")
        while i >= 0:
            self.starts.append(i + 1)
            i = text.find("\n", i + 1)

    def step(self, line: int, col: int) -> Span:
        """A step: from its '-' to its closing '}' (a step is one line)."""
        start = self.starts[line - 1] + col - 1
        stop = self.starts[line] if line < len(self.starts) else len(self.text)
        return Span(line, col, start, self.text.rfind("}", start, stop) + 1)

    def block(self, line: int, col: int, last: Span) -> Span:
        """A block: from its ``expert`` key to the end of its last step."""
        return Span(line, col, self.starts[line - 1] + col - 1, last.end)


def _build(
    composed: bool,
    raw_blocks: list[RawBlock],
    diags: list[Diagnostic],
    check_layout: bool = True,
    text: str | None = None,
) -> Trace | None:
    """Turn raw blocks into a Trace; None (with ``diags`` filled) when anything is wrong.

    ``check_layout=False`` is for raw trees with no layout (``from_obj``): no column checks,
    and the step-limit diagnostic carries no position. ``text``: the source the positions
    point into (nodes get spans); None leaves the spans out.
    """
    lines = _Lines(text) if text is not None else None
    blocks: list[SubTrace] = []
    total = 0
    for expert, line, col, dash_col, tl, tc, raw_steps in raw_blocks:
        if not raw_steps:
            diags.append(diagnostic("T210", "a trace needs at least one step", line, col))
            continue
        if check_layout:
            _check_layout(composed, line, col, dash_col, tl, tc, raw_steps, diags)
        total += len(raw_steps)
        if total > MAX_STEPS:
            where = (raw_steps[0][1], 1) if check_layout else ()
            raise _Problems(
                [diagnostic("T002", f"more than {MAX_STEPS} steps", *where)], LimitExceededError
            )
        steps = [_build_step(s, diags, lines) for s in raw_steps]
        if all(s is not None for s in steps):
            span = lines.block(line, col, steps[-1].span) if lines else None  # type: ignore[union-attr,arg-type]
            blocks.append(SubTrace(expert, tuple(steps), span))  # type: ignore[arg-type]
    if diags:
        return None
    return Trace(tuple(blocks), composed)


def _check_layout(
    composed: bool,
    line: int,
    col: int,
    dash_col: int,
    tl: int,
    tc: int,
    raw_steps: list[RawStep],
    diags: list[Diagnostic],
) -> None:
    # indentation: YAML would nest differently (or reject) when these columns drift
    want_key = 3 if composed else 1
    if col != want_key:
        diags.append(diagnostic("T109", f"'expert' must start at column {want_key}", line, col))
    if tc != want_key:
        diags.append(
            diagnostic("T109", f"'trace' must be aligned with 'expert' (column {want_key})", tl, tc)
        )
    if composed and dash_col != 1:
        diags.append(diagnostic("T109", "a block's '-' must start at column 1", line, dash_col))
    step_cols = {s[2] for s in raw_steps}
    first = raw_steps[0][2]
    if first not in (want_key, want_key + 2) or len(step_cols) > 1:
        bad = next((s for s in raw_steps if s[2] != first), raw_steps[0])
        diags.append(
            diagnostic(
                "T109",
                f"steps must all start at column {want_key} (or {want_key + 2})",
                bad[1],
                bad[2],
            )
        )


def _prescan(text: str) -> None:
    from dslkit.errors import line_col

    if len(text) > MAX_TEXT:
        raise _Problems(
            [diagnostic("T001", f"input longer than {MAX_TEXT} characters", 1, 1, 0)],
            LimitExceededError,
        )
    tab = text.find(REFUSED_CHAR)
    if tab >= 0:
        line, col = line_col(text, tab)
        raise _Problems([diagnostic("T102", "tab character; indent with spaces", line, col, tab)])
    for m in _GLUED_RE.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        if text.count('"', start, m.start()) % 2:
            continue  # inside a quoted string
        line, col = line_col(text, m.start(1))
        if m.group(1) == ",":
            msg = "thousands separator in a number: write 80000, not 80,000 (list items use ', ')"
            raise _Problems([diagnostic("T104", msg, line, col, m.start(1))])
        msg = "':' inside a number (YAML would read 1:30 as 90): write minutes as a plain number"
        raise _Problems([diagnostic("T105", msg, line, col, m.start(1))])
    if not text.strip():
        raise _Problems(
            [diagnostic("T110", "empty input: expected 'expert:' or '- expert:'", 1, 1, 0)]
        )


def _parse(text: str, validate: bool) -> Trace:
    if not isinstance(text, str):
        raise TypeError(f"parse() needs str, got {type(text).__name__}")
    _prescan(text)
    diags: list[Diagnostic] = []
    fast = _fast_raw(text)
    trace = _build(*fast, diags, text=text) if fast is not None else None
    if trace is None:
        diags = []
        # the grammar ends every line with a newline
        text_nl = text if text.endswith("\n") else text + "\n"
        trace = _build(*_lark_raw(text_nl), diags, text=text_nl)
        if trace is None:
            raise _Problems(diags, TraceValidationError)
    if validate:
        vocab = _validate(trace)
        if vocab:
            raise _Problems(vocab, TraceValidationError)
    return trace


def _error_class(diags: tuple[Diagnostic, ...]) -> type[DslkitError]:
    """Limits beat syntax beat schema: the class follows the most basic code present."""
    codes = {d.code[:2] for d in diags}
    if "T0" in codes:
        return LimitExceededError
    if "T1" in codes:
        return TraceSyntaxError
    return TraceValidationError


@overload
def parse(text: str, *, errors: Literal["raise"] = "raise", validate: bool = True) -> Trace: ...
@overload
def parse(text: str, *, errors: Literal["collect"], validate: bool = True) -> ParseResult: ...


def parse(text: str, *, errors: str = "raise", validate: bool = True) -> Trace | ParseResult:
    """Parse trace text (single or composed form).

    Args:
        text: the trace source (a leading byte order mark is ignored).
        errors: ``"raise"`` raises the toolkit error; ``"collect"`` returns a
            :class:`ParseResult` with every diagnostic found (syntax stops at the first error).
        validate: also check expert vocabularies (``T301``, ``T302``).

    Returns:
        The :class:`Trace` (``errors="raise"``) or a :class:`ParseResult`.

    Raises:
        TraceSyntaxError: the text is not in the grammar (``T1xx``).
        TraceValidationError: keys, types or vocabulary are wrong (``T2xx``, ``T3xx``).
        LimitExceededError: input, step count or a number literal is too large.
    """
    if errors not in ("raise", "collect"):
        raise ValueError(f"errors must be 'raise' or 'collect', got {errors!r}")
    expect_type(text, str, "parse(text)")
    # A leading UTF-8 byte order mark is not part of the trace; positions count after it.
    text = text.removeprefix("\ufeff")
    try:
        trace = _parse(text, validate)
    except _Problems as exc:
        diags = tuple(
            d.with_source(text) for d in sorted(exc.diags, key=lambda d: (d.line, d.column))
        )
        if errors == "collect":
            return ParseResult(None, diags)
        raise _error_class(diags)("", diags) from None
    except RecursionError:
        diag = diagnostic("T001", "input nests too deeply", 1, 1, 0)
        if errors == "collect":
            return ParseResult(None, (diag,))
        raise LimitExceededError("", [diag]) from None
    return ParseResult(trace, ()) if errors == "collect" else trace
