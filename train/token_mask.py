"""Per-state token masks of a prefix automaton over a tokenizer's vocabulary.

The automata come from the language packages (``scene_dsl.prefix_automaton``,
``trace_dsl.prefix_automaton``; engine: :mod:`dslkit.automaton`). A token is allowed in a state
when reading its characters one by one never leaves the language; :class:`TokenMasker` finds
them all at once, as xgrammar's adaptive token-mask cache does, by splitting what a state's
mask depends on:

* what is left to read in the state's context (:meth:`dslkit.automaton.Automaton.parts`:
  inside a content ref of any field, a block under any parent, the rest of a trace step) is
  the same for many states, and is walked once over the whole vocabulary with numpy (a table
  per residual: per token, dead, the NFA states it ends in, or the piece it completes and
  after how many characters). The walk runs on the piece's DFA, built as walks reach it and
  shared by every residual of the piece (the walks from successive positions of a trace step
  meet the same states); a walk starts with the tokens whose first character the start
  reads, and a state that reads a class of characters back into itself (a name, a number, a
  quoted string) reads a token's whole run of them in one step. The tokens written wholly in
  such a class (most of a large vocabulary, inside a name) are settled before the walk with
  one array per class, and the last few tokens still on their way are finished one by one
  in Python, where a vectorised step would cost tens of numpy calls. A rest that can only
  be read by few tokens (one literal, a few texts, a literal run with few tokens starting
  with it, first characters that start few tokens) gets its table from text lookups and
  those tokens, with no walk at all;
* only the few tokens that complete a piece and go on writing (``"])"``, ``"]\n["``) depend on
  the context they enter. They are grouped by the first character they write past the piece:
  a group whose first character the next context refuses (as a token of its own) dies whole,
  which settles nearly all of them (junk such as ``"]("``). Of the others, when what one
  writes after the piece is itself a token, the next context's tables settle it at once,
  otherwise the next context's structure reads it; only a token that completes a piece there
  as well is walked on, character by character. The answer is the same for every context
  whose start has the same parts (see :meth:`TokenMasker._rest_fate`).

A state's first visit is then a few table lookups plus those few walks; every other step is a
dict lookup and a cached boolean mask. Most states of a decode are entered by a token that
ends inside a piece: their parts come from the walk that found the token (its code's NFA
states, and the rest from them named once per table and code, see :meth:`TokenMasker._seeded`),
not from splitting the state's NFA states by piece and searching each rest anew.

The long-lived structures are kept to few objects (a state set's parts as parallel tuples,
tables and their union per state set, token positions in an int dict, the vocabulary's texts
as tuples, which the collector stops tracking after its first pass where it walks a list in
every pass that finds it young), because every full pass of Python's cyclic collector walks
them all, and with torch loaded such a pass costs 0.1 s; and they hold no reference cycle (a
state holds its masker weakly, a piece DFA holds closures over the vocabulary's arrays), so a
masker that is dropped is freed at once, not at the next full pass. The tables are keyed by the residual's structure, so they are saved with
the masker (:func:`dslkit.train.hf_decoding.save_masker`) and found again by a
process that loads it, for states it never met before.
"""

from __future__ import annotations

import operator
import threading
import weakref
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from dslkit.automaton import (
    DEAD,
    INF,
    Automaton,
    Copy,
    Parts,
    PieceName,
    Residual,
    Template,
    empty_closure,
)

__all__ = [
    "VALUE_CHARS",
    "PayloadStep",
    "PayloadSteps",
    "StateInfo",
    "TokenMasker",
    "brute_force_mask",
    "shared_masks",
]

# the characters a marked value (a ref, an id, a variable name) is written with
VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_UNKNOWN = -3  # a walk-table transition not computed yet
_DEAD = -1  # a walk code: the token leaves the language
# a walk with at most this many tokens still on their way finishes them one by one in Python
# (measured: a vectorised step costs about as much as this many tokens' characters)
_FEW = 48
# tokens on their way are settled by class (one array each) only when there are more than
# this many: for fewer, the DFA rows the settling fills cost more than walking them
_MANY = 256
# a rest of at most this many texts (no loop, one character an edge) is read by its texts
# (see TokenMasker._texts)
_TEXTS = 64
# NFA states a rest of a few texts spans at most (each text its own chain of states: 64 texts
# of ~60 characters); a longer rest is not read by its texts
_SINGLE_STATES = 4096


class _PackedMask:
    """A saved mask, as bits: one object per distinct mask, so states and tables that share a
    mask in memory (most states of a replay share a dozen masks) share it in the file too,
    where pickle writes an object once, and a loading process unpacks it once, when first
    read."""

    __slots__ = ("_mask", "bits", "size")

    def __init__(self, bits: np.ndarray, size: int) -> None:
        self.bits = bits
        self.size = size
        self._mask: np.ndarray | None = None

    def __reduce__(self) -> tuple[object, ...]:
        return (_PackedMask, (self.bits, self.size))

    def unpack(self) -> np.ndarray:
        if self._mask is None:
            self._mask = np.unpackbits(self.bits, count=self.size).view(bool)
        return self._mask


_SAVING = threading.local()  # .packed while shared_masks() is active: id(mask) -> (mask, packed)


@contextmanager
def shared_masks() -> Iterator[None]:
    """While pickling a masker in this block, pack each distinct mask once: states and tables
    that share a mask in memory share one packed copy in the file (see :class:`_PackedMask`).
    :func:`dslkit.train.hf_decoding.save_masker` pickles inside it; a masker pickled outside
    it is written whole, one packed mask per state, and loads the same."""
    _SAVING.packed = {}
    try:
        yield
    finally:
        _SAVING.packed = None


def _pack(mask: np.ndarray) -> _PackedMask:
    memo: dict[int, tuple[np.ndarray, _PackedMask]] | None = getattr(_SAVING, "packed", None)
    if memo is None:
        return _PackedMask(np.packbits(mask), len(mask))
    found = memo.get(id(mask))
    if found is None:  # (the mask is kept in the memo: its id is not reused meanwhile)
        found = memo[id(mask)] = (mask, _PackedMask(np.packbits(mask), len(mask)))
    return found[1]


class StateInfo:
    """Everything a decoding step needs about one automaton state.

    ``mask`` is computed on the first visit; ``ids``, ``dist_after``, ``max_dist`` and the next
    state of each token are computed when first asked (budget steering and value checks ask,
    a plain constrained step does not).
    """

    def __init__(
        self,
        masker: TokenMasker,
        sid: int,
        parts: Parts,
        tables: tuple[_Table, ...],
        mask: np.ndarray,
    ) -> None:
        # weak: the masker holds its states, and a cycle would keep a dropped masker (every
        # walk table and state) alive until a full pass of the cyclic collector
        self._masker = masker._ref
        self.sid = sid
        # per piece the state reads in: the part (the automaton's own tuple, shared by every
        # state of the same state set) and its walk table
        self.parts = parts
        self.tables = tables
        self.mask = mask  # bool over the vocabulary: the allowed ids
        self.next: dict[int, int] = {}  # token id -> next state (DEAD: refused or end)
        self.cache: dict[Hashable, object] = {}  # per-device tensors, etc.
        self.tokens_after: np.ndarray | None = None  # int64: tokens to finish after each id

    @property
    def masker(self) -> TokenMasker:
        """The masker this state belongs to."""
        masker = self._masker()
        if masker is None:
            raise ReferenceError("the TokenMasker of this StateInfo was dropped")
        return masker

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_packed", None)  # (a loaded state whose mask is not read yet: saved below)
        del state["_masker"]  # set again by the masker that loads it
        state["cache"] = {}  # device tensors stay in the process
        for name in ("ids", "nexts", "dist_after", "max_dist"):
            state.pop(name, None)
        packed = self.__dict__.get("_packed")
        if packed is not None or "mask" not in self.__dict__:  # (loaded, not read yet)
            state["mask"] = packed
        elif len(self.tables) == 1 and self.mask is self.tables[0].mask:
            state["mask"] = None  # the table's own
        else:
            state["mask"] = _pack(self.mask)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        # the mask is unpacked when first read (a loaded masker holds thousands of states, most
        # never visited by the next decode): until then it is not an attribute, and the
        # class is _UnreadStateInfo, whose __getattr__ unpacks it
        state["_packed"] = state.pop("mask")
        self.__dict__.update(state)
        self.__class__ = _UnreadStateInfo

    @cached_property
    def ids(self) -> np.ndarray:
        """int64: the allowed token ids, ascending."""
        return np.flatnonzero(self.mask).astype(np.int64)

    @cached_property
    def nexts(self) -> np.ndarray:
        """int64: the state after each of :attr:`ids` (DEAD after end-of-sequence)."""
        return self.masker._nexts(self)

    @cached_property
    def dist_after(self) -> np.ndarray:
        """int64: shortest completion (characters) + eos after each of :attr:`ids`."""
        auto = self.masker.automaton
        uniq, inverse = np.unique(self.nexts, return_inverse=True)
        # +1: after the last character the end-of-sequence id still needs a step of its own
        dist = [0 if s == DEAD else auto.dist(s) + 1 for s in uniq.tolist()]
        return np.asarray(dist, dtype=np.int64)[inverse.reshape(-1)]

    @cached_property
    def max_dist(self) -> int:
        """Largest :attr:`dist_after`: a token is at least one character, so with this many
        tokens left after this one every allowed id can still be finished and the budget
        filter is skipped."""
        return int(self.dist_after.max(initial=0))


class _UnreadStateInfo(StateInfo):
    """A loaded state whose mask is not read yet. Its ``__getattr__`` (which Python calls only
    for a missing attribute) unpacks the mask, and the state becomes a plain
    :class:`StateInfo` again: a class with ``__getattr__`` reads every attribute of its
    instances through a slow path (no specialised load), and a step reads several."""

    def __getattr__(self, name: str) -> Any:
        if name != "mask" or "_packed" not in self.__dict__:
            raise AttributeError(name)
        packed = self.__dict__.pop("_packed")
        self.mask = mask = self.tables[0].mask if packed is None else packed.unpack()
        self.__class__ = StateInfo  # type: ignore[assignment]
        return mask


@dataclass(eq=False)
class _Table:
    """The walk of a vocabulary through one residual (see the module notes). Compared and
    hashed by identity (the masker's memos key on it)."""

    ids: np.ndarray  # int64: token ids that do not leave the language, ascending
    code: np.ndarray  # int32 per id: the walk's DFA state it ends in (>= 0), or -2: it
    # completes the piece
    at: np.ndarray  # int32 per id: characters read when it completes the piece
    sets: list[tuple[int, ...]]  # DFA state -> residual NFA states
    rest: np.ndarray  # int64: positions in ids of tokens that write on after their piece
    mask: np.ndarray  # bool over the vocabulary: ids
    # the tokens of rest as int tuples (a state reads a few of them: tuple lookups, where
    # numpy calls on arrays of a few tokens cost more than the work; tuples, not lists, since
    # the cyclic collector stops walking a tuple of ints), found when first needed
    # (TokenMasker._rest_rows): per token its id, the characters it reads when it completes
    # the piece and the id of the token that writes its text after the piece (-1: none)
    rest_rows: tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]] | None = None
    # a small table's rows by token, (code, at) each, made when first read (see _row)
    index: dict[int, tuple[int, int]] | None = None
    # the rows of rest_rows by the first character written after the piece (_rest_heads)
    rest_heads: list[tuple[int, list[int]]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("index", None)  # (made again from the arrays)
        state.pop("rest_heads", None)
        packed = state.pop("_packed", None)  # (loaded, not read yet: saved as it came)
        state["mask"] = packed if packed is not None else _pack(self.mask)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state["_packed"] = state.pop("mask")  # unpacked when first read, as a state's mask
        self.__dict__.update(state)
        self.__class__ = _UnreadTable


class _UnreadTable(_Table):
    """A loaded table whose mask is not read yet (see :class:`_UnreadStateInfo`)."""

    def __getattr__(self, name: str) -> Any:
        if name != "mask" or "_packed" not in self.__dict__:
            raise AttributeError(name)
        self.mask = mask = self.__dict__.pop("_packed").unpack()
        self.__class__ = _Table  # type: ignore[assignment]
        return mask


# What is left after one walk code of a table (TokenMasker._derive): the code's NFA states that
# read a character (the table's canonical numbers), and the name of the rest from them: its
# key, its canonical numbering as canonical numbers of the table's own and how many of them it
# starts in (None: named by the piece, so searched for in each piece anew)
_Derived = tuple[tuple[int, ...], tuple[Hashable, tuple[int, ...], int] | None]


@dataclass(frozen=True, slots=True)
class PayloadStep:
    """What one token does to a marked value (see :func:`dslkit.automaton.tag`). The value's characters are
    the trailing run of ``[A-Za-z0-9_.]`` of the output: a value always follows some other
    character (``:``, ``@``, ``=``, ``|``, ``>``)."""

    kind: str  # the value's kind, e.g. "ref", "id", "idref"
    end: int | None  # the value is complete after this many characters of the token (None: not)


@dataclass(frozen=True)
class PayloadSteps:
    """The tokens of one state that write a marked value: ``plain_ids`` continue the value
    being written with their whole text; ``other`` ones start or end a value."""

    kind: str | None  # kind of the value being written at the state (None: between values)
    # text -> id of every token of the vocabulary made of value characters (shared by all
    # states; the ones that continue the value here are plain_ids)
    plain: Mapping[str, int]
    plain_ids: np.ndarray  # int64: the tokens that continue the value here, ascending
    other: dict[int, PayloadStep]
    opens: dict[int, str]  # token id -> kind of the value that must be written after it

    def __bool__(self) -> bool:
        return bool(len(self.plain_ids) or self.other or self.opens)

    def get(self, token: int) -> PayloadStep | None:
        """What ``token`` does to a value (None: nothing)."""
        step = self.other.get(token)
        if step is None and self.kind is not None and token in self._plain_set:
            return PayloadStep(self.kind, None)
        return step

    @cached_property
    def _plain_set(self) -> frozenset[int]:
        return frozenset(self.plain_ids.tolist())


class _PieceDfa:
    """The determinisation of one piece's NFA over the vocabulary's character classes, built
    as walks reach it: state ``d`` is the set ``sets[d]`` of the piece's NFA states;
    ``trans[d, class]`` is the next state, :data:`_DEAD`, -2 (the piece is complete) or
    :data:`_UNKNOWN` (not computed yet).

    The character classes (and with them ``cls``, ``reps``, ``trans``, ``loop`` and
    ``cls_list``) are found when first read: a piece that is one literal (an atomic tag, an
    attribute's value) is walked by its text and never reads them."""

    # set by _ready() on first read (see _UnreadyDfa)
    cls: np.ndarray  # alphabet index -> character class
    reps: list[str]  # class -> a character of it
    trans: np.ndarray
    # per state: the id of the class set it reads back into itself (-1: none; _UNKNOWN: its
    # row is not computed yet), and per id the positions in the vocabulary's characters of
    # those outside the set (where a run of the loop stops)
    loop: np.ndarray
    cls_list: list[int]  # the class of each alphabet character as a list

    def __init__(
        self,
        edges: Sequence[Sequence[tuple[Any, int]]],
        end: int,
        classes: Callable[[], tuple[np.ndarray, list[str]]],
        classes_of: Callable[[np.ndarray, object], frozenset[int]],
        stops_of: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        self.edges = edges
        self.end = end
        self._classes = classes  # () -> (cls, reps), called once, when first needed
        self.sets: list[tuple[int, ...]] = []
        # sorted NFA states -> DFA state (sets of the walk's structures are held as sorted
        # int tuples, which the cyclic collector stops tracking, where a frozenset stays)
        self.index: dict[tuple[int, ...], int] = {}
        self.first: np.ndarray | None = None  # per walkable token: its first character's class
        self.stops: list[np.ndarray] = []
        self._loop_ids: dict[bytes, int] = {}
        self.stops_of = stops_of  # alphabet -> in the set (bool) -> its stop positions
        self.after: dict[tuple[int, ...], int] = {}  # moved NFA states -> their DFA state
        # (cls, an edge's character set) -> the classes it holds
        self._classes_of = classes_of
        self.closures: dict[int, tuple[int, ...]] = {}  # NFA state -> its closure
        # per DFA state with a computed row: (its loop id, then its next state per class),
        # what :meth:`finish` reads
        self.rows: list[tuple[int, ...] | None] = []

    def _ready(self) -> None:
        cls, reps = self.__dict__.pop("_classes")()
        self.cls = cls
        self.reps = reps
        size = max(16, 2 * len(self.sets))
        self.trans = np.full((size, len(reps)), _UNKNOWN, dtype=np.int32)
        self.loop = np.full(size, _UNKNOWN, dtype=np.int32)
        self.cls_list = cls.tolist()
        self.__class__ = _PieceDfa

    def classes_of(self, cs: object) -> frozenset[int]:
        """The classes an edge's character set holds."""
        return self._classes_of(self.cls, cs)

    def close(self, moved: Iterable[int]) -> frozenset[int]:
        """The states reachable by empty moves (each state's own closure found once)."""
        closures = self.closures
        out: set[int] = set()
        for s in moved:
            found = closures.get(s)
            if found is None:
                found = closures[s] = empty_closure(self.edges, s)
            out.update(found)
        return frozenset(out)

    def state(self, closed: frozenset[int]) -> int:
        """The DFA state of a set of NFA states (new ones are added)."""
        key = tuple(sorted(closed))
        nxt = self.index.get(key)
        if nxt is None:
            nxt = self.index[key] = len(self.sets)
            self.sets.append(key)
            if "trans" in self.__dict__ and len(self.sets) > len(self.trans):
                grown = np.full((2 * len(self.sets), len(self.reps)), _UNKNOWN, dtype=np.int32)
                grown[: len(self.trans)] = self.trans
                self.trans = grown
                loop = np.full(len(grown), _UNKNOWN, dtype=np.int32)
                loop[: len(self.loop)] = self.loop
                self.loop = loop
        return nxt

    def loop_id(self, d: int) -> int:
        """The class state ``d`` reads back into itself (an index into ``stops``), or -1;
        computes the row first when no walk has reached it yet."""
        if self.loop[d] == _UNKNOWN:
            self.fill([d])
        return int(self.loop[d])

    def fill(self, rows: Iterable[int]) -> None:
        """Compute every transition of the DFA states ``rows`` at once: each edge of their NFA
        states adds its target to the classes its character set holds, so a class no edge
        reads costs nothing."""
        edges, end, of = self.edges, self.end, self.classes_of
        after = self.after
        for d in rows:
            # The classes the state reads, grouped by the NFA targets they lead to, by set
            # operations on each edge's classes: a name's state reads dozens of classes
            # through one or two edges, and the next state is then found once per group,
            # not once per class.
            groups: list[tuple[frozenset[int], list[int]]] = []
            for s in self.sets[d]:
                for cs, t in edges[s]:
                    if cs is None:
                        continue
                    rest = of(cs)
                    split: list[tuple[frozenset[int], list[int]]] = []
                    for held, targets in groups:
                        both = held & rest
                        if not both:
                            split.append((held, targets))
                            continue
                        split.append((both, [*targets, t]))
                        if len(both) < len(held):
                            split.append((held - both, targets))
                        rest = rest - both
                    if rest:
                        split.append((rest, [t]))
                    groups = split
            # the row as a list (one numpy call per row, not one per step: most rows have
            # a class or two)
            row = [_DEAD] * len(self.reps)
            loops: list[int] = []  # the classes the state reads back into itself
            for held, targets in groups:
                key = (targets[0],) if len(targets) == 1 else tuple(sorted(set(targets)))
                r = after.get(key)
                if r is None:
                    closed = self.close(targets)
                    r = after[key] = -2 if end in closed else self.state(closed)
                for k in held:
                    row[k] = r
                if r == d:
                    loops += held
            self.trans[d] = row
            if loops:
                in_loop = np.zeros(len(self.reps), dtype=bool)
                in_loop[loops] = True
                chars = in_loop[self.cls]  # over the alphabet
                key = chars.tobytes()
                lid = self._loop_ids.get(key)
                if lid is None:
                    lid = self._loop_ids[key] = len(self.stops)
                    self.stops.append(self.stops_of(chars))
                self.loop[d] = lid
            else:
                lid = -1
                self.loop[d] = -1
            while len(self.rows) <= d:
                self.rows.append(None)
            self.rows[d] = (lid, *row)

    def finish(
        self,
        act: np.ndarray,
        cur: np.ndarray,
        pos: np.ndarray,
        found: _Settled,
        flat: memoryview,
        offsets: np.ndarray,
        ends: np.ndarray,
    ) -> None:
        """Walk the last few active tokens one by one in Python (a vectorised step costs
        tens of numpy calls whatever the number of tokens, a character here a few list
        lookups): the same moves as :meth:`TokenMasker._walk`'s loop, a self-loop run in one
        jump, then one transition, until the token ends, dies or completes the piece."""
        rows, cls, stops = self.rows, self.cls_list, self.stops
        ks: list[int] = []
        codes: list[int] = []
        ats: list[int] = []
        for a, d, p in zip(act.tolist(), cur.tolist(), pos.tolist(), strict=True):
            e = int(ends[a])
            while True:
                row = rows[d] if d < len(rows) else None
                if row is None:
                    self.fill([d])
                    row = rows[d]
                lid = row[0]
                if lid >= 0:
                    p = min(int(stops[lid][p]), e)
                    if p == e:
                        ks.append(a)
                        codes.append(d)
                        ats.append(0)
                        break
                v = row[1 + cls[flat[p]]]
                p += 1
                if v <= -2:
                    ks.append(a)
                    codes.append(v)
                    ats.append(p - int(offsets[a]))
                    break
                if v < 0:
                    break
                d = v
                if p == e:
                    ks.append(a)
                    codes.append(d)
                    ats.append(0)
                    break
        if ks:
            found.put(np.array(ks, dtype=np.int64), np.array(codes), np.array(ats))


class _UnreadyDfa(_PieceDfa):
    """A piece DFA whose character classes are not found yet: its ``__getattr__`` (called
    only for a missing attribute) finds them when a class-dependent attribute is first read,
    and it becomes a plain :class:`_PieceDfa` (whose attribute reads are not slowed by a
    ``__getattr__``: see :class:`_UnreadStateInfo`)."""

    def __getattr__(self, name: str) -> Any:
        if name not in ("cls", "reps", "trans", "loop", "cls_list") or "_classes" not in (
            self.__dict__
        ):
            raise AttributeError(name)
        self._ready()
        return self.__dict__[name]


class _Shape:
    """A template (:func:`dslkit.automaton.template`) as the masker walks it: its NFA with one
    edge added, from its end to a final state, reading every character of the vocabulary that
    the template reads nowhere, so a token that writes on past a copy of the template stops
    there (walk code -2, with the characters it read); and its walks by start set."""

    __slots__ = ("edges", "end", "exit", "past", "reads", "tables")

    def __init__(self, template: Template, reads: np.ndarray, alphabet: list[str]) -> None:
        rows = list(template.rows)
        final = len(rows)
        out = "".join([alphabet[i] for i in np.flatnonzero(~reads).tolist()])
        rows[template.end] = ((out, final),) if out else ()
        rows.append(())
        self.edges = rows
        self.end = final
        self.exit = template.end  # the template's own end
        self.reads = reads  # over the alphabet: the characters some edge of it reads
        self.tables: dict[tuple[int, ...], _Table] = {}  # start states -> the walk from them
        # (start states, what follows a copy) -> the walk less what dies past it (_past_copy)
        self.past: dict[tuple[tuple[int, ...], bytes], _Past] = {}


# A template's walk from a start, less the tokens that die past a copy (see
# TokenMasker._past_copy): its sets; the ids, codes, characters read and mask of the others;
# their lengths; the rows that write on past the piece; and the rows that write on past the
# copy
_Past = tuple[
    list[tuple[int, ...]],
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
    np.ndarray,
]


# What a copy of a template in a piece needs for its walks to be read off the template's
# (TokenMasker._copy_check): the template's shape, the copy's end, the states that end reaches
# by empty moves (its own included), those of them outside the copy that read on, and the
# characters they read (bool over the alphabet)
_CopyCheck = tuple[_Shape, int, frozenset[int], frozenset[int], np.ndarray]


class _Settled:
    """The tokens a walk has settled: walk positions with their code (see :class:`_Table`) and,
    for those that complete the piece, the characters read; each token at most once."""

    __slots__ = ("ats", "codes", "ks")

    def __init__(self) -> None:
        self.ks: list[np.ndarray] = []
        self.codes: list[np.ndarray] = []
        self.ats: list[np.ndarray] = []

    def put(self, ks: int | np.ndarray, code: int | np.ndarray, at: int | np.ndarray = 0) -> None:
        if isinstance(ks, int):
            ks = np.array([ks], dtype=np.int64)
        n = len(ks)
        if n:
            self.ks.append(ks)
            self.codes.append(code if isinstance(code, np.ndarray) else np.full(n, code, np.int32))
            self.ats.append(at if isinstance(at, np.ndarray) else np.full(n, at, np.int32))

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Positions (ascending), codes and characters read, as fresh arrays."""
        if not self.ks:
            none = np.zeros(0, dtype=np.int32)
            return np.zeros(0, dtype=np.int64), none, none.copy()
        ks = np.concatenate(self.ks)
        order = np.argsort(ks, kind="stable")
        codes = np.concatenate(self.codes)[order].astype(np.int32, copy=False)
        return ks[order], codes, np.concatenate(self.ats)[order].astype(np.int32, copy=False)


class _Trie:
    __slots__ = ("children", "ids")

    def __init__(self) -> None:
        self.children: dict[str, _Trie] = {}
        self.ids: list[int] = []


class TokenMasker:
    """Per-state allowed-token masks of an automaton over a tokenizer vocabulary.

    Args:
        automaton: the language.
        vocab: id -> exact text of the token (``DslTokenizer.vocab_strings()``).
        special_ids: ids that are never text (bos, eos, pad, [OUT]); they are only allowed as
            ``eos_id`` in a complete program.
        eos_id: the end-of-sequence id.
    """

    def __init__(
        self, automaton: Automaton, vocab: Sequence[str], special_ids: Iterable[int], eos_id: int
    ) -> None:
        self.automaton = automaton
        self.vocab_size = len(vocab)
        self.eos_id = eos_id
        specials = set(special_ids) | {eos_id}
        self._vocab = tuple(vocab)
        self._specials = specials
        # the walkable tokens as one array of alphabet indices (numpy reads the code points)
        sizes = np.fromiter(map(len, self._vocab), dtype=np.int64, count=len(self._vocab))
        sizes[[i for i in specials if 0 <= i < len(sizes)]] = 0
        walk = np.flatnonzero(sizes)  # (kept as an array too: a list converts back slowly)
        if not len(walk):
            raise ValueError(
                f"the vocabulary has no token that writes text (its {len(sizes)} ids are all "
                "special or empty): no program can be written with it"
            )
        texts = _pick(self._vocab, walk.tolist())
        points = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        # the alphabet by sorting the code points (numpy's vectorised sort: faster than
        # counting them, which costs as much as the largest code point, and a vocabulary
        # with byte tokens reads surrogate escapes up to U+DCFF; measured on the atomic trace
        # vocabulary's 1k characters 90 -> 9 us, a 32k BPE's 225k 0.59 -> 0.47 ms); its
        # index of each character through a lookup table
        ordered = np.sort(points)
        first = np.ones(len(ordered), dtype=bool)  # (each code point where it starts)
        first[1:] = ordered[1:] != ordered[:-1]
        present = ordered[first]
        lookup = np.zeros(int(present[-1]) + 1, dtype=np.int32)  # (a token writes a character)
        lookup[present] = np.arange(len(present), dtype=np.int32)
        self._flat = lookup[points]
        self._alphabet = [chr(c) for c in present.tolist()]
        self._lengths = sizes[walk]
        self._offsets = np.concatenate([[0], np.cumsum(self._lengths)[:-1]]).astype(np.int64)
        self._walk_ids = walk.astype(np.int64, copy=False)
        self._tables: dict[Hashable, _Table] = {}  # residual key -> walk
        self._loaded = False  # read from a file (its long rests' keys name pieces by digest)
        self._nothing = np.zeros(self.vocab_size, dtype=bool)
        self._info: dict[int, StateInfo] = {}
        self._after: dict[tuple[int, str], int] = {}  # (context start, text) -> state
        self._token_dist: dict[int, int] = {}
        self._completions: dict[int, str] = {}  # state -> a shortest completion
        self._transient(texts)

    def _transient(self, texts: list[str] | None = None) -> None:
        self._ref = weakref.ref(self)  # what each state holds of its masker (see StateInfo)
        # the walkable tokens' texts (``texts``: read off the vocabulary already; a loaded
        # masker finds them, and the positions by text, when a walk first asks)
        if texts is not None:
            self.__dict__["_walk_texts"] = tuple(texts)
            self.__dict__["_text_pos"] = self._positions(texts)
        # (Residual and Parts compare and hash by identity: the memos below keep them as keys,
        # one C-level hash each, and hold them alive with the entry)
        self._by_residual: dict[Residual, _Table] = {}  # residual -> walk
        # parts -> (their tables; the union of the tables' masks)
        self._by_parts: dict[Parts, tuple[tuple[_Table, ...], np.ndarray]] = {}
        # table -> (its 1-tuple, its mask): _union's answer for every parts of one piece
        # whose residual it walks (one pair per table, not per state set: see _union)
        self._alone: dict[_Table, tuple[tuple[_Table], np.ndarray]] = {}
        # parts -> their write-on tokens
        self._writes: dict[Parts, frozenset[int]] = {}
        # the rows of a small walk table -> its arrays (see _small_table)
        self._row_arrays: dict[tuple[tuple[int, ...], ...], tuple[np.ndarray, ...]] = {}
        # (table, next parts) -> _rest_fate's lists
        self._fates: dict[
            tuple[_Table, Parts], tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]
        ] = {}
        # (residual, walk code) -> the residual after a token that ends there, or None (see
        # _seeded)
        self._derived: dict[tuple[Residual, int], Residual | None] = {}
        # (id(parts), part, walk code) -> the NFA states after a token that ends at that code
        # of the part (see _inside). By id: a tuple of ints is no object to the cyclic
        # collector once it has seen it, and the parts outlive the memo (the automaton's
        # structures keep every parts they made, as long as the masker holds the automaton)
        self._next_sets: dict[tuple[int, int, int], frozenset[int]] = {}
        # (table, walk code) -> _Derived
        self._named: dict[tuple[_Table, int], _Derived] = {}
        # the distinct masks less dead tokens, by the base mask, the dead ids and whether
        # end-of-sequence is allowed (see _build)
        self._masks: dict[tuple[int, tuple[int, ...], bool], tuple[np.ndarray, np.ndarray]] = {}
        # id(piece edges) -> (the edges, kept alive so the id is not reused; the piece's DFA)
        self._piece_dfas: dict[int, tuple[object, _PieceDfa]] = {}
        # id(piece edges) -> (the edges, kept alive so the id is not reused; its NFA moves)
        self._piece_moves: dict[int, tuple[object, Callable[..., Any]]] = {}
        # Which alphabet characters a character set holds / where runs of a set stop: closures
        # over the vocabulary's arrays, not methods, so the piece DFAs that keep them hold no
        # reference back to the masker (no cycle: a dropped masker is freed at once).
        self._alphabet_index = {c: i for i, c in enumerate(self._alphabet)}
        self._member = _members_of(self._alphabet, self._alphabet_index)
        # the alphabet split by a piece's sets of several characters, by those sets (the step
        # lines of a trace share their name, number and keyword classes: see _classes)
        self._splits: dict[frozenset[object], np.ndarray] = {}
        self._trie: _Trie | None = None
        self._ends = self._offsets + self._lengths  # where each walkable token's text ends
        self._flat_view = self._flat.data  # Python ints per character, no numpy scalar
        self._stops_of = _stops_in(self._flat)
        # (id(stop positions), skip) -> (them, kept alive so the id is not reused; _whole)
        self._wholes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        # templates as walked (see _copy_walk), by the digest of their edges (copies of one
        # value under different marks share one)
        self._shapes: dict[str, _Shape] = {}
        # (id(piece edges), copy base) -> (the edges, kept alive; the copy's check or None)
        self._copy_checks: dict[tuple[int, int], tuple[object, _CopyCheck | None]] = {}
        # characters (bool over the alphabet, as bytes) -> the ids that start with one
        self._firsts: dict[bytes, np.ndarray] = {}

    @cached_property
    def _walk_texts(self) -> tuple[str, ...]:
        """The walkable tokens' texts, by walk position (set by the constructor; a loaded
        masker reads them off its vocabulary when a walk first asks)."""
        return tuple(_pick(self._vocab, self._walk_ids.tolist()))

    @cached_property
    def _text_pos(self) -> dict[str, int | np.ndarray]:
        """Text -> walk position of its token (see :meth:`_positions`)."""
        return self._positions(self._walk_texts)

    def _positions(self, texts: Sequence[str]) -> dict[str, int | np.ndarray]:
        """Text -> position of its token among the walkable ones, or the positions when two
        ids write one text (an int-valued dict is one object to the cyclic collector, where a
        list per token was tens of thousands that every full collection walks)."""
        vocab = self._vocab
        pos: dict[str, int | np.ndarray] = dict(zip(texts, range(len(texts)), strict=True))
        if len(pos) < len(self._walk_ids):
            dups: dict[str, list[int]] = {}
            for k, i in enumerate(self._walk_ids.tolist()):
                dups.setdefault(vocab[i], []).append(k)
            for text, ks in dups.items():
                if len(ks) > 1:
                    pos[text] = np.array(ks, dtype=np.int64)
        return pos

    def _whole(self, stops: np.ndarray, skip: int) -> np.ndarray:
        """Per walkable token, whether its text past its first ``skip`` characters lies in a
        class set (given by the set's stop positions, :func:`_stops_in`): a run of the set
        from there reaches its end (a token no longer than ``skip`` does)."""
        key = (id(stops), skip)
        found = self._wholes.get(key)
        if found is None or found[0] is not stops:
            from_ = np.minimum(self._offsets + skip, len(stops) - 1)
            whole = (stops[from_] >= self._ends) | (self._lengths <= skip)
            found = self._wholes[key] = (stops, whole)
        return found[1]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        for name in (
            "_by_residual",
            "_by_parts",
            "_alone",
            "_writes",
            "_fates",
            "_row_arrays",
            "_derived",
            "_next_sets",
            "_named",
            "_masks",
            "_member",
            "_splits",
            "_alphabet_index",
            "_piece_dfas",
            "_piece_moves",
            "_trie",
            "_ends",
            "_flat_view",
            "_stops_of",
            "_wholes",
            "_shapes",
            "_copy_checks",
            "_firsts",
            "_ref",
        ):
            del state[name]
        # derived from the vocabulary when first needed again (a loaded masker replaying the
        # states it saved walks nothing)
        for name in ("_walk_texts", "_text_pos", "_heads", "_first_starts", "_position"):
            state.pop(name, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._loaded = True
        self._transient()
        for info in self._info.values():
            info._masker = self._ref

    @cached_property
    def _heads(self) -> tuple[np.ndarray, tuple[int, ...], tuple[str, ...], dict[str, int]]:
        """The walkable tokens grouped by their first two characters (for
        :meth:`_starting_with`; found when first needed): a code per token (first character,
        then the second or none), the positions in code order (longest first within a code),
        the texts by position and the alphabet's index. One integer sort, not a sort of the
        texts (which costs several times more on a large vocabulary)."""
        flat, offsets = self._flat, self._offsets
        width = len(self._alphabet) + 1
        second = flat[np.minimum(offsets + 1, max(len(flat) - 1, 0))].astype(np.int64) + 1
        code = flat[offsets].astype(np.int64) * width + np.where(self._lengths >= 2, second, 0)
        # longest first within a code (one key): the tokens longer than a text lead its group
        span = int(self._lengths.max(initial=0)) + 1
        # (the key orders by length within a code itself: no stable sort needed)
        order = np.argsort(code * span + (span - 1 - self._lengths))
        index = {c: i for i, c in enumerate(self._alphabet)}
        return code[order], tuple(order.tolist()), self._walk_texts, index

    @cached_property
    def _plain(self) -> np.ndarray:
        """Per id: the token is made only of characters a value is written with (value
        checks read it; found when first needed)."""
        return np.array([bool(t) and VALUE_CHARS.issuperset(t) for t in self._vocab], dtype=bool)

    @cached_property
    def _plain_texts(self) -> dict[str, int]:
        plain = self._plain
        return {t: i for i, t in enumerate(self._vocab) if plain[i]}

    @property
    def vocab(self) -> tuple[str, ...]:
        """id -> token text (a tuple: the cyclic collector stops walking it after its first
        pass, where a 32k list is walked by every pass that finds it young)."""
        return self._vocab

    @property
    def start(self) -> int:
        """The state before the first generated token."""
        return self.automaton.start

    def info(self, sid: int) -> StateInfo:
        """The allowed tokens of a state (computed on first use, then cached)."""
        info = self._info.get(sid)
        if info is None:
            info = self._info[sid] = self._build(sid)
        return info

    def _table(self, residual: Residual) -> _Table:
        found = self._by_residual.get(residual)
        if found is None:
            table = self._tables.get(residual.key)
            if table is None and self._loaded:
                # a loaded masker's tables name long rests by their piece's digest
                saved = PieceName.digest_key(residual.key)
                table = None if saved is None else self._tables.get(saved)
            if table is None:
                table = self._tables[residual.key] = self._walk(residual)
            self._by_residual[residual] = found = table
        return found

    def _build(self, sid: int) -> StateInfo:
        auto = self.automaton
        parts = auto.parts(sid)
        tables, mask = self._union(parts)
        info = StateInfo(self, sid, parts, tables, mask)
        # tokens that complete a piece and write on: the context they enter decides
        dead: list[int] = []
        gone: tuple[int, ...] = ()  # dead, ascending
        if len(parts.pieces) == 1:
            if len(tables[0].rest):
                vocab, nxts = self._vocab, info.next
                nstart = auto.finish(sid, parts.pieces[0])
                # only the tokens that write on past a piece of the next context are walked
                # here, character by character (see _rest_fate)
                gone, walked, ats = self._rest_fate(tables[0], nstart)
                for token, at in zip(walked, ats, strict=True):
                    nxt = nxts[token] = self._read_on(nstart, vocab[token][at:])
                    if nxt == DEAD:
                        dead.append(token)
                if dead:
                    gone = tuple(sorted((*gone, *dead)))
        else:
            for table in tables:
                # (the table's kept rows read here: a start set's state asks each of its ~40
                # tables, and the call alone was ~2% of a scene replay's instructions)
                for token in (table.rest_rows or self._rest_rows(table))[0]:
                    if token not in info.next:
                        nxt = info.next[token] = self._next(info, token)
                        if nxt == DEAD:
                            dead.append(token)
            gone = tuple(sorted(dead))
        accepting = auto.accepting(sid)
        if gone or accepting:
            # States of different contexts often lose the same tokens from the same union
            # (a scene replay on 32k ids: ~1,000 such states, 13 distinct masks): one array
            # per distinct mask, not a copy of the vocabulary per state.
            lost = (id(mask), gone, accepting)
            found = self._masks.get(lost)
            if found is None:
                out = mask.copy()
                out[list(gone)] = False
                if accepting:
                    out[self.eos_id] = True
                found = self._masks[lost] = (mask, out)  # the base kept: its id is not reused
            info.mask = found[1]
        return info

    def _union(self, parts: Parts) -> tuple[tuple[_Table, ...], np.ndarray]:
        """The walk tables of a state set's parts and the union of their masks (found once
        per state set: states of one set in contexts of the same structure share its parts)."""
        found = self._by_parts.get(parts)
        if found is None and len(parts.residuals) == 1:
            # one piece: the table's own pair, shared by every state set whose rest it is
            residual = parts.residuals[0]
            table = self._by_residual.get(residual) or self._table(residual)
            found = self._alone.get(table)
            if found is None:
                found = self._alone[table] = ((table,), table.mask)
            self._by_parts[parts] = found
        elif found is None:
            # (the tables met before by their residual, in one pass; _table for the others)
            by_residual, table_of = self._by_residual, self._table
            tables = tuple(
                [
                    met if (met := by_residual.get(r)) is not None else table_of(r)
                    for r in parts.residuals
                ]
            )
            if tables:
                union = self._mask_of(np.concatenate([table.ids for table in tables]))
            else:
                union = self._nothing
            found = self._by_parts[parts] = (tables, union)
        return found

    def _writes_on(self, parts: Parts) -> frozenset[int]:
        """The tokens of :meth:`_union`'s mask that complete a piece and write on."""
        found = self._writes.get(parts)
        if found is None:
            tables = self._union(parts)[0]
            found = self._writes[parts] = frozenset(
                t for table in tables for t in self._rest_rows(table)[0]
            )
        return found

    def _rest_fate(
        self, table: _Table, nstart: int
    ) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """The tokens of ``table.rest`` when the piece leads to the context entered at state
        ``nstart``: those that die there (ascending), and those whose
        rest must be walked on through the contexts (it completes a piece of the next context,
        and where it goes then depends on the context that piece leads to), with the
        characters each reads in its piece. The others stay inside the next context's pieces
        (their next states are found when a row takes them).

        The tokens are read by the first character they write after the piece (see
        :meth:`_rest_heads`): when it is a token the next context refuses, the whole group
        dies at once. What a token writes after its piece is often a token of its own: the next
        context's walk tables then say at once whether it dies, stays or writes on. Another rest
        is read through the next context's structure. Either way the answer is the same in every
        context with the same start parts, so it is found once per table and next parts (a
        value's positions ask alike, and fields whose next contexts share a structure)."""
        auto = self.automaton
        nparts = auto.parts(nstart)
        key = (table, nparts)
        found = self._fates.get(key)
        if found is None:
            vocab = self._vocab
            tokens, ats, rids = self._rest_rows(table)
            lost: list[int] = []
            walked: list[int] = []
            walked_ats: list[int] = []
            union = self._union(nparts)[1]
            twice: frozenset[int] | None = None  # (found when a row asks: most die first)
            # Most rests are junk that no context reads (``](``, ``].`` after a value): when
            # their first character is a token the next context refuses, they all die (and
            # usually every group does: the lost tokens are listed only when some live)
            live: list[list[int]] = []
            gone: list[list[int]] = []
            for head, rows in self._rest_heads(table):
                if head >= 0 and not union[head]:
                    gone.append(rows)
                else:
                    live.append(rows)
            if not live:  # (the rows are in id order: so are their tokens)
                found = self._fates[key] = (tokens, (), ())
                return found
            for rows in gone:
                lost += map(tokens.__getitem__, rows)
            for rows in live:
                for r in rows:
                    token, at, rid = tokens[r], ats[r], rids[r]
                    if rid >= 0:
                        if not union[rid]:
                            lost.append(token)
                            continue
                        if twice is None:
                            twice = self._writes_on(nparts)
                        if rid not in twice:  # alive in a piece of the next context
                            continue
                    else:
                        inside = auto.reads_within(nstart, vocab[token][at:])
                        if inside is not None:
                            if not inside:
                                lost.append(token)
                            continue
                    walked.append(token)
                    walked_ats.append(at)
            found = self._fates[key] = (tuple(sorted(lost)), tuple(walked), tuple(walked_ats))
        return found

    def _rest_heads(self, table: _Table) -> list[tuple[int, list[int]]]:
        """The rows of :meth:`_rest_rows` grouped by the first character each token writes
        after its piece: per character, the id of the token that is that character (-1:
        none) and the rows (found once per table)."""
        found = table.rest_heads
        if found is None:
            vocab = self._vocab
            by_head: dict[str, list[int]] = {}
            tokens, ats, _ = self._rest_rows(table)
            for r, (token, at) in enumerate(zip(tokens, ats, strict=True)):
                by_head.setdefault(vocab[token][at], []).append(r)
            found = table.rest_heads = [(self._token_of(ch), rows) for ch, rows in by_head.items()]
        return found

    def _rest_rows(self, table: _Table) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
        """Per token of ``table.rest``: its id, the characters it reads when it completes
        the piece, and the id of a token whose text is what it writes after the piece (-1:
        no token writes exactly that)."""
        found = table.rest_rows
        if found is None:
            vocab, token_of = self._vocab, self._token_of
            tokens = tuple(table.ids[table.rest].tolist())
            ats = tuple(table.at[table.rest].tolist())
            rids = tuple(
                [token_of(vocab[token][at:]) for token, at in zip(tokens, ats, strict=True)]
            )
            found = table.rest_rows = (tokens, ats, rids)
        return found

    def _token_of(self, text: str) -> int:
        """The id of a token whose text is ``text`` (-1: none)."""
        p = self._text_pos.get(text)
        return -1 if p is None else int(self._walk_ids[p if isinstance(p, int) else p[0]])

    def _write_on(self, sid: int, piece: int, token: int, at: int) -> int:
        """The state after a token that completes piece ``piece`` of the context of ``sid``
        after ``at`` characters: the context the piece leads to, then the rest of the token."""
        return self._read_on(self.automaton.finish(sid, piece), self._vocab[token][at:])

    def _read_on(self, nstart: int, rest: str) -> int:
        """The state after ``rest``, what a token writes past its piece, from the start
        ``nstart`` of the context the piece leads to (found once per start and text)."""
        if not rest:
            return nstart
        key = (nstart, rest)
        nxt = self._after.get(key)
        if nxt is None:
            nxt = self._after[key] = self.automaton.advance(nstart, rest)
        return nxt

    def _inside(self, info: StateInfo, k: int, code: int) -> int:
        """The state after a token that ends inside part ``k`` only (walk code >= 0)."""
        parts = info.parts
        # the NFA states it leaves the state in are the same in every context of the
        # structure (parts are one per structure and state set): found once, and a new
        # context's state is then one lookup of the set (its hash kept) in the context
        key = (id(parts), k, code)
        found = self._next_sets.get(key)
        if found is not None:  # (its parts are known in the structure: seeded below)
            return self.automaton.resume(info.sid, found)
        residual, base = parts.residuals[k], parts.bases[k]
        order = residual.order
        sets: Iterable[int] = info.tables[k].sets[code]
        # (map, not a generator: one C-level pass)
        if order is not None:
            sets = map(order.__getitem__, sets)
        found = self._next_sets[key] = frozenset(map(base.__add__, sets))
        nxt = self.automaton.resume(info.sid, found)
        if nxt not in self._info:
            self.automaton.seed_parts(nxt, self._seeded, nxt, info, ((k, code),))
        return nxt

    def _seeded(self, sid: int, info: StateInfo, inside: Sequence[tuple[int, int]]) -> Parts:
        """The parts of a state a token left inside pieces (part ``k`` of ``info``'s, at
        walk code ``code``, for each ``(k, code)`` of ``inside``) from the walk that found it
        (most states of a decode are met so), not by splitting its NFA states by piece and a
        breadth-first search of each rest.

        What is left after walk code ``code`` of a residual is the same residual in every
        context that lists the piece (found once per residual and code); and in the table's
        canonical numbering it is the same for every residual that shares the table, so the
        search runs once per table and code, and the residual that comes from the next one
        of the kind is written from its numbering. (Asked through the automaton's
        ``seed_parts`` only when its state set was not met in another context.)"""
        parts, derived = info.parts, self._derived
        pieces: list[int] = []
        bases: list[int] = []
        residuals: list[Residual] = []
        for k, code in inside:
            residual = parts.residuals[k]
            found: Any = derived.get((residual, code), _UNREAD)
            if found is _UNREAD:
                found = derived[(residual, code)] = self._derive(
                    sid, parts.pieces[k], residual, info.tables[k], code
                )
            if found is not None:  # (None: no state of the piece reads on)
                pieces.append(parts.pieces[k])
                bases.append(parts.bases[k])
                residuals.append(found)
        if len(residuals) == 1:
            return self.automaton.one_part(sid, pieces[0], bases[0], residuals[0])
        return Parts(tuple(pieces), tuple(bases), tuple(residuals))

    def _derive(
        self, sid: int, piece: int, residual: Residual, table: _Table, code: int
    ) -> Residual | None:
        """The residual after walk code ``code`` of ``residual`` (its table ``table``) in
        piece ``piece`` of the context of ``sid`` (None: no state of it reads on)."""
        order = residual.order
        if order is None:  # named by its piece: the table numbers the piece's own states
            edges = residual.edges
            local = frozenset([i for i in table.sets[code] if edges[i]])
            return self.automaton.piece_residual(sid, piece, local) if local else None
        entry = self._named.get((table, code))
        if entry is None:
            edges = residual.edges
            reads = tuple([i for i in table.sets[code] if edges[order[i]]])
            if not reads:
                self._named[(table, code)] = ((), None)
                return None
            found = self.automaton.piece_residual(
                sid, piece, frozenset(map(order.__getitem__, reads))
            )
            name = None
            if found.order is not None:
                index = dict(zip(order, range(len(order)), strict=True))
                name = (found.key, tuple(map(index.__getitem__, found.order)), len(found.start))
            self._named[(table, code)] = (reads, name)
            return found
        reads, name = entry
        if not reads:
            return None
        local = frozenset(map(order.__getitem__, reads))
        if name is None:
            return self.automaton.piece_residual(sid, piece, local)
        key, numbering, starts = name

        def make() -> Residual:
            mine = tuple(map(order.__getitem__, numbering))
            return Residual(key, mine[:starts], residual.edges, residual.end, mine, residual.copies)

        return self.automaton.piece_residual(sid, piece, local, make)

    def _next(self, info: StateInfo, token: int) -> int:
        if token == self.eos_id or not info.mask[token]:
            return DEAD
        parts = info.parts
        if len(parts.pieces) == 1:
            code, at = _row(info.tables[0], token)
            if code >= 0:
                return self._inside(info, 0, code)
            return self._write_on(info.sid, parts.pieces[0], token, at)
        # Several pieces: the first to complete (the lowest index on a tie) decides; if none
        # does, the token ends in every piece it stays inside of.
        best: tuple[int, int] | None = None
        inside: list[tuple[int, int]] = []  # (part, walk code) of the parts it stays in
        # the parts' parallel tuples, not Part objects (a context's start set holds every
        # piece, and only the few tables that hold the token are read)
        tables = info.tables
        for n, table in enumerate(tables):
            index = table.index  # (a small table's dict, read here: one call less per part)
            row = index.get(token) if index is not None else _lookup(table, token)
            if row is None:
                continue
            code, at = row
            if code < 0:
                done = (at, parts.pieces[n])
                best = done if best is None or done < best else best
            elif best is None:
                inside.append((n, code))
        if best is not None:
            return self._write_on(info.sid, best[1], token, best[0])
        if len(inside) == 1:  # in one piece only: as a token of a state inside it
            return self._inside(info, *inside[0])
        if not inside:
            return DEAD
        states: list[int] = []
        for n, code in inside:
            order, base = parts.residuals[n].order, parts.bases[n]
            sets: Iterable[int] = tables[n].sets[code]
            if order is not None:
                sets = map(order.__getitem__, sets)
            states += map(base.__add__, sets)
        nxt = self.automaton.resume(info.sid, states)
        if nxt not in self._info:
            self.automaton.seed_parts(nxt, self._seeded, nxt, info, inside)
        return nxt

    def _nexts(self, info: StateInfo) -> np.ndarray:
        """The next state of every allowed id of a state (vectorised over the walk codes)."""
        ids = info.ids
        if len(info.parts.pieces) != 1:
            return np.array([self.advance(info.sid, t) for t in ids.tolist()], dtype=np.int64)
        table = info.tables[0]
        out = np.full(len(ids), DEAD, dtype=np.int64)
        walked = ids != self.eos_id
        k = np.searchsorted(table.ids, ids[walked])
        codes = table.code[k]
        inside = codes >= 0
        uniq, inverse = np.unique(codes[inside], return_inverse=True)
        targets = np.array([self._inside(info, 0, c) for c in uniq.tolist()], dtype=np.int64)
        sub = out[walked]
        sub[inside] = targets[inverse.reshape(-1)]
        for j in np.flatnonzero(~inside).tolist():
            sub[j] = self.advance(info.sid, int(ids[walked][j]))
        out[walked] = sub
        return out

    # -- the vocabulary walk ------------------------------------------------------------------
    def _few_first(self, residual: Residual) -> list[int] | None:
        """The positions of the walkable tokens whose first character the start of
        ``residual`` reads, ascending, when there are at most :data:`_FEW` of them (None:
        more). The tokens are counted by first character, not read."""
        edges, member = residual.edges, self._member
        held: np.ndarray | None = None
        for s in residual.start:
            for cs, _ in edges[s]:
                if cs is not None:
                    held = member(cs) if held is None else held | member(cs)
        if held is None:
            return []
        starts = self._first_starts
        firsts = np.flatnonzero(held).tolist()
        if sum(starts[f + 1] - starts[f] for f in firsts) > _FEW:
            return None
        return sorted(self._led_by(firsts))

    def _led_by(self, firsts: Iterable[int]) -> list[int]:
        """The walk positions of the tokens whose first character is one of ``firsts``
        (alphabet indices), in no particular order: read off the tokens grouped by first
        character (:attr:`_heads`), no pass over the vocabulary."""
        starts, order = self._first_starts, self._heads[1]
        out: list[int] = []
        for f in firsts:
            out += order[starts[f] : starts[f + 1]]
        return out

    @cached_property
    def _first_starts(self) -> list[int]:
        """Per alphabet character, where the tokens that start with it begin in the order of
        :attr:`_heads` (grouped by first character), and one past the last group."""
        codes = self._heads[0]
        width = len(self._alphabet) + 1
        bounds = np.arange(len(self._alphabet) + 1, dtype=np.int64) * width
        return codes.searchsorted(bounds).tolist()

    def _starting_with(self, text: str) -> Sequence[int]:
        """Positions of the walkable tokens that start with ``text`` and are longer (in no
        particular order)."""
        codes, order, texts, index = self._heads
        width = len(self._alphabet) + 1
        first = index.get(text[0])
        if first is None:
            return []
        if len(text) == 1:  # every token of two characters or more that starts with it
            lo, hi = codes.searchsorted((first * width + 1, (first + 1) * width)).tolist()
            return order[lo:hi]
        second = index.get(text[1])
        if second is None:
            return []
        code = first * width + second + 1
        lo, hi = codes.searchsorted((code, code + 1)).tolist()
        n = len(text)
        out = []
        for p in order[lo:hi]:  # longest first: stop at the first no longer than the text
            t = texts[p]
            if len(t) <= n:
                break
            if t.startswith(text):
                out.append(p)
        return out

    def _moves(self, edges: object) -> Callable[[frozenset[int], str], frozenset[int] | None]:
        """The memoised NFA moves of a piece (:func:`_nfa_moves`), shared by every rest of the
        piece read token by token (the rests of a trace step meet the same state sets)."""
        found = self._piece_moves.get(id(edges))
        if found is None or found[0] is not edges:
            found = self._piece_moves[id(edges)] = (edges, _nfa_moves(edges))  # type: ignore[arg-type]
        return found[1]

    def _dfa(self, residual: Residual) -> _PieceDfa:
        """The DFA of the piece ``residual`` reads in (shared by all its residuals)."""
        edges = residual.edges
        found = self._piece_dfas.get(id(edges))
        if found is None or found[0] is not edges:
            memo: dict[object, frozenset[int]] = {}
            # closures over the vocabulary's arrays only (see _transient: no cycle)
            member, alphabet, index = self._member, self._alphabet, self._alphabet_index
            splits = self._splits

            def piece_classes() -> tuple[np.ndarray, list[str]]:
                charsets = {cs for e in edges for cs, _ in e if cs is not None}
                return _classes(alphabet, index, member, charsets, splits)

            def classes_of(cls: np.ndarray, cs: object) -> frozenset[int]:
                found = memo.get(cs)
                if found is None:
                    if isinstance(cs, str) and len(cs) <= 8:
                        # a few listed characters (a literal's): their classes, no pass
                        found = frozenset([int(cls[index[c]]) for c in cs if c in index])
                    else:
                        found = frozenset(np.flatnonzero(np.bincount(cls[member(cs)])).tolist())
                    memo[cs] = found
                return found

            dfa = _UnreadyDfa(edges, residual.end, piece_classes, classes_of, self._stops_of)
            found = self._piece_dfas[id(edges)] = (edges, dfa)
        return found[1]

    def _walk(self, residual: Residual) -> _Table:
        """Walk every token through a residual (on its piece's DFA, built on demand per
        character class and shared by every residual of the piece: the walks from the
        successive positions of a long piece meet the same DFA states)."""
        edges, end = residual.edges, residual.end
        start = residual.start
        # A literal run first (a piece's opening text, or all of it): the tokens on it are
        # found by their text instead of walking the vocabulary.
        chain, s = "", start[0]
        while len(start) == 1 and len(edges[s]) == 1:
            cs, t = edges[s][0]
            if not isinstance(cs, str) or len(cs) != 1:
                break
            row = edges[t]  # (most states of a run have one edge: no generator for them)
            if row[0][0] is None if len(row) == 1 else any(c is None for c, _ in row):
                break
            chain += cs
            s = t
            if t == end:
                break
        if chain and s == end:
            return self._literal(residual, chain)
        longer = self._starting_with(chain) if chain else []
        if chain and len(longer) <= _FEW:
            # A literal run, then a class (a field's tag, then its ref): the tokens that can
            # live are the run's prefixes and the few tokens that start with it, read one by
            # one (a vectorised walk would first build the piece DFA's classes and rows).
            by_text = self._text_pos
            cands = set(longer)
            for k in range(1, len(chain) + 1):
                p = by_text.get(chain[:k])
                if p is not None:
                    cands.update([p] if isinstance(p, int) else p.tolist())
            return self._read(residual, sorted(cands))
        table = self._texts(residual)
        if table is not None:
            return table
        if not chain:
            few = self._few_first(residual)
            if few is not None:  # (a vectorised walk costs ~50 us even for one token)
                return self._read(residual, few)
        copied = self._copy_walk(residual)
        if copied is not None:
            return copied
        dfa = self._dfa(residual)
        # Where tokens end, gathered as they settle (walk positions, codes, characters read
        # when a piece completes; a token that dies is never recorded), so the table is built
        # from the live tokens only, not from arrays over the whole vocabulary.
        found = _Settled()
        if chain:
            by_text = self._text_pos
            run, s = 0, start[0]
            for k in range(1, len(chain)):  # tokens that stop inside the run
                s = edges[s][0][1]
                p = by_text.get(chain[:k])
                if p is not None:
                    found.put(p, dfa.state(frozenset({s})))
            s = edges[s][0][1]  # the state after the whole run (the piece goes on: _literal)
            p = by_text.get(chain)
            longer_ids = np.array(longer, dtype=np.int64)
            run = dfa.state(dfa.close([s]))
            if p is not None:
                found.put(p, run)
            # the tokens on past the run that end in a name (or any class a state reads back
            # into itself) there or one character later are settled at once
            act = self._settle_run(dfa, run, longer_ids, len(chain), found)
            j = len(chain)
            cur = np.full(len(act), run, dtype=np.int32)
        else:
            # only the tokens whose first character the start reads (one gather over the
            # vocabulary's first characters instead of a full step)
            d0 = dfa.state(frozenset(start))
            lid = dfa.loop_id(d0)
            if dfa.first is None:
                dfa.first = dfa.cls[self._flat[self._offsets]]
            moved = dfa.trans[d0][dfa.first]  # per token: the state after its first character
            reads = moved != _DEAD
            # A state that reads a class back into itself (a name, a number) keeps the tokens
            # written wholly in the class: those end there, found with one array per class
            # over the vocabulary instead of steps of the walk (most of a large vocabulary
            # in a name). So for the start, and for each state the first character leads to.
            if lid >= 0:
                whole = self._whole(dfa.stops[lid], 0)
                found.put(np.flatnonzero(whole), d0)
                reads &= ~whole
            targets = np.flatnonzero(np.bincount(moved[reads & (moved >= 0)], minlength=1))
            for d1 in targets.tolist():
                if d1 == d0:
                    continue
                idx = np.flatnonzero(moved == d1)
                idx = idx[self._lengths[idx] >= 2]
                if not idx.size:
                    # only one-character tokens end here (settled below as short): the
                    # state's row is not needed (a trace step's first characters lead to
                    # many states that no longer token reads on from)
                    continue
                lid = dfa.loop_id(d1)
                if lid >= 0:
                    whole = idx[self._whole(dfa.stops[lid], 1)[idx]]
                    found.put(whole, d1)
                    reads[whole] = False
                else:
                    # one character further (a space, then a name): the tokens whose second
                    # character leads to a state that loops, and whose text from there lies
                    # in its class, end there too
                    rest = self._settle_run(dfa, d1, idx, 1, found)
                    if rest is not idx:  # some were settled: they are read no further
                        keep = reads[rest]
                        reads[idx] = False
                        reads[rest] = keep
            # the rest go on from the state their first character leads to (it is not read
            # again): those it completes the piece with, or that end there, are settled now
            act = np.flatnonzero(reads)
            cur = moved[act]
            done = cur <= -2
            if done.any():
                found.put(act[done], cur[done], 1)
                keep = ~done
                act, cur = act[keep], cur[keep]
            short = self._lengths[act] == 1
            if short.any():
                found.put(act[short], cur[short])
                keep = ~short
                act, cur = act[keep], cur[keep]
            j = 1
        self._walk_on(dfa, act, cur, self._offsets[act] + j, found)
        live, code, at = found.arrays()
        ids = self._walk_ids[live]
        mask = self._mask_of(ids)
        # the table numbers its own DFA states (0..): tables are shared by key and saved
        inner = code >= 0
        used = np.flatnonzero(np.bincount(code[inner], minlength=len(dfa.sets)))
        local = np.zeros(len(dfa.sets), dtype=np.int32)
        local[used] = np.arange(len(used), dtype=np.int32)
        code[inner] = local[code[inner]]
        sets = [dfa.sets[g] for g in used.tolist()]
        if residual.order is not None:  # tables are shared by key: store canonical numbers
            sets = _canonical(residual.order, sets)
        rest = np.flatnonzero((code <= -2) & (at < self._lengths[live]))
        return _Table(ids, code, at, sets, rest, mask)

    def _walk_on(
        self, dfa: _PieceDfa, act: np.ndarray, cur: np.ndarray, pos: np.ndarray, found: _Settled
    ) -> None:
        """Walk the tokens at walk positions ``act`` on through ``dfa`` from its states ``cur``,
        each from its character ``pos`` (a position in the vocabulary's characters), settling
        each in ``found`` where it ends, completes the piece or (not recorded) dies: a
        vectorised step while many are active, the last few one by one."""
        flat, offsets, ends = self._flat, self._offsets, self._ends
        while act.size:
            if act.size <= _FEW:
                dfa.finish(act, cur, pos, found, self._flat_view, offsets, ends)
                break
            cls = dfa.cls  # read here: a walk with no token on the way needs no classes
            loop = dfa.loop[cur]
            new = loop == _UNKNOWN
            if new.any():  # rows not computed yet (this also finds their self-loops)
                dfa.fill(np.flatnonzero(np.bincount(cur[new])).tolist())
                loop = dfa.loop[cur]
            jump = loop >= 0
            if jump.any():
                # A state that reads a class of characters back into itself (a name, a
                # number, a quoted string) reads a token's run of them in one step: to the
                # next character outside the class or the token's end.
                for lid in np.flatnonzero(np.bincount(loop[jump])).tolist():
                    sel = np.flatnonzero(loop == lid)
                    pos[sel] = np.minimum(dfa.stops[lid][pos[sel]], ends[act[sel]])
                ended = pos == ends[act]
                if ended.any():
                    found.put(act[ended], cur[ended])
                    keep = ~ended
                    act, cur, pos = act[keep], cur[keep], pos[keep]
                    if not act.size:
                        break
            v = dfa.trans[cur, cls[flat[pos]]]
            pos += 1
            done = v <= -2
            if done.any():
                found.put(act[done], v[done], pos[done] - offsets[act[done]])
            live = v >= 0
            act, cur, pos = act[live], v[live], pos[live]
            ended = pos == ends[act]
            if ended.any():
                found.put(act[ended], cur[ended])
                keep = ~ended
                act, cur, pos = act[keep], cur[keep], pos[keep]

    def _copy_walk(self, residual: Residual) -> _Table | None:
        """:meth:`_walk` of a rest that starts in a copy of a template (a value a language
        writes in many places, :func:`dslkit.automaton.template`), read off the template's own
        walk from the same states: found once per template and start, where each copy was a
        vectorised walk of its own (a trace replay's names and numbers: 21 walks, a fifth of
        its time). None when the rest is not such: no copy holds its start, or the copy's
        walks cannot be read off the template's (see :meth:`_copy_check`).

        A token that ends inside the copy ends in the template's states, renumbered; one that
        writes on past the copy's end stops in the template's walk at the first character
        the template cannot read, and is read on from there through the piece's NFA."""
        for copy in residual.copies:
            lo, hi = copy.base + 1, copy.base + len(copy.template.rows)
            # (a state can lie in two copies: the end of one is where the next starts)
            if any(lo <= s < hi or s == copy.entry for s in residual.start):
                table = self._read_copy(residual, copy)
                if table is not None:
                    return table
        return None

    def _read_copy(self, residual: Residual, copy: Copy) -> _Table | None:
        """:meth:`_copy_walk` in one copy (None: its walks cannot be read off the template's,
        or the rest does not start in it alone)."""
        check = self._copy_check(residual, copy)
        if check is None:
            return None
        shape, end, reach, others, after = check
        start, lo, hi = residual.start, copy.base + 1, copy.base + len(copy.template.rows)
        inside: list[int] = []  # the start in the template's numbering
        outside: set[int] = set()
        for s in start:
            if lo <= s < hi:
                inside.append(s - copy.base)
            elif s == copy.entry:
                inside.append(0)
            else:
                outside.add(s)
        # the start is the copy's states and, when its end is among them, what that reaches
        at_end = end in start
        if outside != others if at_end else outside:
            return None
        # From the copy's end, a token's first character is read either by the template or by
        # what follows the copy, never both (_copy_check): the template is walked from its
        # other states, and the tokens that start with a character what follows reads are read
        # through the piece from there, as those that write on past the copy are.
        inner = tuple(sorted(k for k in inside if k != shape.exit))
        tsets, ids, code, at, mask, lengths, rest, on = self._past_copy(shape, inner, after)
        base, entry = copy.base, copy.entry
        sets = [
            tuple(sorted({base + k if k else entry for k in st} | reach))
            if shape.exit in st
            else tuple(sorted([base + k if k else entry for k in st]))
            for st in tsets
        ]
        more = self._starting_in(after) if at_end else _NO_IDS
        if len(on) or len(more):
            # walked on from the copy's end through the piece (no state of the template reads
            # the character they read there: see _copy_check)
            code, at = code.copy(), at.copy()
            past = np.concatenate([ids[on], more])
            ends, died, ats = self._past_end(
                residual, reach, past, np.concatenate([at[on], np.ones(len(more), np.int32)])
            )
            numbered: dict[tuple[int, ...], int] = {}
            codes = np.full(len(past), _DEAD, dtype=np.int32)
            reads = np.zeros(len(past), dtype=np.int32)
            for n, (st, k) in enumerate(zip(ends, ats, strict=True)):
                if isinstance(st, tuple):
                    c = numbered.get(st)
                    if c is None:
                        c = numbered[st] = len(sets)
                        sets.append(st)
                    codes[n] = c
                elif st is not None:
                    codes[n], reads[n] = -2, k
            code[on], at[on] = codes[: len(on)], reads[: len(on)]
            if len(more):
                new = codes[len(on) :] != _DEAD
                ids = np.concatenate([ids, more[new]])
                code = np.concatenate([code, codes[len(on) :][new]])
                at = np.concatenate([at, reads[len(on) :][new]])
                order = np.argsort(ids, kind="stable")
                ids, code, at = ids[order], code[order], at[order]
            if died or len(more):
                keep = code != _DEAD
                ids, code, at = ids[keep], code[keep], at[keep]
                mask = self._mask_of(ids)
            lengths = self._lengths[self._position[ids]]
            rest = np.flatnonzero((code <= -2) & (at < lengths))
        if residual.order is not None:  # tables are shared by key: store canonical numbers
            sets = _canonical(residual.order, sets)
        return _Table(ids, code, at, sets, rest, mask)

    def _starting_in(self, chars: np.ndarray) -> np.ndarray:
        """The ids of the walkable tokens whose first character is one of ``chars`` (bool
        over the alphabet), ascending (found once per set, from the tokens grouped by first
        character: no pass over the vocabulary)."""
        key = chars.tobytes()
        found = self._firsts.get(key)
        if found is None:
            picked = self._led_by(np.flatnonzero(chars).tolist())
            found = self._firsts[key] = np.sort(self._walk_ids[picked])
        return found

    def _past_end(
        self, residual: Residual, reach: frozenset[int], ids: np.ndarray, at: np.ndarray
    ) -> tuple[list[tuple[int, ...] | int | None], bool, list[int]]:
        """Where the tokens ``ids`` end when read on through the piece from the states
        ``reach`` at their character ``at - 1``: per token, the piece's NFA states it ends
        in (a sorted tuple), -2 when it completes the piece (with the characters it read
        then), or None when it dies; and whether any died. One by one through the piece's
        NFA for a few, through its DFA (:meth:`_walk_on`) for more."""
        pos = self._position[ids]
        out: list[tuple[int, ...] | int | None] = [None] * len(ids)
        ats = [0] * len(ids)
        if len(ids) <= _FEW:
            move, vocab, stop = self._moves(residual.edges), self._vocab, residual.end
            for n, (token, k) in enumerate(zip(ids.tolist(), at.tolist(), strict=True)):
                states, chars = _read_token(move, reach, vocab[token], k - 1, stop)
                if states is None:
                    continue
                if stop in states:
                    out[n], ats[n] = -2, chars
                else:
                    out[n] = tuple(sorted(states))
        else:
            dfa, found = self._dfa(residual), _Settled()
            order = np.argsort(pos)
            start = np.full(len(ids), dfa.state(reach), dtype=np.int32)
            self._walk_on(dfa, pos[order], start, self._offsets[pos[order]] + at[order] - 1, found)
            live, code, read = found.arrays()
            which = order[np.searchsorted(pos[order], live)]
            for n, c, k in zip(which.tolist(), code.tolist(), read.tolist(), strict=True):
                if c >= 0:
                    out[n] = dfa.sets[c]
                else:
                    out[n], ats[n] = -2, k
        return out, any(st is None for st in out), ats

    def _mask_of(self, ids: np.ndarray) -> np.ndarray:
        """Bool over the vocabulary: ``ids``."""
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[ids] = True
        return mask

    @cached_property
    def _position(self) -> np.ndarray:
        """id -> its walk position (-1: a token not walked; found when first needed)."""
        pos = np.full(self.vocab_size, -1, dtype=np.int64)
        pos[self._walk_ids] = np.arange(len(self._walk_ids), dtype=np.int64)
        return pos

    def _past_copy(self, shape: _Shape, start: tuple[int, ...], after: np.ndarray) -> _Past:
        """The template's walk from ``start`` (its own numbering) less the tokens that write
        on past the copy with a character that what follows the copy (``after``: bool over the
        alphabet) does not read (most: the template's walk stops every token at a character
        it does not read), as :data:`_Past`; found once per start and ``after``, for every copy
        of the template."""
        key = (start, after.tobytes())
        found = shape.past.get(key)
        if found is None:
            table = shape.tables.get(start)
            if table is None:
                table = shape.tables[start] = (
                    self._walk(Residual(("template", start), start, shape.edges, shape.end, None))
                    if start
                    else self._small_table([], [], [], [], [])  # (only the copy's end)
                )
            ids, code, at, mask = table.ids, table.code, table.at, table.mask
            pos = self._position[ids]
            lengths = self._lengths[pos]
            out = np.flatnonzero(code <= -2)
            if len(out):
                dead = out[~after[self._flat[self._offsets[pos[out]] + at[out] - 1]]]
                if len(dead):
                    keep = np.ones(len(ids), dtype=bool)
                    keep[dead] = False
                    ids, code, at, lengths = ids[keep], code[keep], at[keep], lengths[keep]
                    mask = self._mask_of(ids)
                    out = np.flatnonzero(code <= -2)
            rest = np.flatnonzero((code <= -2) & (at < lengths))
            found = shape.past[key] = (table.sets, ids, code, at, mask, lengths, rest, out)
        return found

    def _copy_check(self, residual: Residual, copy: Copy) -> _CopyCheck | None:
        """What the walks of a copy need (see :data:`_CopyCheck`), or None when they cannot be
        read off the template's: the copy's first state reads more than the template's own
        (it ends a loop before the copy), its end reaches the piece's end without a character,
        or what follows the copy, its end included, can read a character the template reads
        (then a token could go on both inside and past the copy, or into the copy again).
        Found once per copy."""
        key = (id(residual.edges), copy.base)
        found = self._copy_checks.get(key)
        if found is None or found[0] is not residual.edges:
            found = self._copy_checks[key] = (residual.edges, self._check_copy(residual, copy))
        return found[1]

    def _check_copy(self, residual: Residual, copy: Copy) -> _CopyCheck | None:
        template, edges = copy.template, residual.edges
        rows, exit_ = template.rows, template.end
        if len(edges[copy.entry]) != len(rows[0]):
            return None
        end = copy.base + exit_ if exit_ else copy.entry
        reach = frozenset(empty_closure(edges, end))
        if residual.end in reach:
            return None
        shape = self._shape(template)
        after = self._chars_read([edges[s] for s in reach])
        if (after & shape.reads).any():
            return None
        others = frozenset(s for s in reach if s != end and edges[s])
        return shape, end, reach, others, after

    def _shape(self, template: Template) -> _Shape:
        """The template as walked (one per distinct edges: the copies of a value under
        different marks share it)."""
        shape = self._shapes.get(template.digest)
        if shape is None:
            reads = self._chars_read(template.rows)
            shape = self._shapes[template.digest] = _Shape(template, reads, self._alphabet)
        return shape

    def _chars_read(self, rows: Iterable[Sequence[tuple[Any, int]]]) -> np.ndarray:
        """Bool over the alphabet: the characters some edge of ``rows`` reads."""
        reads = np.zeros(len(self._alphabet), dtype=bool)
        for row in rows:
            for cs, _ in row:
                if cs is not None:
                    reads |= self._member(cs)
        return reads

    def _texts(self, residual: Residual) -> _Table | None:
        """:meth:`_walk` of a rest that is a few texts (an attribute's or an enum field's
        values and the closing ``]``: no loop, one character an edge), by text lookups and
        no DFA: the tokens that are a prefix of a text or start with one are the only ones
        that can live, and each is read through the piece's NFA on its own (a scene replay
        meets ~100 such rests, each a vectorised walk of the vocabulary before). None when
        the rest is not such (a loop, a character class, more than :data:`_TEXTS` texts)."""
        edges, end = residual.edges, residual.end
        start = frozenset(residual.start)
        # Most rests that are not such read a class a few characters on (a name, a number):
        # found first on the NFA's own states, breadth first (the nearest such edge), where
        # spelling out the texts up to it cost 15-35 us a rest.
        if not _single_characters(edges, start, end):
            return None
        move = self._moves(edges)
        # the texts of the rest, to the first state the piece is complete in
        texts: list[str] = []
        stack: list[tuple[frozenset[int], str]] = [(start, "")]
        budget = 8 * _TEXTS  # states of the search (a loop or a long rest: not such a rest)
        while stack:
            states, text = stack.pop()
            budget -= 1
            if budget < 0:
                return None
            chars: set[str] = set()
            for s in states:
                for cs, _ in edges[s]:
                    if cs is None:
                        continue
                    if not isinstance(cs, str) or len(cs) != 1:
                        return None
                    chars.add(cs)
            for ch in chars:
                nxt = move(states, ch)
                if nxt is None:
                    continue
                if end in nxt:
                    texts.append(text + ch)
                    if len(texts) > _TEXTS:
                        return None
                else:
                    stack.append((nxt, text + ch))
        # the tokens that can live: a prefix of a text (they end inside), or a text and on
        by_text = self._text_pos
        cands: set[int] = set()
        for text in texts:
            cands.update(self._starting_with(text))
            for k in range(1, len(text) + 1):
                p = by_text.get(text[:k])
                if p is not None:
                    cands.update([p] if isinstance(p, int) else p.tolist())
        return self._read(residual, sorted(cands), move)

    def _read(
        self,
        residual: Residual,
        cands: Iterable[int],
        move: Callable[[frozenset[int], str], frozenset[int] | None] | None = None,
    ) -> _Table:
        """The walk table of ``residual`` over the candidate tokens ``cands`` (walk positions,
        ascending: every other token dies in the rest), each read through the piece's NFA on
        its own, character by character (``move``: the NFA's memoised moves, when the caller
        has them). For a few candidates, where a vectorised walk's fixed cost (the piece
        DFA's character classes and rows, tens of numpy calls) is most of its time."""
        edges, end = residual.edges, residual.end
        move = move or self._moves(edges)
        start = frozenset(residual.start)
        texts = self._walk_texts
        live: list[int] = []  # the tokens that stay in the language, as their rows
        codes: list[int] = []
        ats: list[int] = []
        rest: list[int] = []  # (the rows that complete the piece before their token's end)
        local: dict[frozenset[int], int] = {}  # NFA states a token ends in -> their code
        sets: list[tuple[int, ...]] = []
        for q in cands:
            text = texts[q]
            states, at = _read_token(move, start, text, 0, end)
            if states is None:
                continue
            if end in states:
                if at < len(text):
                    rest.append(len(live))
                live.append(q)
                codes.append(-2)
                ats.append(at)
                continue
            number = local.get(states)
            if number is None:
                number = local[states] = len(sets)
                sets.append(tuple(sorted(states)))
            live.append(q)
            codes.append(number)
            ats.append(0)
        if residual.order is not None:  # tables are shared by key: store canonical numbers
            sets = _canonical(residual.order, sets)
        return self._small_table(live, codes, ats, rest, sets)

    def _literal(self, residual: Residual, chain: str) -> _Table:
        """:meth:`_walk` of a rest that is one literal text to its end (an atomic tag, an
        attribute's value, a closing tag), with no DFA and a handful of numpy calls (a scene
        replay meets hundreds): the tokens that are a prefix of the text end inside it, the
        text itself and the tokens that start with it complete the piece (the longer ones
        write on)."""
        edges, by_text = residual.edges, self._text_pos
        ks: list[int] = []  # walk positions of the tokens that end inside the text
        codes: list[int] = []
        sets: list[tuple[int, ...]] = []  # per code: the piece state the token ends in
        s = residual.start[0]
        for k in range(1, len(chain)):
            s = edges[s][0][1]
            p = by_text.get(chain[:k])
            if p is not None:
                for q in [p] if isinstance(p, int) else p.tolist():
                    ks.append(q)
                    codes.append(len(sets))
                sets.append((s,))
        p = by_text.get(chain)
        whole = [] if p is None else [p] if isinstance(p, int) else p.tolist()
        longer = self._starting_with(chain)  # write on after the piece
        # a few dozen tokens: ordered as Python tuples (walk position, code, characters read,
        # writes on), then four arrays, not a dozen numpy calls on tiny arrays
        end = len(chain)
        rows = sorted(
            [
                *((q, c, 0, False) for q, c in zip(ks, codes, strict=True)),
                *((q, -2, end, False) for q in whole),
                *((q, -2, end, True) for q in longer),
            ]
        )
        if residual.order is not None:  # tables are shared by key: store canonical numbers
            sets = _canonical(residual.order, sets)
        return self._small_table(
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
            [k for k, r in enumerate(rows) if r[3]],
            sets,
        )

    def _small_table(
        self,
        live: list[int],
        codes: list[int],
        ats: list[int],
        rest: list[int],
        sets: list[tuple[int, ...]],
    ) -> _Table:
        """A walk table from its rows as lists (walk positions ascending, walk codes,
        characters read, the rows that write on) and its sets. Tables with the same rows
        share their arrays: hundreds of a scene's openings and closing tags differ only in
        text the vocabulary has no token for (``" [card]"`` and ``" [stage]"`` both hold
        ``" "`` and ``" ["``), and a table is its arrays, made once. Each keeps its own sets,
        and is its own object (what is derived per table and walk code depends on the
        residual's edges, see _derive)."""
        key = (tuple(live), tuple(codes), tuple(ats), tuple(rest))
        found = self._row_arrays.get(key)
        if found is None:
            ids = self._walk_ids[live]
            mask = self._mask_of(ids)
            found = self._row_arrays[key] = (
                ids,
                np.array(codes, dtype=np.int32),
                np.array(ats, dtype=np.int32),
                np.array(rest, dtype=np.int64),
                mask,
            )
        ids, code, at, rest_at, mask = found
        return _Table(ids, code, at, sets, rest_at, mask)

    def _settle_run(
        self, dfa: _PieceDfa, d: int, idx: np.ndarray, j: int, found: _Settled
    ) -> np.ndarray:
        """Settle the tokens ``idx``, longer than ``j`` characters and in DFA state ``d``
        after them, that are written from there wholly in the class ``d`` reads back into
        itself, or in that of a looping state their next character leads to; returns the
        others (they walk on from ``d`` at character ``j``)."""
        if len(idx) <= _MANY:  # few enough to walk (settling fills DFA rows they may not need)
            return idx
        lid = dfa.loop_id(d)
        if lid >= 0:
            whole = self._whole(dfa.stops[lid], j)[idx]
            found.put(idx[whole], d)
            idx = idx[~whole]
            if not idx.size:
                return idx
        moved = dfa.trans[d][dfa.cls[self._flat[self._offsets[idx] + j]]]
        keep = np.ones(len(idx), dtype=bool)
        for d2 in np.flatnonzero(np.bincount(moved[moved >= 0], minlength=1)).tolist():
            if d2 == d:
                continue
            lid = dfa.loop_id(d2)
            if lid >= 0:
                sel = (moved == d2) & self._whole(dfa.stops[lid], j + 1)[idx]
                found.put(idx[sel], d2)
                keep &= ~sel
        return idx[keep]

    def advance(self, sid: int, token: int) -> int:
        """The state after a token (:data:`DEAD` when it was not allowed or ended the program)."""
        info = self._info.get(sid) or self.info(sid)
        nxt = info.next.get(token)
        if nxt is None:
            nxt = info.next[token] = self._next(info, token)
        return nxt

    @property
    def _root(self) -> _Trie:
        """A trie of the vocabulary (built when budget steering first counts tokens)."""
        if self._trie is None:
            root = _Trie()
            for i, text in enumerate(self._vocab):
                if i in self._specials or not text:
                    continue
                node = root
                for ch in text:
                    node = node.children.setdefault(ch, _Trie())
                node.ids.append(i)
            self._trie = root
        return self._trie

    def token_dist(self, sid: int) -> int:
        """Tokens that finish the program from ``sid``, the end-of-sequence id included.

        Writes a shortest completion in characters with the longest tokens that match it. That
        is a real path, so the count bounds the fewest tokens from above (which budget steering
        needs: it must always leave room to finish), and it is tight in practice because
        closing tags are single tokens; counting characters instead overstates it several times
        over and closes blocks a model would have finished in time.

        Args:
            sid: the state (:data:`DEAD`, the state after end-of-sequence, needs 0).

        Returns:
            The token count, or a huge number when the vocabulary cannot write the completion.
        """
        if sid == DEAD:
            return 0
        found = self._token_dist.get(sid)
        if found is None:
            text = self._completion(sid)
            found = INF if text is None else _greedy_count(self._root, text)
            found = self._token_dist[sid] = min(INF, found + 1)
        return found

    def _completion(self, sid: int) -> str | None:
        """A shortest completion in characters.

        Every state on the way gets its own suffix cached: budget steering asks for the next
        states of many tokens, and their completions soon run into the same closing text.
        """
        auto, known = self.automaton, self._completions
        out: list[str] = []
        path: list[int] = []
        s = sid
        tail: str | None = ""
        while not auto.accepting(s):
            if s in known:
                tail = known[s]
                break
            ch = auto.shortest_next(s)
            if ch is None or len(out) > 100_000:
                tail = None
                break
            path.append(s)
            out.append(ch)
            s = auto.step(s, ch)
        if tail is None:
            return None
        text = "".join(out) + tail
        for k, state in enumerate(path):
            known[state] = text[k:]
        return text

    def payload_steps(self, sid: int) -> PayloadSteps:
        """The allowed tokens of ``sid`` that write (or end) a marked value (see :func:`dslkit.automaton.tag`).

        Computed on first use per state and cached. A token that would write parts of two
        values is left out (it is not checked); the tokenizers here never make one.
        """
        info = self.info(sid)
        found = info.cache.get("payload")
        if found is None:
            found = info.cache["payload"] = self._payload_steps(sid, info)
        return found  # type: ignore[return-value]

    def _payload_steps(self, sid: int, info: StateInfo) -> PayloadSteps:
        auto = self.automaton
        at = auto.payload(sid)
        other: dict[int, PayloadStep] = {}
        opens: dict[int, str] = {}
        ids, nexts = info.ids, info.nexts
        plain = np.zeros(len(ids), dtype=bool)
        if at is not None:
            # inside a value, a token of value characters that stays inside it (the bulk of a
            # vocabulary) continues it; no need to walk it
            uniq, inverse = np.unique(nexts, return_inverse=True)
            stays = np.array([auto.payload(s) == at for s in uniq.tolist()], dtype=bool)
            plain = self._plain[ids] & stays[inverse.reshape(-1)]
        for k in np.flatnonzero(~plain).tolist():
            i = int(ids[k])
            if i in self._specials:
                continue
            text = self._vocab[i]
            state, kind, end, split = sid, None, None, False
            for n, ch in enumerate(text):
                inside = auto.source(state, ch)  # ch is read inside a value
                state = auto.step(state, ch)
                after = auto.payload(state)
                if inside is not None and after is None:  # this character ends the value
                    kind, end = kind or inside, n if end is None else end
                elif inside is not None or after is not None:
                    if end is not None:  # a second value starts inside the same token
                        split = True
                        break
                    kind = kind or inside or after
            if kind is not None and not split:
                other[i] = PayloadStep(kind, end)
            elif kind is None and (c := auto.commits(int(nexts[k]))) is not None:
                opens[i] = c
        return PayloadSteps(at, self._plain_texts, ids[plain], other, opens)

    def allowed(self, sid: int, remaining: int | None = None) -> np.ndarray:
        """Boolean mask of allowed ids; with ``remaining`` tokens left, only ids after which the
        program can still be finished in time (see :meth:`token_dist`).

        Args:
            sid: the state.
            remaining: tokens left in the budget including this one; None for no budget.

        Returns:
            A bool array over the vocabulary (never all False while the state is alive).
        """
        info = self.info(sid)
        if remaining is None or info.max_dist <= remaining - 1:
            return info.mask
        after = info.tokens_after
        if after is None:
            # characters bound tokens from above, so only ids whose completion is long in
            # characters need counting in tokens (once per distinct next state)
            after = info.dist_after.copy()
            long = np.flatnonzero(after > 1)
            counted: dict[int, int] = {}
            for k in long.tolist():
                nxt = int(info.nexts[k])
                d = counted.get(nxt)
                if d is None:
                    d = counted[nxt] = self.token_dist(nxt)
                after[k] = min(int(after[k]), d)
            info.tokens_after = after
        limit = max(remaining - 1, int(after.min(initial=INF)))
        return self._mask_of(info.ids[after <= limit])

    @property
    def n_cached(self) -> int:
        """States whose mask has been computed."""
        return len(self._info)


# a walk table of at most this many tokens is read by a dict of its rows (a step reads one row:
# a dict lookup, where a numpy search and two numpy scalars cost ten times more); a larger one
# by a binary search of its ids
_INDEXED = 256


def _index(table: _Table) -> dict[int, tuple[int, int]] | None:
    """A small table's rows by token, ``(code, at)`` each (made when first read); None for a
    large one."""
    index = table.index
    if index is None and len(table.ids) <= _INDEXED:
        index = table.index = dict(
            zip(
                table.ids.tolist(),
                zip(table.code.tolist(), table.at.tolist(), strict=True),
                strict=True,
            )
        )
    return index


def _row(table: _Table, token: int) -> tuple[int, int]:
    """``(walk code, characters read when it completes the piece)`` of a token the table
    holds."""
    index = table.index or _index(table)
    if index is None:
        k = int(table.ids.searchsorted(token))
        return int(table.code[k]), int(table.at[k])
    return index[token]


def _lookup(table: _Table, token: int) -> tuple[int, int] | None:
    """:func:`_row` of a token, or None when the table does not hold it (a state in several
    pieces asks each of their tables)."""
    index = table.index or _index(table)
    if index is None:
        return _row(table, token) if table.mask[token] else None
    return index.get(token)


def _canonical(order: Sequence[int], sets: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The sets of NFA states in a residual's canonical numbering (their positions in its
    ``order``), the order read from the front only until every state is found: a token reads
    a few characters, so the states it ends in are numbered early, where a rest's order runs
    to hundreds of states."""
    if all(len(st) == 1 for st in sets):  # (a literal's: one state a set, found by a C scan)
        return [(order.index(st[0]),) for st in sets]
    need = {s for st in sets for s in st}
    where: dict[int, int] = {}
    for i, s in enumerate(order):
        if s in need:
            where[s] = i
            if len(where) == len(need):
                break
    return [tuple(sorted(map(where.__getitem__, st))) for st in sets]


def _pick(items: Sequence[str], idx: list[int]) -> list[str]:
    """``[items[i] for i in idx]``, gathered in C (a list over a large vocabulary)."""
    if len(idx) < 2:
        return [items[i] for i in idx]
    return list(operator.itemgetter(*idx)(items))


def _members_of(alphabet: list[str], index: dict[str, int]) -> Callable[[object], np.ndarray]:
    """A function: character set -> which characters of ``alphabet`` (``index``: its
    positions) it holds (bool, cached)."""
    found_for: dict[object, np.ndarray] = {}

    def member(cs: object) -> np.ndarray:
        found = found_for.get(cs)
        if found is None:
            if isinstance(cs, str):
                found = np.zeros(len(alphabet), dtype=bool)
                found[[index[c] for c in cs if c in index]] = True
            else:
                found = np.fromiter(
                    (c in cs for c in alphabet),  # type: ignore[operator]
                    dtype=bool,
                    count=len(alphabet),
                )
            found_for[cs] = found
        return found

    return member


def _classes(
    alphabet: list[str],
    index: dict[str, int],
    member: Callable[[object], np.ndarray],
    charsets: Iterable[object],
    splits: dict[frozenset[object], np.ndarray],
) -> tuple[np.ndarray, list[str]]:
    """Alphabet (``index``: character -> position) -> class id (characters in exactly the same
    sets share one) and a representative character per class. The split by the sets of
    several characters is found once per distinct group of them (``splits``): pieces that
    differ only in their literal text share it."""
    alone: set[int] = set()  # characters some set holds on its own: each a class of its own
    several = []
    for cs in charsets:
        if isinstance(cs, str) and len(cs) == 1:
            # a one-character set splits that character off and nothing else (most sets of a
            # piece's literal text): no pass over the alphabet
            if cs in index:
                alone.add(index[cs])
        else:
            several.append(cs)
    key = frozenset(several)
    cls = splits.get(key)
    if cls is None:
        cls = np.zeros(len(alphabet), dtype=np.int64)
        for n, cs in enumerate(several, 1):
            cls = cls * 2 + member(cs)
            if n % 32 == 0:  # renumber before the codes overflow
                cls = np.unique(cls, return_inverse=True)[1].reshape(-1)
        splits[key] = cls
    if alone:
        # one code per such character, past every code the sets made (those grow with the
        # classes met before the last renumbering: no constant bound is safe); on a copy, the
        # split is shared
        picked = np.fromiter(alone, dtype=np.int64, count=len(alone))
        cls = cls.copy()
        cls[picked] = int(cls.max()) + 1 + picked
    _, first, cls = np.unique(cls, return_index=True, return_inverse=True)
    return cls.reshape(-1).astype(np.int32), [alphabet[i] for i in first.tolist()]


def _stops_in(flat: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """A function: a character set (bool over the alphabet) -> per position in the
    vocabulary's characters ``flat``, the next one (itself included) whose character is outside
    the set, or the end: where a run of the set stops (cached per set, shared by pieces)."""
    found_for: dict[bytes, np.ndarray] = {}
    n = len(flat)
    # (int32: the positions of a 32k vocabulary's ~225k characters; the reversed running
    # minimum is taken in place, half the passes and memory of a copy)
    positions = np.arange(n, dtype=np.int32) if n < 2**31 else np.arange(n)

    def stops_of(chars: np.ndarray) -> np.ndarray:
        key = chars.tobytes()
        found = found_for.get(key)
        if found is None:
            found = np.where(chars[flat], positions.dtype.type(n), positions)
            backwards = found[::-1]
            np.minimum.accumulate(backwards, out=backwards)
            found_for[key] = found
        return found

    return stops_of


def _nfa_moves(
    edges: Sequence[Sequence[tuple[Any, int]]],
) -> Callable[[frozenset[int], str], frozenset[int] | None]:
    """A function: (closed NFA states, character) -> the closed states after it, or None (it
    is not read); memoised, as are the states' empty-move closures."""
    closures: dict[int, tuple[int, ...]] = {}
    moves: dict[tuple[frozenset[int], str], frozenset[int] | None] = {}

    def move(states: frozenset[int], ch: str) -> frozenset[int] | None:
        key = (states, ch)
        found = moves.get(key, _UNREAD)
        if found is _UNREAD:
            found = None
            targets = [t for s in states for cs, t in edges[s] if cs is not None and ch in cs]
            if targets:
                out: set[int] = set()
                for s0 in targets:
                    closed = closures.get(s0)
                    if closed is None:
                        closed = closures[s0] = empty_closure(edges, s0)
                    out.update(closed)
                found = frozenset(out)
            moves[key] = found
        return found  # type: ignore[return-value]

    return move


_UNREAD = object()  # a move not memoised yet


def _read_token(
    move: Callable[[frozenset[int], str], frozenset[int] | None],
    states: frozenset[int],
    text: str,
    k: int,
    end: int,
) -> tuple[frozenset[int] | None, int]:
    """Read ``text`` from its character ``k`` through a piece's NFA moves (:func:`_nfa_moves`)
    from ``states``: the states after it, or None (it dies), with the characters read; the
    reading stops at the first states that hold ``end`` (the piece is complete)."""
    for i in range(k, len(text)):
        nxt = move(states, text[i])
        if nxt is None or end in nxt:
            return nxt, i + 1
        states = nxt
    return states, len(text)


_NO_IDS = np.zeros(0, dtype=np.int64)


def _single_characters(
    edges: Sequence[Sequence[tuple[Any, int]]], start: Iterable[int], end: int
) -> bool:
    """Whether every edge the NFA states reachable from ``start`` (up to ``end``) read is one
    character, found breadth first (the nearest class edge ends the search); False too past
    :data:`_SINGLE_STATES` states (no rest of a few texts is that long)."""
    seen = set(start)
    frontier = list(seen)
    while frontier:
        following = []
        for s in frontier:
            if s == end:
                continue
            for cs, t in edges[s]:
                if cs is not None and (not isinstance(cs, str) or len(cs) != 1):
                    return False
                if t not in seen:
                    seen.add(t)
                    following.append(t)
        if len(seen) > _SINGLE_STATES:
            return False
        frontier = following
    return True


def _greedy_count(root: _Trie, text: str) -> int:
    """Tokens that write ``text`` taking the longest matching token each time (INF if none)."""
    count = i = 0
    while i < len(text):
        node, j, end = root, i, 0
        while j < len(text):
            nxt = node.children.get(text[j])
            if nxt is None:
                break
            node, j = nxt, j + 1
            if node.ids:
                end = j
        if not end:
            return INF
        count, i = count + 1, end
    return count


def brute_force_mask(
    automaton: Automaton, vocab: Sequence[str], specials: Mapping[int, str], eos_id: int, sid: int
) -> np.ndarray:
    """The allowed-token mask of a state by simulating every vocabulary string from scratch.

    Independent of :class:`TokenMasker`'s trie walk and caches; tests compare the two.

    Args:
        automaton: the language.
        vocab: id -> text.
        specials: special ids (never text).
        eos_id: allowed exactly when the state is a complete program.
        sid: the state.

    Returns:
        A bool array over the vocabulary.
    """
    mask = np.zeros(len(vocab), dtype=bool)
    for i, text in enumerate(vocab):
        if i == eos_id:
            mask[i] = automaton.accepting(sid)
        elif i in specials or not text:
            continue
        else:
            mask[i] = automaton.advance(sid, text) != DEAD
    return mask
