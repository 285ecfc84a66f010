"""Shared tokenizers for the tokenizer tests: built once per session from a small seeded corpus."""

from __future__ import annotations

import pytest
from dslkit.tokenizer.corpus import gold_scenes, gold_traces, sample_scene_texts, sample_trace_texts

from dslkit import tokenizer


@pytest.fixture(scope="session")
def corpus() -> list[str]:
    return (
        gold_scenes()
        + gold_traces()
        + sample_scene_texts(300, seed=7)
        + sample_trace_texts(150, seed=7)
    )


@pytest.fixture(scope="session")
def toks(corpus: list[str]) -> dict[str, tokenizer.DslTokenizer]:
    """One ``both``-language tokenizer per granularity."""
    return {
        g: tokenizer.build("both", corpus=corpus, granularity=g, vocab_size=2048)
        for g in tokenizer.GRANULARITIES
    }
