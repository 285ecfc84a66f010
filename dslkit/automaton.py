"""The prefix-automaton engine of constrained decoding: a character automaton over contexts.

A language (``scene_dsl.prefix_automaton``, ``trace_dsl.prefix_automaton``) is a graph of
*contexts*. A context is a structural position (top of a scene after the layout, inside
``[stage_card]`` with these fields seen, the steps of a trace block, ...) and lists the *pieces*
that may come next, each a small regular pattern (``" [accent:" ("amber" | "green" | ...) "]"``,
``" [title_ref:" REF "]"``) with the context it leads to. Inside a context, the position within
the pieces is a set of NFA states, so the automaton state is ``(context, NFA state set)``: a
canonical key that forgets the payload characters already typed (a ref path is in the same
state after ``a.b`` as after ``cards.0``).

Patterns are built from fragments (:func:`lit`, :func:`seq`, :func:`alt`, ...) or read from a
language's own regular expressions (:func:`regex`: a grammar terminal, a contract's id
pattern), so no language restates its lexical rules here. A character set may be infinite
(``[^"\\\n]`` reads any Unicode character but three): :class:`CharSet`.

Pure standard library: the language packages build their automata without numpy or torch; the
per-token masks over a tokenizer's vocabulary live in ``dslkit.train.token_mask``.
"""

from __future__ import annotations

import array
import bisect
import hashlib
import heapq
import operator
import unicodedata
from collections import deque
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple, Protocol

try:  # the stdlib's regex parser (lark measures terminal widths with it too)
    import re._parser as _sre  # type: ignore[import-not-found,unused-ignore]
except ImportError:  # pragma: no cover - Python 3.10
    import sre_parse as _sre  # type: ignore[no-redef,unused-ignore]

__all__ = [
    "DEAD",
    "INF",
    "Automaton",
    "CharSet",
    "Context",
    "Copy",
    "Frag",
    "Nfa",
    "Part",
    "Parts",
    "Piece",
    "PieceName",
    "Residual",
    "Template",
    "alt",
    "chars",
    "empty_closure",
    "lit",
    "min_length",
    "opt",
    "plus",
    "regex",
    "seq",
    "star",
    "tag",
    "template",
]

DEAD = -1  # state id of "no valid continuation"
INF = 1 << 30  # distance of a state that cannot be completed
_PRINTABLE = "".join(chr(c) for c in range(32, 127)) + "\n"


# ----------------------------------------------------------------------------- character sets
# Unicode classes as Python's ``re`` reads \d, \s and \w in a str pattern.
_CLASSES: dict[str, Callable[[str], bool]] = {
    "digit": lambda ch: unicodedata.category(ch) == "Nd",
    "space": str.isspace,
    "word": lambda ch: ch.isalnum() or ch == "_",
}


@dataclass(frozen=True, slots=True)
class CharSet:
    """A possibly infinite set of characters: the listed ones, ranges and Unicode classes, or
    (``negated``) everything else; ``exclude`` is taken out either way. Finite sets are plain
    strings in the NFA (see :data:`Chars`)."""

    chars: frozenset[str] = frozenset()  # listed characters
    ranges: tuple[tuple[str, str], ...] = ()  # inclusive character ranges
    classes: tuple[str, ...] = ()  # names in _CLASSES
    negated: bool = False  # the set is the complement of the above
    exclude: frozenset[str] = frozenset()  # never in the set

    def __contains__(self, ch: object) -> bool:
        if not isinstance(ch, str) or ch in self.exclude:
            return False
        hit = (
            ch in self.chars
            or any(lo <= ch <= hi for lo, hi in self.ranges)
            or any(_CLASSES[c](ch) for c in self.classes)
        )
        return hit != self.negated

    def first(self) -> str | None:
        """The smallest member, printable ASCII first (shortest completions read well)."""
        for c in _PRINTABLE:
            if c in self:
                return c
        return next((chr(c) for c in range(0x110000) if chr(c) in self), None)


# What an NFA edge reads: a finite set is its characters as one sorted string (membership of
# a single character is a C-level substring test, and a str is never tracked by the cyclic
# collector, so an edge ``(chars, target)`` and the rows and keys holding it are untracked
# too: pieces hold tens of thousands of edges for the life of the process, and with torch
# loaded each full collection walks them all); an infinite one is a :class:`CharSet`.
Chars = str | CharSet


def _finite(cs: Iterable[str]) -> str:
    """A finite character set as an edge reads it (sorted, each character once)."""
    return "".join(sorted(set(cs)))


def _first(cs: Chars) -> str | None:
    return cs.first() if isinstance(cs, CharSet) else min(cs, default=None)


# ----------------------------------------------------------------------------- NFA fragments


class Nfa:
    """Thompson NFA: per state, a list of (character set or None for epsilon, target)."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[Chars | None, int]]] = []
        self.tags: dict[int, str] = {}  # state -> kind of the payload value it lies in
        self.copies: list[Copy] = []  # the templates copied in (see template())

    def new(self) -> int:
        """Add a state; returns its id."""
        self.edges.append([])
        return len(self.edges) - 1

    def add(self, a: int, b: int, cs: Chars | Iterable[str] | None = None) -> None:
        """Add an edge from ``a`` to ``b`` reading one of ``cs`` (None: an empty move; a
        finite set may be any iterable of characters, e.g. a frozenset)."""
        if cs is not None and not isinstance(cs, (str, CharSet)):
            cs = _finite(cs)
        self.edges[a].append((cs, b))


# A fragment adds itself to an NFA starting at a state and returns its end state.
Frag = Callable[[Nfa, int], int]


class _Frag:
    """A fragment built by this module's constructors, with a structural ``key``: two fragments
    with equal keys build the same NFA, so a context compiled once serves every context whose
    pieces have the same patterns (a block under any parent, a value in any field)."""

    __slots__ = ("_least", "build", "key")

    def __init__(self, build: Frag, key: Hashable, least: Callable[[], int]) -> None:
        self.build = build
        self.key = key
        self._least: int | Callable[[], int] = least  # found when first asked

    def __call__(self, nfa: Nfa, s: int) -> int:
        return self.build(nfa, s)

    @property
    def least(self) -> int:
        """Characters of the shortest text (INF: none), from the parts' own: the shortest
        text of a sequence is the parts' shortest texts, of an alternative the shortest of
        its branches, so no NFA is built for it."""
        found = self._least
        if not isinstance(found, int):
            found = self._least = found()
        return found


def _least(part: Frag) -> int:
    return part.least if isinstance(part, _Frag) else _fn_least(part)


# hand-written fragment -> characters of its shortest text (every automaton that wraps the
# same function, the trace's name DFA in each of its ~100 values, reads it here once)
_LEASTS: dict[Frag, int] = {}


def _fn_least(part: Frag) -> int:
    found = _LEASTS.get(part)
    if found is None:
        found = _LEASTS[part] = _nfa_min_length(part)
    return found


def _key(part: Frag) -> Hashable:
    """A fragment's structural key; a hand-written fragment is its own key (by identity)."""
    return part.key if isinstance(part, _Frag) else ("fn", part)


@dataclass(frozen=True, eq=False, repr=False)
class Template:
    """A fragment's NFA built on its own from a state 0 (per state, its ``(chars, target)``
    edges; ``end`` has none), which each build of the fragment copies state for state: the
    copy's state ``k > 0`` is ``base + k`` and state 0 is the state the build starts in."""

    rows: tuple[tuple[tuple[Chars | None, int], ...], ...]
    tags: dict[int, str]
    end: int

    def __repr__(self) -> str:
        return f"Template({len(self.rows)} states, end {self.end})"

    @cached_property
    def digest(self) -> str:
        """A hash of the template's edges (not its marks: copies of one value under other
        marks read alike), equal in every process."""
        return _rows_digest(self.rows, self.end).hex()


class _Block(NamedTuple):
    """A template copy as a piece's rest search writes it (see :meth:`_Piece.blocks`)."""

    digest: str  # the template's edges (see Template.digest)
    states: tuple[int, ...]  # the copy's states, in the template's order
    prior: int  # edges of the first state before the copy's own
    own: int  # edges of the end that are the template's (what follows adds the others)
    entry: int  # the copy's first state
    end: int  # and its end


class Copy(NamedTuple):
    """A template copied into an NFA: ``entry`` is its state 0, ``base + k`` its state ``k``."""

    template: Template
    entry: int
    base: int


def _build_template(part: Frag) -> Template:
    scratch = Nfa()
    end = part(scratch, scratch.new())
    # (rows as tuples: untracked by the cyclic collector once built, see _Piece)
    return Template(tuple(tuple(row) for row in scratch.edges), scratch.tags, end)


def _copy(nfa: Nfa, s: int, template: Template) -> int:
    """Copy ``template`` into ``nfa`` from state ``s``; returns the copy's end."""
    rows = template.rows
    base = len(nfa.edges) - 1  # template state k > 0 is new state base + k; 0 is s
    # the new states' rows made whole, in one list each (a trace step copies the name
    # template into ~100 values)
    nfa.edges.extend([[(cs, t + base if t else s) for cs, t in row] for row in rows[1:]])
    nfa.edges[s].extend([(cs, t + base if t else s) for cs, t in rows[0]])
    for k, kind in template.tags.items():
        nfa.tags[k + base if k else s] = kind
    nfa.copies.append(Copy(template, s, base))
    end = template.end
    return end + base if end else s


# hand-written fragment -> the template of the NFA it builds
_TEMPLATES: dict[Frag, Template] = {}


def _frag(part: Frag) -> Frag:
    """``part`` as a fragment; a hand-written one (a function) is built once into a template
    that later builds copy (the trace's name DFA is built in every value that holds a name)."""
    if isinstance(part, _Frag):
        return part

    def build(nfa: Nfa, s: int) -> int:
        found = _TEMPLATES.get(part)
        if found is None:
            found = _TEMPLATES[part] = _build_template(part)
        return _copy(nfa, s, found)

    return _Frag(build, ("fn", part), lambda: _fn_least(part))


def template(part: Frag) -> Frag:
    """``part``, built once on its own and copied state for state into each NFA that holds it,
    the copies recorded (:attr:`Nfa.copies`). The language is the same; a token masker walks
    the vocabulary through the part once and reads each copy's walk off that one
    (``dslkit.train.token_mask``): a value that a language writes in many places (the
    trace's names and numbers, in every step line) is then walked once, not once per place.
    (A hand-written fragment, a function, is always built so: it is returned as it is.)"""
    if not isinstance(part, _Frag):
        return _frag(part)
    inner = part.build
    made: list[Template] = []  # (built on first use)

    def build(nfa: Nfa, s: int) -> int:
        if not made:
            made.append(_build_template(inner))
        return _copy(nfa, s, made[0])

    return _Frag(build, ("template", _key(part)), lambda: _least(part))


# text -> its literal fragment: a language lists the same literals in context after context
# (a field's tag, an attribute's value), and compiling a context asks for its pieces anew
_LITS: dict[str, _Frag] = {}


def lit(text: str) -> Frag:
    """Exactly ``text``."""
    found = _LITS.get(text)
    if found is None:

        def build(nfa: Nfa, s: int) -> int:
            # the chain's states in one extend: state base + k reads text[k + 1] (the states
            # and edges one nfa.new() and nfa.add() per character would make)
            if not text:
                return s
            edges = nfa.edges
            base = len(edges)
            edges[s].append((text[0], base))
            edges.extend([[(text[k], base + k)] for k in range(1, len(text))])
            edges.append([])
            return base + len(text) - 1

        found = _LITS[text] = _Frag(build, ("lit", text), lambda: len(text))
    return found


def chars(cs: Iterable[str] | CharSet) -> Frag:
    """One character of the set ``cs``."""
    charset: Chars = cs if isinstance(cs, CharSet) else _finite(cs)

    def build(nfa: Nfa, s: int) -> int:
        edges = nfa.edges
        t = len(edges)
        edges[s].append((charset, t))
        edges.append([])
        return t

    return _Frag(build, ("chars", charset), lambda: INF if _first(charset) is None else 1)


def seq(*parts: Frag) -> Frag:
    """The parts one after the other."""

    # The builders below call their parts' builds directly and add states and edges to the
    # lists themselves: a trace step is ~20k states and edges built through a few thousand
    # nested fragments, where each call and nfa.new()/nfa.add() counted.
    def build(nfa: Nfa, s: int) -> int:
        for b in builds:
            s = b(nfa, s)
        return s

    parts = tuple(map(_frag, parts))
    builds = tuple(p.build for p in parts)  # type: ignore[attr-defined]
    return _Frag(build, ("seq", *map(_key, parts)), lambda: min(INF, sum(_least(p) for p in parts)))


def alt(*parts: Frag) -> Frag:
    """Any one of the parts."""

    def build(nfa: Nfa, s: int) -> int:
        edges = nfa.edges
        end = len(edges)
        edges.append([])
        out = edges[s]
        for b in builds:
            a = len(edges)
            edges.append([])
            out.append((None, a))
            edges[b(nfa, a)].append((None, end))
        return end

    parts = tuple(map(_frag, parts))
    builds = tuple(p.build for p in parts)  # type: ignore[attr-defined]
    return _Frag(
        build, ("alt", *map(_key, parts)), lambda: min((_least(p) for p in parts), default=INF)
    )


def star(part: Frag) -> Frag:
    """Zero or more repetitions."""

    def build(nfa: Nfa, s: int) -> int:
        edges = nfa.edges
        loop = len(edges)
        edges.append([])
        edges[s].append((None, loop))
        edges[inner(nfa, loop)].append((None, loop))
        return loop

    part = _frag(part)
    inner = part.build  # type: ignore[attr-defined]
    return _Frag(build, ("star", _key(part)), lambda: 0)


def plus(part: Frag) -> Frag:
    """One or more repetitions: one copy of the part, whose end leads back to a state of its
    own that makes the part's first moves again.

    Not ``seq(part, star(part))``: with two copies, a word's first character and its later
    ones leave the automaton in different NFA states that read the same rest, so a value
    named by its rest (a content ref, a number) got a walk of the vocabulary and a state per
    copy; here every repetition ends in the same states. The first repetition is read from
    the state the fragment starts in, as before: a marked value (:func:`tag`) is still not
    entered until its first character."""

    def build(nfa: Nfa, s: int) -> int:
        edges = nfa.edges
        before = len(edges[s])  # (s may read on already: the end of a star before it)
        end = inner(nfa, s)
        again = len(edges)
        edges.append(list(edges[s][before:]))  # the part's first moves, once more
        out = len(edges)
        edges.append([])
        edges[end].append((None, again))
        edges[end].append((None, out))
        return out

    part = _frag(part)
    inner = part.build  # type: ignore[attr-defined]
    return _Frag(build, ("plus", _key(part)), lambda: _least(part))


def opt(part: Frag) -> Frag:
    """Zero or one."""
    return alt(part, lit(""))


def tag(kind: str, part: Frag) -> Frag:
    """``part``, marked as the payload of a value of ``kind`` (``"ref"``, ``"id"``, ...).

    Marks change nothing in the language; they let :meth:`Automaton.payload` say which
    characters write a value, so a decoder can check values the automaton forgets (content
    refs that resolve, ids declared before use).
    """

    def build(nfa: Nfa, s: int) -> int:
        first = len(nfa.edges)
        end = inner(nfa, s)
        nfa.tags.update(dict.fromkeys(range(first, len(nfa.edges)), kind))
        return end

    part = _frag(part)
    inner = part.build  # type: ignore[attr-defined]
    return _Frag(build, ("tag", kind, _key(part)), lambda: _least(part))


def min_length(part: Frag) -> int:
    """Characters of the shortest text of a fragment (INF when it has none)."""
    return _least(part)


def _nfa_min_length(part: Frag) -> int:
    """:func:`min_length` of any fragment, read off the NFA it builds."""
    nfa = Nfa()
    start = nfa.new()
    end = part(nfa, start)
    dist = {start: 0}
    heap = [(0, start)]
    while heap:  # Dijkstra with 0/1 weights: empty moves are free
        d, s = heapq.heappop(heap)
        if s == end:
            return d
        if d > dist[s]:
            continue
        for cs, t in nfa.edges[s]:
            nd = d + (cs is not None)
            if (cs is None or _first(cs) is not None) and nd < dist.get(t, INF):
                dist[t] = nd
                heapq.heappush(heap, (nd, t))
    return INF


# ----------------------------------------------------------------------------- regexes
def regex(pattern: str, exclude: Iterable[str] = ()) -> Frag:
    """The language of a Python regular expression, matched in full (``\\Z`` and ``^`` anchors
    at the ends are no-ops), as a fragment.

    Supports what lexical rules use: literals, classes (negated, ranges, ``\\d\\s\\w``), ``.``,
    groups, alternation and greedy or lazy repetition (bounded ones are unrolled). Lookarounds,
    backreferences and flags raise ValueError.

    Args:
        pattern: the regex, e.g. a Lark terminal's ``pattern.to_regexp()``.
        exclude: characters no class of the pattern may read (a rule the parser adds on top of
            the terminal, e.g. no tabs anywhere).

    Returns:
        A fragment reading exactly the strings ``re.fullmatch(pattern, s)`` accepts, less
        those with an ``exclude`` character.
    """
    tree = _sre.parse(pattern)
    if tree.state.flags & ~_sre.SRE_FLAG_UNICODE:
        raise ValueError(f"regex flags are not supported: {pattern!r}")
    return _from_sre(list(tree), frozenset(exclude), pattern)


def _from_sre(items: list[Any], exclude: frozenset[str], pattern: str) -> Frag:
    parts: list[Frag] = []
    for op, av in items:
        name = str(op)
        if name == "LITERAL":
            ch = chr(av)
            parts.append(chars(frozenset({ch}) - exclude))
        elif name == "NOT_LITERAL":
            parts.append(chars(CharSet(frozenset({chr(av)}), negated=True, exclude=exclude)))
        elif name == "ANY":  # '.' without DOTALL
            parts.append(chars(CharSet(frozenset("\n"), negated=True, exclude=exclude)))
        elif name == "IN":
            parts.append(chars(_charset(av, exclude, pattern)))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = av
            inner = _from_sre(list(sub), exclude, pattern)
            fixed = [inner] * lo
            if hi == _sre.MAXREPEAT:  # (lo copies and a loop: the last copy loops back)
                parts.append(seq(*fixed[:-1], plus(inner)) if lo else star(inner))
            else:
                parts.append(seq(*fixed, *([opt(inner)] * (hi - lo))))
        elif name in ("SUBPATTERN", "ATOMIC_GROUP"):
            sub = av[-1]
            if name == "SUBPATTERN" and (av[1] or av[2]):
                raise ValueError(f"regex flags are not supported: {pattern!r}")
            parts.append(_from_sre(list(sub), exclude, pattern))
        elif name == "BRANCH":
            parts.append(alt(*(_from_sre(list(b), exclude, pattern) for b in av[1])))
        elif name == "AT" and str(av) in ("AT_END_STRING", "AT_BEGINNING_STRING", "AT_BEGINNING"):
            continue  # a full match is anchored anyway
        else:
            raise ValueError(f"regex construct {name} is not supported: {pattern!r}")
    return seq(*parts)


def _charset(items: list[Any], exclude: frozenset[str], pattern: str) -> Chars:
    listed: set[str] = set()
    ranges: list[tuple[str, str]] = []
    classes: list[str] = []
    negated = False
    for op, av in items:
        name = str(op)
        if name == "NEGATE":
            negated = True
        elif name == "LITERAL":
            listed.add(chr(av))
        elif name == "RANGE":
            lo, hi = av
            if hi - lo < 256:  # small ranges as listed characters: the fast, finite case
                listed.update(chr(c) for c in range(lo, hi + 1))
            else:
                ranges.append((chr(lo), chr(hi)))
        elif name == "CATEGORY":
            cat = str(av).removeprefix("CATEGORY_")
            kind = {"DIGIT": "digit", "SPACE": "space", "WORD": "word"}.get(
                cat.removeprefix("NOT_")
            )
            if kind is None or cat.startswith("NOT_"):
                raise ValueError(f"regex class {cat} is not supported: {pattern!r}")
            classes.append(kind)
        else:
            raise ValueError(f"regex class item {name} is not supported: {pattern!r}")
    if not negated and not ranges and not classes:
        return _finite(listed - exclude)
    return CharSet(frozenset(listed), tuple(ranges), tuple(classes), negated, exclude)


# ----------------------------------------------------------------------------- contexts


class Piece(NamedTuple):
    """One thing that may come next in a context, and the context after it.

    ``next`` is the context, or a function that makes it from the context the piece is listed
    in (a context is never callable). A context lists every piece that may come next, and few
    of them are ever completed (a scene's top level lists a few dozen components, each leading
    into a block context of its own), so a language may leave the others unbuilt; and since
    the function takes the context, one list of pieces can serve every context with the same
    pieces (a block's fields under any parent), which a language may then build once. The
    automaton calls it once per context, when the piece is first completed there (or its
    shortest completion asked).
    """

    pattern: Frag
    # where the automaton goes once the piece is complete
    next: Context | Callable[[Any], Context]


class Context(Protocol):
    """A structural position of a language. Must be hashable and compare by value."""

    def pieces(self) -> Sequence[Piece]:
        """What may come next (each piece must end unambiguously, e.g. with ']' or newline)."""
        ...

    def min_rest(self) -> int:
        """Characters of the shortest completion from the start of this context."""
        ...

    @property
    def accepting(self) -> bool:
        """True when the program may end here (the decoder may emit the end-of-sequence id)."""
        ...

    @property
    def final(self) -> bool:
        """True when nothing but the end of sequence may follow (a structural end like [/scene])."""
        ...


_MISS = object()
_PATTERN = operator.itemgetter(0)  # a Piece's pattern
_NEXT = operator.itemgetter(1)  # a Piece's next


def _read(
    move: Callable[[frozenset[int], str], frozenset[int] | int | None],
    states: frozenset[int],
    text: str,
    k: int,
) -> tuple[frozenset[int] | int | None, int]:
    """Read ``text`` from character ``k`` through a structure's moves from ``states``: the
    states at its end, or the piece completed first (an int) or None (dead), with where the
    reading stopped."""
    for i in range(k, len(text)):
        found = move(states, text[i])
        if not isinstance(found, frozenset):  # dead, or a piece complete
            return found, i + 1
        states = found
    return states, len(text)


def empty_closure(edges: Sequence[Sequence[tuple[object, int]]], s0: int) -> tuple[int, ...]:
    """The NFA states ``s0`` reaches by empty moves (``s0`` included, in no order): the one
    search the automaton and the token masker's walks and text reads share."""
    seen: set[int] = set()
    stack = [s0]
    while stack:
        s = stack.pop()
        if s not in seen:
            seen.add(s)
            stack.extend([t for cs, t in edges[s] if cs is None])
    return tuple(seen)


def _to_end(edges: list[list[tuple[Chars | None, int]]], ends: Iterable[int]) -> list[int]:
    """Per state, characters to the nearest of ``ends`` (a backward 0-1 breadth-first search:
    a character edge costs one, an empty move none)."""
    n = len(edges)
    free: list[list[int]] = [[] for _ in range(n)]  # t -> states with an empty move to t
    step: list[list[int]] = [[] for _ in range(n)]  # t -> states with a character edge to t
    for s, row in enumerate(edges):
        for cs, t in row:
            (free if cs is None else step)[t].append(s)
    dist = [INF] * n
    queue: deque[int] = deque()
    for end in ends:
        dist[end] = 0
        queue.append(end)
    while queue:
        t = queue.popleft()
        c = dist[t]
        for s in free[t]:
            if c < dist[s]:
                dist[s] = c
                queue.appendleft(s)
        for s in step[t]:
            if c + 1 < dist[s]:
                dist[s] = c + 1
                queue.append(s)
    return dist


class PieceName:
    """The name of a piece in the keys of its long rests (:class:`Residual`), in the process
    that built it: equal to itself only, and pickled as the piece's digest, so the walk
    tables saved under such keys are found by a process that loads them (whose pieces are
    named by their digests: see :meth:`digest_key`)."""

    __slots__ = ("piece",)

    def __init__(self, piece: _Piece) -> None:
        self.piece = piece

    def __reduce__(self) -> tuple[object, ...]:
        return (str, (self.piece.digest,))

    def __repr__(self) -> str:
        return f"PieceName({id(self.piece):#x})"

    @staticmethod
    def digest_key(key: Hashable) -> Hashable | None:
        """A long rest's key with its piece named by the digest (None: not such a key)."""
        if isinstance(key, tuple) and len(key) == 3 and isinstance(key[1], PieceName):
            return (key[0], key[1].piece.digest, key[2])
        return None


class _Piece:
    """One piece pattern as an NFA of its own (state 0 its start), built once and shared by
    every context that lists the pattern."""

    def __init__(
        self, pattern: Frag, digests: dict[int, tuple[object, bytes]] | None = None
    ) -> None:
        self.key = _key(pattern)  # structural: equal keys build equal NFAs
        # id(key node) -> (the node, kept alive so its id is not reused; its digest): shared
        # by the pieces of one automaton (see :func:`_key_digest`)
        self._digests = {} if digests is None else digests
        self.nfa = Nfa()
        self.end = pattern(self.nfa, self.nfa.new())
        # built: each row frozen to a tuple of (str | CharSet | None, int) pairs, which the
        # cyclic collector untracks (a list never is), as it does the pairs
        self.nfa.edges = [tuple(row) for row in self.nfa.edges]  # type: ignore[misc]
        self.copies = tuple(self.nfa.copies)
        self.residuals: dict[frozenset[int], Residual] = {}
        # residual -> the 1-tuple of it that the parts of every state set lying in this piece
        # alone hold (one per residual, not one per state set: see Parts)
        self._alone: dict[Residual, tuple[Residual]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # the key may hold hand-written fragments (closures): a saved piece keeps its digest
        state = self.__dict__.copy()
        state["digest"] = self.digest
        state.pop("key", None)  # (a loaded piece has none)
        state.pop("_digests", None)
        state.pop("name", None)  # (a loaded piece is named by its digest)
        return state

    @cached_property
    def opening(self) -> tuple[tuple[int, ...], frozenset[int]]:
        """The piece's start state with what it reaches by empty moves (sorted), and those of
        them that read a character: a context's start set is its pieces' openings side by
        side, so a structure finds its start set and splits it from these."""
        edges = self.nfa.edges
        seen = empty_closure(edges, 0)
        return tuple(sorted(seen)), frozenset(s for s in seen if edges[s])

    @cached_property
    def name(self) -> PieceName | str:
        """What names the piece in the keys of its long rests: in the process that built it
        an object of its own (hashing the pattern for :attr:`digest` costs a few hundred
        microseconds a long piece), pickled as the digest; a loaded piece's digest."""
        digest = self.__dict__.get("digest")
        return PieceName(self) if digest is None else digest

    @cached_property
    def lead(self) -> dict[int, int]:
        """The states of the literal the piece opens with (from state 0, one character an
        edge, no branch, no empty move) -> how many characters into it they are."""
        edges, s = self.nfa.edges, 0
        out: dict[int, int] = {}
        while s not in out:
            out[s] = len(out)
            row = edges[s]
            cs = row[0][0] if len(row) == 1 else None
            if not isinstance(cs, str) or len(cs) != 1:
                break
            s = row[0][1]
        return out

    @cached_property
    def to_end(self) -> list[int]:
        """State -> characters to the end (found when first asked: only shortest completions
        and budget steering need it)."""
        return _to_end(self.nfa.edges, [self.end])

    def alone(self, residual: Residual) -> tuple[Residual]:
        """``(residual,)``, one tuple per residual of the piece."""
        found = self._alone.get(residual)
        if found is None:
            found = self._alone[residual] = (residual,)
        return found

    def residual(self, states: frozenset[int]) -> Residual:
        """What is left to read from ``states`` (see :class:`Residual`)."""
        found = self.residuals.get(states)
        if found is None:
            found = self.residuals[states] = self._residual(states)
        return found

    def _residual(self, states: frozenset[int]) -> Residual:
        edges = self.nfa.edges
        if self._long_from(states):
            return self._by_piece(states)
        order = sorted(states)  # the piece's own numbering is the same in every context
        index = {s: i for i, s in enumerate(order)}
        # The key: the rest written out flat in the canonical numbering (one tuple, not one
        # per edge: these live as long as the process and the collector walks each), written
        # as the breadth-first search numbers the states (a row's targets are numbered when
        # it is read, so one pass does both).
        if self.copies and self.blocks[0]:
            flat = self._search_blocks(order, index)
        else:  # (_search_blocks with no copy, written out: it costs the scenes 1.2-1.7% more)
            flat = []
            put, number, find = flat.append, order.append, index.get  # (a hot loop: locals)
            n = len(order)
            for s in order:  # (the iteration reads the states numbered as it goes)
                row = edges[s]
                put(len(row))
                for cs, t in row:
                    i = find(t)
                    if i is None:
                        i = index[t] = n
                        n += 1
                        number(t)
                    put(cs)
                    put(i)
                if n > _SMALL:
                    break
        if len(order) > _SMALL:  # a long rest (a trace step): named by the piece, not copied
            return self._by_piece(states)
        key = ("rest", len(states), index.get(self.end, -1), *flat)
        start = tuple(order[: len(states)])
        return Residual(key, start, edges, self.end, tuple(order), self.copies)

    def _search_blocks(self, order: list[int], index: dict[int, int]) -> list[object]:
        """:meth:`_residual`'s search where the piece holds template copies (:attr:`blocks`):
        a copy the search enters at its first state is numbered whole there, in the template's
        order, and written as its template's digest and the number of its first state; of
        its states, only the edges its first state and end have besides the template's are
        written (the others are the template's). The same rest is written the same way in
        every piece, in a few items a copy where its edges were dozens."""
        edges = self.nfa.edges
        blocks, owner = self.blocks
        flat: list[object] = []
        put, number, find = flat.append, order.append, index.get  # (a hot loop: locals)
        rows: list[int] = []  # the states whose edges are written, in the order numbered
        todo = rows.append
        # the copies the rest is in from its start, or meets other than at their first
        # state: searched state by state (numbered whole, their states before the start would
        # name the same rest apart from each place it starts in a copy)
        plain = {owner[s] for s in order}

        def number_copy(k: int) -> None:
            block = blocks[k]
            states = block.states
            n = len(order)
            order.extend(states)
            index.update(zip(states, range(n, n + len(states)), strict=True))
            todo(block.entry)
            todo(block.end)
            put((block.digest, n))

        for s in order:  # (the iteration reads the states listed as it goes)
            todo(s)
        for s in rows:  # (the iteration reads the states listed as it goes)
            k = owner[s]
            if k < 0 or k in plain:
                row = edges[s]
            elif s == blocks[k].entry:
                row = edges[s][: blocks[k].prior]
            else:
                row = edges[s][blocks[k].own :]
            put(len(row))
            for cs, t in row:
                i = find(t)
                if i is None:
                    k = owner[t]
                    if k >= 0 and k not in plain and t == blocks[k].entry:
                        number_copy(k)
                        i = index[t]
                    else:
                        if k >= 0:
                            plain.add(k)
                        i = index[t] = len(order)
                        number(t)
                        todo(t)
                put(cs)
                put(i)
            if len(order) > _SMALL:
                break
        return flat

    @cached_property
    def blocks(self) -> tuple[list[_Block], list[int]]:
        """The template copies whose first state and end have the template's edges (the first
        state's last, the end's first: what comes before and after the copy adds its own
        around them; the copy's other states are its own, made by the copy), as
        :class:`_Block` s, and per state the block it lies in (-1: none); a state of two
        copies (one's end where the next one starts) is in neither. Found when a rest is first
        searched."""
        edges = self.nfa.edges
        owner = [-1] * len(edges)
        blocks: list[_Block] = []
        dropped: set[int] = set()
        for copy in self.copies:
            rows, entry, base = copy.template.rows, copy.entry, copy.base
            end = copy.template.end
            first, last = edges[entry], edges[base + end]
            prior, own = len(first) - len(rows[0]), len(rows[end])
            if (
                not end
                or prior < 0
                or len(last) < own
                or any(
                    (cs, base + t if t else entry) != edge
                    for row, mine in ((rows[0], first[prior:]), (rows[end], last[:own]))
                    for (cs, t), edge in zip(row, mine, strict=True)
                )
            ):
                continue
            k = len(blocks)
            states = (entry, *range(base + 1, base + len(rows)))
            blocks.append(_Block(copy.template.digest, states, prior, own, entry, base + end))
            owner[base + 1 : base + len(rows)] = [k] * (len(rows) - 1)
            if owner[entry] >= 0:  # (the end of the copy before: in neither)
                dropped.update((k, owner[entry]))
            owner[entry] = k
        for k in dropped:
            for x in blocks[k].states:
                if owner[x] == k:
                    owner[x] = -1
        return ([] if len(dropped) == len(blocks) else blocks), owner

    def _long_from(self, states: frozenset[int]) -> bool:
        """Whether the rest from ``states`` is named by the piece without a search: the
        piece's opening (the whole piece, which no other piece shares: an equal pattern is
        the same piece), or a state of a long piece's opening literal (a trace step's
        ``- {op: ``), where the search would give up past _SMALL states. An estimate for
        the latter: a wrong one only costs sharing, never a wrong name."""
        if states == self.opening[1]:
            return True
        if len(states) != 1 or len(self.nfa.edges) <= _SMALL:
            return False
        at = self.lead.get(next(iter(states)))
        return at is not None and len(self.nfa.edges) - at > _SMALL

    def _by_piece(self, states: frozenset[int]) -> Residual:
        """The rest from ``states`` named by the piece and the states (see :attr:`name`)."""
        start = tuple(sorted(states))
        return Residual(
            ("piece", self.name, start), start, self.nfa.edges, self.end, None, self.copies
        )

    @cached_property
    def digest(self) -> str:
        """A hash of the piece's pattern, equal in every process that builds the same pattern.

        Read off the pattern's structural key (equal keys build the same NFA), hashing each
        shared sub-pattern once (:func:`_key_digest`): a trace step is ~10k NFA states, but
        its key is a few hundred distinct nodes."""
        return _key_digest(self.key, self._digests).hex()


def _key_digest(key: object, memo: dict[int, tuple[object, bytes]]) -> bytes:
    """The digest of a fragment's structural key (see :func:`_key`): nested tuples of names,
    literal texts and character sets; a hand-written fragment stands for the NFA it builds.
    ``memo`` holds the nodes met so far (one per automaton, not per process: a new automaton
    pays for its own, as a fresh process would)."""
    found = memo.get(id(key))
    if found is not None and found[0] is key:
        return found[1]
    h = hashlib.sha256()
    if isinstance(key, tuple):
        h.update(b"t%d:" % len(key))
        for item in key:
            h.update(_key_digest(item, memo))
    elif isinstance(key, str):
        h.update(b"s" + key.encode("utf-8", "surrogatepass"))
    elif isinstance(key, CharSet):
        h.update(b"c" + _charset_text(key).encode("utf-8", "surrogatepass"))
    elif callable(key):  # a hand-written fragment: its template NFA
        h.update(b"f" + _nfa_digest(key))
    else:
        raise TypeError(f"not a fragment key: {key!r}")
    digest = h.digest()
    memo[id(key)] = (key, digest)
    return digest


def _nfa_digest(part: Frag) -> bytes:
    """A hash of the NFA a hand-written fragment builds from a fresh state 0."""
    nfa = Nfa()
    end = part(nfa, nfa.new())
    h = hashlib.sha256(_rows_digest(nfa.edges, end))
    h.update(repr(sorted(nfa.tags.items())).encode())
    return h.digest()


def _rows_digest(rows: Sequence[Sequence[tuple[Chars | None, int]]], end: int) -> bytes:
    """A hash of an NFA's edges and end (from state 0)."""
    # the edges as one int array (per state: its edge count, then per edge the number of its
    # character set's text and the target) and the set texts once each
    index: dict[int, int] = {}  # id(character set) -> number of its text (shared sets)
    numbers: dict[str, int] = {}  # text -> number, in order of first use
    flat = [end, len(rows)]
    for row in rows:
        flat.append(len(row))
        for cs, t in row:
            k = index.get(id(cs))
            if k is None:
                k = index[id(cs)] = numbers.setdefault(_charset_text(cs), len(numbers))
            flat += (k, t)
    h = hashlib.sha256(array.array("q", flat).tobytes())
    h.update("\n".join(numbers).encode("utf-8", "surrogatepass"))
    return h.digest()


def _charset_text(cs: Chars | None) -> str:
    """A character set as text that does not depend on hashing order."""
    if cs is None:
        return "~"
    if isinstance(cs, str):
        return repr(sorted(cs))
    return repr((sorted(cs.chars), cs.ranges, cs.classes, cs.negated, sorted(cs.exclude)))


class _Compiled:
    """The pieces of a context as one NFA: a *structure*, shared by every context whose pieces
    have the same patterns in the same order (only the contexts they lead to differ).

    Each piece owns the states from its start to the next piece's start (a copy of its
    :class:`_Piece`); the shared start state 0 leads to them by empty moves. Pieces never lead
    into each other, so a state's cost to finish the program is its distance to its own
    piece's end plus the shortest completion of the context that piece leads to
    (:meth:`_Ctx.cost`).
    """

    def __init__(self, pieces: Sequence[_Piece]) -> None:
        self.pieces = list(pieces)
        self.starts: list[int] = []  # piece index -> its first state
        # the shared start state and every piece's opening (the pieces' own closures, so a
        # new structure walks no edge: hundreds of scene structures are met in a replay)
        start = [0]
        base = 1
        for piece in pieces:
            self.starts.append(base)
            start += [base + s for s in piece.opening[0]]
            base += len(piece.nfa.edges)
        self.start = frozenset(start)
        # (state set, character) -> state set after it, or the index of the piece it completes,
        # or None (dead): the determinisation, shared by every context of this structure
        self.moves: dict[tuple[frozenset[int], str], frozenset[int] | int | None] = {}
        self._out: dict[frozenset[int], list[tuple[Chars, int]]] = {}
        self._parts: dict[frozenset[int], Parts] = {}

    # (what only the automaton's own reading asks, found then: a token masker walks the
    # pieces, and most of the hundreds of structures of a scene decode are never read so)
    @cached_property
    def accept(self) -> dict[int, int]:
        """NFA end state -> the index of the piece it ends."""
        return {
            piece.end + base: i
            for i, (piece, base) in enumerate(zip(self.pieces, self.starts, strict=True))
        }

    @cached_property
    def tagged(self) -> bool:
        """Some piece marks a value (see :func:`tag`)."""
        return any(piece.nfa.tags for piece in self.pieces)

    # The context's NFA is its pieces' NFAs side by side behind state 0 (piece ``p``'s state
    # ``s`` is ``starts[p] + s``), read through the pieces: never copied into one.
    def piece_of(self, s: int) -> int:
        """The piece state ``s`` lies in (-1: the shared start state)."""
        return bisect.bisect_right(self.starts, s) - 1

    def edges(self, s: int) -> list[tuple[Chars | None, int]]:
        """The edges of state ``s``."""
        p = self.piece_of(s)
        if p < 0:
            return [(None, a) for a in self.starts]
        base = self.starts[p]
        return [(cs, t + base) for cs, t in self.pieces[p].nfa.edges[s - base]]

    def tag(self, s: int) -> str | None:
        """The kind of value state ``s`` lies in (see :func:`tag`), or None."""
        p = self.piece_of(s)
        return None if p < 0 else self.pieces[p].nfa.tags.get(s - self.starts[p])

    def to_end(self, s: int) -> int:
        """Characters from state ``s`` to the end of its piece."""
        p = self.piece_of(s)
        return INF if p < 0 else self.pieces[p].to_end[s - self.starts[p]]

    def split(self, states: frozenset[int]) -> tuple[tuple[int, int, frozenset[int]], ...]:
        """``(piece, base, piece's own states)`` of the states of a set that read characters
        (not cached: :meth:`parts` keeps what it needs, and a cached tuple and set per state
        set would be tens of thousands of long-lived objects for the cyclic collector)."""
        local: dict[int, set[int]] = {}
        for s in states:
            p = self.piece_of(s)
            if p < 0:  # the shared start only moves by empty moves
                continue
            s -= self.starts[p]
            if self.pieces[p].nfa.edges[s]:
                local.setdefault(p, set()).add(s)
        return tuple((p, self.starts[p], frozenset(local[p])) for p in sorted(local))

    def move(self, states: frozenset[int], ch: str) -> frozenset[int] | int | None:
        """The states after ``ch``, the piece it completes, or None (see :attr:`moves`)."""
        key = (states, ch)
        found = self.moves.get(key, _MISS)
        if found is _MISS:
            out = self._out.get(states)
            if out is None:  # the character edges of the set, in the set's order
                out = self._out[states] = [
                    (cs, t) for s in states for cs, t in self.edges(s) if cs is not None
                ]
            moved = [t for cs, t in out if ch in cs]
            if not moved:
                found = None
            else:
                closed = self.close(moved)
                done = [self.accept[s] for s in closed if s in self.accept]
                # Pieces end with a terminator (']', newline), so a completed piece is never
                # also the prefix of a longer one; the lowest index wins if a language breaks
                # that rule.
                found = min(done) if done else closed
            self.moves[key] = found
        return found  # type: ignore[return-value]

    def close(self, states: Iterable[int]) -> frozenset[int]:
        """The states reachable from ``states`` by empty moves (in the pieces: no empty move
        leads back to state 0)."""
        out: set[int] = set()
        stack = list(states)
        while stack:
            s = stack.pop()
            if s in out:
                continue
            out.add(s)
            stack.extend(t for cs, t in self.edges(s) if cs is None)
        return frozenset(out)

    def one_part(self, piece: int, base: int, residual: Residual) -> Parts:
        """The parts of a state set that lies in piece ``piece`` alone (at ``base``), with
        ``residual`` left to read there: their residuals are the residual's own 1-tuple, one
        per residual and not one per state set (see :class:`Parts`)."""
        return Parts((piece,), (base,), self.pieces[piece].alone(residual))

    def parts(self, states: frozenset[int]) -> Parts:
        """A state set split by piece (see :meth:`Automaton.parts`)."""
        found = self._parts.get(states)
        if found is None and states is self.start:
            # the start set splits into every piece's opening (no state lookups)
            pieces = self.pieces
            readers = [p for p, piece in enumerate(pieces) if piece.opening[1]]
            starts = self.starts
            found = self._parts[states] = Parts(
                tuple(readers),
                tuple([starts[p] for p in readers]),
                tuple([pieces[p].residual(pieces[p].opening[1]) for p in readers]),
            )
        elif found is None:
            split = self.split(states)
            if len(split) == 1:
                p, base, local = split[0]
                found = self.one_part(p, base, self.pieces[p].residual(local))
            else:
                found = Parts(
                    tuple(p for p, _, _ in split),
                    tuple(base for _, base, _ in split),
                    tuple(self.pieces[p].residual(local) for p, _, local in split),
                )
            self._parts[states] = found
        return found


# A residual of at most this many states is named by its own text, so equal rests share one
# walk across pieces (a trace step's last keys under every op and expert). Measured on the
# 32k BPE trace replay: 192 walks a third less than 96 (whose rests stopped short of a
# step's last two keys); larger bounds name few more rests and cost more to find out.
_SMALL = 192


@dataclass(frozen=True, slots=True, eq=False)
class Residual:
    """What is left to read in one piece from a set of its states.

    A short rest (a value and the piece's closing text) is named by itself, written in a
    canonical numbering (the set first, then breadth first), so the same rest has the same
    ``key`` in every piece and context (inside a content ref of any field, a block under any
    parent). A long one (a trace step), and a piece's opening (the whole piece), is named by
    its piece (:class:`PieceName`, saved as the piece's digest) and the set.

    A walk starts at the states ``start`` of ``edges`` (the piece's own: per state, its
    ``(character set or None, target)`` pairs); reaching ``end`` completes the piece.
    ``order[i]`` is the piece's state numbered ``i`` canonically (None: the key uses the
    piece's own numbers), the numbering a walk table, shared by equal keys, stores.
    ``copies`` are the templates copied into the piece (see :func:`template`).
    """

    key: Hashable
    start: tuple[int, ...]
    edges: Sequence[Sequence[tuple[Chars | None, int]]]
    end: int
    order: tuple[int, ...] | None
    copies: tuple[Copy, ...] = ()

    def __reduce__(self) -> tuple[object, ...]:
        # made again by the constructor: a slotted dataclass's own pickling reads its fields
        # one by one in Python, and a saved masker holds thousands of these
        return (Residual, (self.key, self.start, self.edges, self.end, self.order, self.copies))


@dataclass(frozen=True, slots=True)
class Part:
    """The states of a state set that lie in one piece of its context."""

    piece: int  # the piece's index in the context
    base: int  # the context's state number of the piece's state 0
    residual: Residual  # what is left to read in the piece from these states


@dataclass(frozen=True, slots=True, eq=False)
class Parts:
    """The :class:`Part` s of one state set as parallel tuples (one object per state set, not
    one per piece: the start set of a context holds every piece, and these live as long as
    the automaton, where each object costs every full pass of the cyclic collector)."""

    pieces: tuple[int, ...]  # per part: the piece's index in the context
    bases: tuple[int, ...]  # the context's state number of the piece's state 0
    residuals: tuple[Residual, ...]  # what is left to read in the piece

    def __reduce__(self) -> tuple[object, ...]:
        return (Parts, (self.pieces, self.bases, self.residuals))  # (see Residual's)

    def __len__(self) -> int:
        return len(self.pieces)

    def __getitem__(self, k: int) -> Part:
        return Part(self.pieces[k], self.bases[k], self.residuals[k])

    def __iter__(self) -> Iterator[Part]:
        return map(Part, self.pieces, self.bases, self.residuals)


_Nexts = tuple["Context | Callable[[Any], Context]", ...]  # what a context's pieces lead to


class _Ctx:
    """A context, compiled: its structure and the contexts its pieces lead to (as the pieces
    give them: a context, or a function of this context that makes it; see :meth:`next`)."""

    __slots__ = ("comp", "ctx", "entered", "interned", "nexts", "rests", "sids")

    def __init__(
        self,
        comp: _Compiled,
        ctx: Context,
        nexts: _Nexts,
        interned: dict[Context, Context],
    ) -> None:
        self.comp = comp
        self.ctx = ctx
        self.nexts = nexts  # (one tuple shared by every context whose pieces lead alike)
        self.interned = interned  # the automaton's one object per distinct context
        # per piece, filled as asked (dicts, not lists: an int-valued dict is no object to
        # the cyclic collector, and a long decode compiles thousands of contexts)
        self.rests: dict[int, int] = {}  # the min_rest() of the context it leads to
        self.sids: dict[frozenset[int], int] = {}  # NFA state set -> the automaton's state
        self.entered: dict[int, int] = {}  # the state after it

    def next(self, piece: int) -> Context:
        """The context piece ``piece`` leads to, as one object per distinct context: a
        language builds them anew in every context that lists them (an attribute's value
        leads to the same top level from many places), and they live as long as the
        automaton. Asked at most twice per piece (the state after it and its shortest rest
        are kept), so it is not kept here."""
        nxt = self.nexts[piece]
        nxt = nxt(self.ctx) if callable(nxt) else nxt
        return self.interned.setdefault(nxt, nxt)

    def rest(self, piece: int) -> int:
        r = self.rests.get(piece)
        if r is None:
            r = self.rests[piece] = self.next(piece).min_rest()
        return r

    def cost(self, s: int) -> int:
        """Fewest characters from NFA state ``s`` to finish the whole program."""
        comp = self.comp
        piece = comp.piece_of(s)
        if piece < 0:
            return min((self.cost(a) for a in comp.starts), default=INF)
        d = comp.to_end(s)
        if d >= INF:
            return INF
        total = d + self.rest(piece)
        return total if total < INF else INF


class Automaton:
    """Character-level prefix automaton over a context graph, with interned integer states.

    Args:
        start: the context a program starts in.
    """

    def __init__(self, start: Context) -> None:
        self._compiled: dict[Context, _Ctx] = {}
        self._contexts: dict[Context, Context] = {}  # context -> its one instance
        # structure key of a context's pieces -> its compiled NFA, and of a piece -> its own
        # (transient: keys of hand-written fragments hold the functions themselves)
        self._structures: dict[Hashable, _Compiled] = {}
        self._pieces: dict[Hashable, _Piece] = {}
        self._by_pattern: dict[int, tuple[Frag, _Piece]] = {}  # id(pattern) -> its piece
        # the patterns' ids of a context's pieces -> its structure (the patterns are kept
        # alive by _by_pattern)
        self._by_patterns: dict[tuple[int, ...], _Compiled] = {}
        self._digests: dict[int, tuple[object, bytes]] = {}  # the pieces' (see _key_digest)
        # what the pieces of contexts lead to, one tuple per distinct one (most contexts of a
        # language list pieces that lead alike: a block's fields under any parent)
        self._nexts: dict[_Nexts, _Nexts] = {}
        # A state is (context, NFA state set) (see _intern); None stands for the context's
        # start set, so a context is only compiled once something is read in it: a first
        # visit that walks a vocabulary reaches hundreds of contexts it never reads on (an
        # atomic tag token ends its piece), and compiling each would dominate the walk.
        self._entered: dict[Context, int] = {}  # context -> the state at its start
        # per state: its context and NFA state set, in two lists (a (context, set) pair per
        # state would be one more long-lived object each for the cyclic collector to walk)
        self._ctx_key: list[Context] = []
        self._set_key: list[frozenset[int] | None] = []
        self._ctx_of: list[_Ctx | None] = []  # per state: its context, compiled (no hashing)
        self._trans: list[dict[str, int]] = []
        self._payload: dict[int, str | None] = {}
        self._commits: dict[int, str | None] = {}
        self._source: dict[tuple[int, str], str | None] = {}
        self._readings_of: dict[int, dict[int, str | None]] = {}
        self.start = self._enter(start)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_structures"] = {}  # keys may hold closures; compiled contexts keep theirs
        state["_pieces"] = {}
        state["_by_pattern"] = {}
        state["_by_patterns"] = {}
        state["_digests"] = {}
        state["_nexts"] = {}  # (the compiled contexts keep theirs)
        # _contexts stays: every compiled context shares it (the contexts its pieces made)
        return state

    def _comp(self, ctx: Context) -> _Ctx:
        cx = self._compiled.get(ctx)
        if cx is None:
            pieces = ctx.pieces()
            # The patterns' identities name the structure: a context with the same patterns
            # as one compiled before (a language hands the same fragment objects to every
            # context with the same pieces) is found without a look at each piece.
            ids = tuple(map(id, map(_PATTERN, pieces)))
            comp = self._by_patterns.get(ids)
            if comp is None:
                comp = self._by_patterns[ids] = self._structure(pieces)
            # the contexts the pieces lead to are made (or looked up) when a piece is first
            # completed: most never are
            nexts = tuple(map(_NEXT, pieces))
            nexts = self._nexts.setdefault(nexts, nexts)  # (one tuple per distinct list)
            cx = self._compiled[ctx] = _Ctx(comp, ctx, nexts, self._contexts)
        return cx

    def _structure(self, pieces: Sequence[Piece]) -> _Compiled:
        """The compiled structure of a list of pieces."""
        # A pattern object is met again in context after context (languages cache their
        # fragments): found by identity, its structural key (a nested tuple, hashed anew at
        # every lookup) is read only the first time. A structure is then named by its pieces'
        # identities, which the key lookup made one object per key.
        by_pattern = self._by_pattern
        compiled = []
        for p in pieces:
            found = by_pattern.get(id(p.pattern))
            if found is None:
                key = _key(p.pattern)
                piece = self._pieces.get(key)
                if piece is None:
                    piece = self._pieces[key] = _Piece(p.pattern, self._digests)
                # the pattern is kept alive with its piece, so its id is never reused
                found = by_pattern[id(p.pattern)] = (p.pattern, piece)
            compiled.append(found[1])
        ids = tuple(map(id, compiled))
        comp = self._structures.get(ids)
        if comp is None:
            comp = self._structures[ids] = _Compiled(compiled)
        return comp

    def _intern(self, cx: _Ctx, states: frozenset[int]) -> int:
        """The state at NFA states ``states`` of the compiled context ``cx``, found in the
        context's own table by its set alone (a set keeps its hash, where a context's is
        computed anew each time, up through a block's parents)."""
        sid = cx.sids.get(states)
        if sid is None:
            sid = cx.sids[states] = self._new_state(cx.ctx, states, cx)
        return sid

    def _enter(self, ctx: Context) -> int:
        """The state at the start of ``ctx`` (compiled when something is read in it)."""
        sid = self._entered.get(ctx)
        if sid is None:
            sid = self._entered[ctx] = self._new_state(ctx, None, None)
        return sid

    def _new_state(self, ctx: Context, states: frozenset[int] | None, cx: _Ctx | None) -> int:
        self._ctx_key.append(ctx)
        self._set_key.append(states)
        self._trans.append({})
        self._ctx_of.append(cx)
        return len(self._ctx_key) - 1

    def _completed(self, cx: _Ctx, piece: int) -> int:
        """The state once piece ``piece`` of the compiled context ``cx`` is complete (found
        once per context and piece)."""
        sid = cx.entered.get(piece)
        if sid is None:
            sid = cx.entered[piece] = self._enter(cx.next(piece))
        return sid

    def _at(self, sid: int) -> tuple[Context, _Ctx, frozenset[int]]:
        """A state's context, compiled context and NFA state set (compiling on first use)."""
        ctx, states = self._ctx_key[sid], self._set_key[sid]
        cx = self._ctx_of[sid]
        if cx is None:
            cx = self._ctx_of[sid] = self._comp(ctx)
        return ctx, cx, cx.comp.start if states is None else states

    def _cx(self, sid: int) -> _Ctx:
        """A state's compiled context (read off its slot; :meth:`_at` compiles it on first
        use)."""
        return self._ctx_of[sid] or self._at(sid)[1]

    def context(self, sid: int) -> Context:
        """The context of a state."""
        return self._ctx_key[sid]

    def step(self, sid: int, ch: str) -> int:
        """The state after one more character, or :data:`DEAD`."""
        if sid == DEAD:
            return DEAD
        row = self._trans[sid]
        nxt = row.get(ch)
        if nxt is None:
            nxt = row[ch] = self._step(sid, ch)
        return nxt

    def _step(self, sid: int, ch: str) -> int:
        if len(ch) != 1:  # one character a step (a finite edge set is a string: "" is in it)
            return DEAD
        _, cx, states = self._at(sid)
        found = cx.comp.move(states, ch)
        if found is None:
            return DEAD
        if isinstance(found, int):
            return self._completed(cx, found)
        return self._intern(cx, found)

    # -- what the token masker reads (dslkit.train.token_mask) ---------------------------------
    def parts(self, sid: int) -> Parts:
        """The NFA states of ``sid`` split by the piece of its context they lie in, each with
        what is left to read in that piece (:class:`Residual`): a token walked from ``sid``
        is walked in each piece on its own, and the first piece it completes (the lowest
        index on a tie) decides where it goes on."""
        comp, states = self._set_of(sid)
        found = comp._parts.get(states)  # (met before: the common case, without a call)
        return found if found is not None else comp.parts(states)

    def resume(self, sid: int, states: Iterable[int]) -> int:
        """The state in the context of ``sid`` at the NFA states ``states`` (the context's
        numbering: a part's ``base`` plus its piece's own; a closed set that completes no
        piece)."""
        return self._intern(self._cx(sid), frozenset(states))

    def piece_residual(
        self,
        sid: int,
        piece: int,
        local: frozenset[int],
        make: Callable[[], Residual] | None = None,
    ) -> Residual:
        """The residual of the states ``local`` (the piece's own numbering) of piece
        ``piece`` of the context of ``sid``: one met before, else made by ``make`` when the
        caller can name it without a search (it must be what the search finds, up to the
        canonical numbering), else found by the search."""
        owner = self._cx(sid).comp.pieces[piece]
        found = owner.residuals.get(local)
        if found is None:
            found = (
                owner.residual(local) if make is None else owner.residuals.setdefault(local, make())
            )
        return found

    def one_part(self, sid: int, piece: int, base: int, residual: Residual) -> Parts:
        """The parts of a state set of the context of ``sid`` that lies in its piece ``piece``
        alone (see :meth:`_Compiled.one_part`)."""
        return self._cx(sid).comp.one_part(piece, base, residual)

    def seed_parts(self, sid: int, make: Callable[..., Parts], *args: Any) -> None:
        """Record what :meth:`parts` of ``sid`` is, as ``make(*args)`` gives it, when it is
        not known yet (its state set was not met in a context of the same structure): a
        token that ends inside pieces leaves its state in them, and the caller names the
        rest in each from the walk that found the token, without splitting the NFA states
        by piece (the state is resolved once for the question and the answer)."""
        comp, states = self._set_of(sid)
        if states not in comp._parts:
            comp._parts[states] = make(*args)

    def _set_of(self, sid: int) -> tuple[_Compiled, frozenset[int]]:
        """A state's structure and NFA state set, without the context (:meth:`_at`, which
        also compiles a context met for the first time, only when needed)."""
        cx = self._ctx_of[sid]
        states = self._set_key[sid]
        if cx is None or states is None:  # (not compiled yet, or a start set: _at finds it)
            _, cx, states = self._at(sid)
        return cx.comp, states

    def finish(self, sid: int, piece: int) -> int:
        """The state once piece ``piece`` of the context of ``sid`` is complete."""
        return self._completed(self._cx(sid), piece)

    def advance(self, sid: int, text: str) -> int:
        """The state after ``text`` (:data:`DEAD` when it leaves the language)."""
        # Read through the structures' moves (shared by every context of a structure), and
        # intern only the state each context is left in: the states in between are never
        # named (a token's text after its piece, walked from each new context it enters,
        # would otherwise add a state per character, none of which a decode visits).
        k, n = 0, len(text)
        while k < n:
            if sid == DEAD:
                return DEAD
            _, cx, states = self._at(sid)
            found, k = _read(cx.comp.move, states, text, k)
            if found is None:
                return DEAD
            if not isinstance(found, int):  # the text ends inside the context
                return self._intern(cx, found)
            sid = self._completed(cx, found)  # the piece is complete: on in the next context
        return sid

    def reads_within(self, sid: int, text: str) -> bool | None:
        """How ``text`` reads from ``sid`` inside its context: True when it ends inside the
        context's pieces, False when it leaves the language there, None when it completes a
        piece first (where it goes on depends on the context the piece leads to). Read
        through the structure's moves: the same for every context of the structure, and
        nothing is interned."""
        _, cx, states = self._at(sid)
        found, _ = _read(cx.comp.move, states, text, 0)
        return None if isinstance(found, int) else found is not None

    def accepts(self, text: str) -> bool:
        """True when ``text`` is a complete program of the language."""
        return self.accepting(self.advance(self.start, text))

    def is_prefix(self, text: str) -> bool:
        """True when ``text`` starts some program of the language (a complete one included)."""
        return self.advance(self.start, text) != DEAD

    def dist(self, sid: int) -> int:
        """Characters of the shortest completion from this state (0 for a finished program)."""
        if sid == DEAD:
            return INF
        ctx, states = self._ctx_key[sid], self._set_key[sid]
        if ctx.final:
            return 0
        if states is None:  # the start of a context: its own shortest completion, uncompiled
            return 0 if ctx.accepting else ctx.min_rest()
        cx = self._at(sid)[1]
        return min(cx.cost(s) for s in states)

    def shortest_next(self, sid: int) -> str | None:
        """A character that starts a shortest completion of a live, unfinished state.

        Read off the NFA's costs (an edge whose target costs one less), so no transition is
        tried blind; None when the state is dead or finished.
        """
        if sid == DEAD or self.accepting(sid):
            return None
        _ctx, cx, states = self._at(sid)
        want = self.dist(sid) - 1
        for s in states:
            for cs, t in cx.comp.edges(s):
                if cs is not None and cx.cost(t) == want:
                    return _first(cs)
        # a piece that can end without a character (the cost lives in the next context)
        return next((c for c in _PRINTABLE if self.dist(self.step(sid, c)) == want), None)

    def _readings(self, sid: int) -> dict[int, str | None]:
        """Per NFA state of ``sid`` that reads a character: the kind of value it reads inside
        of. A state is inside a value when it is marked, or when the set reached it only by
        empty moves out of a marked one (the exit of a name argument, where ``,`` is read)."""
        found = self._readings_of.get(sid)
        if found is None:
            _, cx, states = self._at(sid)
            comp = cx.comp
            kind: dict[int, str | None] = {s: k for s in states if (k := comp.tag(s)) is not None}
            stack = list(kind)
            while stack:
                s = stack.pop()
                for cs, t in comp.edges(s):
                    if cs is None and t in states and comp.tag(t) is None:
                        if t not in kind:
                            kind[t] = kind[s]
                            stack.append(t)
                        elif kind[t] != kind[s]:
                            kind[t] = None
            found = self._readings_of[sid] = {
                s: kind.get(s) for s in states if any(cs for cs, _ in comp.edges(s))
            }
        return found

    def payload(self, sid: int) -> str | None:
        """The kind of the value whose characters are being written at ``sid`` (see
        :func:`tag`): every way to read on is inside a value of that kind. None between
        values and while the text could still be something else (``text`` after
        ``[annotation:`` may be an id or the key of ``text=``)."""
        if sid == DEAD:
            return None
        found = self._payload.get(sid, "")
        if found == "":
            kinds = set(self._readings(sid).values())
            found = self._payload[sid] = kinds.pop() if len(kinds) == 1 else None
        return found

    def source(self, sid: int, ch: str) -> str | None:
        """The kind of value ``ch`` is read inside of when it follows ``sid`` (every state that
        can read it is inside one): the ``|`` that settles ``[annotation:t`` as an id."""
        key = (sid, ch)
        found = self._source.get(key, "")
        if found == "":
            comp = self._at(sid)[1].comp
            kinds = {
                k
                for s, k in self._readings(sid).items()
                if any(cs is not None and ch in cs for cs, _ in comp.edges(s))
            }
            found = self._source[key] = kinds.pop() if len(kinds) == 1 else None
        return found

    def commits(self, sid: int) -> str | None:
        """The kind of value every continuation of ``sid`` must write before its current piece
        ends (``"idref"`` after ``[ta`` in a block whose only field starting so is ``target``),
        or None when the piece can end without one or the state is inside a value already."""
        if sid == DEAD:
            return None
        found = self._commits.get(sid, "")
        if found == "":
            found = self._commits[sid] = self._commits_of(sid)
        return found

    def _commits_of(self, sid: int) -> str | None:
        _, cx, states = self._at(sid)
        comp = cx.comp
        if not comp.tagged or any(comp.tag(s) is not None for s in states):
            return None
        kinds: set[str] = set()
        seen: set[int] = set()
        stack = list(states)
        while stack:
            s = stack.pop()
            if s in seen:
                continue
            seen.add(s)
            if s in comp.accept:  # the piece can end without writing a value
                return None
            for _, t in comp.edges(s):
                k = comp.tag(t)
                if k is not None:
                    kinds.add(k)
                else:
                    stack.append(t)
        return kinds.pop() if len(kinds) == 1 else None

    def accepting(self, sid: int) -> bool:
        """True when the text so far is a complete program."""
        if sid == DEAD:
            return False
        ctx, states = self._ctx_key[sid], self._set_key[sid]
        return states is None and ctx.accepting  # (a context's flag may be a property)

    def final(self, sid: int) -> bool:
        """True when the program is complete and nothing but end-of-sequence may follow."""
        return sid != DEAD and self._ctx_key[sid].final

    def complete(self, sid: int, alphabet: str, limit: int = 10_000) -> str | None:
        """The shortest completion of a state, character by character (for tests and repair).

        Args:
            sid: the state.
            alphabet: characters to try.
            limit: give up after this many characters.

        Returns:
            The text that completes the program, or None when the state is dead.
        """
        out: list[str] = []
        while not self.accepting(sid):
            if sid == DEAD or len(out) > limit:
                return None
            d, ch, nxt = min((self.dist(self.step(sid, c)), c, self.step(sid, c)) for c in alphabet)
            if d >= INF:
                return None
            out.append(ch)
            sid = nxt
        return "".join(out)

    @property
    def n_states(self) -> int:
        """States interned so far."""
        return len(self._ctx_key)
