"""Per-state token masks of a prefix automaton over a tokenizer's vocabulary.

The automata come from the language packages (``scene_dsl.prefix_automaton``,
``trace_dsl.prefix_automaton``; engine: :mod:`dslkit.automaton`). :class:`TokenMasker` interns
their states and, the first time it meets one, walks a trie of the vocabulary through the
automaton to find every token that keeps the output a valid prefix, the state each one leads to
and how many characters the shortest completion then still needs. After that a step is a dict
lookup and a cached boolean mask. Tokens never cross grammar terminals (the tokenizer's
pre-tokenizer guarantees it), so the number of distinct states stays small.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from dslkit.automaton import DEAD, INF, Automaton

__all__ = [
    "VALUE_CHARS",
    "PayloadStep",
    "PayloadSteps",
    "StateInfo",
    "TokenMasker",
    "brute_force_mask",
]

# the characters a marked value (a ref, an id, a variable name) is written with
VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


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
    """What one token does to a marked value (see :func:`dslkit.automaton.tag`). The value's characters are
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
        self._completions: dict[int, str] = {}  # state -> a shortest completion

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
