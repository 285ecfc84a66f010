"""GSM8K grounding: number preprocessing and literals derived from the question."""

from __future__ import annotations

from fractions import Fraction

import pytest

from compilers import Status, verify
from trace_dsl import Compute, Init, preprocess_numbers, to_text
from trace_dsl.gsm8k import Conversion, convert_detailed
from trace_dsl.gsm8k_derive import Facts, derive
from trace_dsl.numbers import find_numbers


@pytest.mark.parametrize(
    ("text", "values"),
    [
        ("each visit takes .5 hours at $.25", ["1/2", "1/4"]),
        ("¼ of them and 1½ cups", ["1/4", "1", "1/2"]),
        ("it made $120 million", ["120000000"]),
        ("every third page and every other day", ["3", "2"]),
        ("once a week", ["1"]),
        ("a pair of shoes and a couple of days", ["2", "2"]),
        ("she was halfway there", ["1/2"]),
        ("a 12.5% raise", ["1/8"]),
        ("a hundred and twenty-five men", ["100", "25"]),
    ],
)
def test_preprocess_numbers_finds_spelled_and_formatted_numbers(
    text: str, values: list[str]
) -> None:
    out, rewrites = preprocess_numbers(text)
    assert [m.value for m in find_numbers(out)] == [Fraction(v) for v in values]
    assert all(r.original in text for r in rewrites)


def test_words_that_are_not_numbers_stay() -> None:
    text = "Someone at the station met everyone; the other second baseman won."
    assert preprocess_numbers(text) == (text, [])


def _inits(conv: Conversion) -> dict[str, object]:
    return {s.var: s.value for s in conv.trace.steps if isinstance(s, Init)}


def _solves(conv: Conversion) -> bool:
    return verify(to_text(conv.trace), conv.answer).status is Status.CORRECT


def test_percent_complement_is_computed_from_the_percent() -> None:
    q = "A $40 shirt is on sale for 20% off. What does it cost?"
    a = "It costs 40 * .8 = $<<40*.8=32>>32.\n#### 32"
    conv = convert_detailed(q, a)
    assert isinstance(conv, Conversion) and _solves(conv)
    assert Fraction(4, 5) not in {Fraction(str(v)) for v in _inits(conv).values()}
    assert all(g.kind == "grounded" for g in conv.inits)
    assert any(isinstance(s, Compute) and s.compute_op == "sub" for s in conv.trace.steps)


def test_fraction_complement_and_unit_conversion_are_derived() -> None:
    q = "There are 24 toys and 1/4 of them are cars. He plays 30 minutes with each doll."
    a = "There are 24 * 3/4 = <<24*3/4=18>>18 dolls.\nHe plays 18 * .5 = <<18*.5=9>>9 hours.\n#### 9"
    conv = convert_detailed(q, a)
    assert isinstance(conv, Conversion) and _solves(conv)
    kinds = {g.value: g.kind for g in conv.inits}
    # 3 is 4 - 1 of the stated 1/4; 0.5 hours is the stated 30 minutes over 60
    assert 3 not in kinds and Fraction(1, 2) not in kinds
    assert kinds[30] == "grounded" and kinds[60] == "constant"


def test_linear_solution_keeps_the_intermediate() -> None:
    q = "Jake's snake is 12 inches longer than Penny's. Together they are 70 inches. How long is Penny's?"
    a = "2p + 12 = 70\n2p = 58\np = 58 / 2 = <<58/2=29>>29 inches.\n#### 29"
    conv = convert_detailed(q, a)
    assert isinstance(conv, Conversion) and _solves(conv)
    assert 58 not in _inits(conv).values()


def test_derive_reads_only_clear_shapes() -> None:
    facts = Facts(
        values=(Fraction(3), Fraction(20), Fraction(100)),
        percents=(Fraction(20),),
        fractions=((Fraction(1), Fraction(3)),),
        quantities=((Fraction(30), Fraction(60)),),
    )
    assert derive(Fraction(4, 5), facts) == (
        "op",
        "div",
        [("op", "sub", [("num", 100), ("num", 20)]), ("num", 100)],
    )
    assert derive(Fraction(120), facts) == ("op", "add", [("num", 100), ("num", 20)])
    assert derive(Fraction(2, 3), facts) is not None  # the rest of a stated 1/3
    assert derive(Fraction(1, 2), facts) == ("op", "div", [("num", 30), ("num", 60)])
    # 23 = 20 + 3 of two unrelated numbers is a coincidence, never a derivation
    assert derive(Fraction(23), facts) is None
    assert derive(Fraction(1), facts) is None
