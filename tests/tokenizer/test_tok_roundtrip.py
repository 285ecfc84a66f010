"""Round trips and the boundary property constrained decoding relies on."""

from __future__ import annotations

import pytest
from dslkit.tokenizer.corpus import gold_scenes, sample_scene_texts, sample_trace_texts
from dslkit.tokenizer.pretok import segments
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import trace_dsl
from dslkit import tokenizer
from dslkit.errors import TokenizerError
from scene_dsl.strategies import scene_texts

GRANS = tokenizer.GRANULARITIES
_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _spans(tok: tokenizer.DslTokenizer, ids: list[int]) -> list[tuple[int, int, int]]:
    strings = tok.vocab_strings()
    out, pos = [], 0
    for i in ids:
        out.append((i, pos, pos + len(strings[i])))
        pos += len(strings[i])
    return out


def assert_boundaries(tok: tokenizer.DslTokenizer, text: str) -> None:
    """Learned tokens lie inside one pre-tokenizer segment; reserved tokens start and end on
    segment boundaries (they never cut a payload word)."""
    assert text.isascii()  # spans from vocab string lengths need one char per byte
    cuts = {0, len(text)} | {a for a, _ in segments(text)}
    reserved = set(tok.reserved_ids.values())
    ids = tok.encode(text)
    for i, a, b in _spans(tok, ids):
        if i in reserved:
            assert a in cuts and b in cuts, f"reserved {text[a:b]!r} cuts a segment at {a}:{b}"
        else:
            inner = [c for c in cuts if a < c < b]
            assert not inner, f"learned token {text[a:b]!r} crosses a boundary at {inner}"
    assert tok.decode(ids) == text


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= ch <= "\udfff" for ch in text)


@pytest.mark.parametrize("g", GRANS)
@_SETTINGS
@given(text=st.text(st.characters(exclude_categories=())))  # surrogates (Cs) included
def test_any_unicode_round_trips_or_is_refused_by_name(toks, g, text):
    tok = toks[g]
    if _has_surrogate(text):  # a str that has no UTF-8 form: a clear error, not a TypeError
        with pytest.raises(TokenizerError, match="lone surrogate") as err:
            tok.encode(text)
        assert err.value.code == "K001"
    else:
        assert tok.decode(tok.encode(text)) == text


def test_lone_surrogates_and_bad_ids_are_toolkit_errors(toks):
    tok = toks[GRANS[0]]
    for text in ("\ud800", "ok \udfff", "[scene] \udbff\udc00x"):
        with pytest.raises(TokenizerError, match="lone surrogate"):
            tok.encode(text)
        with pytest.raises(TokenizerError, match="lone surrogate"):
            tok.encode_batch(["fine", text])
    for ids in ([-1], [tok.vocab_size], [0, 10**30], [1.5], [True], ["3"]):
        with pytest.raises(TokenizerError) as err:
            tok.decode(ids)
        assert err.value.code == "K001"
    assert isinstance(tok.decode([0, tok.vocab_size - 1]), str)  # both ends are ids


@pytest.mark.parametrize("g", GRANS)
@_SETTINGS
@given(data=st.data(), form=st.sampled_from(["block", "row"]), inline=st.booleans())
def test_generated_scenes_round_trip_on_boundaries(toks, g, data, form, inline):
    # scenes of the contract the tokenizer reserved its structure from
    contract = toks[g].meta.contract_version
    text = data.draw(scene_texts(form=form, inline=inline, contract=contract))
    assert_boundaries(toks[g], text)


@pytest.mark.parametrize("g", GRANS)
def test_generated_traces_round_trip_on_boundaries(toks, g):
    for text in sample_trace_texts(60, seed=99):
        trace_dsl.parse(text)  # the sample is in the language
        assert_boundaries(toks[g], text)


@pytest.mark.parametrize("g", GRANS)
def test_gold_scenes_round_trip_on_boundaries(toks, g):
    golds = gold_scenes()
    if not golds:
        pytest.skip("examples/gold has no scene.dsl files in this checkout")
    for text in golds:
        assert_boundaries(toks[g], text)


def test_whitespace_between_tags_is_exact(toks):
    tok = toks["atomic"]
    for text in (
        "[scene]\n[layout:timeline]\n[/scene]\n",
        "[scene] [layout:timeline] [/scene]",
        "[scene]\r\n\t [/scene]  \n\n",
    ):
        ids = tok.encode(text)
        assert tok.decode(ids) == text
    # the space between two tags is its own token, never glued to a tag
    strings = tok.vocab_strings()
    assert [strings[i] for i in tok.encode("[scene] [/scene]")] == ["[scene]", " ", "[/scene]"]


def test_atomic_is_shorter_than_split_shorter_than_bpe_on_gold(toks, corpus):
    texts = gold_scenes() or corpus[:20]
    n = {g: sum(len(toks[g].encode(t)) for t in texts) for g in GRANS}
    assert n["atomic"] < n["split"] <= n["bpe"]


def test_vocab_strings_are_exact(toks):
    tok = toks["atomic"]
    strings = tok.vocab_strings()
    assert len(strings) == tok.vocab_size
    text = "[scene] héllo 日本 🙂 [/scene]"
    joined = "".join(strings[i] for i in tok.encode(text))
    assert joined.encode("utf-8", "surrogateescape").decode("utf-8") == text
    for t, i in tok.reserved_ids.items():
        assert strings[i] == t


def test_boundary_check_catches_a_coarse_pre_tokenizer(monkeypatch):
    # With the stock GPT-2 byte-level split, learned tokens like ' [' or '19' cross grammar
    # boundaries: the property check above must notice (it is not vacuous).
    import sys

    from tokenizers import pre_tokenizers

    monkeypatch.setattr(
        sys.modules["dslkit.tokenizer.build"],
        "pre_tokenizer",
        lambda: pre_tokenizers.ByteLevel(add_prefix_space=False),
    )
    texts = sample_scene_texts(200, seed=3)
    tok = tokenizer.build("scene", corpus=texts, granularity="bpe")
    failures = 0
    for text in texts[:20]:
        try:
            assert_boundaries(tok, text)
        except AssertionError:
            failures += 1
    assert failures == 20
