"""Row-form scene masks: every sampled family is accepted, block text is not, payload text never
enters the state, and every allowed prefix still completes to a scene that parses and validates.
(Targets never masked and cached masks equal brute force: test_decoding_masks, form "row".)"""

from __future__ import annotations

import random

import pytest
from data_decoding_helpers import CharTokenizer
from dslkit.train.token_mask import TokenMasker
from test_decoding_masks import masker_for

import scene_dsl
from dslkit.automaton import DEAD
from scene_dsl.strategies import sample_scene

ALPHABET = "".join(chr(c) for c in range(32, 127)) + "\n"
ID_CODES = {"S313", "S314"}  # topology ids: need payload text in the state (scene_dsl.automaton)
CONTRACT = scene_dsl.load_contract("v1")


@pytest.fixture(scope="module")
def row_masker() -> tuple[TokenMasker, CharTokenizer]:
    return masker_for("row")


def test_row_form_table_blocks_and_every_family() -> None:
    """Targets from each family (so table_block with row children, edges, variadics, ints)."""
    auto = scene_dsl.prefix_automaton(form="row")
    rng = random.Random(4)
    seen_tokens: set[str] = set()
    for family in CONTRACT.families:
        for _ in range(6):
            scene = scene_dsl.canonicalize(sample_scene(rng, family=family), CONTRACT)
            text = scene_dsl.to_text(scene, form="row", inline=True)
            assert auto.accepting(auto.advance(auto.start, text)), text
            seen_tokens.update(c.name for c in scene.walk())
    assert {"table_block", "table_row", "span_bracket", "decision_edge"} <= seen_tokens


def test_block_form_text_is_not_row_form() -> None:
    auto = scene_dsl.prefix_automaton(form="row")
    block = scene_dsl.canonical_text(sample_scene(random.Random(2)), inline=True)
    assert not auto.accepting(auto.advance(auto.start, block))
    s = auto.advance(auto.start, "[scene] [layout:timeline]")
    assert auto.advance(s, " [timeline_stage]") == DEAD  # no children: row token only
    assert auto.advance(s, " [timeline_stage:s1|@a]") != DEAD
    assert auto.advance(s, " [timeline_stage:s1|a]") == DEAD  # a content ref needs '@'
    assert auto.advance(s, " [timeline_stage:@a]") == DEAD  # stage_id comes first
    assert auto.advance(s, " [timeline_stage:s1]") == DEAD  # requires ref or title
    # two positional parts are [stage_id, ref]: title as a third positional needs date too
    assert auto.advance(s, " [timeline_stage:s1|@t|@d]") != DEAD
    assert auto.advance(s, " [timeline_stage:s1|@a|title=@t|date=@d]") == DEAD  # printer: 3-part
    assert auto.advance(s, " [timeline_stage:s1|@a|lane=top]") != DEAD
    assert auto.advance(s, " [timeline_stage:s1|@a|lane=nope") == DEAD  # enum values only
    assert auto.advance(s, " [timeline_stage:s1|@a|accent=amber|lane=top") == DEAD  # order


def test_payload_text_does_not_enter_the_state() -> None:
    auto = scene_dsl.prefix_automaton(form="row")
    s = auto.advance(auto.start, "[scene] [layout:timeline] [timeline_stage:")
    # same shape (multi-character segments), any length: same state
    a = auto.advance(s, "s1|@ab.cd")
    b = auto.advance(s, "stage_07|@timeline_stage.10.title")
    assert a == b != DEAD
    assert auto.advance(s, "s1|@a.b|") == auto.advance(s, "x|@cards.9|")


def test_edges_ints_and_variadic_parts() -> None:
    auto = scene_dsl.prefix_automaton(form="row")
    flow = auto.advance(auto.start, "[scene] [layout:decision_tree]")
    assert auto.advance(flow, " [decision_edge:a->b|@e]") != DEAD
    assert auto.advance(flow, " [decision_edge:a|b]") == DEAD  # an edge part is a->b
    table = auto.advance(auto.start, "[scene] [layout:table_matrix] [table_block]")
    assert auto.advance(table, " [/table_block]") == DEAD  # a block in row form has children
    row = auto.advance(table, " [table_row:@c.0|@c.1|@c.2|@c.3|@c.4|row_state=highlight]")
    assert row != DEAD and auto.advance(row, " [/table_block] [/scene]") != DEAD
    assert auto.advance(table, " [table_row:row_state=highlight]") == DEAD  # cells required
    # a table_block with no children is a row token like any other
    assert (
        auto.advance(auto.start, "[scene] [layout:table_matrix] [table_block:@t] [/scene]") != DEAD
    )


@pytest.mark.parametrize("seed", range(8))
def test_row_prefixes_complete_to_valid_scenes(
    row_masker: tuple[TokenMasker, CharTokenizer], seed: int
) -> None:
    """Random constrained walks: the shortest completion of any prefix parses and validates,
    and its canonical row text is the text itself (the automaton only admits canonical rows)."""
    masker, tok = row_masker
    vocab = tok.vocab_strings()
    auto = masker.automaton
    rng = random.Random(seed)
    for _ in range(3):
        text, sid = "", masker.start
        for _ in range(rng.randrange(10, 160)):
            choices = [t for t in masker.info(sid).ids.tolist() if t != masker.eos_id]
            if not choices:
                break
            t = rng.choice(choices)
            text, sid = text + vocab[t], masker.advance(sid, t)
        completed = text + (auto.complete(sid, ALPHABET) or "")
        scene = scene_dsl.parse(completed)
        errors = [d for d in scene_dsl.validate(scene) if d.is_error and d.code not in ID_CODES]
        assert not errors, (completed, errors)
        assert scene_dsl.to_text(scene, form="row", inline=True) == completed
