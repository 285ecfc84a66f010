"""The automaton engine: regexes read as the stdlib reads them, infinite character sets."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dslkit.automaton import DEAD, INF, Automaton, CharSet, Piece, lit, min_length, regex, seq

PATTERNS = [
    r"[A-Za-z_][A-Za-z0-9_]*\Z",
    r"[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*\Z",
    r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?",
    r"(?:prev|sub(?:0|[1-9][0-9]*))\.result",
    r'"[^"\\\n]*"',
    r"[^\[\]\s]*",
    r"a{2,4}b?|\d+",
    r"x.y",
    r"[\u0100-\uffff]+",
]


class _Once:
    """A one-piece language: the pattern and a newline (a piece must end unambiguously, and
    none of the patterns reads a newline), then the end."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern

    def pieces(self) -> list[Piece]:
        return [Piece(seq(regex(self.pattern), lit("\n")), _End())]

    def min_rest(self) -> int:
        return min_length(regex(self.pattern)) + 1

    accepting = False
    final = False


class _End:
    def pieces(self) -> list[Piece]:
        return []

    def min_rest(self) -> int:
        return 0

    accepting = True
    final = True


def _accepts(pattern: str, text: str) -> bool:
    return Automaton(_Once(pattern)).accepts(text + "\n")


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_regex_reads_what_re_reads(pattern: str, data: st.DataObject) -> None:
    matching = data.draw(st.from_regex(pattern, fullmatch=True))
    assert _accepts(pattern, matching), matching
    other = data.draw(st.text(st.sampled_from("aAb_0919.-\"'\\ \n[]éx×\u2028"), max_size=8))
    assert _accepts(pattern, other) == bool(re.fullmatch(pattern, other)), other


def test_charsets_are_infinite_and_exclude() -> None:
    cs = CharSet(frozenset('"\\\n'), negated=True, exclude=frozenset("\t"))
    assert "é" in cs and "×" in cs and "\U0001f600" in cs
    assert '"' not in cs and "\t" not in cs and "\n" not in cs
    assert cs.first() == " "
    assert "\u00e9" in CharSet(classes=("word",)) and "-" not in CharSet(classes=("word",))
    assert _accepts(r'"[^"\n]*"', '"café × 2"')
    text = regex(r'"[^"]*"', exclude="\t")
    assert min_length(seq(lit("ab"), text)) == 4


def test_unsupported_constructs_are_refused() -> None:
    for pattern in (r"(?!a)b", r"(a)\1", r"(?i)a", r"a(?=b)"):
        with pytest.raises(ValueError):
            regex(pattern)


def test_dead_and_distances() -> None:
    auto = Automaton(_Once(r"ab+"))
    assert auto.dist(auto.start) == 3
    s = auto.advance(auto.start, "abb\n")
    assert auto.accepting(s) and auto.dist(s) == 0
    assert auto.advance(auto.start, "ac") == DEAD and auto.dist(DEAD) == INF
    assert auto.is_prefix("ab") and not auto.accepts("ab")
