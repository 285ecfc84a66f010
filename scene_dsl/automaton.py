"""The scene language as a prefix automaton, for constrained decoding.

The automaton accepts canonical inline scenes (block or row form): ``[scene]``, then attributes
in the contract's canonical order with legal values (``layout`` required before any component;
combination rules such as "signal_glow has no amber tone" applied), then components the family
admits (singletons once), each with its fields in contract order and legal values, children
only where the contract allows them, and a closing tag only once the required fields are
there; ``[/scene]`` only once the family's required component is there. Everything comes from
the contract (:mod:`scene_dsl.contract`), ids and content refs from its own patterns.

In row form a component is one token ``[name:part|part|...]`` and the automaton admits exactly
what the canonical printer (:mod:`scene_dsl.printer`) can write: the positional parts of the
signature the contract's row-signature rule picks for the fields present (kinds by signature:
``@ref``, ids, enum values, ints in range, ``a->b`` edges, a trailing variadic part), then the
other fields as ``key=value`` in contract order. Which signature that is depends on every field
of the token, so a row context tracks the *shape* seen so far (positional count, signatures
still possible, the fields present) and only offers parts after which some canonical token can
still be finished. Components with children (``table_block``) print as blocks with at least one
row-form child.

What the automaton does *not* track, because it would put payload text into the state:
topology id declarations (``S313``/``S314``) and content refs resolving. Values are marked
instead (content refs as ``"ref"``, or ``"ref_object"`` where the field binds a whole object,
declared ids as ``"id"``, ids that name one as ``"idref"``,
in both forms), so a decoder (``dslkit.train.values``) can check them per generated row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property, partial
from pathlib import Path
from typing import Any, Literal

from dslkit.automaton import Automaton, Frag, Piece, alt, lit, regex, seq, tag
from scene_dsl.contract import (
    ID_RE,
    REF_RE,
    TEXT_RE,
    AttributeSpec,
    ComponentSpec,
    Contract,
    FieldSpec,
    RowSignature,
    load_contract,
)

__all__ = ["SCENE_END", "SceneForm", "prefix_automaton"]

SceneForm = Literal["block", "row"]

_Pieces = tuple[Piece, ...]  # what a context lists (one tuple shared by every context alike)
SCENE_END = "[/scene]"  # the grammar's SCENE_CLOSE: a complete program ends with it
# the contract's own value patterns: a topology id, a dotted content path
ID = regex(ID_RE.pattern)
REF = regex(REF_RE.pattern)
TEXT = regex(TEXT_RE.pattern)  # a literal display slug (CKE D4)


class _SceneLang:
    """Contract tables the scene contexts share (identity-hashed: one per automaton)."""

    def __init__(self, contract: Contract, form: SceneForm = "block") -> None:
        self.c = contract
        self.row = form == "row"
        self.attrs = contract.attributes
        self.layout_rank = contract.attribute_names.index("layout")
        # per rank: the attributes of the rules that involve an attribute of a later rank. A
        # value no such rule reads is dropped from the top-level contexts after that rank
        # (tone's rule reads theme: from tone on, the contexts no longer differ by theme all
        # the way to the first component, each meeting new states), and an attribute whose
        # value none reads is one piece for all its values
        ranks = {a.name: i for i, a in enumerate(contract.attributes)}
        involved = [(r.attribute, *(k for k, _ in r.when)) for r in contract.rules]
        self.read_after = [
            frozenset(
                k for names in involved if max(map(ranks.__getitem__, names)) > rank for k in names
            )
            for rank in range(len(contract.attributes))
        ]
        # attribute -> the rules that read it: a rule that reads none of a new value's
        # attribute holds after it as it held before (and every reachable context holds all)
        self.rules_for = {
            a.name: tuple(
                r for r in contract.rules if r.attribute == a.name or a.name in dict(r.when)
            )
            for a in contract.attributes
        }
        self._shapes: dict[str, _RowShapes] = {}
        self._tops: dict[str, tuple[tuple[str, bool, bool], ...]] = {}  # top_components
        self._values: dict[tuple[str, tuple[str, ...]], Frag] = {}  # values_frag
        self._fields: dict[tuple[str, int], Frag] = {}  # field_frag
        self._ids: dict[str, Frag] = {}  # id_frag
        self._allowed: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, ...]] = {}
        # the pieces of contexts, by what decides them (their next contexts are made from the
        # context, so every context with the same key lists the same tuple: a block's
        # fields under any parent, the components of a family after any attributes)
        self._attr_pieces: dict[tuple[tuple[tuple[str, str], ...], int, str | None], _Pieces] = {}
        self._top_pieces: dict[tuple[str, frozenset[str], bool], _Pieces] = {}
        self._block_pieces: dict[tuple[str, int, frozenset[str], bool], _Pieces] = {}
        self._deciding: dict[tuple[str, frozenset[str]], frozenset[str]] = {}
        # the pieces those tuples share (see _opening)
        self._rank_pieces: dict[tuple[tuple[tuple[str, str], ...], int, str | None], _Pieces] = {}
        self._openings: dict[tuple[str, tuple[str | None, bool] | None], _Pieces] = {}
        self._after_comp: dict[tuple[str | None, bool], partial[_Top]] = {}
        self._field_pieces: dict[tuple[str, int], Piece] = {}
        self._closings: dict[str, Piece] = {}

    def __reduce__(self) -> tuple[object, ...]:
        # pickled by what builds it (the shape cache holds pattern closures), so a compiled
        # token masker can be saved and loaded by another process
        return (_SceneLang, (self.c, "row" if self.row else "block"))

    def top_components(self, layout: str) -> tuple[tuple[str, bool, bool], ...]:
        """The components a family admits at the top level, in canonical order: ``(name,
        singleton, one the family requires)`` (found once per family)."""
        found = self._tops.get(layout)
        if found is None:
            fam = self.c.families[layout]
            found = self._tops[layout] = tuple(
                (name, self.c.components[name].singleton, name in fam.requires_any)
                for name in sorted(fam.admits)
                if not self.c.components[name].child_only
            )
        return found

    def shapes(self, name: str) -> _RowShapes:
        """The row-token shapes of a component (built on first use)."""
        shapes = self._shapes.get(name)
        if shapes is None:
            shapes = self._shapes[name] = _RowShapes(self.c.components[name])
        return shapes

    def comp_min(self, name: str) -> int:
        """Characters of the shortest canonical component ``name`` in this language's form."""
        if not self.row:
            return self.block_min(name)
        spec = self.c.components[name]
        best = len(f" [{name}:") + self.shapes(name).start_rest
        if spec.children:  # a block, and in row form only with at least one child
            child = min(self.comp_min(c) for c in spec.children)
            best = min(best, self.block_min(name) + child)
        return best

    def attribute_pieces(
        self, rule_attrs: tuple[tuple[str, str], ...], last_rank: int, layout: str | None
    ) -> _Pieces:
        """The attributes a top-level context may still write (before any component), after
        the attribute of rank ``last_rank``, the rule-read values ``rule_attrs`` and the
        layout ``layout``."""
        key = (rule_attrs, last_rank, layout)
        found = self._attr_pieces.get(key)
        if found is not None:
            return found
        out: list[Piece] = []
        for rank in range(last_rank + 1, len(self.attrs)):
            if layout is None and rank > self.layout_rank:
                break
            out += self._attr_rank_pieces(rule_attrs, rank, layout)
        found = self._attr_pieces[key] = tuple(out)
        return found

    def _attr_rank_pieces(
        self, rule_attrs: tuple[tuple[str, str], ...], rank: int, layout: str | None
    ) -> _Pieces:
        """The pieces of the attribute of rank ``rank`` after the rule-read values
        ``rule_attrs`` and the layout ``layout``: the same whatever attribute came last, so
        the top-level contexts that differ only in that share them (their pieces and the
        functions that make their next contexts are thousands of long-lived objects in a long
        decode otherwise)."""
        key = (rule_attrs, rank, layout)
        found = self._rank_pieces.get(key)
        if found is not None:
            return found
        a = self.attrs[rank]
        later = self.read_after[rank]
        kept = tuple(kv for kv in rule_attrs if kv[0] in later)  # (what a later rule reads)
        same = partial(_after_attr, kept, rank, layout)  # (whatever the value)
        out: list[Piece] = []
        if a.kind == "id":
            out.append(Piece(self.id_frag(a.name), same))
        else:
            values = self.values_after(a, rule_attrs)
            if a.name not in later and a.name != "layout":
                # every value leads to the same context: one piece reads them all (a
                # top-level context lists a few dozen pieces, not one per value)
                if values:
                    out.append(Piece(self.values_frag(a.name, values), same))
            else:
                for v in values:
                    after = (*kept, (a.name, v)) if a.name in later else kept
                    nxt = partial(_after_attr, after, rank, v if a.name == "layout" else layout)
                    out.append(Piece(lit(f" [{a.name}:{v}]"), nxt))
        found = self._rank_pieces[key] = tuple(out)
        return found

    def top_pieces(self, layout: str, singles: frozenset[str], has_required: bool) -> _Pieces:
        """The components a top-level context of family ``layout`` may open (``singles``:
        the singletons already used), and the end once the family's requirement is met."""
        key = (layout, singles, has_required)
        found = self._top_pieces.get(key)
        if found is not None:
            return found
        out: list[Piece] = []
        for name, singleton, required in self.top_components(layout):
            if singleton and name in singles:
                continue
            # the context after a component: one per singleton (its own set of used ones),
            # and one shared by the others, per whether the family's requirement is met
            out += self._opening(name, (name if singleton else None, has_required or required))
        if has_required or not self.c.families[layout].requires_any:
            out.append(_END_PIECE)
        found = self._top_pieces[key] = tuple(out)
        return found

    def deciding_fields(self, name: str, seen: frozenset[str]) -> frozenset[str]:
        """What of the fields ``seen`` of a ``[name]`` block decides what may follow: the
        required ones (every one before the last field written is there, or that field could
        not have been), and whether one of the component's ``requires_any`` fields is there,
        written as the first of them in contract order (it lies before the last field
        written, so when it is required it is there anyway). The optional others only ever
        come before the next field in contract order, so blocks that differ only in them are
        one context (and their states are met once)."""
        key = (name, seen)
        found = self._deciding.get(key)
        if found is None:
            spec = self.c.components[name]
            kept = {f.name for f in spec.fields if f.required and f.name in seen}
            if seen & set(spec.requires_any):
                kept.add(min(spec.requires_any, key=spec.field_index.__getitem__))
            found = self._deciding[key] = frozenset(kept)
        return found

    def block_pieces(
        self, name: str, last: int, seen: frozenset[str], in_children: bool
    ) -> _Pieces:
        """What may come next inside ``[name]`` after field ``last`` (-1: none) with the
        fields ``seen``, in its children or not: fields in contract order, then children,
        then the closing tag once the fields are complete."""
        key = (name, last, seen, in_children)
        found = self._block_pieces.get(key)
        if found is not None:
            return found
        spec = self.c.components[name]
        out: list[Piece] = []
        ra_met = not spec.requires_any or bool(seen & set(spec.requires_any))
        if not in_children:
            for i, f in enumerate(spec.fields):
                if i < last or (i == last and not f.repeatable):
                    continue
                # canonical order is final: skipping a required field would make it impossible
                if any(g.required and g.name not in seen for g in spec.fields[:i]):
                    continue
                if (
                    not ra_met
                    and f.name not in spec.requires_any
                    and not any(spec.field_index[r] > i for r in spec.requires_any)
                ):
                    continue
                out.append(self._field_piece(spec, i))
        if ra_met and all(not f.required or f.name in seen for f in spec.fields):
            for child in spec.children:
                out += self._opening(child, None)
            # in row form the printer writes a block only for a component with children
            if not (self.row and spec.children and not in_children):
                out.append(self._closing(name))
        found = self._block_pieces[key] = tuple(out)
        return found

    # One Piece per thing that decides it, shared by every pieces tuple that lists it: the
    # tuples differ context by context (the singletons used, the fields seen), their pieces
    # and the functions that make their next contexts need not (in a long decode they were
    # the most numerous long-lived objects, each walked by every full pass of the collector).
    def _opening(self, name: str, after: tuple[str | None, bool] | None) -> _Pieces:
        """The openings of component ``name`` at the top level (``after``: the singleton it
        is or None, and whether the family's requirement is met once it is closed) or, with
        ``after`` None, as a child (the parent block among its children once it is closed)."""
        key = (name, after)
        found = self._openings.get(key)
        if found is None:
            if after is None:
                close: Callable[[Any], _Top | _Block] = _in_children
            else:
                close = self._after_comp.get(after)  # type: ignore[assignment]
                if close is None:
                    close = self._after_comp[after] = partial(_after_component, *after)
            found = self._openings[key] = tuple(_component_pieces(self, name, close))
        return found

    def _field_piece(self, comp: ComponentSpec, i: int) -> Piece:
        """Field ``i`` of a component, leading to the block after it."""
        key = (comp.name, i)
        found = self._field_pieces.get(key)
        if found is None:
            found = self._field_pieces[key] = Piece(
                self.field_frag(comp, i), partial(_after_field, i, comp.fields[i].name)
            )
        return found

    def _closing(self, name: str) -> Piece:
        """``" [/name]"``, leading to the context the block was opened in."""
        found = self._closings.get(name)
        if found is None:
            found = self._closings[name] = Piece(lit(f" [/{name}]"), _parent)
        return found

    def values_frag(self, name: str, values: tuple[str, ...]) -> Frag:
        """``" [name:value]"`` for any one of ``values`` (one fragment per attribute and
        value set: compiling a context finds a pattern it met before by identity)."""
        key = (name, values)
        found = self._values.get(key)
        if found is None:
            found = self._values[key] = seq(
                lit(f" [{name}:"), alt(*(lit(v) for v in values)), lit("]")
            )
        return found

    def id_frag(self, name: str) -> Frag:
        """``" [name:id]"``: an attribute whose value is an id (one fragment per attribute)."""
        found = self._ids.get(name)
        if found is None:
            found = self._ids[name] = seq(lit(f" [{name}:"), ID, lit("]"))
        return found

    def values_after(
        self, a: AttributeSpec, rule_attrs: tuple[tuple[str, str], ...]
    ) -> tuple[str, ...]:
        """The values of attribute ``a`` no combination rule refuses after the rule-read
        values ``rule_attrs``, found once per pair (the top-level contexts of a decode ask
        again and again)."""
        key = (a.name, rule_attrs)
        found = self._allowed.get(key)
        if found is None:
            rules = self.rules_for[a.name]
            known = dict(rule_attrs)
            found = self._allowed[key] = tuple(
                v
                for v in a.all_values
                if not (rules and any(r.violated({**known, a.name: v}) for r in rules))
            )
        return found

    def field_frag(self, comp: ComponentSpec, i: int) -> Frag:
        """``" [field:value]"`` of field ``i`` of a component (built when a block first lists
        it, one fragment per field: compiling a context finds a pattern by identity)."""
        key = (comp.name, i)
        found = self._fields.get(key)
        if found is None:
            f = comp.fields[i]
            found = self._fields[key] = seq(lit(f" [{f.name}:"), _value_frag(f), lit("]"))
        return found

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
            self.comp_min(c)
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
        return tag(_ref_kind(f.shape), REF)
    if f.kind == "text":
        return tag("text", TEXT)
    return tag(f.kind, ID)  # "id" declares a topology id, "idref" names one


def _ref_kind(shape: str) -> str:
    # a ref that binds a whole object is its own value kind, so a decoder can hold it to objects
    return "ref_object" if shape == "object" else "ref"


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
_END_PIECE = Piece(lit(f" {SCENE_END}"), _DONE)


@dataclass(frozen=True)
class _Top:
    """Top level of the scene: attributes (while no component yet), components, the end."""

    lang: _SceneLang
    rule_attrs: tuple[tuple[str, str], ...]  # values a rule on a later attribute may still read
    last_rank: int  # canonical rank of the last attribute written
    layout: str | None
    singles: frozenset[str]  # singleton components already used
    has_required: bool  # the family's required component is there
    in_components: bool  # a component was written: no more attributes

    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        lang = self.lang
        if self.in_components:
            attrs: _Pieces = ()
        else:
            attrs = lang.attribute_pieces(self.rule_attrs, self.last_rank, self.layout)
        if self.layout is None:
            return attrs
        return attrs + lang.top_pieces(self.layout, self.singles, self.has_required)

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
    seen: frozenset[str]  # the fields written that decide what follows (deciding_fields)
    in_children: bool
    parent: _Top | _Block  # the context after the closing tag

    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        return self.lang.block_pieces(self.name, self.last, self.seen, self.in_children)

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
        if self.lang.row and spec.children and not self.in_children:
            need += min(self.lang.comp_min(c) for c in spec.children)
        return need + len(f" [/{self.name}]") + self.parent.min_rest()


# What a piece leads to, made from the context that lists it (see dslkit.automaton.Piece): the
# same function serves every context with the same pieces.
def _after_attr(
    rule_attrs: tuple[tuple[str, str], ...], rank: int, layout: str | None, top: _Top
) -> _Top:
    """The top level once the attribute of rank ``rank`` is written."""
    return _Top(top.lang, rule_attrs, rank, layout, top.singles, False, False)


def _after_component(single: str | None, met: bool, top: _Top) -> _Top:
    """The top level once a component is closed (``single``: the singleton it was, None for
    any other; ``met``: the family's required component is there). No attribute may follow a
    component, so what the attributes were (beyond the layout) no longer matters and is
    forgotten: every scene of a family with the same components used so far is in the same
    context from here on, and so are the blocks opened in it."""
    singles = top.singles if single is None else top.singles | {single}
    return _Top(top.lang, (), -1, top.layout, singles, met, True)


def _after_field(i: int, name: str, block: _Block) -> _Block:
    """The block once field ``name`` (index ``i``) is written."""
    seen = block.lang.deciding_fields(block.name, block.seen | {name})
    return _Block(block.lang, block.name, i, seen, False, block.parent)


def _in_children(block: _Block) -> _Block:
    """The block among its children (once a child is closed)."""
    return _Block(block.lang, block.name, block.last, block.seen, True, block.parent)


def _parent(ctx: _Block | _Row) -> _Top | _Block:
    """The context after a block's closing tag or a row token's ']'."""
    return ctx.parent


def _open_block(name: str, after: Callable[[Any], _Top | _Block], here: _Top | _Block) -> _Block:
    """Inside ``[name]`` opened in ``here``, before any field (``after(here)``: the context
    once it is closed)."""
    return _Block(here.lang, name, -1, frozenset(), False, after(here))


def _open_row(name: str, after: Callable[[Any], _Top | _Block], here: _Top | _Block) -> _Row:
    """Inside ``[name:`` opened in ``here``, before any part (``after(here)``: the context
    once it is closed)."""
    return _Row(here.lang, name, here.lang.shapes(name).start, after(here))


def _component_pieces(
    lang: _SceneLang, name: str, after: Callable[[Any], _Top | _Block]
) -> list[Piece]:
    """The ways a component may start, each leading into its body (``after(here)``: the
    context once it is closed, for the context ``here`` that lists it; made, like the body's,
    only when the opening is completed)."""
    block = Piece(lit(f" [{name}]"), partial(_open_block, name, after))
    if not lang.row:
        return [block]
    spec = lang.c.components[name]
    row = Piece(lit(f" [{name}:"), partial(_open_row, name, after))
    return [row, block] if spec.children else [row]


# ----------------------------------------------------------------------------- row tokens
_NONE = 1 << 20  # "no completion" in the part-level distances below


@dataclass(frozen=True)
class _Pos:
    """Positional phase of a row token: ``k`` parts so far (capped: past the longest signature
    only "many" matters), and the signatures whose part kinds matched them."""

    k: int
    cands: frozenset[int]


@dataclass(frozen=True)
class _Named:
    """Named phase: the signature the positional parts were read as (-1: none), the fields
    present with counts capped, and the contract index of the last named part."""

    sig: int
    counts: tuple[tuple[str, int], ...]
    last: int


_Shape = _Pos | _Named
_Sym = tuple[str, tuple[object, ...]]  # ("pos", kind key) | ("named", (field index,))


class _RowShapes:
    """Part-level automaton of one component's canonical row tokens.

    Follows the contract's row-signature rule, as the printer and the parser do
    (:meth:`~scene_dsl.contract.ComponentSpec.row_signature`: the signature a token is written
    with; :meth:`~scene_dsl.contract.ComponentSpec.signature_for`: the one ``n`` positional
    parts are read as). Shapes are
    explored once; a shape is *viable* when some canonical token can still be finished from it,
    and contexts only offer parts that lead to viable shapes, so the mask never leads into a
    dead end.
    """

    def __init__(self, spec: ComponentSpec) -> None:
        self.spec = spec
        longest = max((len(s.parts) for s in spec.row), default=0)
        self.cap = longest + 1  # a count past this selects the same signature
        self.kcap = self.cap + longest  # a part count past this: variadic count >= cap
        self.start = _Pos(0, frozenset(i for i, s in enumerate(spec.row) if s.parts))
        self.moves: dict[_Shape, list[tuple[_Sym, _Shape]]] = {}
        self.done: dict[_Shape, bool] = {}
        todo: list[_Shape] = [self.start]
        while todo:
            x = todo.pop()
            if x in self.moves:
                continue
            self.moves[x] = self._moves(x)
            self.done[x] = self._final(x)
            todo.extend(t for _, t in self.moves[x] if t not in self.moves)
        # rest[x]: fewest characters from shape x to the closing ']' through at least one more
        # part (Bellman-Ford over the small finite graph; _NONE: x cannot be finished).
        self.rest: dict[_Shape, int] = dict.fromkeys(self.moves, _NONE)
        changed = True
        while changed:
            changed = False
            for x, moves in self.moves.items():
                best = self.rest[x]
                for sym, t in moves:
                    step = self.sym_min(sym) + 1
                    if self.done[t]:
                        best = min(best, step)
                    best = min(best, step + self.rest[t])
                if best < self.rest[x]:
                    self.rest[x], changed = best, True
        self.start_rest = min(1 if self.done[self.start] else _NONE, self.rest[self.start])
        self._pieces: dict[_Shape, _Pieces] = {}  # pieces

    # -- signatures ---------------------------------------------------------------------------
    def _index(self, sig: RowSignature | None) -> int:
        return next((i for i, s in enumerate(self.spec.row) if s is sig), -1)

    def sig_for(self, n: int) -> int:
        """Index of the signature the parser reads ``n`` positional parts as (-1: none)."""
        return self._index(self.spec.signature_for(n))

    def pick(self, counts: dict[str, int]) -> int:
        """Index of the signature the printer writes these fields with (-1: none)."""
        return self._index(self.spec.row_signature(counts))

    def kind(self, sig: int, k: int) -> tuple[object, ...] | None:
        """Kind key of positional part ``k`` under a signature (None: it takes no such part)."""
        s = self.spec.row[sig]
        if k >= len(s.parts) and not s.variadic:
            return None
        names = s.parts[min(k, len(s.parts) - 1)]
        if len(names) == 2:
            return ("edge",)
        f = self.spec.fields[self.spec.field_index[names[0]]]
        return _kind_key(f)

    # -- shape graph --------------------------------------------------------------------------
    def _moves(self, x: _Shape) -> list[tuple[_Sym, _Shape]]:
        out: list[tuple[_Sym, _Shape]] = []
        if isinstance(x, _Pos):
            groups: dict[tuple[object, ...], set[int]] = {}
            for i in sorted(x.cands):
                key = self.kind(i, x.k)
                if key is not None:
                    groups.setdefault(key, set()).add(i)
            _check_disjoint(self.spec.name, x.k, list(groups))
            for key, sigs in groups.items():
                out.append((("pos", key), _Pos(min(x.k + 1, self.kcap), frozenset(sigs))))
            named = self._enter(x)
            if named is None:
                return out
            x = named
        sig = self.spec.row[x.sig] if x.sig >= 0 else None
        variadic = sig.parts[-1][0] if sig is not None and sig.variadic else None
        counts = dict(x.counts)
        for i, f in enumerate(self.spec.fields):
            if i < x.last or (i == x.last and not f.repeatable) or f.name == variadic:
                continue  # named parts follow contract order; the printer takes every x*
            n = counts.get(f.name, 0)
            if n and not f.repeatable:
                continue
            new = {**counts, f.name: min(n + 1, self.cap)}
            out.append((("named", (i,)), _Named(x.sig, self._ordered(new), i)))
        return out

    def _ordered(self, counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
        return tuple(sorted(counts.items(), key=lambda kv: self.spec.field_index[kv[0]]))

    def _enter(self, x: _Pos) -> _Named | None:
        """The named phase after ``x``'s positional parts (None: no signature reads them)."""
        if x.k == 0:
            return _Named(-1, (), -1)
        i = self.sig_for(x.k)
        if i < 0 or i not in x.cands:
            return None
        sig = self.spec.row[i]
        counts = dict.fromkeys(sig.fields, 1)
        if sig.variadic:
            counts[sig.parts[-1][0]] = min(x.k - len(sig.parts) + 1, self.cap)
        return _Named(i, self._ordered(counts), -1)

    def _final(self, x: _Shape) -> bool:
        if isinstance(x, _Pos):
            named = self._enter(x)
            if named is None:
                return False
            x = named
        spec, counts = self.spec, dict(x.counts)
        if any(f.required and f.name not in counts for f in spec.fields):
            return False
        if spec.requires_any and not any(r in counts for r in spec.requires_any):
            return False
        picked = self.pick(counts)
        if x.sig < 0:  # no positional part: the printer's pick must print none either
            return picked < 0 or not spec.row[picked].parts
        return picked == x.sig

    # -- characters ---------------------------------------------------------------------------
    def sym_min(self, sym: _Sym) -> int:
        """Characters of the shortest text of a part (without its '|' or ']')."""
        what, key = sym
        if what == "named":
            f = self.spec.fields[int(key[0])]  # type: ignore[call-overload]
            return len(f.row_key) + 1 + _kind_min(_kind_key(f))
        return _kind_min(key)

    def pattern(self, sym: _Sym) -> Frag:
        """The text of a part."""
        what, key = sym
        if what == "named":
            f = self.spec.fields[int(key[0])]  # type: ignore[call-overload]
            return seq(lit(f"{f.row_key}="), _kind_frag(_kind_key(f), f.shape))
        return _kind_frag(key)

    def rest_from(self, x: _Shape) -> int:
        """Characters from a row context at shape ``x`` to its closing ']'."""
        return self.start_rest if x == self.start else self.rest[x]

    def pieces(self, x: _Shape) -> _Pieces:
        """The parts that may come next at shape ``x``, each ending in '|' or ']' (one tuple
        per shape: the row contexts of any parent list it)."""
        found = self._pieces.get(x)
        if found is not None:
            return found
        out: list[Piece] = []
        if x == self.start and self.done[x]:
            out.append(Piece(lit("]"), _parent))  # `[name:]`: a component with no fields
        for sym, t in self.moves[x]:
            pat = self.pattern(sym)
            if self.done[t]:
                out.append(Piece(seq(pat, lit("]")), _parent))
            if self.rest[t] < _NONE:
                out.append(Piece(seq(pat, lit("|")), partial(_row_at, t)))
        found = self._pieces[x] = tuple(out)
        return found


def _row_at(shape: _Pos | _Named, row: _Row) -> _Row:
    """The row token at shape ``shape`` after a part of ``row``."""
    return _Row(row.lang, row.name, shape, row.parent)


def _kind_key(f: FieldSpec) -> tuple[object, ...]:
    if f.kind == "enum":
        return ("enum", f.values)
    if f.kind == "int":
        return ("int", f.minimum, f.maximum)
    return (f.kind,) if f.kind in ("ref", "idref", "text") else ("id",)


def _kind_frag(key: tuple[object, ...], shape: str = "") -> Frag:
    # ``shape``: a named part's field shape. A positional part may stand for fields of several
    # shapes, so its refs stay plain "ref" (checked to resolve, not to be objects).
    what = key[0]
    if what == "ref":
        # the printer marks content refs with '@' in row form
        return seq(lit("@"), tag(_ref_kind(shape), REF))
    if what == "edge":
        return seq(tag("idref", ID), lit("->"), tag("idref", ID))
    if what == "text":
        return tag("text", TEXT)
    if what == "enum":
        return alt(*(lit(str(v)) for v in key[1]))  # type: ignore[attr-defined]
    if what == "int":
        return alt(*(lit(str(i)) for i in range(int(key[1]), int(key[2]) + 1)))  # type: ignore[call-overload]
    return tag(str(what), ID)  # "id" declares a topology id, "idref" names one


def _kind_min(key: tuple[object, ...]) -> int:
    what = key[0]
    if what == "enum":
        return min(len(str(v)) for v in key[1])  # type: ignore[attr-defined]
    if what == "int":
        return len(str(key[1]))
    return {"ref": 2, "edge": 4}.get(str(what), 1)


def _check_disjoint(name: str, k: int, keys: list[tuple[object, ...]]) -> None:
    """Two signatures whose part ``k`` kinds overlap would make the part's text ambiguous (a
    completed piece must determine the next context); v1 has none, a new contract may."""
    texty = [key for key in keys if key[0] in ("id", "idref", "enum", "int")]
    ids = sum(key[0] in ("id", "idref", "enum") for key in texty)
    ints = sum(key[0] == "int" for key in texty)
    if ids > 1 or ints > 1:
        raise ValueError(f"{name}: row signatures disagree on the kind of positional part {k}")


@dataclass(frozen=True)
class _Row:
    """Inside a row token ``[name:...]`` at a part boundary (after ':' or '|')."""

    lang: _SceneLang
    name: str
    shape: _Pos | _Named
    parent: _Top | _Block  # the context after the closing ']'

    accepting = False
    final = False

    def pieces(self) -> Sequence[Piece]:
        return self.lang.shapes(self.name).pieces(self.shape)

    def min_rest(self) -> int:
        return self.lang.shapes(self.name).rest_from(self.shape) + self.parent.min_rest()


def prefix_automaton(
    contract: str | Path | Contract | None = None, form: SceneForm = "block"
) -> Automaton:
    """The prefix automaton of canonical inline scenes in block or row form.

    It accepts (:meth:`~dslkit.automaton.Automaton.accepts`) exactly the texts ``t`` for which
    ``parse(t)`` succeeds, ``validate`` finds no error other than the two that need payload
    text in the state (``S313`` an id declared twice, ``S314`` an id used before it is
    declared; content refs are not resolved either) and
    ``to_text(canonicalize(parse(t)), form=form, inline=True) == t``. Values are marked
    (:func:`dslkit.automaton.tag`: content refs ``"ref"`` or, binding a whole object,
    ``"ref_object"``; declared ids ``"id"``, ids that name
    one ``"idref"``) so a decoder can check them beside the mask.

    Args:
        contract: contract name, path or object (None: the default contract).
        form: ``"block"`` (one token per field) or ``"row"`` (one ``[name:parts]`` token per
            component, as ``scene_dsl.to_text(..., form="row", inline=True)`` prints it).

    Returns:
        An :class:`~dslkit.automaton.Automaton` whose complete programs end with ``[/scene]``.
    """
    if form not in ("block", "row"):
        raise ValueError(f"form must be 'block' or 'row', not {form!r}")
    spec = load_contract() if contract is None else load_contract(contract)
    return Automaton(_SceneStart(_SceneLang(spec, form)))
