"""The trace language as a prefix automaton, for constrained decoding.

The automaton reads canonical trace text, single (``expert: E`` / ``trace:`` / ``- {op: ...}``)
or composed (``- expert: E`` / ``  trace:`` / ``  - {...}``), each step with the expert's own
ops and its keys as the step schema (:mod:`trace_dsl.schema`) lists them. The values come
from the parser's own patterns, never restated here: names are the parser's identifiers less
the YAML booleans/null in any letter case, numbers its number pattern, sources its
``prev.result``/``subN.result`` pattern, and strings the grammar's ``STRING`` terminal
(``trace.lark``) less the tab the parser refuses everywhere, so ``"café × 2"`` is a string.

What ``accepts(t)`` means, precisely: ``parse(t)`` succeeds, ``t`` is ``to_text(parse(t))``
up to how numbers are spelled (the parser reads ``1.50`` and ``-0``; the printer writes
``1.5`` and ``0``), and every ``args`` list has a length the compute op takes
(``experts.ARITY``, the solver's rule: a trace it would refuse for that is never written).
Two things need payload text in the state and are left to the decoder's value checks or to the
parser: a name given twice in one map (``T202``) and the size limits (``MAX_STEPS``,
``MAX_NUMBER_CHARS``, ``MAX_TEXT``).

Names are marked (:func:`dslkit.automaton.tag`) with the role the schema gives them (``def``,
``def_init``, ``use``, ``use_computed``) and each expert header with ``scope`` (a fresh set of
variables), so a decoder can check that a trace only names variables already set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources

from dslkit.automaton import (
    Automaton,
    Context,
    Frag,
    Nfa,
    Piece,
    alt,
    lit,
    min_length,
    opt,
    regex,
    seq,
    star,
    tag,
    template,
)

from .experts import ARITY, COMPUTE_OPS, EXPERTS, ops_for
from .parser import _IDENT_RE, _NUMBER_RE, _SOURCE_RE, REFUSED_CHAR, RESERVED, RESERVED_WORDS
from .schema import SCHEMAS, Key, StepSchema

__all__ = ["prefix_automaton"]


def _name_frag() -> Frag:
    """An identifier that is not a YAML boolean/null in any letter case (a DFA over the reserved
    words' prefixes, on the alphabets of the parser's identifier pattern)."""
    first, rest = _ident_alphabets()

    def build(nfa: Nfa, s: int) -> int:
        end = nfa.new()
        free = nfa.new()  # not a prefix of any reserved word
        nodes: dict[str, int] = {"": s}
        for word in RESERVED_WORDS:
            for k in range(1, len(word) + 1):
                if word[:k] not in nodes:
                    nodes[word[:k]] = nfa.new()
        for prefix, state in nodes.items():
            groups: dict[int, set[str]] = {}
            for ch in first if prefix == "" else rest:  # in _order: edge order is deterministic
                target = nodes.get(prefix + ch.lower(), free)
                groups.setdefault(target, set()).add(ch)
            for target, cs in groups.items():
                nfa.add(state, target, frozenset(cs))
            if prefix and prefix not in RESERVED:
                nfa.add(state, end)
        nfa.add(free, free, frozenset(rest))
        nfa.add(free, end)
        return end

    return build


def _order(ch: str) -> tuple[int, str]:
    # letters (lower case first), digits, then the rest: a fixed order for the edges built from
    # a character set, so shortest completions (and so budget steering) never depend on hashing
    return (0 if ch.islower() else 1 if ch.isupper() else 2 if ch.isdigit() else 3, ch)


def _ident_alphabets() -> tuple[list[str], list[str]]:
    """The first and the following characters of the parser's identifiers, in :func:`_order`.

    Read off the NFA of ``_IDENT_RE``, which must be one class then a repeated class (checked:
    a change to the pattern that this DFA cannot follow fails loudly here).
    """
    nfa = Nfa()
    start = nfa.new()
    end = regex(_IDENT_RE.pattern)(nfa, start)

    def close(states: set[int]) -> set[int]:
        out, stack = set(), list(states)
        while stack:
            x = stack.pop()
            if x not in out:
                out.add(x)
                stack.extend(t for cs, t in nfa.edges[x] if cs is None)
        return out

    def reads(states: set[int]) -> list[tuple[frozenset[str], int]]:
        return [(cs, t) for x in states for cs, t in nfa.edges[x] if cs is not None]  # type: ignore[misc]

    s0 = close({start})
    (first, t1), *more = reads(s0)
    s1 = close({t1})
    (rest, t2), *more2 = reads(s1)
    s2 = close({t2})
    if more or more2 or end not in s1 or end not in s2 or reads(s2) != [(rest, t2)]:
        raise ValueError(f"identifier pattern is not 'class class*': {_IDENT_RE.pattern!r}")
    return sorted(first, key=_order), sorted(rest, key=_order)


def _terminal_regex(name: str) -> str:
    """The regex of a terminal of ``trace.lark`` defined by one ``/regex/`` literal, read off
    the grammar's text: building the Lark parser for it (0.1 s) is most of the automaton's
    cost otherwise. A test checks it against the parser's own terminal."""
    text = (resources.files("trace_dsl") / "trace.lark").read_text(encoding="utf-8")
    found = re.search(rf"^{name}:[ ]*/((?:[^/\\\n]|\\.)*)/[ ]*$", text, re.M)
    if found is None:
        raise ValueError(f"trace.lark: terminal {name} is not one /regex/ literal")
    return found.group(1).replace("\\/", "/")  # Lark's only escape inside /.../


@cache
def _values() -> dict[str, Frag]:
    """The value fragments of the schema's kinds (built once: the grammar is loaded for STRING)."""
    name = _name_frag()
    string = _terminal_regex("STRING")
    return {
        "name": name,
        # (copied from one template: a token masker walks a number once, not in each place)
        "number": template(regex(_NUMBER_RE.pattern)),
        "source": regex(_SOURCE_RE.pattern),
        "text": regex(string, exclude=REFUSED_CHAR),
    }


@cache
def _arg(role: str | None) -> Frag:
    """An argument: a name marked ``role``, or a number (one template per role, built once:
    the args of every compute op copy it)."""
    name, number = _values()["name"], _values()["number"]
    return template(alt(name if role is None else tag(role, name), number))


def _value(key: Key, compute_op: str | None) -> Frag:
    """The text of a key's value (``compute_op``: the op the step's args must fit)."""
    frags = _values()
    name, number = frags["name"], frags["number"]
    if key.role is not None:
        name = tag(key.role, name)
    if key.kind == "compute_op":
        assert compute_op is not None
        return lit(compute_op)
    if key.kind == "arg":
        return _arg(key.role)
    if key.kind == "args":
        assert compute_op is not None
        lo, hi = ARITY[compute_op]
        arg = _arg(key.role)
        more = seq(lit(", "), arg)
        tail = star(more) if hi is None else seq(*[opt(more)] * (hi - lo))
        return seq(lit("["), arg, *[more] * (lo - 1), tail, lit("]"))
    if key.kind == "num_map":
        item = seq(name, lit(": "), number)
        return seq(lit("{"), item, star(seq(lit(", "), item)), lit("}"))
    if key.kind == "name":
        return name
    return frags[key.kind]


def _pairs(keys: Sequence[Key], schema: StepSchema, compute_op: str | None) -> list[Frag]:
    """``, key: value`` for each key, optional ones optional, one_of groups as alternatives."""
    groups = {g[0]: g for g in schema.one_of}
    grouped = {n for g in schema.one_of for n in g}
    out: list[Frag] = []
    for key in keys:
        if key.name in groups:
            options = [schema.key(n) for n in groups[key.name]]
            out.append(alt(*(_pair(k, compute_op) for k in options if k is not None)))
        elif key.name not in grouped:
            pair = _pair(key, compute_op)
            out.append(pair if key.required else opt(pair))
    return out


def _pair(key: Key, compute_op: str | None) -> Frag:
    return seq(lit(f", {key.name}: "), _value(key, compute_op))


def _body(schema: StepSchema) -> Frag:
    """``op, key: value, ...`` of one op (what follows ``{op: `` up to ``}``)."""
    kinds = [k.kind for k in schema.keys]
    if "compute_op" not in kinds:
        return seq(lit(schema.op), *_pairs(schema.keys, schema, None))
    # the args' length depends on the compute op: only the text from the op's name to the args
    # branches, once per arity (ops that take as many args share a branch: a third of the
    # states of one per op), so the states before and after it stay shared
    i, j = kinds.index("compute_op"), kinds.index("args")
    by_arity: dict[tuple[int, int | None], list[str]] = {}
    for c in sorted(COMPUTE_OPS):
        by_arity.setdefault(ARITY[c], []).append(c)
    branch = seq(
        lit(f", {schema.keys[i].name}: "),
        alt(
            *(
                seq(
                    alt(*(lit(c) for c in ops)), *_pairs(schema.keys[i + 1 : j + 1], schema, ops[0])
                )
                for ops in by_arity.values()
            )
        ),
    )
    return seq(
        lit(schema.op),
        *_pairs(schema.keys[:i], schema, None),
        branch,
        *_pairs(schema.keys[j + 1 :], schema, None),
    )


class _TraceLang:
    """The fragments the trace contexts share (identity-hashed: one per automaton)."""

    def __init__(self) -> None:
        self.experts = EXPERTS
        # one body per op, shared by every expert that has the op (init, compute, query... in
        # all five): built once, and its key, a few hundred nodes, is hashed once for the
        # steps' digests
        ops = sorted({op for e in self.experts for op in ops_for(e)})
        lines = {op: seq(lit("- {op: "), _body(SCHEMAS[op]), lit("}\n")) for op in ops}
        self.lines = {e: [lines[op] for op in sorted(ops_for(e))] for e in self.experts}
        self._headers: dict[tuple[str, bool], Frag] = {}

    @cached_property
    def min_step(self) -> int:
        """Characters of the shortest step line (asked only by shortest completions and budget
        steering, not by a plain mask: found when first asked)."""
        return min(min_length(line) for lines in self.lines.values() for line in lines)

    def __reduce__(self) -> tuple[object, ...]:
        # pickled by what builds it (the bodies are pattern closures), so a compiled token
        # masker can be saved and loaded by another process
        return (_TraceLang, ())

    def steps(self, expert: str, after: Context) -> list[Piece]:
        """A step line of ``expert``, one piece per op (in a composed block, after its indent:
        see _Indent). Each op's line is one pattern shared by every expert that has the op,
        so its NFA, DFA and walk tables are built once, not once per expert."""
        return [Piece(line, after) for line in self.lines[expert]]

    def header(self, expert: str, composed: bool) -> Frag:
        """An expert header; the expert's name is marked ``"scope"``: a fresh set of variables.
        (One fragment per expert and form: every context that lists the headers hands the
        automaton the same pattern objects, found by identity.)"""
        found = self._headers.get((expert, composed))
        if found is None:
            lead, rest = ("- expert: ", "\n  trace:\n") if composed else ("expert: ", "\ntrace:\n")
            found = self._headers[(expert, composed)] = seq(
                lit(lead), tag("scope", lit(expert)), lit(rest)
            )
        return found

    def header_len(self, expert: str, composed: bool) -> int:
        return min_length(self.header(expert, composed))


@dataclass(frozen=True)
class _TraceStart:
    lang: _TraceLang
    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        return [
            Piece(self.lang.header(e, composed), _Steps(self.lang, composed, e, False))
            for composed in (False, True)
            for e in self.lang.experts
        ]

    def min_rest(self) -> int:
        return min(self.lang.header_len(e, False) for e in self.lang.experts) + self.lang.min_step


@dataclass(frozen=True)
class _Steps:
    lang: _TraceLang
    composed: bool
    expert: str
    started: bool  # at least one step in this block: the trace may end here
    final = False

    @property
    def accepting(self) -> bool:
        return self.started

    def pieces(self) -> Sequence[Piece]:
        nxt = self if self.started else _Steps(self.lang, self.composed, self.expert, True)
        if self.composed:
            out = [Piece(lit("  "), _Indent(self.lang, self.expert, nxt))]
        else:
            out = self.lang.steps(self.expert, nxt)
        if self.composed and self.started:
            out += [
                Piece(self.lang.header(e, True), _Steps(self.lang, True, e, False))
                for e in self.lang.experts
            ]
        return out

    def min_rest(self) -> int:
        return 0 if self.started else self.lang.min_step + (2 if self.composed else 0)


@dataclass(frozen=True)
class _Indent:
    """A composed block's step line after its two-space indent: the rest is the line a single
    trace writes, so both read one piece (one NFA, one DFA and the same walk tables per
    expert, where an indented copy of the step doubled them); the texts are the same."""

    lang: _TraceLang
    expert: str
    after: _Steps  # the block once the line is complete
    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        return self.lang.steps(self.expert, self.after)

    def min_rest(self) -> int:
        return self.lang.min_step + self.after.min_rest()


def prefix_automaton() -> Automaton:
    """The prefix automaton of canonical trace text (single or composed).

    See the module notes for exactly which texts it accepts.

    Returns:
        An :class:`~dslkit.automaton.Automaton`; a trace may end after any complete step.
    """
    return Automaton(_TraceStart(_TraceLang()))
