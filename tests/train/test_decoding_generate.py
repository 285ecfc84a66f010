"""Decoding with a random-init model: constrained outputs always parse, flags are honest, and the
Decoder's scene form (block or row) reaches the automaton."""

from __future__ import annotations

import pytest
import torch
from data_decoding_helpers import scene_tokenizer
from dslkit.train.decoding import Decoder, GrammarConstraint
from dslkit.train.model import GPT, GPTConfig, RowIds
from test_decoding_masks import trace_tokenizer

import scene_dsl
import trace_dsl
from scene_dsl.automaton import SceneForm

# what a prefix automaton cannot know without reading payload text (see scene_dsl.automaton)
ID_CODES = {"S313", "S314"}
MAP_CODES = {"T202"}
FORMS: tuple[SceneForm, ...] = ("block", "row")


def model(vocab_size: int, seed: int) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=512, n_layer=1, n_head=2, n_embd=32))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_constrained_scenes_parse_validate_and_are_canonical(form: SceneForm, seed: int) -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form=form)
    m = model(tok.vocab_size, seed)
    out = dec.generate(
        m,
        "[task:svg] [OUT]",
        constrained=True,
        max_new_tokens=300,
        temperature=1.0,
        generator=torch.Generator().manual_seed(seed),
        steer_budget=True,
    )
    assert out.constrained and out.stopped and not out.hit_budget
    assert out.text.endswith("[/scene]")
    scene = scene_dsl.parse(out.text)
    errors = [d for d in scene_dsl.validate(scene) if d.is_error and d.code not in ID_CODES]
    assert not errors, (out.text, errors)
    assert scene_dsl.to_text(scene, form=form, inline=True) == out.text


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_constrained_traces_always_parse(seed: int) -> None:
    tok = trace_tokenizer()
    dec = Decoder(tok, "trace")
    m = model(tok.vocab_size, seed)
    gen = torch.Generator().manual_seed(seed)
    out = dec.generate(
        m,
        "[task:trace] q [OUT]",
        constrained=True,
        max_new_tokens=250,
        temperature=1.0,
        generator=gen,
        steer_budget=True,
    )
    assert out.constrained and out.stopped
    assert out.ids[-1] == tok.special_ids["<|eos|>"]
    res = trace_dsl.parse(out.text, errors="collect")
    # a repeated name inside one {name: number} map (T202) is the one schema rule the automaton
    # does not track (it would need the names in the state); everything else must hold
    assert {d.code for d in res.diagnostics if d.is_error} <= MAP_CODES, (out.text, res.diagnostics)


@pytest.mark.parametrize("form", FORMS)
def test_greedy_constrained_batch_matches_single_rows(form: SceneForm) -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form=form)
    m = model(tok.vocab_size, 4)
    prompts = [dec.prompt_ids("[task:svg] [a] [OUT]"), dec.prompt_ids("[task:svg] [b] [OUT]")]
    batch = dec.generate_batch(m, prompts, constrained=True, max_new_tokens=200, steer_budget=True)
    single = [
        dec.generate(m, p, constrained=True, max_new_tokens=200, steer_budget=True) for p in prompts
    ]
    assert batch == single
    assert all(scene_dsl.parse(g.text, errors="collect").ok for g in batch)


def test_raw_and_budget_flags() -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene")
    m = model(tok.vocab_size, 0)
    for seed in range(3):
        gen = torch.Generator().manual_seed(seed)
        raw = dec.generate(m, "[task:svg] [OUT]", max_new_tokens=5, temperature=1.0, generator=gen)
        assert not raw.constrained and raw.stopped != raw.hit_budget
        if raw.stopped:
            assert raw.ids[-1] in dec.stop_ids
        else:
            assert len(raw.ids) == 5 and raw.finish_reason == "budget"
    short = dec.generate(m, "[task:svg] [OUT]", constrained=True, max_new_tokens=3)
    assert short.constrained and short.hit_budget and not short.stopped and len(short.ids) == 3


@pytest.mark.parametrize("form", FORMS)
def test_budget_steering_finishes_short_programs(form: SceneForm) -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form=form)
    m = model(tok.vocab_size, 7)
    need = dec.masker.automaton.dist(dec.masker.start)  # characters of the shortest scene
    out = dec.generate(
        m,
        "[task:svg] [OUT]",
        constrained=True,
        max_new_tokens=need,
        temperature=1.0,
        generator=torch.Generator().manual_seed(0),
        steer_budget=True,
    )
    assert out.stopped and scene_dsl.parse(out.text, errors="collect").ok


def test_constraint_tracks_rows_incrementally() -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene")
    proc = GrammarConstraint(dec.masker)
    ids: list[int] = []
    logits = torch.zeros(tok.vocab_size)
    for piece in ("[scene]", " ", "[layout:timeline]"):
        masked = proc(ids, logits.clone())
        (t,) = tok.encode(piece)
        assert masked[t] == 0
        ids.append(t)
    masked = proc(ids, logits.clone())
    assert torch.isinf(masked[tok.encode("[timeline_stage]")[0]])  # only after " "
    assert masked[tok.encode(" ")[0]] == 0
    assert torch.isinf(masked[tok.special_ids["<|eos|>"]])


def test_constraint_follows_rows_by_batch_position_and_reads_each_id_once() -> None:
    """Rows given as ``RowIds`` (what generate_batch passes) are followed by their position,
    even when each step passes a new list; a step reads only the row's newest id."""
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene")
    pieces = ["[scene]", " ", "[layout:timeline]", " ", "[timeline_stage]"]
    ids = [tok.encode(p)[0] for p in pieces]
    proc = GrammarConstraint(dec.masker)
    reads = 0
    advance = dec.masker.advance

    def counted(sid: int, token: int) -> int:
        nonlocal reads
        reads += 1
        return advance(sid, token)

    dec.masker.advance = counted  # type: ignore[method-assign]
    logits = torch.zeros(tok.vocab_size)
    for n in range(len(ids) + 1):
        rows = [RowIds(0), RowIds(1)]  # new lists every step: only the position is kept
        rows[0] += ids[:n]
        rows[1] += ids[:n]
        for row in rows:
            got = proc(row, logits.clone())
            want = GrammarConstraint(dec.masker)(list(ids[:n]), logits.clone())
            assert torch.equal(torch.isinf(got), torch.isinf(want))
    del dec.masker.advance
    # the followed rows read each id once (two rows); the fresh references read n per step
    assert reads == 2 * len(ids) + sum(range(len(ids) + 1)) * 2


def test_decoder_form_selects_the_language() -> None:
    tok = scene_tokenizer()
    row, block = Decoder(tok, "scene", form="row"), Decoder(tok, "scene")
    assert block.form == "block"
    prefix = tok.encode("[scene] [layout:timeline] [timeline_stage")
    colon, close = tok.encode(":")[0], tok.encode("]")[0]
    for dec, ok, bad in ((row, colon, close), (block, close, colon)):
        sid = dec.masker.automaton.start
        for t in prefix:
            sid = dec.masker.advance(sid, t)
        assert dec.masker.info(sid).mask[ok] and not dec.masker.info(sid).mask[bad]
    with pytest.raises(ValueError, match="form"):
        Decoder(tok, "scene", form="rows")  # type: ignore[arg-type]
