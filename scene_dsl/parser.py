"""Parse scene DSL text (row form, block form, or a mix) into the typed AST.

The Lark LALR grammar (``scene.lark``) owns the token structure; a tree-less builder runs as
the parser reduces (no parse tree, no recursion, so 10,000-deep nesting cannot blow the
stack) and turns tokens into AST nodes, consulting the contract only to tell attributes from
row-form components and to map row positional parts to named fields.

``parse(text)`` raises :class:`SceneSyntaxError` on the first batch of problems;
``parse(text, errors="collect")`` recovers (drops bad tokens, closes what is open) and
returns a :class:`ParseResult` with every diagnostic, so a probe sees all problems in one pass.
"""

from __future__ import annotations

import itertools
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, overload

from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from dslkit.errors import (
    ArgumentError,
    Diagnostic,
    LimitExceededError,
    SceneSyntaxError,
    expect_type,
)
from scene_dsl.ast import MAX_NESTING, Attr, Component, Field, Scene, Span
from scene_dsl.contract import (
    DEFAULT_CONTRACT,
    ComponentSpec,
    Contract,
    RowSignature,
    load_contract,
)
from scene_dsl.diagnostics import diag

__all__ = ["DEFAULT_MAX_CHARS", "DEFAULT_MAX_DEPTH", "ParseResult", "parse"]

DEFAULT_MAX_CHARS = 2_000_000  # a scene is a few KB; this bounds work, not the language
DEFAULT_MAX_DEPTH = 32  # v1 nests two levels; deeper is almost surely a model looping
_MAX_COLLECTED = 64  # collect mode stops adding diagnostics after this many

# Tokens a model leaks from its prompt or special vocabulary into a scene.
PROMPT_TAGS = frozenset({"task", "goal", "audience", "OUT", "IN", "bos", "eos", "pad"})
_SPECIAL_RE = re.compile(r"<\|[^|<>\s]{0,32}\|>|</s>|<s>")
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")  # names in tokens, as in scene.lark
_SKIP_TO_RE = re.compile(r"[\[<]")  # where lexing may sensibly restart after garbage


@dataclass(frozen=True, slots=True)
class ParseResult:
    """Outcome of ``parse(..., errors="collect")``."""

    scene: Scene | None  # best-effort AST (None when nothing usable was recovered)
    diagnostics: tuple[Diagnostic, ...]  # every problem found, errors and warnings

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error."""
        return not any(d.is_error for d in self.diagnostics)


class _Dispatch:
    """The transformer Lark holds; forwards reduce callbacks to the current call's builder."""

    builder: _Builder

    def block(self, children: list[Any]) -> Any:
        return self.builder.block(children)

    def start(self, children: list[Any]) -> Any:
        return self.builder.start(children)


class _FastLexFailed(Exception):
    """The fast lexer met text it does not lex; the caller re-parses with Lark's lexer."""


class _FastLexer(Lexer):
    """Lexer for the fast path: one compiled alternation over the grammar's own terminals.

    Lark's contextual lexer makes two regex matches per token (the ignored whitespace, then the
    token) and keeps a general line counter; here leading whitespace is folded into a single
    match and line numbers are counted only across the whitespace (tokens hold no newlines).
    The terminals and their order come from the grammar itself (Lark's basic-lexer order), so
    both lexers produce the same tokens. It never reports errors: on anything it cannot lex it
    gives up, and :func:`parse` redoes the parse with Lark's lexer for the exact diagnostic.
    """

    def __init__(self, lexer_conf: Any) -> None:
        ignore = set(lexer_conf.ignore)
        terms = sorted(
            (t for t in lexer_conf.terminals if t.name not in ignore),
            key=lambda t: (-t.priority, -t.pattern.max_width, -len(t.pattern.value), t.name),
        )
        body = "|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terms)
        self._token = re.compile(r"[ \t\r\n]*(?:" + body + ")")

    # Lark's "interface 0" custom lexer: called with the whole text.
    def lex(self, text: str) -> Iterator[Token]:  # type: ignore[override]
        match = self._token.match
        pos, line, line_start = 0, 1, 0
        while True:
            m = match(text, pos)
            if m is None:
                if not text[pos:].strip(" \t\r\n"):
                    return
                raise _FastLexFailed
            kind = m.lastgroup or ""  # every alternative is a named group
            start = m.start(kind)
            if start > pos:  # whitespace before the token: count the lines it crosses
                breaks = text.count("\n", pos, start)
                if breaks:
                    line += breaks
                    line_start = text.rindex("\n", pos, start) + 1
            pos = m.end()
            yield Token(
                kind,
                text[start:pos],
                start,
                line,
                start - line_start + 1,
                line,
                pos - line_start + 1,
                pos,
            )


_local = threading.local()


def _lark() -> tuple[Lark, Lark, _Dispatch]:
    """``(fast, standard, dispatch)`` parsers of this thread.

    Both share the grammar and the dispatcher; ``fast`` uses :class:`_FastLexer` and serves
    well-formed input, ``standard`` uses Lark's contextual lexer and serves errors and
    recovery. One set per thread (the dispatcher holds per-call state), built on first use
    rather than at import, so ``import dslkit.errors`` stays cheap.
    """
    cached = getattr(_local, "lark", None)
    if cached is None:
        dispatch = _Dispatch()
        parsers = [
            Lark.open_from_package(
                "scene_dsl",
                "scene.lark",
                parser="lalr",
                lexer=lexer,
                transformer=dispatch,
                maybe_placeholders=False,
            )
            for lexer in (_FastLexer, "contextual")
        ]
        cached = _local.lark = (parsers[0], parsers[1], dispatch)
    return cached


def _span(tok: Token) -> Span:
    return Span(tok.line or 0, tok.column or 0, tok.start_pos or 0, tok.end_pos or 0)


class _Builder:
    """Reduce callbacks: tokens -> AST nodes. Records problems instead of raising."""

    def __init__(self, contract: Contract, text: str, max_depth: int) -> None:
        self.contract = contract
        self.text = text
        self.max_depth = max_depth
        self.diagnostics: list[Diagnostic] = []
        self._depth: dict[int, int] = {}  # id(component) -> nesting depth, for max_depth
        self._attr_names = frozenset(contract.attribute_names)  # for S103, looked up per token
        self._sigs: dict[tuple[str, int], RowSignature | None] = {}  # (component, n) -> signature

    # -- helpers --------------------------------------------------------------------------
    def _report(self, code: str, message: str, offset: int, **kw: Any) -> None:
        if len(self.diagnostics) >= _MAX_COLLECTED:
            # Bounded like the collect-mode handler: each diagnostic costs O(offset) for its
            # line:column and caret, so 250k stray tokens in 1 MB made parsing quadratic.
            return
        self.diagnostics.append(diag(code, message, text=self.text, offset=offset, **kw))

    def _leak(self, tok: Token, name: str) -> bool:
        if name in PROMPT_TAGS:
            self._report(
                "S401",
                f"prompt or special token {tok.value} leaked into the scene",
                tok.start_pos or 0,
            )
            return True
        return False

    def _value(self, raw: str, offset: int, owner: str, name: str) -> str | None:
        # Hot path (once per field): the message for `owner.name` is only built on error.
        value = raw[1:] if raw[:1] == "@" else raw
        if value and value[0] != "@":
            return value
        if not value:  # a bare '@' is as empty as nothing (it printed as `[name:]`)
            self._report("S102", f"expected a value for {owner}.{name}", offset)
        else:  # '@@x' would print as '@x' and parse back as 'x'
            self._report(
                "S101", f"malformed value {raw[:40]!r} for {owner}.{name}: one '@' at most", offset
            )
        return None

    # -- row form ---------------------------------------------------------------------------
    def _row_component(self, tok: Token, name: str, payload: str, offset: int) -> Component | None:
        spec = self.contract.components[name]
        line_tok = _span(tok)
        line, col0 = line_tok.line, line_tok.column - line_tok.start  # part column = col0 + offset
        positional: list[tuple[str, int]] = []
        fields_named: list[Field] = []
        pos = offset
        for part in payload.split("|") if payload else ():
            key, eq, value = part.partition("=")
            if eq and not _NAME_RE.match(key):
                # The key becomes a field name, printed as a [name:...] token: one that is not
                # an identifier made the recovered scene unprintable (e.g. `@a.0value=@b`).
                self._report(
                    "S101",
                    f"malformed row part {part[:40]!r}: expected key=value with an identifier key",
                    pos,
                )
            elif eq:
                fspec = spec.field_for_row_key(key)
                fname = fspec.name if fspec else key
                v = self._value(value, pos + len(key) + 1, name, key)
                if v is not None:
                    fields_named.append(Field(fname, v, Span(line, col0 + pos, pos, pos)))
            else:
                positional.append((part, pos))
            pos += len(part) + 1
        sig_fields = self._map_positional(tok, spec, positional, line_tok)
        if sig_fields is None:
            return None
        # A row token has no field order of its own (positional parts come in signature
        # order, named parts anywhere), so its fields take the contract order; the sort is
        # stable, keeping repeated fields in source order. Without it, printing a canonical
        # scene in row form did not parse back equal (positional parts first, then `ref=`).
        fields = sig_fields + fields_named if fields_named else sig_fields
        index, last = spec.field_index, len(spec.fields)
        ranks = [index.get(f.name, last) for f in fields]
        if any(a > b for a, b in itertools.pairwise(ranks)):  # usually already in order
            fields = [f for _, _, f in sorted(zip(ranks, range(len(fields)), fields, strict=False))]
        return Component(name, tuple(fields), (), line_tok)

    def _map_positional(
        self, tok: Token, spec: ComponentSpec, parts: list[tuple[str, int]], base: Span
    ) -> list[Field] | None:
        n = len(parts)
        if n == 0:
            # Every field is named (`[stage_card:stage_id=s1|title=@t]`) or there is none
            # (`[continuum_arc:]`): this is what the printer writes when no signature is
            # complete, so it must parse; required fields are the validator's business.
            return []
        key = (spec.name, n)
        chosen = (
            self._sigs[key]
            if key in self._sigs
            else self._sigs.setdefault(key, spec.signature_for(n))
        )
        if chosen is None:
            shapes = " or ".join(str(len(s.parts)) + ("+" if s.variadic else "") for s in spec.row)
            self._report(
                "S106",
                f"{spec.name} takes {shapes} positional part(s) in row form, got {n}",
                tok.start_pos or 0,
            )
            return None
        out: list[Field] = []
        sig_parts = chosen.parts
        last_part = len(sig_parts) - 1
        line, col0 = base.line, base.column - base.start
        for i, (raw, off) in enumerate(parts):
            names = sig_parts[i if i < last_part else last_part]
            if len(names) == 2:  # an edge part: from->to
                src, arrow, dst = raw.partition("->")
                if not arrow or not src or not dst:
                    self._report(
                        "S107", f"expected an edge like a->b for {spec.name}, got {raw!r}", off
                    )
                    continue
                out.append(Field(names[0], src, Span(line, col0 + off, off, off)))
                dst_off = off + len(src) + 2
                out.append(Field(names[1], dst, Span(line, col0 + dst_off, dst_off, dst_off)))
            else:
                v = self._value(raw, off, spec.name, names[0])
                if v is not None:
                    out.append(Field(names[0], v, Span(line, col0 + off, off, off)))
        return out

    # -- items -----------------------------------------------------------------------------
    def _items(
        self, items: list[Any], parent: str | None
    ) -> tuple[list[Attr], list[Field], list[Component]]:
        attrs: list[Attr] = []
        fields: list[Field] = []
        comps: list[Component] = []
        pending_role: tuple[str, Token] | None = None
        components = self.contract.components
        # Another spelling of a field (CKE block dialects write `panel_id` for node_id) is
        # stored under the field's own name: one meaning, one AST.
        owner = components.get(parent) if parent is not None else None
        aliases = owner.aliases if owner is not None else {}
        for item in items:
            if isinstance(item, Component):
                comps.append(item)
                continue
            if item is None:  # a block already reported and dropped
                continue
            tok: Token = item
            if tok.type == "LEAK":
                self._report(
                    "S401", f"prompt token {tok.value} leaked into the scene", tok.start_pos or 0
                )
                continue
            if pending_role is not None and tok.type != "REF":
                role, rtok = pending_role
                self._report(
                    "S104",
                    f"[field:{role}] must be followed by a [@path] token",
                    rtok.start_pos or 0,
                )
                pending_role = None
            if tok.type == "REF":
                if pending_role is None:
                    self._report(
                        "S105",
                        f"stray value token {tok.value}: put it after a [field:role] token",
                        tok.start_pos or 0,
                    )
                    continue
                role, rtok = pending_role
                pending_role = None
                v = self._value(tok.value[1:-1], (tok.start_pos or 0) + 1, "field", role)
                if v is None:
                    continue
                spec = components.get(parent or "")
                fspec = spec.field_for_row_key(role) if spec else None
                fields.append(Field(fspec.name if fspec else role + "_ref", v, _span(rtok)))
                continue
            value = tok.value  # [name:payload], split inline: this runs once per token
            colon = value.index(":")
            name, payload, off = (
                value[1:colon],
                value[colon + 1 : -1],
                (tok.start_pos or 0) + colon + 1,
            )
            if name in PROMPT_TAGS and self._leak(tok, name):
                continue
            if (
                parent is not None
                and name in self._attr_names
                and not self._has_field(parent, name)
            ):
                # A scene attribute inside a block (often a block left open): report it here,
                # where the token is, instead of as an unknown field of the block.
                self._report(
                    "S103",
                    f"scene attribute [{name}:...] inside [{parent}]: attributes come before the components",
                    tok.start_pos or 0,
                )
                continue
            if parent is not None and name == "field":
                if not payload:
                    self._report("S102", "expected a role name after [field:", off)
                elif not _NAME_RE.match(payload):  # the role becomes a field name
                    self._report(
                        "S101",
                        f"malformed role {payload[:40]!r} in [field:...]: expected an identifier",
                        off,
                    )
                else:
                    pending_role = (payload, tok)
                continue
            # Inside a block, [name:x] is a field unless it can only be a row component: a
            # component name that is no field of the block (v1 has none) is a misplaced
            # component, so the validator reports the nesting (S205), not an unknown field.
            if name in components and (
                parent is None
                or "|" in payload
                or "=" in payload
                or name in self._child_names(parent)
                or not self._has_field(parent, name)
            ):
                comp = self._row_component(tok, name, payload, off)
                if comp is not None:
                    comps.append(comp)
                continue
            if parent is None:
                # An empty value is reported and dropped, like an empty field: keeping it made
                # the recovered scene (and so repair's output) print as text that cannot parse.
                if not payload:
                    self._report("S102", f"expected a value after '{name}:'", off)
                else:
                    attrs.append(Attr(name, payload, _span(tok)))
                continue
            v = self._value(payload, off, parent, name)
            if v is not None:
                fields.append(Field(aliases.get(name, name) if aliases else name, v, _span(tok)))
        if pending_role is not None:
            role, rtok = pending_role
            self._report(
                "S104", f"[field:{role}] must be followed by a [@path] token", rtok.start_pos or 0
            )
        return attrs, fields, comps

    def _has_field(self, parent: str, name: str) -> bool:
        spec = self.contract.components.get(parent)
        return spec is not None and spec.field(name) is not None

    def _child_names(self, parent: str) -> tuple[str, ...]:
        spec = self.contract.components.get(parent)
        return spec.children if spec else ()

    # -- rules -----------------------------------------------------------------------------
    def block(self, children: list[Any]) -> Component | None:
        open_tok: Token = children[0]
        close_tok: Token = children[-1]
        name = open_tok.value[1:-1]
        closing = close_tok.value[2:-1]
        if name != closing and closing != "":  # "" = synthetic close added by recovery
            self._report(
                "S202",
                f"[{name}] is closed by [/{closing}]; expected [/{name}]",
                close_tok.start_pos or 0,
            )
        if self._leak(open_tok, name):
            return None
        attrs, fields, comps = self._items(children[1:-1], name)
        depth = 1 + max((self._depth.get(id(c), 1) for c in comps), default=0)
        if depth > self.max_depth:
            raise LimitExceededError.from_diagnostics(
                [
                    diag(
                        "S502",
                        f"blocks nest deeper than max_depth={self.max_depth}",
                        text=self.text,
                        offset=open_tok.start_pos or 0,
                    )
                ]
            )
        for a in attrs:  # cannot happen: attrs only come from the top level
            self._report(
                "S103", f"attribute {a.key} inside [{name}]", a.span.start if a.span else 0
            )
        span = Span(
            open_tok.line or 0,
            open_tok.column or 0,
            open_tok.start_pos or 0,
            close_tok.end_pos or 0,
        )
        comp = Component(name, tuple(fields), tuple(comps), span)
        if depth > 1:
            self._depth[id(comp)] = depth
        return comp

    def start(self, children: list[Any]) -> Scene:
        open_tok: Token = children[0]
        close_tok: Token = children[-1]
        attrs, _fields, comps = self._items(children[1:-1], None)
        span = Span(
            open_tok.line or 0,
            open_tok.column or 0,
            open_tok.start_pos or 0,
            close_tok.end_pos or 0,
        )
        return Scene(tuple(attrs), tuple(comps), span)


class _Done(Exception):
    """Raised from the error handler to finish a recovered parse early."""

    def __init__(self, result: Any) -> None:
        self.result = result


def _describe_unexpected(exc: UnexpectedInput, text: str, blocks_open: bool) -> Diagnostic:
    """Map a Lark failure to a stable code and failure class."""
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else len(text)
    if isinstance(exc, UnexpectedCharacters):
        m = _SPECIAL_RE.match(text, pos)
        if m:
            return diag(
                "S401", f"special token {m.group()} leaked into the scene", text=text, offset=pos
            )
        if exc.allowed == {"SCENE_OPEN"}:
            # Free text before [scene] is a prefix failure like a token there (was S100).
            shown = text[pos : pos + 20]
            return diag(
                "S001", f"expected [scene] first, found text {shown!r}", text=text, offset=pos
            )
        if exc.allowed and exc.allowed <= {"$END", "<END-OF-FILE>"}:
            # Free text after [/scene] is a suffix failure like a token there (was S100).
            shown = text[pos : pos + 20]
            return diag("S003", f"text after [/scene]: {shown!r}", text=text, offset=pos)
        ch = text[pos] if pos < len(text) else ""
        if ch == "[":
            shown = text[pos : _garbage_end(text, pos)].strip()[:40]
            return diag(
                "S101",
                f"malformed token {shown!r}: expected [name], [/name], [name:value] or [@path]",
                text=text,
                offset=pos,
            )
        if ch == "]":
            return diag("S108", "']' without a matching '['", text=text, offset=pos)
        return diag(
            "S100",
            f"unexpected text {text[pos : pos + 12]!r} outside a bracket token",
            text=text,
            offset=pos,
        )
    assert isinstance(exc, (UnexpectedToken, UnexpectedEOF))
    tok = getattr(exc, "token", None)
    ttype = tok.type if tok is not None else "$END"
    expected = set(getattr(exc, "expected", ()) or ())
    if expected == {"SCENE_OPEN"}:
        if ttype == "$END":
            return diag("S001", "empty program: expected [scene]", text=text, offset=0)
        return diag("S001", f"expected [scene] first, found {tok}", text=text, offset=pos)
    if ttype == "$END":
        if blocks_open:
            return diag(
                "S203",
                "input ends inside an open block: close it before [/scene]",
                text=text,
                offset=len(text),
            )
        return diag("S002", "input ends before [/scene]", text=text, offset=len(text))
    if expected and expected <= {"$END", "<END-OF-FILE>"}:
        return diag("S003", f"text after [/scene]: {tok}", text=text, offset=pos)
    if ttype == "SCENE_OPEN":
        return diag("S204", "[scene] opened again inside a scene", text=text, offset=pos)
    if ttype == "SCENE_CLOSE":
        return diag("S203", "[/scene] while a block is still open", text=text, offset=pos)
    if ttype == "CLOSE":
        return diag("S201", f"{tok} closes a block that is not open", text=text, offset=pos)
    return diag("S109", f"unexpected token {tok}", text=text, offset=pos)


def _blocks_open(exc: UnexpectedInput) -> bool:
    ip = getattr(exc, "interactive_parser", None)
    if ip is None:
        return False
    try:
        return "CLOSE" in ip.accepts()
    except Exception:  # accepts() re-runs the parser; any failure just means "unknown"
        return False


def _decode(text: str | bytes | bytearray | memoryview) -> str:
    # A leading UTF-8 byte order mark (Windows editors write one) is not part of the program;
    # positions count from the character after it, as an editor that hides it shows them.
    if isinstance(text, str):
        return text.removeprefix("\ufeff")
    expect_type(text, (str, bytes, bytearray, memoryview), "parse(text)")
    text = bytes(text)
    try:
        return text.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        good = text[: exc.start].decode("utf-8")
        raise SceneSyntaxError.from_diagnostics(
            [
                diag(
                    "S110",
                    f"input is not UTF-8: byte 0x{text[exc.start]:02x}",
                    text=good,
                    offset=len(good),
                )
            ]
        ) from None


@overload
def parse(
    text: str | bytes | bytearray | memoryview,
    *,
    errors: Literal["raise"] = "raise",
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Scene: ...


@overload
def parse(
    text: str | bytes | bytearray | memoryview,
    *,
    errors: Literal["collect"],
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> ParseResult: ...


def parse(
    text: str | bytes | bytearray | memoryview,
    *,
    errors: str = "raise",
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    max_chars: int = DEFAULT_MAX_CHARS,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Scene | ParseResult:
    """Parse scene text in row form, block form, or a mix of both.

    Args:
        text: the program (``str``, or UTF-8 ``bytes``/``bytearray``/``memoryview``).
        errors: ``"raise"`` raises on any syntax problem; ``"collect"`` recovers and returns
            a :class:`ParseResult` with every diagnostic found.
        contract: contract name, path or object; used to tell attributes from row-form
            components and to map row positional parts to fields.
        max_chars: inputs longer than this are rejected (work stays linear and bounded).
        max_depth: maximum block nesting, at most :data:`scene_dsl.ast.MAX_NESTING`.

    Returns:
        The :class:`Scene` (``errors="raise"``) or a :class:`ParseResult` (``"collect"``).

    Raises:
        SceneSyntaxError: the text does not parse (``errors="raise"``).
        LimitExceededError: the input is longer than ``max_chars`` or nests deeper than
            ``max_depth`` (raised in both modes: recovering would mean reading it all).
        ArgumentError: ``text`` is not text or bytes, or an argument is out of range.
    """
    if errors not in ("raise", "collect"):
        raise ArgumentError(f"errors must be 'raise' or 'collect', not {errors!r}")
    if not 1 <= max_depth <= MAX_NESTING:
        raise ArgumentError(f"max_depth must be between 1 and {MAX_NESTING}, not {max_depth}")
    source = _decode(text)
    if len(source) > max_chars:
        raise LimitExceededError.from_diagnostics(
            [
                diag(
                    "S501",
                    f"input has {len(source)} characters; max_chars is {max_chars}",
                    text=source[: max_chars + 1],
                    offset=max_chars,
                )
            ]
        )
    spec = load_contract(contract)
    builder = _Builder(spec, source, max_depth)
    fast, lark, dispatch = _lark()
    dispatch.builder = builder
    if errors == "raise":
        try:
            # The transformer builds the Scene during the parse (lark types it as a Tree).
            scene: Scene = fast.parse(source)  # type: ignore[assignment]
        except (_FastLexFailed, UnexpectedInput):
            # Only Lark's own lexer and parser state say exactly what went wrong: parse again.
            builder = dispatch.builder = _Builder(spec, source, max_depth)
            try:
                scene = lark.parse(source)  # type: ignore[assignment]
            except UnexpectedInput as exc:
                first = _describe_unexpected(exc, source, _blocks_open(exc))
                raise SceneSyntaxError.from_diagnostics([first, *builder.diagnostics]) from None
        # The builder's findings do not depend on the lexer (both yield the same tokens).
        if any(d.is_error for d in builder.diagnostics):
            raise SceneSyntaxError.from_diagnostics(builder.diagnostics)
        return scene
    return _parse_collect(lark, source, builder)


def _parse_collect(lark: Lark, source: str, builder: _Builder) -> ParseResult:
    """Parse with recovery: drop what does not fit, close what is open, keep every problem."""
    found: list[Diagnostic] = []

    def on_error(exc: UnexpectedInput) -> bool:
        if len(found) >= _MAX_COLLECTED:
            return False
        ip = exc.interactive_parser
        if isinstance(exc, UnexpectedCharacters):
            found.append(_describe_unexpected(exc, source, False))
            # Skip the garbage run in one step instead of one character per callback.
            state = ip.lexer_thread.state
            assert state is not None  # set once lexing has started, as it has on an error
            pos = state.line_ctr.char_pos
            state.line_ctr.feed(source[pos : _garbage_end(source, pos)])
            return True
        assert isinstance(exc, UnexpectedToken)
        accepts = ip.accepts()
        tok = exc.token
        if accepts == {"SCENE_OPEN"}:
            found.append(_describe_unexpected(exc, source, False))
            ip.feed_token(Token("SCENE_OPEN", "[scene]", 0, 1, 1))
            if tok.type != "$END":
                ip.feed_token(tok)
                return True
            _close_all(ip, ip.accepts(), len(source))  # nothing but garbage: S001 says it all
            raise _Done(ip.feed_eof())
        if tok.type == "$END" or accepts <= {"$END", "<END-OF-FILE>"}:
            if tok.type == "$END":
                found.append(_describe_unexpected(exc, source, "CLOSE" in accepts))
            else:
                found.append(_describe_unexpected(exc, source, False))
            _close_all(ip, accepts, len(source))
            raise _Done(ip.feed_eof())
        if tok.type == "SCENE_CLOSE" and "CLOSE" in accepts:
            found.append(_describe_unexpected(exc, source, True))
            _close_blocks(ip, accepts, tok.start_pos or 0)
            ip.feed_token(tok)
            return True
        found.append(_describe_unexpected(exc, source, "CLOSE" in accepts))
        return True  # drop the offending token

    scene: Scene | None
    try:
        scene = lark.parse(source, on_error=on_error)  # type: ignore[assignment]
    except _Done as done:
        scene = done.result
    except UnexpectedInput as exc:  # gave up (too many problems)
        if len(found) < _MAX_COLLECTED:
            found.append(_describe_unexpected(exc, source, False))
        scene = None
    diagnostics = sorted([*found, *builder.diagnostics], key=lambda d: (d.line, d.column))
    return ParseResult(scene, tuple(diagnostics))


def _garbage_end(source: str, pos: int) -> int:
    """End of an unlexable run: through the next ']' if it comes before a '[', else up to
    the next '[' or special-token start."""
    nxt = _SKIP_TO_RE.search(source, pos + 1)
    stop = nxt.start() if nxt else len(source)
    close = source.find("]", pos, stop)
    return close + 1 if close >= 0 else stop


def _close_blocks(ip: Any, accepts: set[str], offset: int) -> set[str]:
    """Feed synthetic close tokens until no block is open; return what the parser accepts."""
    while "SCENE_CLOSE" not in accepts and "CLOSE" in accepts:
        ip.feed_token(Token("CLOSE", "[/]", offset, 0, 0))
        accepts = ip.accepts()
    return accepts


def _close_all(ip: Any, accepts: set[str], offset: int) -> None:
    """Close every open block, then the scene."""
    accepts = _close_blocks(ip, accepts, offset)
    if "SCENE_CLOSE" in accepts:
        ip.feed_token(Token("SCENE_CLOSE", "[/scene]", offset, 0, 0))
