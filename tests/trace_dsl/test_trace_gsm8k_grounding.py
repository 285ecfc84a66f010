"""GSM8K grounding: number preprocessing and literals derived from the question."""

from __future__ import annotations

from fractions import Fraction

import pytest
from dslkit.compilers import Status, verify

from trace_dsl import Compute, Init, preprocess_numbers, to_text
from trace_dsl.gsm8k import Conversion, convert_detailed
from trace_dsl.gsm8k_derive import Facts, derive
from trace_dsl.gsm8k_grounding import counted_values, unit_constant
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


def test_whole_and_a_fraction_is_one_mixed_number() -> None:
    text, rewrites = preprocess_numbers("four and a half hours, 2 and 3/4 cups, 3 and 5/2")
    assert text == "4 1/2 hours, 2 3/4 cups, 3 and 5/2"
    # rewrites apply in order: "a half" -> "1/2", "four" -> "4", then "4 and 1/2" -> "4 1/2"
    assert [(r.original, r.replacement) for r in rewrites] == [
        ("a half", "1/2"),
        ("four", "4"),
        ("4 and 1/2", "4 1/2"),
        ("2 and 3/4", "2 3/4"),
    ]


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
    q = (
        "There are 24 toys and 1/4 of them are cars. He plays 30 minutes with each doll. "
        "How many hours does he play?"
    )
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


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Ann, Bill, Cate, and Dale each buy a pizza.", {4: "people"}),
        ("Mrs. Smith and Mr. Jones met.", {2: "people"}),
        ("He reads from Monday to Friday.", {5: "days"}),
        ("She saved from January through July.", {7: "months"}),
        ("He ran on Monday, then on Wednesday and on Saturday.", {3: "days"}),
        ("Travis and his brother ate candy.", {2: "people"}),
        ("She bought oranges, apples and watermelons.", {3: "kinds"}),
        ("Both of them came on a round trip.", {2: "both"}),
        # clause openers and repeated names are not lists of people
        ("If Ann wins and Ann loses, then what?", {}),
        ("Then he left. Yesterday and today it rained.", {}),
        ("He had 3 apples, 4 pears and 5 plums.", {}),
    ],
)
def test_counted_values_read_lists_and_ranges(question: str, expected: dict[int, str]) -> None:
    assert counted_values(question) == {Fraction(k): v for k, v in expected.items()}


def test_unit_constants_need_every_unit_in_the_problem() -> None:
    assert (
        unit_constant(Fraction(60), "8 pages in 20 minutes; how many hours?") == "minutes_per_hour"
    )
    assert unit_constant(Fraction(60), "8 pages in 20 minutes") is None
    assert unit_constant(Fraction(3), "the third bouquet had 13 carnations") is None
    assert unit_constant(Fraction(3), "a 6 feet board, in yards") == "feet_per_yard"
    assert unit_constant(Fraction(25), "4 quarters and 3 dimes, in cents") == "cents_per_quarter"
    assert unit_constant(Fraction(1, 20), "7 nickels") == "dollars_per_nickel"
    assert unit_constant(Fraction(30), "He spends $4 a day in April.") == "days_per_month"
    assert unit_constant(Fraction(1000), "9 kilometers in meters") == "meters_per_km"
    assert unit_constant(Fraction(1000), "a 1L carton holds how many 250ml cups") == "ml_per_liter"
    assert unit_constant(Fraction(5), "on school days") == "weekdays_per_week"


def test_solution_constants_are_labelled_from_the_questions_units() -> None:
    q = "Joy can read 8 pages of a book in 20 minutes. How many hours will it take her to read 120 pages?"
    a = "In one hour, there are 60/20 = <<60/20=3>>3 sets.\nSo 8 x 3 = <<8*3=24>>24 pages an hour.\n120/24 = <<120/24=5>>5 hours.\n#### 5"
    conv = convert_detailed(q, a)
    assert isinstance(conv, Conversion) and _solves(conv)
    assert {g.var: g.kind for g in conv.inits}["minutes_per_hour"] == "constant"


def test_linear_solution_adds_back_a_stated_difference() -> None:
    q = "The Reptile House has 5 fewer animals than 3 times the Rain Forest. The Reptile House has 16 animals. How many are in the Rain Forest?"
    a = "Let x be the number of animals in the Rain Forest exhibit\n3x-5=16\n3x=21\nx=<<7=7>>7\n#### 7"
    conv = convert_detailed(q, a)
    assert isinstance(conv, Conversion) and _solves(conv)
    assert sorted(_inits(conv).values()) == [3, 5, 16]
    assert all(g.kind == "grounded" for g in conv.inits)
