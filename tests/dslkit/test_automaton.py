"""The automaton engine: regexes read as the stdlib reads them, infinite character sets."""

from __future__ import annotations

import re
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dslkit.automaton import (
    DEAD,
    INF,
    Automaton,
    CharSet,
    Piece,
    _Piece,
    lit,
    min_length,
    regex,
    seq,
    star,
    template,
)

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


class _Twice:
    """``pattern, pattern`` and a newline, each value a copy of one template of the pattern."""

    def __init__(self, pattern: str) -> None:
        value = template(regex(pattern))
        self.pattern = seq(value, star(seq(lit(", "), value)), lit("\n"))

    def pieces(self) -> list[Piece]:
        return [Piece(self.pattern, _End())]

    def min_rest(self) -> int:
        return min_length(self.pattern)

    accepting = False
    final = False


@pytest.mark.parametrize("pattern", PATTERNS)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_a_template_reads_what_its_pattern_reads_in_each_copy(
    pattern: str, data: st.DataObject
) -> None:
    # a template is copied state for state wherever the pattern is written: the language is
    # the pattern's, each copy is recorded where it lies (its state 0 is where the build
    # starts, its state k the copy's base + k)
    auto = Automaton(_Twice(pattern))
    values = data.draw(st.lists(st.from_regex(pattern, fullmatch=True), min_size=1, max_size=3))
    bits = st.sampled_from(["a", "b", "_", "0", "9", ".", '"', ", ", "\n", "×"])
    other = data.draw(st.lists(bits, max_size=6).map("".join))
    assert auto.accepts(", ".join(values) + "\n"), values
    one = pattern.removesuffix(r"\Z")  # (an anchor reads nothing: no use between values)
    wanted = bool(re.fullmatch(rf"(?:{one})(?:, (?:{one}))*", other))
    assert auto.accepts(other + "\n") == wanted, other
    piece = _Piece(_Twice(pattern).pattern)
    first, second = piece.copies
    assert first.template is second.template and first.base < second.base
    rows, edges = first.template.rows, piece.nfa.edges
    for copy in (first, second):
        for k, row in enumerate(rows[1:], 1):
            # (the copy's end reads on into what follows: its own edges come first)
            mine = edges[copy.base + k][: len(row)]
            assert mine == tuple((cs, copy.base + t if t else copy.entry) for cs, t in row)


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


def _hand_written(nfa, s):  # type: ignore[no-untyped-def]
    """A hand-written fragment: ``ab`` (built state by state, not from the constructors)."""
    a, b = nfa.new(), nfa.new()
    nfa.add(s, a, "a")
    nfa.add(a, b, "b")
    return b


def _hand_written_too(nfa, s):  # type: ignore[no-untyped-def]
    """Another function building the same NFA as :func:`_hand_written`."""
    return _hand_written(nfa, s)


def _other_hand_written(nfa, s):  # type: ignore[no-untyped-def]
    a = nfa.new()
    nfa.add(s, a, "a")
    return a


def test_piece_digest_names_the_pattern_not_the_object() -> None:
    """Saved walk tables of long rests are found again by the piece's digest: equal patterns
    built apart (and in another process, with another hash seed) share it; any difference in
    a literal, a character set, a mark or a hand-written NFA changes it."""
    import subprocess
    import sys

    from dslkit.automaton import chars, star, tag

    def build(word: str = "x", cs: str = "ab", kind: str = "ref", fn=_hand_written):  # type: ignore[no-untyped-def]
        return seq(lit(word), tag(kind, star(chars(cs))), regex(r"[^\]\n]+"), fn, lit("]"))

    base = _Piece(build()).digest
    assert _Piece(build()).digest == base
    assert _Piece(build(fn=_hand_written_too)).digest == base  # same NFA, another function
    for changed in (
        build(word="y"),
        build(cs="ac"),
        build(kind="id"),
        build(fn=_other_hand_written),
        seq(lit("x"), tag("ref", star(chars("ab"))), regex(r"[^\]\n]"), _hand_written, lit("]")),
    ):
        assert _Piece(changed).digest != base
    code = (
        "from tests.dslkit.test_automaton import _Piece, _build_for_subprocess;"
        "print(_Piece(_build_for_subprocess()).digest)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONHASHSEED": "7", "PATH": ""},
        cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]),
    )
    assert out.stdout.strip() == _Piece(_build_for_subprocess()).digest


def _build_for_subprocess():  # type: ignore[no-untyped-def]
    from dslkit.automaton import CharSet, chars, star, tag

    # an infinite set too (its text must not depend on the hash seed)
    other = CharSet(frozenset("xyz"), negated=True, exclude=frozenset("\n\t"))
    return seq(lit("k: "), tag("ref", star(chars(frozenset("pqrs")))), chars(other), _hand_written)


# A nested language written as a language may write it: every block lists the same tuple of
# pieces whatever its depth, and its next contexts are made from the block that lists them.
_OPEN, _CLOSE = lit("("), lit(")")


class _Nest:
    """Inside ``depth`` open parentheses: another one, or a closing one (at depth 0, the end
    newline instead)."""

    LISTED: ClassVar[list[_Nest]] = []  # the contexts the piece functions were called with

    def __init__(self, depth: int) -> None:
        self.depth = depth

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Nest) and other.depth == self.depth

    def __hash__(self) -> int:
        return hash(("nest", self.depth))

    def pieces(self) -> tuple[Piece, ...]:
        return _AT_TOP if self.depth == 0 else _INSIDE

    def min_rest(self) -> int:
        return self.depth + 1

    accepting = False
    final = False


def _deeper(here: _Nest) -> _Nest:
    _Nest.LISTED.append(here)
    return _Nest(here.depth + 1)


def _shallower(here: _Nest) -> _Nest:
    _Nest.LISTED.append(here)
    return _Nest(here.depth - 1)


_AT_TOP = (Piece(_OPEN, _deeper), Piece(lit("\n"), _End()))
_INSIDE = (Piece(_OPEN, _deeper), Piece(_CLOSE, _shallower))


def test_a_piece_makes_its_next_context_from_the_context_that_lists_it() -> None:
    _Nest.LISTED.clear()
    auto = Automaton(_Nest(0))
    assert auto.accepts("(()())\n") and auto.accepts("\n")
    assert not auto.accepts("())\n") and not auto.accepts("(\n")
    assert auto.is_prefix("((") and auto.dist(auto.advance(auto.start, "((")) == 3
    # one call per context and piece, each with the context the piece is listed in
    assert sorted(c.depth for c in _Nest.LISTED) == [0, 1, 1, 2]
    # every block lists the same pieces: one compiled structure serves all depths
    inner = {auto._at(auto.advance(auto.start, "(" * d))[1].comp for d in (1, 2, 3)}
    assert len(inner) == 1


def test_reads_within_stays_in_the_context() -> None:
    """True: the text ends inside the context's pieces; False: it leaves the language there;
    None: it completes a piece first (what follows depends on the next context)."""
    auto = Automaton(_Once(r"ab+"))
    start = auto.start
    assert auto.reads_within(start, "abb") is True
    assert auto.reads_within(start, "ba") is False
    assert auto.reads_within(start, "ab\nzzz") is None
    assert auto.reads_within(auto.advance(start, "a"), "b") is True


def test_a_repetition_ends_in_the_same_state_however_often_it_ran() -> None:
    # ``x+`` is one copy of ``x`` that loops back: a content ref's first character and its
    # later ones leave the same state (one name for the rest, one walk of a vocabulary), and
    # a marked value is still entered at its first character, not before.
    from dslkit.automaton import tag

    auto = Automaton(_Once(r"[a-z]+(?:\.[a-z]+)*"))
    first = {auto.advance(auto.start, text) for text in ("a", "ab", "abc")}
    later = {auto.advance(auto.start, text) for text in ("a.b", "a.bc", "x.y.zz")}
    assert len(first) == len(later) == 1 and DEAD not in first | later
    assert auto.advance(auto.start, "a.") not in first | later

    class _Marked(_Once):
        def pieces(self) -> list[Piece]:
            return [Piece(seq(lit("@"), tag("ref", regex(self.pattern)), lit("\n")), _End())]

    marked = Automaton(_Marked(r"[a-z]+"))
    at = marked.advance(marked.start, "@")
    assert marked.payload(at) is None and marked.commits(at) == "ref"
    assert marked.payload(marked.advance(at, "ab")) == "ref"


def test_rests_named_alike_are_the_same_graph_with_or_without_template_copies() -> None:
    # A rest is named by a search that writes a template copy as its template's digest and
    # the numbers its states got: two rests of the trace's step lines with one name must be
    # one graph under their canonical numberings (state i of one is state i of the other,
    # edge for edge), and they are named alike exactly when the plain search, which writes
    # every edge, names them alike.
    from dslkit.automaton import empty_closure
    from trace_dsl.automaton import _TraceLang

    lines = {id(line): line for lines in _TraceLang().lines.values() for line in lines}
    # and copies that differ only in their template's edges or in what reads before them
    name, digits = template(regex("[a-z]+")), template(regex("[0-9]+"))
    for value in (name, digits, seq(star(lit("0")), name), seq(star(lit("1")), name)):
        line = seq(lit("a="), value, lit(";"), value, lit(";\n"))
        lines[id(line)] = line
    named: dict[object, tuple[_Piece, tuple[int, ...]]] = {}
    plain_of: dict[object, object] = {}
    blocked = 0
    for line in lines.values():
        piece, plain = _Piece(line), _Piece(line)
        plain.__dict__["blocks"] = ([], [])  # (the search that writes every edge)
        blocked += bool(piece.blocks[0])
        edges = piece.nfa.edges
        for s in range(len(edges)):
            states = frozenset(x for x in empty_closure(edges, s) if edges[x])
            if not states:
                continue
            rest, other = piece._residual(states), plain._residual(states)
            if rest.order is None:
                assert other.order is None  # (a long rest either way)
                continue
            # (a copy is numbered whole: its states before the start too)
            assert set(rest.order) >= set(other.order) and rest.start == other.start
            assert plain_of.setdefault(rest.key, other.key) == other.key
            first = named.setdefault(rest.key, (piece, rest.order))
            mapping = dict(zip(first[1], rest.order, strict=True))
            for x, y in mapping.items():
                row = [(cs, mapping[t]) for cs, t in first[0].nfa.edges[x]]
                assert row == list(edges[y]), (rest.key[:3], x, y)
    assert blocked > 5 and len(plain_of) == len(set(plain_of.values()))
