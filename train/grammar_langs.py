"""The two languages as context graphs for :mod:`train.grammar_mask`.

Scenes (block form, inline canonical surface): ``[scene]``, then attributes in the contract's
canonical order with legal values (``layout`` required before any component; combination rules
such as "signal_glow has no amber tone" applied), then components the family admits (singletons
once), each with its fields in contract order and legal values, children only where the
contract allows them, and a closing tag only once the required fields are there; ``[/scene]``
only once the family's required component is there.

Traces (canonical flow style): ``expert: E`` / ``trace:`` and steps ``- {op: ...}`` whose keys
follow the step schema of :mod:`trace_dsl.parser` with the expert's own ops; or composed blocks
``- expert: E`` / ``  trace:`` / ``  - {...}``. Names exclude the YAML booleans/null.

What the automata do *not* track, because it would put payload text into the state: topology
id declarations (``S313``/``S314``), content refs resolving, duplicate keys inside a map and
whether the trace's variables are defined. Those remain the probe's and the solver's job.
"""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from scene_dsl.contract import Contract, FieldSpec, load_contract
from train.grammar_mask import (
    Automaton,
    Frag,
    Piece,
    _Nfa,
    alt,
    chars,
    lit,
    opt,
    plus,
    seq,
    star,
)

__all__ = ["SCENE_END", "scene_automaton", "trace_automaton"]

SCENE_END = "[/scene]"
_ID_START = string.ascii_letters + "_"
_WORD = string.ascii_letters + string.digits + "_"
_DIGITS = string.digits

ID = seq(chars(_ID_START), star(chars(_WORD)))
REF = seq(plus(chars(_WORD)), star(seq(lit("."), plus(chars(_WORD)))))


# ============================================================================= scenes
class _SceneLang:
    """Contract tables the scene contexts share (identity-hashed: one per automaton)."""

    def __init__(self, contract: Contract) -> None:
        self.c = contract
        self.attrs = contract.attributes
        self.layout_rank = contract.attribute_names.index("layout")
        self.rule_keys = frozenset(k for r in contract.rules for k, _ in r.when)

    @cached_property
    def field_frags(self) -> dict[tuple[str, str], Frag]:
        out: dict[tuple[str, str], Frag] = {}
        for comp in self.c.components.values():
            for f in comp.fields:
                out[(comp.name, f.name)] = seq(lit(f" [{f.name}:"), _value_frag(f), lit("]"))
        return out

    def fmin(self, f: FieldSpec) -> int:
        return len(f" [{f.name}:]") + _value_min(f)

    def block_min(self, name: str) -> int:
        comp = self.c.components[name]
        need = sum(self.fmin(f) for f in comp.fields if f.required)
        required = {f.name for f in comp.fields if f.required}
        if comp.requires_any and not required & set(comp.requires_any):
            need += min(self.fmin(comp.field(r)) for r in comp.requires_any)  # type: ignore[arg-type]
        return len(f" [{name}]") + need + len(f" [/{name}]")

    def need(self, layout: str, used: frozenset[str] = frozenset()) -> int:
        fam = self.c.families[layout]
        options = [
            self.block_min(c)
            for c in fam.requires_any
            if not (self.c.components[c].singleton and c in used)
        ]
        return min(options) if fam.requires_any else 0


def _value_frag(f: FieldSpec) -> Frag:
    if f.kind == "enum":
        return alt(*(lit(v) for v in f.values))
    if f.kind == "int":
        return alt(*(lit(str(i)) for i in range(f.minimum, f.maximum + 1)))
    if f.kind == "ref":
        return REF
    return ID  # id, idref


def _value_min(f: FieldSpec) -> int:
    if f.kind == "enum":
        return min(len(v) for v in f.values)
    if f.kind == "int":
        return len(str(f.minimum))
    return 1


@dataclass(frozen=True)
class _SceneStart:
    lang: _SceneLang

    def pieces(self) -> Sequence[Piece]:
        return [Piece(lit("[scene]"), self._top)]

    @cached_property
    def _top(self) -> _Top:
        return _Top(self.lang, (), -1, None, frozenset(), False, False)

    def min_rest(self) -> int:
        return len("[scene]") + self._top.min_rest()

    accepting = False
    final = False


@dataclass(frozen=True)
class _Done:
    accepting = True
    final = True

    def pieces(self) -> Sequence[Piece]:
        return []

    def min_rest(self) -> int:
        return 0


_DONE = _Done()


@dataclass(frozen=True)
class _Top:
    """Top level of the scene: attributes (while no component yet), components, the end."""

    lang: _SceneLang
    rule_attrs: tuple[tuple[str, str], ...]  # values of attributes that combination rules read
    last_rank: int  # canonical rank of the last attribute written
    layout: str | None
    singles: frozenset[str]  # singleton components already used
    has_required: bool  # the family's required component is there
    in_components: bool  # a component was written: no more attributes

    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        lang, c = self.lang, self.lang.c
        out: list[Piece] = []
        if not self.in_components:
            known = dict(self.rule_attrs)
            for rank, a in enumerate(lang.attrs):
                if rank <= self.last_rank or (self.layout is None and rank > lang.layout_rank):
                    continue
                if a.kind == "id":
                    nxt = _Top(lang, self.rule_attrs, rank, self.layout, self.singles, False, False)
                    out.append(Piece(seq(lit(f" [{a.name}:"), ID, lit("]")), nxt))
                    continue
                for v in a.all_values:
                    trial = {**known, a.name: v}
                    if any(r.violated(trial) for r in c.rules):
                        continue
                    rule_attrs = self.rule_attrs
                    if a.name in lang.rule_keys:
                        rule_attrs = (*rule_attrs, (a.name, v))
                    layout = v if a.name == "layout" else self.layout
                    nxt = _Top(lang, rule_attrs, rank, layout, self.singles, False, False)
                    out.append(Piece(lit(f" [{a.name}:{v}]"), nxt))
        if self.layout is not None:
            fam = c.families[self.layout]
            for name in sorted(fam.admits):
                spec = c.components[name]
                if spec.child_only or (spec.singleton and name in self.singles):
                    continue
                after = _Top(
                    lang,
                    self.rule_attrs,
                    self.last_rank,
                    self.layout,
                    self.singles | {name} if spec.singleton else self.singles,
                    self.has_required or name in fam.requires_any,
                    True,
                )
                out.append(
                    Piece(lit(f" [{name}]"), _Block(lang, name, -1, frozenset(), False, after))
                )
            if self.has_required or not fam.requires_any:
                out.append(Piece(lit(f" {SCENE_END}"), _DONE))
        return out

    def min_rest(self) -> int:
        end = len(f" {SCENE_END}")
        if self.layout is None:
            return end + min(
                len(f" [layout:{v}]") + self.lang.need(v) for v in self.lang.c.families
            )
        return end + (0 if self.has_required else self.lang.need(self.layout, self.singles))


@dataclass(frozen=True)
class _Block:
    """Inside ``[name]``: fields in contract order, then children, then ``[/name]``."""

    lang: _SceneLang
    name: str
    last: int  # index of the last field written (-1: none)
    seen: frozenset[str]
    in_children: bool
    parent: _Top | _Block  # the context after the closing tag

    accepting = False
    final = False

    def _fields_complete(self) -> bool:
        spec = self.lang.c.components[self.name]
        if any(f.required and f.name not in self.seen for f in spec.fields):
            return False
        return not spec.requires_any or bool(self.seen & set(spec.requires_any))

    def pieces(self) -> Sequence[Piece]:
        lang = self.lang
        spec = lang.c.components[self.name]
        out: list[Piece] = []
        if not self.in_children:
            ra_met = not spec.requires_any or bool(self.seen & set(spec.requires_any))
            for i, f in enumerate(spec.fields):
                if i < self.last or (i == self.last and not f.repeatable):
                    continue
                # canonical order is final: skipping a required field would make it impossible
                if any(g.required and g.name not in self.seen for g in spec.fields[:i]):
                    continue
                if (
                    not ra_met
                    and f.name not in spec.requires_any
                    and not any(spec.field_index[r] > i for r in spec.requires_any)
                ):
                    continue
                nxt = _Block(lang, self.name, i, self.seen | {f.name}, False, self.parent)
                out.append(Piece(lang.field_frags[(self.name, f.name)], nxt))
        if self._fields_complete():
            inside = _Block(lang, self.name, self.last, self.seen, True, self.parent)
            for child in spec.children:
                out.append(
                    Piece(lit(f" [{child}]"), _Block(lang, child, -1, frozenset(), False, inside))
                )
            out.append(Piece(lit(f" [/{self.name}]"), self.parent))
        return out

    def min_rest(self) -> int:
        spec = self.lang.c.components[self.name]
        need = sum(self.lang.fmin(f) for f in spec.fields if f.required and f.name not in self.seen)
        if spec.requires_any and not self.seen & set(spec.requires_any):
            required = {f.name for f in spec.fields if f.required}
            if not required & set(spec.requires_any):
                need += min(
                    (
                        self.lang.fmin(spec.fields[spec.field_index[r]])
                        for r in spec.requires_any
                        if spec.field_index[r] >= self.last
                    ),
                    default=1 << 20,
                )
        return need + len(f" [/{self.name}]") + self.parent.min_rest()


def scene_automaton(contract: str | Contract = "v1") -> Automaton:
    """The contract-aware automaton of canonical inline block-form scenes.

    Args:
        contract: contract name, path or object.

    Returns:
        An :class:`~train.grammar_mask.Automaton` whose complete programs end with ``[/scene]``.
    """
    return Automaton(_SceneStart(_SceneLang(load_contract(contract))))


# ============================================================================= traces
_RESERVED = ("yes", "no", "true", "false", "on", "off", "null")  # trace_dsl.parser.RESERVED


def _name_frag() -> Frag:
    """An identifier that is not a YAML boolean/null in any letter case (a hand-built DFA)."""

    def build(nfa: _Nfa, s: int) -> int:
        end = nfa.new()
        free = nfa.new()  # not a prefix of any reserved word
        nodes: dict[str, int] = {"": s}
        for word in _RESERVED:
            for k in range(1, len(word) + 1):
                if word[:k] not in nodes:
                    nodes[word[:k]] = nfa.new()
        for prefix, state in nodes.items():
            alphabet = _ID_START if prefix == "" else _WORD
            groups: dict[int, set[str]] = {}
            for ch in alphabet:
                target = nodes.get(prefix + ch.lower(), free)
                groups.setdefault(target, set()).add(ch)
            for target, cs in groups.items():
                nfa.add(state, target, frozenset(cs))
            if prefix and prefix not in _RESERVED:
                nfa.add(state, end)
        nfa.add(free, free, frozenset(_WORD))
        nfa.add(free, end)
        return end

    return build


NAME = _name_frag()
NUMBER = seq(
    opt(lit("-")),
    alt(lit("0"), seq(chars("123456789"), star(chars(_DIGITS)))),
    opt(seq(lit("."), plus(chars(_DIGITS)))),
)
ARG = alt(NAME, NUMBER)
SOURCE = alt(
    lit("prev.result"),
    seq(lit("sub"), alt(lit("0"), seq(chars("123456789"), star(chars(_DIGITS)))), lit(".result")),
)
STRING = seq(lit('"'), star(chars(set(string.printable) - set('"\\\n\r\t\x0b\x0c'))), lit('"'))
NUM_MAP = seq(
    lit("{"), NAME, lit(": "), NUMBER, star(seq(lit(", "), NAME, lit(": "), NUMBER)), lit("}")
)


def _args(lo: int, hi: int | None) -> Frag:
    more = [seq(lit(", "), ARG) for _ in range(lo - 1)]
    tail = [star(seq(lit(", "), ARG))] if hi is None else []
    return seq(lit("["), ARG, *more, *tail, lit("]"))


def _op_body(op: str) -> Frag:
    from trace_dsl.experts import ARITY, COMPUTE_OPS

    if op in ("compute", "compare"):
        ops = alt(*(seq(lit(c), lit(", args: "), _args(*ARITY[c])) for c in COMPUTE_OPS))
        return seq(lit(f"{op}, compute_op: "), ops, lit(", var: "), NAME)
    if op == "init":
        value = alt(seq(lit(", value: "), NUMBER), seq(lit(", source: "), SOURCE))
        return seq(lit("init, var: "), NAME, value)
    if op == "query":
        return seq(lit("query, var: "), NAME)
    if op == "given":
        return seq(lit("given, values: "), NUM_MAP)
    if op == "state":
        return seq(lit("state, assertions: "), NUM_MAP)
    if op == "formula":
        return seq(lit("formula, expression: "), STRING)
    if op == "transfer":
        return seq(
            lit("transfer, from_entity: "), NAME, lit(", to_entity: "), NAME, lit(", amount: "), ARG
        )
    if op in ("consume", "add_entity"):
        return seq(lit(f"{op}, entity: "), NAME, lit(", amount: "), ARG)
    if op.startswith("percent_"):
        return seq(lit(f"{op}, base: "), ARG, lit(", rate: "), ARG, lit(", var: "), NAME)
    raise ValueError(f"no step schema for op {op!r}")


class _TraceLang:
    def __init__(self) -> None:
        from trace_dsl.experts import EXPERTS, ops_for

        self.experts = EXPERTS
        self.bodies = {e: alt(*(_op_body(op) for op in sorted(ops_for(e)))) for e in EXPERTS}
        self.min_step = len("- {op: query, var: a}\n")

    def header(self, expert: str, composed: bool) -> str:
        return f"- expert: {expert}\n  trace:\n" if composed else f"expert: {expert}\ntrace:\n"


@dataclass(frozen=True)
class _TraceStart:
    lang: _TraceLang
    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        return [
            Piece(lit(self.lang.header(e, composed)), _Steps(self.lang, composed, e, False))
            for composed in (False, True)
            for e in self.lang.experts
        ]

    def min_rest(self) -> int:
        return min(len(self.lang.header(e, False)) for e in self.lang.experts) + self.lang.min_step


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
        indent = "  " if self.composed else ""
        nxt = self if self.started else _Steps(self.lang, self.composed, self.expert, True)
        out = [Piece(seq(lit(f"{indent}- {{op: "), self.lang.bodies[self.expert], lit("}\n")), nxt)]
        if self.composed and self.started:
            out += [
                Piece(lit(self.lang.header(e, True)), _Steps(self.lang, True, e, False))
                for e in self.lang.experts
            ]
        return out

    def min_rest(self) -> int:
        return 0 if self.started else self.lang.min_step + (2 if self.composed else 0)


def trace_automaton() -> Automaton:
    """The automaton of canonical trace text (single or composed), expert vocabularies applied.

    Returns:
        An :class:`~train.grammar_mask.Automaton`; a trace may end after any complete step.
    """
    return Automaton(_TraceStart(_TraceLang()))
