"""Lint: contract-derived tokenizers are clean; a deliberately bad reserved list is caught."""

from __future__ import annotations

import pytest
from dslkit.tokenizer.lint import lint, promised_ids
from dslkit.tokenizer.reserved import reserved_tokens

from dslkit import tokenizer

BAD = {
    "[compare_bar:@compare_bar.0.label|@compare_bar.0.value|accent=amber]": "content ref or path",
    "[node_id:start]": "free field 'node_id'",
    "[position:101]": "digits '101'",
    "[theme:infra_dark]|[tone:blue]": "several fields",
    "[kv_cache_wizardry]": "no contract or grammar name",
}


@pytest.mark.parametrize("g", tokenizer.GRANULARITIES)
def test_contract_tokenizers_lint_clean(toks, g):
    report = lint(toks[g])
    assert report.ok, report.format()
    assert not report.diagnostics, report.format()
    if g != "bpe":
        assert report.checked_units > 50


@pytest.fixture(scope="module")
def bad_report(corpus):
    good = [t.text for t in reserved_tokens("scene", "atomic") if t.text != "[tone:amber]"]
    tok = tokenizer.build("scene", corpus=corpus, granularity="atomic", reserved=[*good, *BAD])
    return lint(tok)


def test_bad_reserved_list_is_an_error(bad_report):
    assert not bad_report.ok
    k101 = {d.message.split("'")[1]: d.message for d in bad_report.diagnostics if d.code == "K101"}
    assert set(k101) == set(BAD)
    for token, why in BAD.items():
        assert why in k101[token], k101[token]


def test_missing_structure_token_and_its_cost_are_named(bad_report):
    codes = {(d.code, d.message.split("'")[1]) for d in bad_report.diagnostics}
    assert ("K201", "[tone:amber]") in codes
    # gold scenes use [tone:amber]; without its token it falls apart into 5 ids
    k301 = [d for d in bad_report.diagnostics if d.code == "K301"]
    assert k301 and "'[tone:amber]'" in k301[0].message and "promises 1" in k301[0].message


def test_mostly_single_bytes_warns(corpus):
    tok = tokenizer.build("trace", corpus=["x"], granularity="bpe", vocab_size=4096)
    report = lint(tok)
    (warn,) = [d for d in report.diagnostics if d.code == "K401"]
    assert not warn.is_error and report.ok
    assert "single bytes" in warn.message


def test_promised_ids_per_granularity():
    assert promised_ids("[/section_card]", "atomic") == 1
    assert promised_ids("[/section_card]", "split") == 3
    assert promised_ids("[ticks:12]", "split") == 6
    assert promised_ids("op: init", "split") == 4
    assert promised_ids("[scene]", "bpe") is None
