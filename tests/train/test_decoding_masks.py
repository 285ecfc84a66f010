"""Grammar masks: canonical programs stay inside them, cached masks equal brute force, every
allowed token keeps a prefix that Lark accepts and that still completes to a parsing program."""

from __future__ import annotations

import random
import re
from pathlib import Path

import numpy as np
import pytest
from data_decoding_helpers import CharTokenizer, scene_tokenizer
from dslkit.train.token_mask import TokenMasker, brute_force_mask

import scene_dsl
import trace_dsl
from dslkit.automaton import DEAD
from scene_dsl.strategies import sample_scene

ALPHABET = "".join(chr(c) for c in range(32, 127)) + "\n"
TRACES = sorted((Path(__file__).resolve().parents[2] / "examples" / "traces").glob("*.trace"))


def trace_tokenizer() -> CharTokenizer:
    pieces = [
        "expert: ",
        "- expert: ",
        "trace:\n",
        "- {op: ",
        "}\n",
        ", var: ",
        ", value: ",
        "query",
    ]
    return CharTokenizer(pieces)


LANGUAGES = ("scene", "row", "trace")  # "row": scenes in row form


def masker_for(language: str) -> tuple[TokenMasker, CharTokenizer]:
    tok = trace_tokenizer() if language == "trace" else scene_tokenizer()
    auto = {
        "scene": scene_dsl.prefix_automaton,
        "row": lambda: scene_dsl.prefix_automaton(form="row"),
        "trace": trace_dsl.prefix_automaton,
    }[language]()
    specials = set(tok.special_ids.values())
    return TokenMasker(auto, tok.vocab_strings(), specials, tok.special_ids["<|eos|>"]), tok


def scene_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [scene_dsl.canonical_text(sample_scene(rng), inline=True) for _ in range(n)]


def row_texts(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [scene_dsl.canonical_text(sample_scene(rng), form="row", inline=True) for _ in range(n)]


def trace_texts() -> list[str]:
    return [
        trace_dsl.to_text(trace_dsl.canonicalize(trace_dsl.parse(p.read_text()))) for p in TRACES
    ]


def walk(masker: TokenMasker, vocab: list[str], rng: random.Random, steps: int) -> list[int]:
    """States along a random constrained walk (uniform over allowed tokens)."""
    sid, states = masker.start, []
    for _ in range(steps):
        states.append(sid)
        ids = masker.info(sid).ids
        ids = ids[ids != masker.eos_id]
        if len(ids) == 0:
            break
        sid = masker.advance(sid, int(rng.choice(list(ids))))
    return states


@pytest.mark.parametrize("language", LANGUAGES)
def test_training_targets_are_never_masked(language: str) -> None:
    masker, tok = masker_for(language)
    texts = {
        "scene": lambda: scene_texts(25, 1),
        "row": lambda: row_texts(200, 1),
        "trace": trace_texts,
    }[language]()
    if language == "row":
        assert any("|" in t for t in texts) and any("=" in t for t in texts)  # really row form
    for text in texts:
        sid = masker.start
        for t in tok.encode(text):
            assert masker.info(sid).mask[t], (text, tok.decode([t]))
            sid = masker.advance(sid, t)
        assert masker.info(sid).mask[masker.eos_id], text  # the program may end here
        assert masker.automaton.accepting(sid), text


@pytest.mark.parametrize("language", LANGUAGES)
def test_cached_masks_equal_brute_force(language: str) -> None:
    masker, tok = masker_for(language)
    vocab = tok.vocab_strings()
    specials = {i: s for s, i in tok.special_ids.items()}
    rng = random.Random(5)
    for _ in range(2):
        for sid in walk(masker, vocab, rng, 150)[::9]:
            fast = masker.info(sid).mask
            slow = brute_force_mask(masker.automaton, vocab, specials, masker.eos_id, sid)
            assert np.array_equal(fast, slow)


def _lark_scene_viable(parser, text: str) -> bool:  # type: ignore[no-untyped-def]
    """Lark oracle: complete tokens feed the LALR parser; a partial last bracket token must be
    completable to a terminal that ``InteractiveParser.accepts()`` lists."""
    from lark.exceptions import UnexpectedInput

    cut = text.rfind("[")
    head, tail = (text, "") if cut < 0 or "]" in text[cut:] else (text[:cut], text[cut:])
    try:
        ip = parser.parse_interactive(head)
        ip.exhaust_lexer()
    except UnexpectedInput:
        return False
    if not tail:
        return True
    for name in ip.accepts():
        if name == "$END":
            continue
        pattern = parser.get_terminal(name).pattern
        if pattern.type == "str" and pattern.value.startswith(tail):
            return True
        pattern = pattern.to_regexp()
        if any(re.fullmatch(pattern, tail + end) for end in ("]", "a]")):
            return True
    return False


def test_scene_masks_agree_with_lark_accepts() -> None:
    from lark import Lark

    grammar = (Path(scene_dsl.__file__).parent / "scene.lark").read_text()
    parser = Lark(grammar, parser="lalr")
    masker, tok = masker_for("scene")
    vocab = tok.vocab_strings()
    rng = random.Random(11)
    auto = masker.automaton
    for _ in range(3):
        text, sid = "", masker.start
        for _ in range(60):
            info = masker.info(sid)
            for t in info.ids.tolist():
                if t != masker.eos_id:
                    assert _lark_scene_viable(parser, text + vocab[t]), (text, vocab[t])
            # tokens the automaton refuses but Lark would take are contract/canonical choices:
            # the canonical token must never be among them (checked in the test above)
            choices = [t for t in info.ids.tolist() if t != masker.eos_id]
            if not choices:
                break
            t = rng.choice(choices)
            text, sid = text + vocab[t], masker.advance(sid, t)
        completed = text + (auto.complete(sid, ALPHABET) or "")
        res = scene_dsl.parse(completed, errors="collect")
        assert res.ok, (completed, res.diagnostics)
        assert parser.parse(completed)


def test_trace_prefixes_complete_to_parsing_traces() -> None:
    masker, tok = masker_for("trace")
    vocab = tok.vocab_strings()
    auto = masker.automaton
    rng = random.Random(3)
    for _ in range(6):
        text, sid = "", masker.start
        for _ in range(rng.randrange(5, 120)):
            choices = [t for t in masker.info(sid).ids.tolist() if t != masker.eos_id]
            t = rng.choice(choices)
            text, sid = text + vocab[t], masker.advance(sid, t)
        completed = text + (auto.complete(sid, ALPHABET) or "")
        res = trace_dsl.parse(completed, errors="collect")
        assert res.ok, (completed, res.diagnostics)


def test_dead_text_is_dead() -> None:
    auto = scene_dsl.prefix_automaton()
    assert auto.advance(auto.start, "[scene] [layout:nope]") == DEAD
    assert auto.advance(auto.start, "[scene] [section_card]") == DEAD  # no layout yet
    s = auto.advance(auto.start, "[scene] [layout:timeline] [timeline_stage]")
    assert auto.advance(s, " [/timeline_stage]") == DEAD  # stage_id is required
    assert auto.advance(s, " [section_card]") == DEAD  # not in the timeline family
    t = trace_dsl.prefix_automaton()
    assert t.advance(t.start, "expert: arithmetic\ntrace:\n- {op: init, var: yes") != DEAD
    assert t.advance(t.start, "expert: arithmetic\ntrace:\n- {op: init, var: yes,") == DEAD
    assert t.advance(t.start, "expert: arithmetic\ntrace:\n- {op: transfer") == DEAD  # wrong expert
