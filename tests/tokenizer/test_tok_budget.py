"""Budget numbers against hand-computed rows."""

from __future__ import annotations

import pytest
from dslkit.tokenizer.budget import budget, percentile

from dslkit.errors import TokenizerError


def test_percentile_is_nearest_rank():
    values = list(range(1, 21))  # 1..20
    assert percentile(values, 50) == 10
    assert percentile(values, 95) == 19
    assert percentile([7], 95) == 7
    assert percentile([5, 1, 3], 50) == 3


def test_budget_on_hand_computed_rows(toks):
    tok = toks["atomic"]
    # "[scene]" and "[/scene]" are one id each; " " one id: targets are exact by construction.
    rows = [
        {"prompt": "[OUT]", "target": "[scene]"},  # prompt: bos OUT = 2; target: 1 + eos = 2
        {"prompt": "[scene] [OUT]", "target": "[scene] [/scene]"},
        {"prompt": "", "target": " ".join(["[scene]"] * 200)},  # target 399 + eos = 400
    ]
    r = budget(tok, rows, ctx=256)
    # row 1 prompt: bos [scene] ' ' [OUT] = 4; target: [scene] ' ' [/scene] eos = 4
    # row 2 prompt: bos, then the missing OUT is added = 2
    assert [(c.prompt, c.target) for c in r.rows] == [(2, 2), (4, 4), (2, 400)]
    assert (r.total.p50, r.total.p95, r.total.max) == (8, 402, 402)
    assert r.fit_80pct_share == pytest.approx(2 / 3)
    assert [c.index for c in r.not_fitting] == [2]
    # p95 total 402: 0.8 * 256 = 204.8 is too small, 0.8 * 512 = 409.6 is above it -> 512
    assert r.recommended_ctx == 512
    assert r.summary() == {
        "p50": 8,
        "p95": 402,
        "max": 402,
        "fit_80pct_share": pytest.approx(2 / 3),
        "recommended_ctx": 512,
        "rows": 3,
    }
    table = r.format()
    assert "recommended ctx: 512" in table and "row 2: prompt 2 + target 400 = 402" in table


def test_recommended_ctx_climbs_the_ladder(toks):
    tok = toks["atomic"]
    row = {"prompt": "", "target": " ".join(["[scene]"] * 1000)}  # total 2 + 2000 = 2002
    assert budget(tok, [row], ctx=512).recommended_ctx == 4096  # 0.8*2048 = 1638 < 2002


def test_budget_rejects_bad_rows(toks):
    with pytest.raises(TokenizerError) as info:
        budget(toks["atomic"], [], ctx=512)
    assert info.value.code == "K005"
    with pytest.raises(TokenizerError):
        budget(toks["atomic"], [{"prompt": "x"}], ctx=512)
