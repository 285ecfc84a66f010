"""The parser's fast lexer must produce exactly the tokens of Lark's own lexer."""

from __future__ import annotations

import random

import pytest
from lark.exceptions import UnexpectedCharacters

import scene_dsl
from scene_dsl.parser import _FastLexer, _FastLexFailed, _lark
from scene_dsl.strategies import mutate_text, sample_scene


def _tokens(tokens):  # type: ignore[no-untyped-def]
    return [(t.type, t.value, t.start_pos, t.line, t.column, t.end_pos) for t in tokens]


def _texts(n: int) -> list[str]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        scene = sample_scene(rng)
        text = scene_dsl.to_text(scene, form="row" if i % 2 else "block", inline=i % 3 == 0)
        out.append(text.replace("\n", "\r\n") if i % 5 == 0 else text)
        out.append(mutate_text(rng, text, 2))
    return out


@pytest.mark.parametrize("chunk", range(4))
def test_fast_lexer_tokens_equal_lark_lexer_tokens(chunk: int) -> None:
    fast, standard, _ = _lark()
    lexer = fast.parser.lexer.lexer  # the _FastLexer inside Lark's interface-0 wrapper
    assert isinstance(lexer, _FastLexer)
    lexed = 0
    for text in _texts(60)[chunk::4]:
        try:
            want = _tokens(standard.lex(text))
        except UnexpectedCharacters:
            # Lark cannot lex it: the fast lexer must give up too (parse() then reports
            # Lark's own error), never guess.
            with pytest.raises(_FastLexFailed):
                _tokens(lexer.lex(text))
            continue
        assert _tokens(lexer.lex(text)) == want, text
        lexed += 1
    assert lexed >= 15  # every unmutated text, and some mutated ones


def test_fast_path_and_recovering_parse_agree_on_valid_text() -> None:
    for text in _texts(30)[::2]:
        result = scene_dsl.parse(text, errors="collect")  # always Lark's lexer
        if result.ok:
            assert scene_dsl.parse(text) == result.scene
