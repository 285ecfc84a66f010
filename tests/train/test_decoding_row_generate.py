"""Row-form constrained decoding with a random-init model: outputs parse, validate (apart from
topology ids) and are canonical row text; the Decoder's form reaches the automaton."""

from __future__ import annotations

import pytest
import torch
from data_decoding_helpers import scene_tokenizer

import scene_dsl
from train.decoding import Decoder
from train.model import GPT, GPTConfig

ID_CODES = {"S313", "S314"}  # what a prefix automaton cannot know without payload text


def model(vocab_size: int, seed: int) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(vocab_size=vocab_size, block_size=512, n_layer=1, n_head=2, n_embd=32))


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_constrained_row_scenes_parse_and_validate(seed: int) -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form="row")
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
    assert scene_dsl.to_text(scene, form="row", inline=True) == out.text


def test_row_budget_steering_finishes_short_programs() -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form="row")
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


def test_greedy_row_batch_matches_single_rows() -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form="row")
    m = model(tok.vocab_size, 4)
    prompts = [dec.prompt_ids("[task:svg] [a] [OUT]"), dec.prompt_ids("[task:svg] [b] [OUT]")]
    batch = dec.generate_batch(m, prompts, constrained=True, max_new_tokens=200, steer_budget=True)
    single = [
        dec.generate(m, p, constrained=True, max_new_tokens=200, steer_budget=True) for p in prompts
    ]
    assert batch == single
    assert all(scene_dsl.parse(g.text, errors="collect").ok for g in batch)


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
