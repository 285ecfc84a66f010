"""Deterministic, honest repair of model-generated scene text.

Repair removes and closes; it never invents a component or a value. Each fix it applies is
returned, so raw and repaired scores can be reported side by side. In order:

1. split glued tokens (``][`` -> ``] [``);
2. drop leaked special and prompt tokens (``<|eos|>``, ``[OUT]``, ``[task:...]``);
3. keep only the first ``[scene] ... [/scene]`` (insert ``[scene]`` when the text starts
   with scene tokens but lacks it; drop anything after ``[/scene]``);
4. drop stray text and malformed tokens; drop close tags that close nothing;
5. close blocks left open (at a mismatched close or at the end) and append ``[/scene]``;
6. keep the first of duplicated singleton attributes and components;
7. reorder into canonical order.

A file in a CKE dialect (``dialect=``) gets steps 1-5 on its tokens, is read by its dialect
reader, and steps 6-7 run on that reading: what comes back is its canonical dslkit scene,
with a ``read_dialect`` fix that says so.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from dslkit.errors import SceneSyntaxError, expect_type
from scene_dsl.ast import Component, Scene
from scene_dsl.canonical import canonicalize
from scene_dsl.contract import DEFAULT_CONTRACT, Contract, load_contract
from scene_dsl.diagnostics import diag
from scene_dsl.dialects import READ_DIALECTS, recognize
from scene_dsl.dialects import parse as parse_dialect
from scene_dsl.dialects.cke import recognize_cke
from scene_dsl.parser import PROMPT_TAGS, parse

__all__ = ["Fix", "repair"]

_TOKEN_RE = re.compile(r"<\|[^|<>\s]{0,32}\|>|</?s>|\[[^\[\]\s]*\]|[^\s\[\]<]+|\S")
# Fixes of one kind reported one by one; more are summed up in a last fix of that kind, so
# 1 MB of '[' does not yield a million Fix objects.
_MAX_FIXES_PER_CODE = 50
_WELL_FORMED = re.compile(
    r"\[(?:/?[A-Za-z_][A-Za-z0-9_]*|[A-Za-z_][A-Za-z0-9_]*:[^\[\]\s]*|@[^\[\]\s]*)\]\Z"
)


@dataclass(frozen=True, slots=True)
class Fix:
    """One repair step applied to the text."""

    code: str  # stable snake_case name, e.g. "drop_leaked_token"
    message: str  # what was done, for a person
    line: int = 0  # 1-based position in the original text (0 when not tied to one place)
    column: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "line": self.line,
            "column": self.column,
        }


def _tag_name(tok: str) -> str:
    body = tok[1:-1]
    return body.split(":", 1)[0].lstrip("/")


def repair(
    text: str, contract: str | Path | Contract = DEFAULT_CONTRACT, *, dialect: str = "dslkit"
) -> tuple[Scene, list[Fix]]:
    """Repair model output into a parseable, canonically ordered scene.

    Args:
        text: raw generated text (may contain a prompt echo, special tokens, junk).
        contract: contract name, path or object.
        dialect: the surface ``text`` is written in (see :func:`scene_dsl.dialects.parse`):
            ``"dslkit"`` (the default: model output), ``"auto"``, ``"cke"`` or ``"d1"``-``"d6"``.
            A CKE dialect gets the same token-level repairs, is then read by its dialect
            reader, and its canonical reading is what is repaired and returned (dslkit AST);
            a ``read_dialect`` fix says which dialect was read.

    Returns:
        ``(scene, fixes)``; ``fixes`` is empty when dslkit text was already canonical.

    Raises:
        SceneSyntaxError: nothing recognisable as a scene was found (code S001).
        ValueError: ``dialect`` is not one of the names above.
    """
    expect_type(text, str, "repair(text)")
    if dialect not in READ_DIALECTS:
        raise ValueError(f"dialect must be one of {', '.join(READ_DIALECTS)}, not {dialect!r}")
    spec = load_contract(contract)
    # auto decides on the text as written, as check/fmt/convert do
    sub = recognize(text) if dialect == "auto" else dialect
    fixes: list[Fix] = []
    per_code: Counter[str] = Counter()
    # Line starts once, then a bisect per fix: line_col() counts from the start of the text
    # each time, which made repairing 1 MB of junk quadratic (minutes).
    line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def fix(code: str, message: str, offset: int = -1) -> None:
        per_code[code] += 1
        if per_code[code] > _MAX_FIXES_PER_CODE:
            return
        line, col = 0, 0
        if offset >= 0:
            offset = min(offset, len(text))
            line = bisect.bisect_right(line_starts, offset)
            col = offset - line_starts[line - 1] + 1
        fixes.append(Fix(code, message, line, col))

    glued = text.find("][")
    if glued >= 0:
        fix("split_glued_tokens", "split tokens written without a space between them ('][')", glued)

    tokens: list[tuple[str, int]] = []
    for m in _TOKEN_RE.finditer(text):
        tok = m.group()
        # Any [tag], [/tag] or [tag:...] of a prompt tag: only [OUT] and [IN] were dropped, so
        # a bare [eos] or [goal] opened a block that swallowed the rest of the scene.
        if (tok.startswith("<") and tok != "<") or (
            tok.startswith("[") and _tag_name(tok) in PROMPT_TAGS
        ):
            fix("drop_leaked_token", f"dropped leaked token {tok}", m.start())
            continue
        tokens.append((tok, m.start()))

    start = next((i for i, (t, _) in enumerate(tokens) if t == "[scene]"), None)
    if start is None:
        if not any(t.startswith("[") for t, _ in tokens):
            raise SceneSyntaxError.from_diagnostics(
                [diag("S001", "nothing to repair: no scene tokens found", text=text, offset=0)]
            )
        fix("insert_scene_open", "inserted the missing [scene] at the start", 0)
        tokens.insert(0, ("[scene]", 0))
        start = 0
    elif start > 0:
        fix("drop_before_scene", f"dropped {start} token(s) before [scene]", tokens[0][1])

    body: list[str] = ["[scene]"]
    stack: list[str] = []
    open_count: Counter[str] = Counter()  # names on the stack: O(1) 'is it open?' checks
    closed = False
    for index, (tok, off) in enumerate(tokens[start + 1 :], start + 2):
        if tok == "[/scene]" or tok == "[scene]":
            if tok == "[scene]":
                fix(
                    "keep_first_scene",
                    "a second [scene] starts here: kept only the first scene",
                    off,
                )
            closed = tok == "[/scene]"
            rest = len(tokens) - index
            if closed and rest:
                fix("drop_after_scene", f"dropped {rest} token(s) after [/scene]", off + len(tok))
            break
        if not tok.startswith("["):
            fix("drop_stray_text", f"dropped stray text {tok[:30]!r}", off)
            continue
        if not _WELL_FORMED.match(tok):
            fix("drop_malformed_token", f"dropped malformed token {tok[:40]!r}", off)
            continue
        if tok.startswith("[/"):
            name = tok[2:-1]
            if open_count[name]:
                while stack[-1] != name:
                    inner = stack.pop()
                    open_count[inner] -= 1
                    fix("close_open_block", f"closed [{inner}] before {tok}", off)
                    body.append(f"[/{inner}]")
                stack.pop()
                open_count[name] -= 1
                body.append(tok)
            else:
                fix("drop_stray_close", f"dropped {tok}: no open block to close", off)
            continue
        name = _tag_name(tok)
        while stack and _cannot_nest(name, tok, stack[-1], spec):
            inner = stack.pop()
            open_count[inner] -= 1
            fix(
                "close_open_block", f"closed [{inner}] before {tok}, which cannot go inside it", off
            )
            body.append(f"[/{inner}]")
        if ":" not in tok and not tok.startswith("[@"):
            stack.append(name)
            open_count[name] += 1
        body.append(tok)
    while stack:
        inner = stack.pop()
        fix("close_open_block", f"closed [{inner}] at the end", len(text))
        body.append(f"[/{inner}]")
    if not closed:
        fix("append_scene_close", "appended the missing [/scene]", len(text))
    body.append("[/scene]")

    if sub != "dslkit":
        # one token a line, the CKE files' own layout (recognition reads it that way)
        cleaned = "\n".join(body)
        if sub == "cke":
            sub = recognize_cke(cleaned)
        fix(
            "read_dialect",
            f"read as CKE dialect {sub}; repaired its canonical reading (dslkit AST)",
        )
        result = parse_dialect(cleaned, dialect=sub, errors="collect", contract=spec)
    else:
        result = parse(" ".join(body), errors="collect", contract=spec)
    for d in result.diagnostics:  # token-level problems the builder dropped (e.g. bad row arity)
        fix("drop_invalid_token", f"dropped: {d.message}")
    if result.scene is None:
        raise SceneSyntaxError.from_diagnostics(result.diagnostics)
    scene = _dedupe(result.scene, spec, fix)
    canonical = canonicalize(scene, spec)
    if [a.key for a in canonical.attrs] != [a.key for a in scene.attrs] or _field_order(
        canonical
    ) != _field_order(scene):
        fix("reorder_canonical", "reordered attributes and fields into canonical order")
    for code, n in per_code.items():
        if n > _MAX_FIXES_PER_CODE:
            fixes.append(
                Fix(code, f"... and {n - _MAX_FIXES_PER_CODE} more {code} fix(es) like the above")
            )
    return canonical, fixes


def _cannot_nest(name: str, tok: str, parent: str, contract: Contract) -> bool:
    """True when ``tok`` is a component that the open ``parent`` block cannot contain."""
    pspec = contract.components.get(parent)
    if pspec is None or name not in contract.components or name in pspec.children:
        return False
    # A [name:value] token that is also one of the parent's fields stays a field.
    return not (":" in tok and pspec.field(name) is not None)


def _field_order(scene: Scene) -> list[tuple[str, ...]]:
    return [tuple(f.name for f in c.fields) for c in scene.walk()]


def _dedupe(scene: Scene, contract: Contract, report: Callable[[str, str, int], None]) -> Scene:
    # Positions would point into the re-joined text, not the caller's: report none.
    attrs = []
    seen_attrs: set[str] = set()
    for a in scene.attrs:
        if a.key in seen_attrs:
            report(
                "drop_duplicate_attr", f"dropped duplicate [{a.key}:{a.value}] (kept the first)", -1
            )
            continue
        seen_attrs.add(a.key)
        attrs.append(a)
    comps: list[Component] = []
    seen_singletons: set[str] = set()
    for c in scene.components:
        cspec = contract.components.get(c.name)
        if cspec is not None and cspec.singleton:
            if c.name in seen_singletons:
                report(
                    "drop_duplicate_component", f"dropped a second {c.name} (kept the first)", -1
                )
                continue
            seen_singletons.add(c.name)
        comps.append(c)
    return replace(scene, attrs=tuple(attrs), components=tuple(comps))
