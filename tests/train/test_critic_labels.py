"""Critic labels on crafted candidate rows, and the accept/repair filter."""

from __future__ import annotations

from pathlib import Path

import pytest
from dslkit.train import critic
from probe_helpers import POSTER, POSTER_CONTENT, block_text, fake_compile

JANET = (Path(__file__).parents[2] / "examples" / "traces" / "janet_eggs.trace").read_text()
GOOD = block_text(POSTER)
LABELS = (
    "syntax_pass",
    "tests_pass",
    "entrypoint_match",
    "format_pass",
    "no_secret",
    "no_repetition",
)


def failed(row: object, **kw: object) -> set[str]:
    labels = critic.label(row, compile=fake_compile, **kw)
    bad = {name for name in LABELS if not getattr(labels, name)}
    assert labels.accepted == (not bad)
    assert len(labels.reasons) >= len(bad)  # every failed label says why
    return bad


def test_canonical_scene_is_accepted() -> None:
    assert failed({"text": GOOD, "content": POSTER_CONTENT, "layout": "poster_stack"}) == set()


@pytest.mark.parametrize(
    ("text", "content", "layout", "want"),
    [
        # not parseable: a wrong close tag
        (
            GOOD.replace("[/header_band]", "[/section_card]"),
            POSTER_CONTENT,
            None,
            {"syntax_pass", "tests_pass", "format_pass"},
        ),
        # parses, but a ref points nowhere in content.json
        (GOOD.replace("cards.1.value", "cards.9.value"), POSTER_CONTENT, None, {"tests_pass"}),
        # the prompt asked for another family
        (GOOD, POSTER_CONTENT, "decision_tree", {"entrypoint_match"}),
        # no [/scene]
        (
            GOOD.replace(" [/scene]", ""),
            POSTER_CONTENT,
            None,
            {"syntax_pass", "tests_pass", "entrypoint_match", "format_pass"},
        ),
        # valid, but attributes out of canonical order
        (
            GOOD.replace(
                "[canvas:tall] [layout:poster_stack]", "[layout:poster_stack] [canvas:tall]"
            ),
            POSTER_CONTENT,
            None,
            {"format_pass"},
        ),
        # the multi-line row form is canonical too
        (POSTER, POSTER_CONTENT, None, set()),
    ],
)
def test_scene_labels(text: str, content: dict, layout: str | None, want: set[str]) -> None:
    assert failed({"text": text, "content": content, "layout": layout}) == want


@pytest.mark.parametrize(
    "secret",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "-----BEGIN RSA PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----",
        "0123456789abcdef0123456789abcdef01234567",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "QUtJQUlPU0ZPRE5ON0VYQU1QTEUxMjM0NTY3ODkwYWJjZGVm",
    ],
)
def test_secrets_in_content_are_caught(secret: str) -> None:
    content = {
        **POSTER_CONTENT,
        "header": {**POSTER_CONTENT["header"], "subtitle": f"key {secret}"},
    }
    assert failed({"text": GOOD, "content": content}) == {"no_secret"}
    assert critic.find_secrets(secret)


def test_refs_and_prose_are_not_secrets() -> None:
    assert critic.find_secrets(GOOD) == []
    assert critic.find_secrets("A two-question eviction policy for long-context inference") == []


def test_repetition_loop_is_caught() -> None:
    loop = GOOD.replace(
        "[/scene]",
        " ".join(["[section_card] [title_ref:cards.0.title] [/section_card]"] * 12) + " [/scene]",
    )
    assert "no_repetition" in failed({"text": loop, "content": POSTER_CONTENT})
    assert critic.ngram_repetition_rate(loop) > critic.MAX_NGRAM_REPETITION
    assert critic.ngram_repetition_rate(GOOD) <= critic.MAX_NGRAM_REPETITION
    assert (
        critic.char_repetition_rate("ab" * 50)
        > 0.9
        > critic.char_repetition_rate("abcdefghijklmnop")
    )


def test_trace_labels() -> None:
    assert failed({"text": JANET, "answer": 18, "expert": "arithmetic"}) == set()
    assert failed({"text": JANET, "answer": 19}) == {"tests_pass"}
    assert failed({"text": JANET, "answer": 18, "expert": "percentage"}) == {
        "tests_pass",
        "entrypoint_match",
    }
    assert failed({"text": JANET.replace("- {op: query, var: result}\n", ""), "answer": 18}) == {
        "tests_pass",
        "entrypoint_match",
    }
    assert "format_pass" in failed(
        {"text": JANET.replace("{op: init", "{op:   init"), "answer": 18}
    )
    assert failed({"text": "expert: arithmetic\ntrace: 80,000", "answer": 1}) == {
        "syntax_pass",
        "tests_pass",
        "entrypoint_match",
        "format_pass",
    }


def test_filter_keeps_accepted_and_repair_pairs() -> None:
    rows = [
        {"text": GOOD, "content": POSTER_CONTENT},  # accepted
        {"text": GOOD + " <|eos|>", "content": POSTER_CONTENT},  # form only: repair pair
        {
            "text": GOOD.replace("cards.1.value", "cards.9.value"),
            "content": POSTER_CONTENT,
        },  # rejected
        {
            "text": GOOD + " AKIAIOSFODNN7EXAMPLE",
            "content": POSTER_CONTENT,
        },  # secret: never repaired
    ]
    result = critic.filter_rows(rows, compile=fake_compile)
    assert [c.text for c in result.accepted] == [GOOD]
    assert result.repair_pairs == ((GOOD + " <|eos|>", GOOD),)
    assert len(result.rejected) == 2
    assert result.reason_counts["no_secret"] == 1
