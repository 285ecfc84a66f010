"""Bad input: any text ends in a toolkit error with a position, never a traceback or a hang."""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scene_dsl
from dslkit.errors import ArgumentError, DslkitError
from scene_dsl.ast import MAX_NESTING
from scene_dsl.strategies import fuzz_texts, mutate_text, sample_scene

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _every_entry_point(text: str | bytes) -> None:
    """Run each public text entry point; only DslkitError may escape."""
    for call in (
        lambda: scene_dsl.parse(text),
        lambda: scene_dsl.parse(text, errors="collect"),
        lambda: scene_dsl.check(text),
    ):
        try:
            call()
        except DslkitError as exc:
            assert exc.diagnostics, "a toolkit error always carries a diagnostic"
            d = exc.diagnostics[0]
            assert d.code.startswith("S") and d.line >= 1 and d.column >= 1
    if isinstance(text, str):
        try:
            scene, _ = scene_dsl.repair(text)
        except DslkitError:
            return
        assert scene_dsl.parse(scene_dsl.to_text(scene)) == scene  # repair output re-parses


@FUZZ
@given(fuzz_texts())
def test_scene_fuzz_grammar_texts_with_mutations(text: str) -> None:
    _every_entry_point(text)


@FUZZ
@given(st.text(alphabet=st.characters(exclude_categories=()), max_size=300))  # surrogates too
def test_scene_fuzz_random_unicode(text: str) -> None:
    _every_entry_point(text)
    _every_entry_point("[scene] " + text + " [/scene]")


@FUZZ
@given(st.binary(max_size=200))
def test_scene_fuzz_random_bytes(data: bytes) -> None:
    _every_entry_point(data)
    _every_entry_point(b"[scene] [layout:poster_stack] " + data)


def test_scene_mutated_scenes_many() -> None:
    rng = random.Random(11)
    for _ in range(300):
        text = scene_dsl.to_text(sample_scene(rng), form=rng.choice(["row", "block"]))
        _every_entry_point(mutate_text(rng, text, rng.randint(1, 6)))


NASTY = {
    "nul": "[scene]\x00[layout:poster_stack]\x00[section_card:@a]\x00[/scene]",
    "lone_surrogates": "[scene] \ud800 [layout:poster_stack] [section_card:@\udfff] [/scene]",
    "brackets_1mb": "[" * 1_000_000,
    "close_brackets_1mb": "]" * 1_000_000,
    "bracket_pairs_1mb": "[scene] " + "[]" * 500_000 + " [/scene]",
    "deep_10000_unclosed": "[scene] [layout:poster_stack] " + "[a] " * 10_000 + "[/scene]",
    "deep_10000_closed": "[scene] [layout:poster_stack] "
    + "[a] " * 10_000
    + "[/a] " * 10_000
    + "[/scene]",
    "deep_10000_wrong_close": "[scene] " + "[a] " * 10_000 + "[/b] " * 10_000 + "[/scene]",
    "stray_values": "[scene] [layout:poster_stack] " + "[@x] " * 100_000 + "[/scene]",
    "bom_crlf": "\ufeff[scene]\r\n[layout:poster_stack]\r\n[/scene]\r\n",
}


@pytest.mark.parametrize("name", sorted(NASTY))
def test_scene_nasty_inputs_end_in_toolkit_errors(name: str) -> None:
    start = time.process_time()
    _every_entry_point(NASTY[name])
    # Generous bound (linear work is well under a second per MB here): catches hangs and
    # quadratic blow-ups (seconds per KB), not speed regressions.
    assert time.process_time() - start < 60


def test_scene_nesting_limit_is_a_parameter_with_a_clear_message() -> None:
    text = NASTY["deep_10000_closed"]
    with pytest.raises(scene_dsl.LimitExceededError) as info:
        scene_dsl.parse(text)
    assert info.value.code == "S502" and "max_depth=32" in str(info.value)
    # raising the limit stops at the AST's hard ceiling, with a position, not a RecursionError
    with pytest.raises(scene_dsl.LimitExceededError) as info:
        scene_dsl.parse(text, max_depth=MAX_NESTING)
    assert info.value.code == "S502" and info.value.line == 1
    with pytest.raises(ArgumentError, match="max_depth must be between 1 and 100"):
        scene_dsl.parse(text, max_depth=20_000)
    shallow = "[scene] [layout:poster_stack] " + "[a] " * 90 + "[/a] " * 90 + "[/scene]"
    assert scene_dsl.parse(shallow, max_depth=MAX_NESTING).components[0].depth == 90


def test_scene_collect_returns_every_problem() -> None:
    text = (
        "[scene]\n"
        "[layout:poster_stack] [canvas:]\n"  # S102
        "hello\n"  # S100
        "[section_card] [ref:cards.0] [@stray] [/info_card]\n"  # S105, S202
        "[section_card:@a|@b|@c|@d|@e]\n"  # S106
        "<|eos|>\n"  # S401
        "[/section_card]\n"  # S201
        "[note_band] [ref:n.0]\n"  # S203 (still open at [/scene])
        "[/scene]\n"
        "trailing\n"  # S003
    )
    result = scene_dsl.parse(text, errors="collect")
    codes = [d.code for d in result.diagnostics]
    assert sorted(codes) == sorted(
        ["S102", "S100", "S105", "S202", "S106", "S401", "S201", "S203", "S003"]
    )
    assert [d.line for d in result.diagnostics] == sorted(d.line for d in result.diagnostics)
    assert result.scene is not None and [c.name for c in result.scene.components] == [
        "section_card",
        "note_band",
    ]
    with pytest.raises(scene_dsl.SceneSyntaxError) as info:
        scene_dsl.parse(text)
    assert info.value.diagnostics[0].code in codes
