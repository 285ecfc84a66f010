"""Fast token masks equal the brute-force definition over real vocabularies.

``TokenMasker`` builds a state's mask from walk tables shared across contexts (residuals,
literal runs, tokens that write on into the next context); ``brute_force_mask`` walks every
token from scratch through the automaton. On states sampled along canonical programs and
random constrained walks, for dslkit's atomic tokenizer, a byte-level BPE and a
SentencePiece-style Unigram (``▁`` spaces, ``<0xNN>`` byte pieces), both must agree, and so
must the next state of every allowed token. A masker pickled and loaded again finds its walk
tables by key for states it never met."""

from __future__ import annotations

import pickle
import random
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pytest

pytest.importorskip("tokenizers")

from dslkit.tokenizer import read_vocabulary
from dslkit.train.token_mask import (
    StateInfo,
    TokenMasker,
    _Table,
    _UnreadStateInfo,
    _UnreadTable,
    brute_force_mask,
    shared_masks,
)
from vocabulary_kinds import train_tokenizer

import scene_dsl
import trace_dsl
from dslkit.automaton import DEAD, Automaton, Piece, PieceName, lit
from scene_dsl.strategies import sample_scene
from trace_dsl.strategies import sample_trace

LANGUAGES = ("scene", "row", "trace")
KINDS = ("atomic", "bpe", "unigram")


def _texts(language: str, n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    if language == "trace":
        return [trace_dsl.to_text(sample_trace(rng)) for _ in range(n)]
    form = "row" if language == "row" else "block"
    return [scene_dsl.canonical_text(sample_scene(rng), form=form, inline=True) for _ in range(n)]


@cache
def _corpus() -> tuple[str, ...]:
    rng = random.Random(9)
    out = []
    for _ in range(120):
        scene = scene_dsl.canonicalize(sample_scene(rng))
        out += [scene_dsl.to_text(scene, form=f, inline=True) for f in ("block", "row")]
        out.append(trace_dsl.to_text(sample_trace(rng)))
    out += ["a plain sentence, with (parens) and [brackets]; é ü ×\n", "x = [a.b] + c['d']\n"]
    return tuple(out)


@cache
def tokenizer(kind: str, language: str) -> Any:
    """A tokenizer of ``kind`` trained here on generated text (the atomic one per language)."""
    if kind == "atomic":
        from dslkit.tokenizer.corpus import default_corpus

        from dslkit import tokenizer as dsl_tokenizer

        lang = "trace" if language == "trace" else "scene"
        corpus = default_corpus(lang, n_generated=120)
        return dsl_tokenizer.build(lang, corpus=corpus, granularity="atomic")
    return train_tokenizer(kind, _corpus(), vocab_size=900)


def masker_for(kind: str, language: str) -> TokenMasker:
    tok = tokenizer(kind, language)
    voc = read_vocabulary(tok)
    eos = voc.eos_id if voc.eos_id is not None else tok.token_to_id("</s>")
    auto = {
        "scene": scene_dsl.prefix_automaton,
        "row": lambda: scene_dsl.prefix_automaton(form="row"),
        "trace": trace_dsl.prefix_automaton,
    }[language]()
    return TokenMasker(auto, voc.texts(), voc.special_ids, eos)


def sampled_states(masker: TokenMasker, language: str, seed: int) -> list[int]:
    """States along canonical programs (character by character: a token may stop anywhere)
    and along random constrained walks over the masker's own allowed tokens."""
    auto, rng = masker.automaton, random.Random(seed)
    states: list[int] = []
    for text in _texts(language, 3, seed):
        sid = auto.start
        for k, ch in enumerate(text):
            if k % 3 == 0:
                states.append(sid)
            sid = auto.step(sid, ch)
        states.append(sid)
    for _ in range(3):
        sid = masker.start
        for _ in range(40):
            states.append(sid)
            ids = masker.info(sid).ids
            ids = ids[ids != masker.eos_id]
            if not len(ids):
                break
            sid = masker.advance(sid, int(rng.choice(ids.tolist())))
    return [s for s in states if s != DEAD]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("language", LANGUAGES)
def test_fast_masks_equal_brute_force(kind: str, language: str) -> None:
    masker = masker_for(kind, language)
    auto, vocab = masker.automaton, masker.vocab
    specials = dict.fromkeys(masker._specials, "")
    for sid in sampled_states(masker, language, seed=len(kind) + len(language)):
        fast = masker.info(sid).mask
        slow = brute_force_mask(auto, vocab, specials, masker.eos_id, sid)
        assert np.array_equal(fast, slow), (auto.context(sid), np.flatnonzero(fast != slow)[:5])
        for t in masker.info(sid).ids.tolist():
            want = DEAD if t == masker.eos_id else auto.advance(sid, vocab[t])
            assert masker.advance(sid, t) == want, (vocab[t], auto.context(sid))
        # the vectorised next states agree with one token at a time
        info = masker.info(sid)
        assert info.nexts.tolist() == [masker.advance(sid, t) for t in info.ids.tolist()]


@pytest.mark.parametrize("language", ["scene", "trace"])
def test_settling_by_class_and_vectorised_steps_equal_brute_force(
    language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The walk's shortcuts for many tokens (settling the tokens written in a name's class
    one or two characters past a start or a literal run, vectorised steps) give the masks and
    next states of a walk one character at a time: forced on for every walk here, where the
    small test vocabularies would otherwise take the one-by-one path."""
    from dslkit.train import token_mask

    monkeypatch.setattr(token_mask, "_MANY", 0)
    monkeypatch.setattr(token_mask, "_FEW", 0)
    masker = masker_for("bpe", language)
    auto, vocab = masker.automaton, masker.vocab
    specials = dict.fromkeys(masker._specials, "")
    for sid in sampled_states(masker, language, seed=7):
        fast = masker.info(sid).mask
        assert np.array_equal(fast, brute_force_mask(auto, vocab, specials, masker.eos_id, sid))
        for t in masker.info(sid).ids.tolist():
            want = DEAD if t == masker.eos_id else auto.advance(sid, vocab[t])
            assert masker.advance(sid, t) == want, (vocab[t], auto.context(sid))


@pytest.mark.parametrize("language", ["scene", "trace"])
def test_a_loaded_masker_reuses_its_walk_tables(language: str) -> None:
    # (trace: its long rests are named by an object of their piece's own in the process
    # that walks them, and by the piece's digest once saved: a loaded masker that compiles
    # a piece anew finds their tables by the digest)
    masker = masker_for("bpe", language)
    texts = _texts(language, 4, 21)
    for text in texts[:2]:  # meet the states of two programs
        sid = masker.automaton.start
        for ch in text:
            masker.info(sid)
            sid = masker.automaton.step(sid, ch)
    loaded = pickle.loads(pickle.dumps(masker))
    assert loaded.n_cached == masker.n_cached and len(loaded._tables) == len(masker._tables)
    walked = 0
    original = loaded._walk
    saved = set(loaded._tables)

    def counting(residual: Any) -> Any:
        nonlocal walked
        walked += 1
        assert _saved_key(residual.key) not in saved, "a saved table walked again"
        return original(residual)

    loaded._walk = counting  # type: ignore[method-assign]
    specials = dict.fromkeys(loaded._specials, "")
    new_states = 0
    for text in texts[2:]:  # programs it never met: most residuals are known already
        sid = loaded.automaton.start
        for ch in text:
            new_states += sid not in loaded._info
            mask = loaded.info(sid).mask
            slow = brute_force_mask(loaded.automaton, loaded.vocab, specials, loaded.eos_id, sid)
            assert np.array_equal(mask, slow)
            sid = loaded.automaton.step(sid, ch)
    assert new_states > 0 and walked < new_states


def _visit(masker: TokenMasker, texts: list[str]) -> None:
    """Meet every state of ``texts`` as a decoder does: masks, next states, value steps."""
    for text in texts:
        sid = masker.automaton.start
        for ch in text:
            info = masker.info(sid)
            _ = info.nexts, info.max_dist, masker.payload_steps(sid)
            sid = masker.automaton.step(sid, ch)


@pytest.mark.parametrize("language", ["scene", "trace"])
def test_a_loaded_masker_gives_identical_masks_and_next_states(language: str) -> None:
    masker = masker_for("bpe", language)
    _visit(masker, _texts(language, 3, 5))
    # saved again before any of its masks is read (they are unpacked when first read)
    loaded = pickle.loads(pickle.dumps(pickle.loads(pickle.dumps(masker))))
    assert sorted(loaded._info) == sorted(masker._info)
    assert set(loaded._tables) == set(_saved(masker))  # long rests named by their digests
    # until a mask is read, a loaded state or table is of a class whose __getattr__ unpacks
    # it; once read, a plain one again (a __getattr__ slows every attribute read)
    assert {type(info) for info in loaded._info.values()} == {_UnreadStateInfo}
    for key, table in _saved(masker).items():
        assert type(loaded._tables[key]) is _UnreadTable
        assert np.array_equal(loaded._tables[key].mask, table.mask)
        assert type(loaded._tables[key]) is _Table
    for sid, info in masker._info.items():
        again = loaded.info(sid)
        assert np.array_equal(again.mask, info.mask)
        assert type(again) is StateInfo
        assert again.masker is loaded  # the loaded states answer for the loaded masker
        assert again.nexts.tolist() == info.nexts.tolist()
        assert again.dist_after.tolist() == info.dist_after.tolist()


@pytest.mark.parametrize("language", ["scene", "trace"])
def test_a_saved_masker_writes_each_distinct_mask_once(language: str) -> None:
    """Saved as save_masker does, states and tables that share a mask in memory share one
    packed copy in the file, and the loaded states share one unpacked mask again (the 32k
    scene replay: 14 MB with a copy per state, 7.5 MB without)."""
    masker = masker_for("bpe", language)
    _visit(masker, _texts(language, 3, 9))
    infos = [masker.info(sid) for sid in sorted(masker._info)]
    distinct = len({id(info.mask) for info in infos})
    assert distinct < len(infos)  # (the replay has states that share a mask)
    with shared_masks():
        blob = pickle.dumps(masker)
    assert len(blob) < len(pickle.dumps(masker))
    with shared_masks():  # saved again before any mask is read: the packed copies as loaded
        loaded = pickle.loads(pickle.dumps(pickle.loads(blob)))
    again = [loaded.info(sid) for sid in sorted(masker._info)]
    assert len({id(info.mask) for info in again}) == distinct
    for info, other in zip(infos, again, strict=True):
        assert np.array_equal(info.mask, other.mask)


def test_a_dropped_masker_is_freed_without_the_cyclic_collector() -> None:
    """States, walk tables and piece DFAs hold no reference cycle through the masker, so
    dropping it frees everything at once (a cycle waits for a full collection, which walks
    every object of the process)."""
    import gc
    import weakref

    enabled = gc.isenabled()
    gc.disable()
    try:
        masker = masker_for("bpe", "scene")
        _visit(masker, _texts("scene", 2, 8))
        assert masker.n_cached > 10 and masker._piece_dfas
        ref = weakref.ref(masker)
        loaded = pickle.loads(pickle.dumps(masker))
        loaded_ref = weakref.ref(loaded)
        del masker, loaded
        assert ref() is None and loaded_ref() is None
    finally:
        if enabled:
            gc.enable()


def test_space_led_twins_of_reserved_tokens_are_walked_as_text() -> None:
    """A vocabulary may hold a space-led twin of each bracketed reserved token
    (``" [layout:timeline]"`` beside ``"[layout:timeline]"``): the masker reads tokens as text,
    so a twin is allowed exactly where its text is, and a canonical scene written with the
    twins is never masked."""
    tok = tokenizer("atomic", "scene")
    voc = read_vocabulary(tok)
    texts = voc.texts()
    twins = [" " + t for t in texts if t.startswith("[") and " " + t not in texts]
    assert len(twins) > 20
    masker = TokenMasker(
        scene_dsl.prefix_automaton(), [*texts, *twins], voc.special_ids, voc.eos_id
    )
    auto, vocab = masker.automaton, masker.vocab
    specials = dict.fromkeys(masker._specials, "")
    for sid in sampled_states(masker, "scene", seed=13):
        fast = masker.info(sid).mask
        assert np.array_equal(fast, brute_force_mask(auto, vocab, specials, voc.eos_id, sid))
    # a canonical scene written with the twins wherever one fits (greedy longest match)
    by_text = {t: i for i, t in enumerate(vocab) if i not in masker._specials}
    longest = max(map(len, by_text))
    used = 0
    for text in _texts("scene", 3, 17):
        sid, k = masker.start, 0
        while k < len(text):
            n = next(
                n for n in range(min(longest, len(text) - k), 0, -1) if text[k : k + n] in by_text
            )
            token = by_text[text[k : k + n]]
            used += token >= len(texts)
            assert masker.info(sid).mask[token], text[k : k + n]
            sid = masker.advance(sid, token)
            k += n
        assert masker.info(sid).mask[voc.eos_id]
    assert used > 0


def test_tokens_starting_with_a_text_are_found_by_their_first_two_characters() -> None:
    # The tokens that start with a text and are longer (a literal's tokens that write on
    # after it) come from a sort by the first two characters: they must be exactly the ones
    # the definition gives, for one-character texts, texts no token starts with, characters
    # outside the vocabulary, one-character tokens and two ids of one text.
    vocab = ["a", "ab", "abc", "abd", "b", "ba", "", "é", "éa", "ab", "x]", "]", "] [", "zz"]
    masker = TokenMasker(trace_dsl.prefix_automaton(), vocab, [6], 6)
    texts = [vocab[i] for i in masker._walk_ids.tolist()]
    probes = {t[:k] for t in vocab for k in range(1, len(t) + 1)} | {
        "q",
        "aq",
        "abcd",
        "\U0010ffff",
    }
    for text in sorted(probes):
        want = sorted(k for k, t in enumerate(texts) if t.startswith(text) and t != text)
        assert sorted(masker._starting_with(text)) == want, text


def test_tokens_crossing_a_field_end_equal_brute_force() -> None:
    # The tokens that complete a piece and write on are settled by the context they enter
    # (its walk tables when what they write after the piece is a token, else a walk on from
    # there). A vocabulary of characters and tokens that cross a field's end into what may
    # come next (a closing tag only once the block's required fields are there, the same
    # field under other parents): every state along sampled scenes keeps its brute-force
    # mask and next states.
    crossing = ["]", " [", " [/", "] [", "] [/", "] [/c", "]]", "<eos>"]
    vocab = [chr(c) for c in range(32, 127) if chr(c) != "]"] + crossing
    eos = len(vocab) - 1
    masker = TokenMasker(scene_dsl.prefix_automaton(), vocab, [eos], eos)
    auto = masker.automaton
    specials = {eos: ""}
    states = []
    for text in _texts("scene", 6, seed=5):
        sid = auto.start
        for ch in text:
            states.append(sid)
            sid = auto.step(sid, ch)
    with_rest = 0
    for sid in states:
        info = masker.info(sid)
        with_rest += len(info.parts) == 1 and bool(len(info.tables[0].rest))
        fast = info.mask
        slow = brute_force_mask(auto, vocab, specials, eos, sid)
        assert np.array_equal(fast, slow), (auto.context(sid), np.flatnonzero(fast != slow)[:5])
        for t in info.ids.tolist():
            want = DEAD if t == eos else auto.advance(sid, vocab[t])
            assert masker.advance(sid, t) == want, (vocab[t], auto.context(sid))
    assert with_rest > 50  # the crossing tokens were met in many states


@dataclass(frozen=True)
class _Chain:
    """``a;``, ``b;``, ``c;`` in turn, then the end newline only after a ``c;``: contexts of
    one piece each, so a token can complete a piece, complete the next context's piece too,
    and only then leave the language."""

    at: int

    def pieces(self) -> tuple[Piece, ...]:
        step = Piece(lit("abc"[self.at] + ";"), _Chain((self.at + 1) % 3))
        return (step, Piece(lit("\n"), _ChainEnd())) if self.at == 0 else (step,)

    def min_rest(self) -> int:
        return 2 * ((3 - self.at) % 3) + 1

    accepting = False
    final = False


@dataclass(frozen=True)
class _ChainEnd:
    def pieces(self) -> tuple[Piece, ...]:
        return ()

    def min_rest(self) -> int:
        return 0

    accepting = True
    final = True


def test_tokens_that_die_two_contexts_on_are_masked() -> None:
    # ``a;b;x`` completes ``a;``, then ``b;`` in the next context, and dies in the one after:
    # walked on past the next context, it must leave the mask (and ``a;b;c`` stays)
    vocab = [*"abcx;\n", "a;b;x", "a;b;c", "b;c;a", "b;x", "a;b;", ";b;x", "<eos>"]
    eos = len(vocab) - 1
    masker = TokenMasker(Automaton(_Chain(1)), vocab, [eos], eos)
    auto = masker.automaton
    walked_dead = 0
    for text in ("b;c;a;b;c;\n", "b;c;a;b;c;a;b;c;\n"):
        sid = auto.start
        for ch in text:
            info = masker.info(sid)
            slow = brute_force_mask(auto, vocab, {eos: ""}, eos, sid)
            assert np.array_equal(info.mask, slow), (text, auto.context(sid).__dict__)
            walked_dead += not info.mask[vocab.index("a;b;x")] and bool(
                info.mask[vocab.index("a;b;c")]
            )
            sid = auto.step(sid, ch)
    assert walked_dead > 0


@pytest.mark.parametrize("kind", ["atomic", "bpe", "unigram"])
def test_rests_of_a_few_texts_read_by_text_equal_the_walk(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rest that is a few texts (an attribute's or an enum field's values and the closing
    # "]") is read by text lookups, each candidate token through the piece's NFA on its own:
    # the same table as the vectorised walk of the vocabulary (the same tokens, the same
    # NFA states they end in, the same characters read when they complete the piece).
    from dslkit.train import token_mask

    calls = []
    by_text = token_mask.TokenMasker._texts

    def counted(self: TokenMasker, residual: Any) -> Any:
        found = by_text(self, residual)
        calls.append(found is not None)
        return found

    monkeypatch.setattr(token_mask.TokenMasker, "_texts", counted)
    read, walked = masker_for(kind, "scene"), masker_for(kind, "scene")
    for masker, limit in ((read, token_mask._TEXTS), (walked, -1)):
        monkeypatch.setattr(token_mask, "_TEXTS", limit)
        for text in _texts("scene", 4, seed=3):
            sid = masker.automaton.start
            for ch in text:
                masker.info(sid)
                sid = masker.automaton.step(sid, ch)
    assert sum(calls) > 10  # many rests were read by text

    _same_tables(read, walked)


@pytest.mark.parametrize("kind", ["atomic", "bpe", "unigram"])
@pytest.mark.parametrize("language", ["scene", "trace"])
def test_few_tokens_after_a_literal_run_read_one_by_one_equal_the_walk(
    kind: str, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rest that opens with a literal run and then reads a class (a field's tag, then its
    # ref; a trace key, then a name) is read from its few candidate tokens (the run's
    # prefixes, the tokens that start with it), each through the piece's NFA on its own:
    # the same table as the vectorised walk of the vocabulary, and the same masks.
    from dslkit.train import token_mask

    runs = []  # rests read from their candidates after a literal run (not by their texts)
    reader = token_mask.TokenMasker._read

    def counted(self: TokenMasker, residual: Any, *args: Any) -> Any:
        if len(args) == 1:  # the few-texts read passes its NFA moves along too
            runs.append(residual.key)
        return reader(self, residual, *args)

    monkeypatch.setattr(token_mask.TokenMasker, "_read", counted)
    # and the rests whose first characters start few tokens at all (no literal run): read the
    # same way, from the tokens those characters start
    few_first = _calls(monkeypatch, "_few_first")
    read, walked = masker_for(kind, language), masker_for(kind, language)
    for text in _texts(language, 3, seed=11):
        states = [read.automaton.start, walked.automaton.start]
        for ch in text:
            masks = []
            for k, (masker, few, by_text) in enumerate(
                ((read, token_mask._FEW, token_mask._TEXTS), (walked, -1, -1))
            ):
                with monkeypatch.context() as m:  # the reference walks every rest
                    m.setattr(token_mask, "_FEW", few)
                    m.setattr(token_mask, "_TEXTS", by_text)
                    masks.append(masker.info(states[k]).mask)
                    states[k] = masker.automaton.step(states[k], ch)
            assert np.array_equal(*masks), text
    assert len(runs) > 5
    if language == "trace":  # (a trace's values: a number's or a name's first characters)
        assert sum(ok for _, ok in few_first) > 5
    _same_tables(read, walked, runs)


def _calls(
    monkeypatch: pytest.MonkeyPatch, name: str, skip: TokenMasker | None = None
) -> list[tuple[Any, bool]]:
    """Wrap the masker's ``name`` (a method of a residual that may give None): each call is
    noted as (the residual's key, whether it gave something); on the masker ``skip`` it gives
    None, so that one does without it."""
    from dslkit.train import token_mask

    method = getattr(token_mask.TokenMasker, name)
    calls: list[tuple[Any, bool]] = []

    def noted(self: TokenMasker, residual: Any) -> Any:
        found = None if self is skip else method(self, residual)
        calls.append((residual.key, found is not None))
        return found

    monkeypatch.setattr(token_mask.TokenMasker, name, noted)
    return calls


def _same_tables(read: TokenMasker, walked: TokenMasker, keys: Any = None) -> None:
    """Both maskers hold tables under the same keys, and those of ``keys`` (all: None) read
    alike, row for row and in the tokens that write on past their piece."""
    reads, walks = _saved(read), _saved(walked)
    assert reads.keys() == walks.keys()
    for key in reads if keys is None else map(_saved_key, keys):
        table, other = reads[key], walks[key]
        assert _rows(table) == _rows(other), key
        assert table.ids[table.rest].tolist() == other.ids[other.rest].tolist()


def _saved_key(key: Any) -> Any:
    """A walk table's key as it is saved: a long rest names its piece by the digest (in the
    process that built it, by an object of the piece's own)."""
    return PieceName.digest_key(key) or key


def _saved(masker: TokenMasker) -> dict[Any, Any]:
    """A masker's walk tables by their saved keys (two maskers' pieces are other objects)."""
    return {_saved_key(key): table for key, table in masker._tables.items()}


def _rows(table: Any) -> list[tuple[int, object, int]]:
    """A walk table as (id, NFA states it ends in or -2, characters read) per token: its
    content, whatever numbers its DFA states got."""
    ids, codes, ats = table.ids.tolist(), table.code.tolist(), table.at.tolist()
    return [(i, table.sets[c] if c >= 0 else c, a) for i, c, a in zip(ids, codes, ats, strict=True)]


def _signatures(alphabet: list[str], charsets: list[str]) -> list[tuple[bool, ...]]:
    return [tuple(c in cs for cs in charsets) for c in alphabet]


def test_character_classes_split_exactly_by_the_sets_on_a_large_alphabet() -> None:
    # Characters share a class iff the same sets hold them, also on an alphabet of a few
    # hundred characters (SentencePiece vocabularies have thousands). The built case: ten
    # sets number 600 characters by their bits, so after the renumbering at the 32nd set each
    # is a class of its own; 31 more sets then write each class's number times 2**31 plus its
    # bits, and character 512 gets the code 2**40 + 5. A set holding character 5 alone must
    # still keep the two apart (an offset for such characters fixed at 2**40 merged them).
    from dslkit.train.token_mask import _classes, _members_of

    alphabet = [chr(0x4E00 + i) for i in range(600)]
    index = {c: i for i, c in enumerate(alphabet)}
    bits = ["".join(c for i, c in enumerate(alphabet) if i >> (9 - j) & 1) for j in range(10)]
    # (each with two characters outside the alphabet: a one-character set is split off apart)
    low = ["\x00\x01" + (alphabet[512] if 5 >> (30 - j) & 1 else "") for j in range(31)]
    charsets = [*bits, *[""] * 22, *low, alphabet[5]]
    member, splits = _members_of(alphabet, index), {}
    cls, reps = _classes(alphabet, index, member, charsets, splits)
    signatures = _signatures(alphabet, charsets)
    for a in (5, 512, 0, 599):
        for b in range(len(alphabet)):
            assert (cls[a] == cls[b]) == (signatures[a] == signatures[b]), (a, b)
    assert len(reps) == len(set(signatures))


def test_pieces_with_the_same_classes_share_their_split() -> None:
    # Step lines of a trace differ in their literal text (sets of one character) and share
    # their name, number and keyword classes: the split by the latter is found once, and one
    # piece's single characters never leak into another's classes.
    from dslkit.train.token_mask import _classes, _members_of

    alphabet = list("abcdefgh")
    index = {c: i for i, c in enumerate(alphabet)}
    member, splits = _members_of(alphabet, index), {}
    for single in ("a", "g", "c"):
        charsets = ["abcd", "cdef", single]
        cls, reps = _classes(alphabet, index, member, charsets, splits)
        signatures = _signatures(alphabet, charsets)
        for a in range(len(alphabet)):
            for b in range(len(alphabet)):
                assert (cls[a] == cls[b]) == (signatures[a] == signatures[b]), (single, a, b)
        assert len(reps) == len(set(signatures))
    assert len(splits) == 1


def test_a_vocabulary_without_a_text_token_is_refused_clearly() -> None:
    # every id special (or empty): no program can be written, said at once, not an index error
    # deep in the first walk
    with pytest.raises(ValueError, match="no token that writes text"):
        TokenMasker(trace_dsl.prefix_automaton(), ["<eos>", "", "<pad>"], {0, 2}, 0)
    one = TokenMasker(trace_dsl.prefix_automaton(), ["<eos>", "e"], {0}, 0)  # one is enough
    assert one.info(one.start).mask.tolist() == [False, True]


@pytest.mark.parametrize("kind", ["atomic", "bpe", "unigram"])
def test_walks_read_off_a_template_equal_the_walk_of_each_copy(
    kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A rest that starts in a copy of a template (a trace's names, numbers and arguments,
    # written in every step line) is read off the template's own walk from the same states,
    # the tokens that write on past the copy read on through the piece: the same table as a
    # walk of the vocabulary through the copy itself, and the same masks.

    read, walked = masker_for(kind, "trace"), masker_for(kind, "trace")
    calls = _calls(monkeypatch, "_copy_walk", skip=walked)  # (the reference walks every copy)
    for text in _texts("trace", 4, seed=13):
        states = [read.automaton.start, walked.automaton.start]
        for ch in text:
            masks = [m.info(s).mask for m, s in zip((read, walked), states, strict=True)]
            assert np.array_equal(*masks), text
            states = [m.automaton.step(s, ch) for m, s in zip((read, walked), states, strict=True)]
    found = [key for key, ok in calls if ok]
    assert len(found) > 5
    _same_tables(read, walked, found)


def _zeros(nfa: Any, s: int) -> int:
    """``0`` one or more times, ending in the state that reads them (a hand-written fragment)."""
    zeros = nfa.new()
    nfa.add(s, zeros, "0")
    nfa.add(zeros, zeros, "0")
    return zeros


class _Copies:
    """Pieces that copy templates where a copy's walk can and cannot be read off the
    template's: a name then ``;`` (it can); a name then ``a;`` (what follows reads a letter
    the name reads too); a list of numbers (the copy inside the repetition is entered again
    from its end); a name at the piece's very end (it completes the piece)."""

    def __init__(self) -> None:
        from dslkit.automaton import alt, plus, regex, seq, star, template

        name, number = template(regex("[a-z]+")), template(regex("[0-9]+"))
        self._pieces = [
            Piece(seq(lit("v="), name, lit(";\n")), _ChainEnd()),
            Piece(seq(lit("w="), name, lit("a;\n")), _ChainEnd()),
            Piece(seq(lit("l=["), number, star(seq(lit(","), number)), lit("]\n")), _ChainEnd()),
            Piece(seq(lit("p="), plus(template(regex("[a-z]"))), lit(";\n")), _ChainEnd()),
            Piece(seq(lit("z="), template(regex("[a-z]+!\n"))), _ChainEnd()),
            Piece(seq(lit("q="), star(lit("0")), name, lit(";\n")), _ChainEnd()),
            Piece(seq(lit("r="), _zeros, name, lit(";\n")), _ChainEnd()),
            Piece(seq(lit("s="), template(regex("b*")), lit(";\n")), _ChainEnd()),
            Piece(seq(lit("t="), alt(name, lit("9")), lit(";\n")), _ChainEnd()),
        ]

    def pieces(self) -> list[Piece]:
        return self._pieces

    def min_rest(self) -> int:
        return 4

    accepting = False
    final = False


def test_copies_a_template_cannot_stand_for_are_walked_on_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Tokens that cross a copy's end (``b;``, ``ba;``, ``1,2``, ``a;\n``), on copies whose walk
    # the template's gives and on those it cannot (the masker refuses those and walks them
    # itself): every state keeps its brute-force mask and next states.
    from dslkit.train import token_mask

    vocab = [*"vwlpz=;[],\nab0129!", "ab", "ba", "b;", "ba;", "a;", "a;\n", ";\n", "1,", "1,2",
             ",2]", "2]\n", "=a", "v=ab", "bab", "12", "a!\n", "!\n", "q=", "00", "0a", "r=0", "s=b", "bb;", "<eos>"]  # fmt: skip
    eos = len(vocab) - 1
    masker = TokenMasker(Automaton(_Copies()), vocab, [eos], eos)
    auto = masker.automaton
    calls = _calls(monkeypatch, "_copy_walk")
    # (every rest walked through the vocabulary, none read from its few tokens: this one is
    # small)
    monkeypatch.setattr(token_mask, "_FEW", -1)
    monkeypatch.setattr(token_mask, "_TEXTS", -1)
    texts = [
        "v=abba;\n",
        "w=bba;\n",
        "w=aa;\n",
        "l=[12,0,9]\n",
        "p=ab;\n",
        "z=ba!\n",
        "q=00ab;\n",
        "q=b;\n",
        "r=00ab;\n",
        "r=0b;\n",
        "s=bb;\n",
        "s=;\n",
        "t=9;\n",
        "t=ab;\n",
    ]
    for text in texts:
        sid = auto.start
        for ch in text:
            info = masker.info(sid)
            slow = brute_force_mask(auto, vocab, {eos: ""}, eos, sid)
            assert np.array_equal(info.mask, slow), (text, np.flatnonzero(info.mask != slow))
            for t in info.ids.tolist():
                want = DEAD if t == eos else auto.advance(sid, vocab[t])
                assert masker.advance(sid, t) == want, (text, vocab[t])
            sid = auto.step(sid, ch)
        assert auto.accepting(sid), text
    outcomes = [ok for _, ok in calls]
    assert any(outcomes) and not all(outcomes)
