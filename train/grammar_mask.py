"""The engine of grammar-constrained decoding: a character automaton and per-state token masks.

A language (see :mod:`dslkit.train.grammar_langs`) is a graph of *contexts*. A context is a structural
position (top of a scene after the layout, inside ``[stage_card]`` with these fields seen, the
steps of a trace block, ...) and lists the *pieces* that may come next, each a small regular
pattern (``" [accent:" ("amber" | "green" | ...) "]"``, ``" [title_ref:" REF "]"``) with the
context it leads to. Inside a context, the position within the pieces is a set of NFA states, so
the automaton state is ``(context, NFA state set)``: a canonical key that forgets the payload
characters already typed (a ref path is in the same state after ``a.b`` as after ``cards.0``).

:class:`TokenMasker` interns these states and, the first time it meets one, walks a trie of the
vocabulary through the automaton to find every token that keeps the output a valid prefix, the
state each one leads to and how many characters the shortest completion then still needs. After
that a step is a dict lookup and a cached boolean mask. Tokens never cross grammar terminals
(the tokenizer's pre-tokenizer guarantees it), so the number of distinct states stays small.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np

__all__ = [
    "DEAD",
    "VALUE_CHARS",
    "Automaton",
    "Context",
    "Frag",
    "PayloadStep",
    "PayloadSteps",
    "Piece",
    "StateInfo",
    "TokenMasker",
    "alt",
    "chars",
    "lit",
    "opt",
    "plus",
    "seq",
    "star",
    "tag",
]

DEAD = -1  # state id of "no valid continuation"
# the characters a marked value (a ref, an id, a variable name) is written with
VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")
_PRINTABLE = "".join(chr(c) for c in range(32, 127)) + "\n"
INF = 1 << 30

# ----------------------------------------------------------------------------- NFA fragments


class _Nfa:
    """Thompson NFA: per state, a list of (character set or None for epsilon, target)."""

    def __init__(self) -> None:
        self.edges: list[list[tuple[frozenset[str] | None, int]]] = []
        self.tags: dict[int, str] = {}  # state -> kind of the payload value it lies in

    def new(self) -> int:
        self.edges.append([])
        return len(self.edges) - 1

    def add(self, a: int, b: int, cs: frozenset[str] | None = None) -> None:
        self.edges[a].append((cs, b))


# A fragment adds itself to an NFA starting at a state and returns its end state.
Frag = Callable[[_Nfa, int], int]


def lit(text: str) -> Frag:
    """Exactly ``text``."""

    def build(nfa: _Nfa, s: int) -> int:
        for ch in text:
            t = nfa.new()
            nfa.add(s, t, frozenset(ch))
            s = t
        return s

    return build


def chars(cs: Iterable[str]) -> Frag:
    """One character of the set ``cs``."""
    charset = frozenset(cs)

    def build(nfa: _Nfa, s: int) -> int:
        t = nfa.new()
        nfa.add(s, t, charset)
        return t

    return build


def seq(*parts: Frag) -> Frag:
    """The parts one after the other."""

    def build(nfa: _Nfa, s: int) -> int:
        for p in parts:
            s = p(nfa, s)
        return s

    return build


def alt(*parts: Frag) -> Frag:
    """Any one of the parts."""

    def build(nfa: _Nfa, s: int) -> int:
        end = nfa.new()
        for p in parts:
            a = nfa.new()
            nfa.add(s, a)
            nfa.add(p(nfa, a), end)
        return end

    return build


def star(part: Frag) -> Frag:
    """Zero or more repetitions."""

    def build(nfa: _Nfa, s: int) -> int:
        loop = nfa.new()
        nfa.add(s, loop)
        nfa.add(part(nfa, loop), loop)
        return loop

    return build


def plus(part: Frag) -> Frag:
    """One or more repetitions."""
    return seq(part, star(part))


def opt(part: Frag) -> Frag:
    """Zero or one."""
    return alt(part, lit(""))


def tag(kind: str, part: Frag) -> Frag:
    """``part``, marked as the payload of a value of ``kind`` (``"ref"``, ``"id"``, ...).

    Marks change nothing in the language; they let :meth:`Automaton.payload` and
    :meth:`TokenMasker.payload_steps` say which characters write a value, so a decoder can
    check values the automaton forgets (content refs that resolve, ids declared before use).
    """

    def build(nfa: _Nfa, s: int) -> int:
        first = len(nfa.edges)
        end = part(nfa, s)
        for state in range(first, len(nfa.edges)):
            nfa.tags[state] = kind
        return end

    return build


# ----------------------------------------------------------------------------- contexts


@dataclass(frozen=True)
class Piece:
    """One thing that may come next in a context, and the context after it."""

    pattern: Frag
    next: Context  # where the automaton goes once the piece is complete


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


@dataclass
class _Compiled:
    """A context's pieces as one NFA, with each state's cost to finish the program."""

    nfa: _Nfa
    start: frozenset[int]
    accept: dict[int, int]  # NFA end state -> piece index
    nexts: list[Context]
    cost: list[int]  # per NFA state: fewest characters to finish the whole program
    closure: dict[int, frozenset[int]] = field(default_factory=dict)

    def close(self, states: Iterable[int]) -> frozenset[int]:
        out: set[int] = set()
        stack = list(states)
        while stack:
            s = stack.pop()
            if s in out:
                continue
            out.add(s)
            stack.extend(t for cs, t in self.nfa.edges[s] if cs is None)
        return frozenset(out)


def _compile(ctx: Context) -> _Compiled:
    nfa = _Nfa()
    s0 = nfa.new()
    accept: dict[int, int] = {}
    nexts: list[Context] = []
    for i, piece in enumerate(ctx.pieces()):
        a = nfa.new()
        nfa.add(s0, a)
        accept[piece.pattern(nfa, a)] = i
        nexts.append(piece.next)
    # Backward Dijkstra: an end state costs the next context's shortest completion; a character
    # edge costs one.
    n = len(nfa.edges)
    back: list[list[tuple[int, int]]] = [[] for _ in range(n)]
    for s, edges in enumerate(nfa.edges):
        for cs, t in edges:
            back[t].append((s, 0 if cs is None else 1))
    cost = [INF] * n
    heap: list[tuple[int, int]] = []
    for end, i in accept.items():
        c = nexts[i].min_rest()
        if c < cost[end]:
            cost[end] = c
            heapq.heappush(heap, (c, end))
    while heap:
        c, t = heapq.heappop(heap)
        if c > cost[t]:
            continue
        for s, w in back[t]:
            if c + w < cost[s]:
                cost[s] = c + w
                heapq.heappush(heap, (c + w, s))
    comp = _Compiled(nfa, frozenset(), accept, nexts, cost)
    comp.start = comp.close([s0])
    return comp


class Automaton:
    """Character-level prefix automaton over a context graph, with interned integer states.

    Args:
        start: the context a program starts in.
    """

    def __init__(self, start: Context) -> None:
        self._compiled: dict[Context, _Compiled] = {}
        self._key_to_id: dict[tuple[Context, frozenset[int]], int] = {}
        self._keys: list[tuple[Context, frozenset[int]]] = []
        self._trans: list[dict[str, int]] = []
        self._payload: dict[int, str | None] = {}
        self._commits: dict[int, str | None] = {}
        self._source: dict[tuple[int, str], str | None] = {}
        self._readings_of: dict[int, dict[int, str | None]] = {}
        self.start = self._enter(start)

    def _comp(self, ctx: Context) -> _Compiled:
        comp = self._compiled.get(ctx)
        if comp is None:
            comp = self._compiled[ctx] = _compile(ctx)
        return comp

    def _intern(self, ctx: Context, states: frozenset[int]) -> int:
        key = (ctx, states)
        sid = self._key_to_id.get(key)
        if sid is None:
            sid = self._key_to_id[key] = len(self._keys)
            self._keys.append(key)
            self._trans.append({})
        return sid

    def _enter(self, ctx: Context) -> int:
        return self._intern(ctx, self._comp(ctx).start)

    def context(self, sid: int) -> Context:
        """The context of a state."""
        return self._keys[sid][0]

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
        ctx, states = self._keys[sid]
        comp = self._comp(ctx)
        moved = [t for s in states for cs, t in comp.nfa.edges[s] if cs is not None and ch in cs]
        if not moved:
            return DEAD
        closed = comp.close(moved)
        done = [comp.accept[s] for s in closed if s in comp.accept]
        if done:
            # Pieces end with a terminator (']', newline), so a completed piece is never also
            # the prefix of a longer one; the lowest index wins if a language breaks that rule.
            return self._enter(comp.nexts[min(done)])
        return self._intern(ctx, closed)

    def advance(self, sid: int, text: str) -> int:
        """The state after ``text`` (:data:`DEAD` when it leaves the language)."""
        for ch in text:
            sid = self.step(sid, ch)
            if sid == DEAD:
                return DEAD
        return sid

    def dist(self, sid: int) -> int:
        """Characters of the shortest completion from this state (0 for a finished program)."""
        if sid == DEAD:
            return INF
        ctx, states = self._keys[sid]
        if ctx.final:
            return 0
        comp = self._comp(ctx)
        best = min(comp.cost[s] for s in states)
        return 0 if ctx.accepting and states == comp.start else best

    def shortest_next(self, sid: int) -> str | None:
        """A character that starts a shortest completion of a live, unfinished state.

        Read off the NFA's costs (an edge whose target costs one less), so no transition is
        tried blind; None when the state is dead or finished.
        """
        if sid == DEAD or self.accepting(sid):
            return None
        ctx, states = self._keys[sid]
        comp = self._comp(ctx)
        want = self.dist(sid) - 1
        for s in states:
            for cs, t in comp.nfa.edges[s]:
                if cs is not None and comp.cost[t] == want:
                    return min(cs)
        # a piece that can end without a character (the cost lives in the next context)
        return next((c for c in _PRINTABLE if self.dist(self.step(sid, c)) == want), None)

    def _readings(self, sid: int) -> dict[int, str | None]:
        """Per NFA state of ``sid`` that reads a character: the kind of value it reads inside
        of. A state is inside a value when it is marked, or when the set reached it only by
        empty moves out of a marked one (the exit of a name argument, where ``,`` is read)."""
        found = self._readings_of.get(sid)
        if found is None:
            ctx, states = self._keys[sid]
            nfa = self._comp(ctx).nfa
            kind: dict[int, str | None] = {s: nfa.tags[s] for s in states if s in nfa.tags}
            stack = list(kind)
            while stack:
                s = stack.pop()
                for cs, t in nfa.edges[s]:
                    if cs is None and t in states and t not in nfa.tags:
                        if t not in kind:
                            kind[t] = kind[s]
                            stack.append(t)
                        elif kind[t] != kind[s]:
                            kind[t] = None
            found = self._readings_of[sid] = {
                s: kind.get(s) for s in states if any(cs for cs, _ in nfa.edges[s])
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
            ctx, _ = self._keys[sid]
            edges = self._comp(ctx).nfa.edges
            kinds = {
                k
                for s, k in self._readings(sid).items()
                if any(cs and ch in cs for cs, _ in edges[s])
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
        ctx, states = self._keys[sid]
        comp = self._comp(ctx)
        tags = comp.nfa.tags
        if not tags or any(s in tags for s in states):
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
            for _, t in comp.nfa.edges[s]:
                if t in tags:
                    kinds.add(tags[t])
                else:
                    stack.append(t)
        return kinds.pop() if len(kinds) == 1 else None

    def accepting(self, sid: int) -> bool:
        """True when the text so far is a complete program."""
        if sid == DEAD:
            return False
        ctx, states = self._keys[sid]
        return ctx.accepting and states == self._comp(ctx).start

    def final(self, sid: int) -> bool:
        """True when the program is complete and nothing but end-of-sequence may follow."""
        return sid != DEAD and self._keys[sid][0].final

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
        return len(self._keys)


# ----------------------------------------------------------------------------- token masks


@dataclass
class StateInfo:
    """Everything a decoding step needs about one automaton state, computed once."""

    ids: np.ndarray  # int64: allowed token ids, ascending
    dist_after: np.ndarray  # int64: shortest completion (characters) + eos after each allowed id
    next: dict[int, int]  # token id -> next state (DEAD for end-of-sequence)
    mask: np.ndarray  # bool over the vocabulary: the allowed ids
    # largest dist_after: a token is at least one character, so with this many tokens left
    # after this one every allowed id can still be finished and the budget filter is skipped
    max_dist: int
    cache: dict[Hashable, object] = field(default_factory=dict)  # per-device tensors, etc.
    tokens_after: np.ndarray | None = None  # int64: tokens to finish after each id (lazy)


@dataclass(frozen=True, slots=True)
class PayloadStep:
    """What one token does to a marked value (see :func:`tag`). The value's characters are
    the trailing run of ``[A-Za-z0-9_.]`` of the output: a value always follows some other
    character (``:``, ``@``, ``=``, ``|``, ``>``)."""

    kind: str  # the value's kind, e.g. "ref", "id", "idref"
    end: int | None  # the value is complete after this many characters of the token (None: not)


@dataclass(frozen=True)
class PayloadSteps:
    """The tokens of one state that write a marked value: ``plain`` ones continue the value
    being written with their whole text; ``other`` ones start or end a value."""

    kind: str | None  # kind of the value being written at the state (None: between values)
    plain: dict[str, int]  # text -> token id
    plain_ids: np.ndarray  # int64: the ids of ``plain``, ascending
    other: dict[int, PayloadStep]
    opens: dict[int, str]  # token id -> kind of the value that must be written after it

    def __bool__(self) -> bool:
        return bool(self.plain or self.other or self.opens)

    def get(self, token: int) -> PayloadStep | None:
        """What ``token`` does to a value (None: nothing)."""
        step = self.other.get(token)
        if step is None and self.kind is not None and token in self._plain_set:
            return PayloadStep(self.kind, None)
        return step

    @cached_property
    def _plain_set(self) -> frozenset[int]:
        return frozenset(self.plain.values())


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
        self._root = _Trie()
        for i, text in enumerate(vocab):
            if i in specials or not text:
                continue
            node = self._root
            for ch in text:
                node = node.children.setdefault(ch, _Trie())
            node.ids.append(i)
        self._vocab = list(vocab)
        # tokens made only of characters a value is written with
        self._plain = [bool(t) and VALUE_CHARS.issuperset(t) for t in vocab]
        self._specials = specials
        self._info: dict[int, StateInfo] = {}
        self._token_dist: dict[int, int] = {}

    @property
    def vocab(self) -> list[str]:
        """id -> token text."""
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

    def _build(self, sid: int) -> StateInfo:
        auto = self.automaton
        found: dict[int, int] = {}
        stack = [(self._root, sid)]
        while stack:
            node, state = stack.pop()
            for ch, child in node.children.items():
                nxt = auto.step(state, ch)
                if nxt == DEAD:
                    continue
                for i in child.ids:
                    found[i] = nxt
                if child.children:
                    stack.append((child, nxt))
        if auto.accepting(sid):
            found[self.eos_id] = DEAD
        ids = np.array(sorted(found), dtype=np.int64)
        # +1: after the last character the end-of-sequence id still needs a step of its own
        dist = np.array(
            [0 if found[i] == DEAD else auto.dist(found[i]) + 1 for i in ids.tolist()],
            dtype=np.int64,
        )
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[ids] = True
        return StateInfo(ids, dist, found, mask, int(dist.max(initial=0)))

    def advance(self, sid: int, token: int) -> int:
        """The state after a token (:data:`DEAD` when it was not allowed or ended the program)."""
        return self.info(sid).next.get(token, DEAD)

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
        """A shortest completion in characters."""
        auto = self.automaton
        out: list[str] = []
        s = sid
        while not auto.accepting(s):
            ch = auto.shortest_next(s)
            if ch is None or len(out) > 100_000:
                return None
            out.append(ch)
            s = auto.step(s, ch)
        return "".join(out)

    def payload_steps(self, sid: int) -> PayloadSteps:
        """The allowed tokens of ``sid`` that write (or end) a marked value (see :func:`tag`).

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
        plain: dict[str, int] = {}
        other: dict[int, PayloadStep] = {}
        opens: dict[int, str] = {}
        for i in info.ids.tolist():
            if i in self._specials:
                continue
            text = self._vocab[i]
            if at is not None and self._plain[i] and auto.payload(info.next[i]) == at:
                # inside a value, a token of value characters that stays inside it (the bulk
                # of a vocabulary) continues it; no need to walk it
                plain[text] = i
                continue
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
            elif kind is None and (k := auto.commits(info.next[i])) is not None:
                opens[i] = k
        ids = np.array(sorted(plain.values()), dtype=np.int64)
        return PayloadSteps(at, plain, ids, other, opens)

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
                nxt = info.next[int(info.ids[k])]
                d = counted.get(nxt)
                if d is None:
                    d = counted[nxt] = self.token_dist(nxt)
                after[k] = min(int(after[k]), d)
            info.tokens_after = after
        limit = max(remaining - 1, int(after.min(initial=INF)))
        mask = np.zeros(self.vocab_size, dtype=bool)
        mask[info.ids[after <= limit]] = True
        return mask

    @property
    def n_cached(self) -> int:
        """States whose mask has been computed."""
        return len(self._info)


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
