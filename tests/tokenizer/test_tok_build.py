"""Building: reserved structure is one id, specials stay out of text, bad arguments are errors."""

from __future__ import annotations

import re

import pytest
from dslkit.tokenizer.reserved import SPECIAL_TOKENS, reserved_tokens

from dslkit import tokenizer
from dslkit.errors import TokenizerError


@pytest.mark.parametrize("language", ["scene", "trace"])
def test_every_structural_token_is_one_id_under_atomic(toks, language):
    tok = toks["atomic"]
    for t in reserved_tokens(language, "atomic"):
        assert tok.encode(t.text) == [tok.reserved_ids[t.text]], t.text


def test_split_names_and_punctuation_are_one_id_each(toks):
    tok = toks["split"]
    for t in reserved_tokens("both", "split"):
        assert len(tok.encode(t.text)) == 1, t.text
    # a split-mode name is matched at word boundaries only: `top` does not cut `stop_1`
    assert len(tok.encode("stop_1")) >= 1
    assert tok.reserved_ids["top"] not in tok.encode("stop_1")
    ids = tok.encode("[emphasis:top]")
    assert [tok.vocab_strings()[i] for i in ids] == ["[", "emphasis", ":", "top", "]"]


def test_bpe_reserves_nothing_but_specials(toks):
    tok = toks["bpe"]
    assert tok.reserved_ids == {}
    assert len(tok.encode("[scene]")) > 1


def test_reserved_ids_follow_specials_in_contract_order(toks):
    tok = toks["atomic"]
    assert list(tok.special_ids.values()) == list(range(len(SPECIAL_TOKENS)))
    ids = list(tok.reserved_ids.values())
    assert ids == list(range(len(SPECIAL_TOKENS), len(SPECIAL_TOKENS) + len(ids)))
    assert tok.meta.reserved[:2] == ("[scene]", "[/scene]")


@pytest.mark.parametrize("g", tokenizer.GRANULARITIES)
def test_text_never_encodes_to_a_special_id(toks, g):
    tok = toks[g]
    text = "[scene] <|eos|> [OUT] <|bos|><|pad|> [/scene]"
    ids = tok.encode(text)
    assert not set(ids) & set(tok.special_ids.values())
    assert tok.decode(ids) == text


def test_encode_row_frames_prompt_and_target(toks):
    tok = toks["atomic"]
    prompt, target = "[task:svg] [layout:timeline] [OUT]", "[scene] [/scene]"
    p, t = tok.encode_row(prompt, target)
    assert p[0] == tok.bos_id and p[-1] == tok.out_id and p.count(tok.out_id) == 1
    assert t[-1] == tok.eos_id and tok.eos_id not in t[:-1]
    assert tok.decode(p[1:]) == prompt and tok.decode(t[:-1]) == target
    # a prompt without the marker gets one
    p2, _ = tok.encode_row("[task:svg]", target)
    assert p2[-1] == tok.out_id and tok.decode(p2[1:-1]) == "[task:svg]"


def test_payload_is_learned_from_the_corpus(toks):
    tok = toks["atomic"]
    # `header` (a gold content key) appears often enough to be one learned token
    (i,) = tok.encode("header")
    assert i not in tok.reserved_ids.values() and tok.vocab_strings()[i] == "header"


def test_reserved_never_scraped_from_corpus():
    junk = "[compare_bar:@compare_bar.0.label|@compare_bar.0.value|accent=amber]"
    tok = tokenizer.build("scene", corpus=[junk] * 500, granularity="atomic", vocab_size=1600)
    assert junk not in tok.reserved_ids
    assert tok.meta.reserved == tuple(t.text for t in reserved_tokens("scene", "atomic"))
    # the payload is learned but never merged across `.`, `|` or `]`
    strings = tok.vocab_strings()
    fixed = {*tok.reserved_ids.values(), *tok.special_ids.values()}
    learned = [strings[i] for i in range(tok.vocab_size) if i not in fixed]
    assert "compare_bar" in learned
    assert not [s for s in learned if len(s) > 1 and re.search(r"[\[\]|.:=@]", s)]


def test_encode_batch_equals_encode(toks, corpus):
    tok = toks["atomic"]
    assert tok.encode_batch(corpus[:50]) == [tok.encode(t) for t in corpus[:50]]


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"language": "yaml"}, "K001"),
        ({"granularity": "chars"}, "K001"),
        ({"vocab_size": 300}, "K001"),
        ({"corpus": ["", ""]}, "K002"),
        ({"space_led": True, "granularity": "split"}, "K001"),
        ({"space_led": True, "language": "trace"}, "K001"),
        ({"path_names": True, "granularity": "bpe"}, "K001"),
    ],
)
def test_bad_arguments_are_toolkit_errors(kwargs, code):
    args = {"language": "scene", "corpus": ["[scene] [/scene]"], "granularity": "atomic", **kwargs}
    language = args.pop("language")
    with pytest.raises(TokenizerError) as info:
        tokenizer.build(language, **args)
    assert info.value.code == code


def test_words_keeps_learned_pieces_inside_one_word():
    # topics pair known words; a held-out pair must be written with pieces training wrote
    subjects, aspects = ("cache", "queue", "router", "shard"), ("plan", "budget", "review")
    seen = [f"{s}_{a}" for s in subjects for a in aspects if (s, a) != ("router", "budget")]
    corpus = [f"[scene] [layout:timeline] [topic:{t}] [/scene]" for t in seen for _ in range(5)]
    for words in (False, True):
        tok = tokenizer.build("scene", corpus=corpus, vocab_size=1400, words=words)
        pieces = {i for text in corpus for i in tok.encode(text)}
        unseen = tok.encode("[scene] [layout:timeline] [topic:router_budget] [/scene]")
        strings = tok.vocab_strings()
        if words:
            assert set(unseen) <= pieces, [strings[i] for i in unseen if i not in pieces]
            assert all("_" not in strings[i] or strings[i] == "_" for i in pieces)
        else:  # the default split learns whole pairs, so the unseen pair needs new pieces
            assert not set(unseen) <= pieces


def test_space_led_twins_cost_one_id_per_piece_and_share_ids_with_the_prompt(tmp_path):
    import random

    from dslkit.tokenizer.model import load

    import scene_dsl
    from scene_dsl.skeleton import skeleton_prompt, skeleton_target
    from scene_dsl.strategies import sample_scene

    rng = random.Random(3)
    scenes = [scene_dsl.canonicalize(sample_scene(rng)) for _ in range(200)]
    prompts = [skeleton_prompt(s) for s in scenes]
    targets = [skeleton_target(p) for p in prompts]
    plain = tokenizer.build("scene", corpus=prompts + targets, vocab_size=2200)
    led = tokenizer.build("scene", corpus=prompts + targets, vocab_size=3000, space_led=True)
    assert led.meta.space_led and not plain.meta.space_led
    # the twins come after the plain reserved list: a plain tokenizer's ids stay put
    assert led.meta.reserved[: len(plain.meta.reserved)] == plain.meta.reserved
    strings = led.vocab_strings()
    for prompt, target in zip(prompts, targets, strict=True):
        ids = led.encode(target)
        assert led.decode(ids) == target
        assert strings[ids[0]] == "[scene]" and strings[ids[-1]] == " [/scene]"
        assert not any(strings[i] == " " for i in ids)  # no id is a bare separator
        assert len(ids) < len(plain.encode(target))
        # every prompt id but the task tags and the frame is an id the target writes
        tags = set(led.encode_prompt(" ".join(prompt.split(" ")[:2]) + " [OUT]"))
        assert set(led.encode_prompt(prompt)) - tags <= set(ids)
    from dslkit.tokenizer.lint import lint

    assert lint(led).ok  # the twins are contract structure, and expected once the flag is set
    # saved and loaded, the flag and the ids survive
    again = load(led.save(tmp_path / "led"))
    assert again.meta == led.meta and again.encode(targets[0]) == led.encode(targets[0])


def test_path_names_are_whole_words_of_content_paths():
    corpus = [
        "[scene] [layout:timeline] [topic:title_budget] [timeline_stage] [stage_id:a] "
        "[title_ref:timeline_stage.0.title] [/timeline_stage] [/scene]"
    ] * 5
    plain = tokenizer.build("scene", corpus=corpus, vocab_size=1400, words=True)
    named = tokenizer.build("scene", corpus=corpus, vocab_size=1500, words=True, path_names=True)
    assert named.meta.path_names and not plain.meta.path_names
    strings = named.vocab_strings()

    def pieces(tok, text):
        return [tok.vocab_strings()[i] for i in tok.encode(text)]

    assert pieces(named, "timeline_stage.0.title") == ["timeline_stage", ".", "0", ".", "title"]
    assert len(plain.encode("timeline_stage.0.title")) > 5
    # whole words only: the reserved name never splits a snake_case word or a field prefix
    whole = tokenizer.build("scene", corpus=corpus, vocab_size=1500, path_names=True)
    assert pieces(whole, "[topic:title_budget]") == ["[topic:", "title_budget", "]"]
    assert pieces(named, "[title_ref:")[0] == "[title_ref:"
    assert named.decode(named.encode(corpus[0])) == corpus[0]
    assert "items" in strings and "cells" in strings  # repeatable ref keys are plural


def test_structure_ids_are_the_component_tags_and_the_row_markers(toks):
    import scene_dsl

    tok = toks["atomic"]
    ids = tok.structure()
    strings = tok.vocab_strings()
    components = set(scene_dsl.load_contract("v1").components)
    assert {strings[i] for i in ids["structure_opens"]} == {f"[{c}]" for c in components}
    assert {strings[i] for i in ids["structure_closes"]} == {f"[/{c}]" for c in components}
    assert ids["structure_resets"] == (tok.bos_id, tok.out_id)
    fields = {strings[i] for i in ids["structure_fields"]}
    assert {"[title_ref:", "[accent:blue]", "[layout:timeline]"} <= fields
    # every field opener and nothing else: no element tag, no frame, no payload piece
    assert all(re.fullmatch(r"\[[a-z][a-z0-9_]*:.*", f) for f in fields)
    assert len(fields) == sum(1 for r in tok.meta.reserved if re.match(r"\[[a-z0-9_]+:", r))
    for kind in ("split", "bpe"):  # an open is no single id there
        with pytest.raises(TokenizerError, match=r"K001.*atomic scene"):
            toks[kind].structure()


def test_structure_ids_include_the_space_led_twins():
    import random

    import scene_dsl
    from scene_dsl.skeleton import skeleton_prompt, skeleton_target
    from scene_dsl.strategies import sample_scene

    rng = random.Random(5)
    scenes = [scene_dsl.canonicalize(sample_scene(rng)) for _ in range(60)]
    prompts = [skeleton_prompt(s) for s in scenes]
    corpus = prompts + [skeleton_target(p) for p in prompts]
    led = tokenizer.build("scene", corpus=corpus, vocab_size=2800, space_led=True)
    ids = led.structure()
    strings = led.vocab_strings()
    n = len(scene_dsl.load_contract("v1").components)
    assert len(ids["structure_opens"]) == len(ids["structure_closes"]) == 2 * n
    # every component tag a target writes is counted, whichever twin the tokenizer picked
    opens = set(ids["structure_opens"])
    for scene in scenes:
        written = [strings[i] for i in led.encode(scene_dsl.canonical_text(scene)) if i in opens]
        assert len(written) == sum(1 for _ in scene.walk())
