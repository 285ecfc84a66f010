"""Budget steering: with exactly enough tokens left, a target the model would write is never
masked; near the end of the budget only tokens after which the program can still finish are
allowed, counted in tokens (see ``TokenMasker.token_dist``)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from dslkit.train.token_mask import TokenMasker
from test_decoding_masks import LANGUAGES, masker_for, row_texts, scene_texts, trace_texts

from dslkit.automaton import DEAD, INF


def _targets(language: str) -> list[str]:
    return {
        "scene": lambda: scene_texts(15, 3),
        "row": lambda: row_texts(15, 3),
        "trace": trace_texts,
    }[language]()


def _char_rule(masker: TokenMasker, sid: int, remaining: int) -> np.ndarray:
    """The rule budget steering used before: one character per token at worst."""
    info = masker.info(sid)
    limit = max(remaining - 1, int(info.dist_after.min(initial=INF)))
    mask = np.zeros(masker.vocab_size, dtype=bool)
    mask[info.ids[info.dist_after <= limit]] = True
    return mask


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_target_that_fits_the_budget_is_never_steered_away(language: str) -> None:
    masker, tok = masker_for(language)
    char_rule_blocked = 0
    for text in _targets(language):
        ids = [*tok.encode(text), masker.eos_id]
        budget = len(ids)  # not one token to spare
        sid = masker.start
        for i, t in enumerate(ids):
            remaining = budget - i
            assert masker.allowed(sid, remaining)[t], (text, i, tok.decode([t]))
            char_rule_blocked += not _char_rule(masker, sid, remaining)[t]
            sid = masker.advance(sid, t)
        assert sid == DEAD  # the eos ended the program
    # counting characters would have closed blocks these targets finish in time
    if language != "trace":
        assert char_rule_blocked > 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_token_dist_is_a_real_completion(language: str) -> None:
    masker, _ = masker_for(language)
    rng = random.Random(5)
    for text in _targets(language)[:10]:
        sid = masker.start
        for ch in text[: rng.randrange(len(text))]:
            sid = masker.automaton.step(sid, ch)
        need = masker.token_dist(sid)
        assert 1 <= need <= masker.automaton.dist(sid) + 1  # a token is at least one character
        # steering with exactly that budget finishes the program within it
        steps = 0
        while sid != DEAD:
            remaining = need - steps
            assert remaining >= 1, text
            allowed = np.flatnonzero(masker.allowed(sid, remaining))
            nxt = [masker.token_dist(masker.advance(sid, int(t))) for t in allowed]
            assert min(nxt) <= remaining - 1
            sid = masker.advance(sid, int(allowed[int(np.argmin(nxt))]))
            steps += 1
