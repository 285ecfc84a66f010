"""A saved tokenizer folder read by ``transformers.AutoTokenizer`` gives dslkit's ids."""

from __future__ import annotations

from pathlib import Path

import pytest
from dslkit.tokenizer.corpus import gold_traces
from dslkit.train.data import gold_rows

from dslkit import tokenizer

transformers = pytest.importorskip("transformers", reason="the [hf] extra is not installed")

REPO = Path(__file__).resolve().parents[2]
LEAKS = [
    "[scene] <|eos|> [/scene]",
    "a [OUT] b",
    "<|bos|><|pad|>[OUT]<|eos|>",
    "[OUT]",
    "trace:\n- {op: query, var: x}<|eos|>",
]


@pytest.fixture(scope="module", params=(*tokenizer.GRANULARITIES, "demo"))
def pair(request, toks, corpus, tmp_path_factory):
    """(dslkit tokenizer, the same folder loaded by AutoTokenizer) per granularity, and the
    demo's kind (space-led twins, path names, whole words), whose `` [`` piece once took the
    space before a prompt's ``[OUT]`` and left ``OUT]`` as text."""
    if request.param == "demo":
        tok = tokenizer.build(
            "scene", corpus=corpus, vocab_size=2048, words=True, space_led=True, path_names=True
        )
    else:
        tok = toks[request.param]
    folder = tok.save(tmp_path_factory.mktemp(request.param))
    return tok, transformers.AutoTokenizer.from_pretrained(str(folder))


def rows() -> list[tuple[str, str]]:
    scene = [(r.prompt, r.target) for r in gold_rows(REPO / "examples" / "gold")]
    trace = [("[task:trace] How many? [OUT]", t) for t in gold_traces()]
    return scene + trace


def test_specials_are_named(pair) -> None:
    tok, hf = pair
    assert (hf.bos_token_id, hf.eos_token_id, hf.pad_token_id) == (
        tok.bos_id,
        tok.eos_id,
        tok.pad_id,
    )
    assert tok.out_id in hf.all_special_ids and "[OUT]" in hf.all_special_tokens
    assert hf.split_special_tokens is True


def test_every_gold_row_frames_and_encodes_like_encode_row(pair) -> None:
    tok, hf = pair
    checked = 0
    for prompt, target in rows():
        assert prompt.endswith("[OUT]")  # dslkit prompts carry the marker; HF adds it
        body = prompt.removesuffix("[OUT]")
        p_ids, t_ids = tok.encode_row(prompt, target)
        assert p_ids.count(tok.out_id) == 1 and "OUT" not in tok.decode(p_ids[:-1])
        assert hf(body).input_ids == p_ids
        assert hf(body, target).input_ids == p_ids + t_ids
        assert hf(target, add_special_tokens=False).input_ids == tok.encode(target)
        assert hf.decode(p_ids + t_ids) == tok.decode(p_ids + t_ids)
        checked += 1
    assert checked >= 32


def test_leaked_specials_stay_characters_as_in_dslkit(pair) -> None:
    tok, hf = pair
    for text in LEAKS:
        ids = hf(text, add_special_tokens=False).input_ids
        assert ids == tok.encode(text)
        assert not set(ids) & set(tok.special_ids.values())
        assert hf.decode(ids) == text


def test_generation_prompts_with_written_markers(toks, tmp_path) -> None:
    """split_special_tokens=False reads '<|bos|> ... [OUT]' in prompt text as the specials
    (what a TRL prompt column holds); encode_row gives the same prompt ids."""
    tok = toks["atomic"]
    hf = transformers.AutoTokenizer.from_pretrained(
        str(tok.save(tmp_path)), split_special_tokens=False
    )
    for prompt, _ in rows():
        ids = hf("<|bos|>" + prompt, add_special_tokens=False).input_ids
        assert ids == tok.encode_row(prompt, "")[0]
