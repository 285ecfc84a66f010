"""Saving and loading: equality, the plain HF loader, and the optional transformers path."""

from __future__ import annotations

import json

import pytest
from dslkit.tokenizer.model import META_FILE, TOKENIZER_FILE
from tokenizers import Tokenizer

from dslkit import tokenizer
from dslkit.errors import TokenizerError


@pytest.mark.parametrize("g", tokenizer.GRANULARITIES)
def test_save_load_equal(toks, tmp_path, g, corpus):
    tok = toks[g]
    tok.save(tmp_path)
    back = tokenizer.load(tmp_path)
    assert back == tok
    assert back.encode_batch(corpus[:20]) == tok.encode_batch(corpus[:20])
    assert back.reserved_ids == tok.reserved_ids and back.special_ids == tok.special_ids
    meta = json.loads((tmp_path / META_FILE).read_text())
    assert (
        meta["granularity"] == g and meta["language"] == "both" and meta["contract_version"] == "v1"
    )
    assert meta["reserved_hash"] == tok.meta.reserved_hash


def test_plain_hf_loader_gives_the_same_ids(toks, tmp_path, corpus):
    tok = toks["atomic"]
    tok.save(tmp_path)
    hf = Tokenizer.from_file(str(tmp_path / TOKENIZER_FILE))
    for text in corpus[:20]:
        assert hf.encode(text, add_special_tokens=False).ids == tok.encode(text)


def test_transformers_fast_tokenizer_when_installed(toks, tmp_path, corpus):
    transformers = pytest.importorskip(
        "transformers",
        reason="transformers is not installed: the PreTrainedTokenizerFast path is optional",
    )
    tok = toks["atomic"]
    tok.save(tmp_path)
    fast = transformers.PreTrainedTokenizerFast(tokenizer_file=str(tmp_path / TOKENIZER_FILE))
    assert fast(corpus[0], add_special_tokens=False)["input_ids"] == tok.encode(corpus[0])


def test_load_reports_a_missing_or_tampered_dir(toks, tmp_path):
    with pytest.raises(TokenizerError) as info:
        tokenizer.load(tmp_path / "nope")
    assert info.value.code == "K004"
    toks["split"].save(tmp_path)
    meta = json.loads((tmp_path / META_FILE).read_text())
    meta["reserved"] = meta["reserved"][1:]
    (tmp_path / META_FILE).write_text(json.dumps(meta))
    with pytest.raises(TokenizerError, match="hash"):
        tokenizer.load(tmp_path)
