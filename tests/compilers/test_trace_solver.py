"""The trace solver: worked examples, one test per status and per X code, the reward ladder."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest
from dslkit.compilers import RewardLadder, Status, solve, verify
from dslkit.compilers.codes import SOLVER_CODES
from dslkit.compilers.trace_solver import MAX_STEPS, Result

from trace_dsl import Init, Query, SubTrace, Trace, parse

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "traces"
HEAD = "expert: arithmetic\ntrace:\n"


def steps(*lines: str, expert: str = "arithmetic") -> str:
    return f"expert: {expert}\ntrace:\n" + "".join(f"- {line}\n" for line in lines)


# ---------------------------------------------------------------- worked examples
def test_worked_example_eggs_is_18() -> None:
    v = verify((EXAMPLES / "janet_eggs.trace").read_text(), 18, expected_expert="arithmetic")
    assert (v.status, v.answer, v.reward) == (Status.CORRECT, 18, 1.0)


def test_worked_example_discount_with_shipping_is_74() -> None:
    v = verify((EXAMPLES / "discount_shipping.trace").read_text(), "74")
    assert (v.status, v.answer) == (Status.CORRECT, 74)
    assert v.result.block_answers == (64, 74)


def test_issue_abridged_eggs_trace_solves_to_what_it_says() -> None:
    # the issue's display omits the muffins step: (16 - 3) * 2
    text = steps(
        "{op: init, var: eggs, value: 16}",
        "{op: init, var: breakfast, value: 3}",
        "{op: compute, compute_op: sub, args: [eggs, breakfast], var: step1}",
        "{op: init, var: price, value: 2}",
        "{op: compute, compute_op: mul, args: [step1, price], var: result}",
        "{op: query, var: result}",
    )
    assert solve(text).answer == 26


# ---------------------------------------------------------------- exactness
def test_arithmetic_is_exact() -> None:
    text = steps(
        "{op: init, var: a, value: 1}",
        "{op: compute, compute_op: div, args: [a, 3], var: third}",
        "{op: compute, compute_op: mul, args: [third, 3], var: result}",
        "{op: query, var: result}",
    )
    r = solve(text)
    assert r.answer == 1 and type(r.answer) is int


def test_fractional_answer_is_a_fraction_and_a_float() -> None:
    text = steps(
        "{op: init, var: a, value: 0.1}",
        "{op: compute, compute_op: add, args: [a, 0.2], var: result}",
        "{op: query, var: result}",
    )
    r = solve(text)
    assert r.answer == Fraction(3, 10) and r.answer_float == pytest.approx(0.3)


def test_last_query_wins_and_reinit_makes_a_variable_init_only() -> None:
    text = steps(
        "{op: init, var: a, value: 2}",
        "{op: compute, compute_op: pow, args: [a, 10], var: b}",
        "{op: query, var: b}",
        "{op: compute, compute_op: sqrt, args: [b], var: c}",
        "{op: query, var: c}",
    )
    assert solve(text).answer == 32


@pytest.mark.parametrize(
    "op, expected", [("percent_off", 64), ("percent_increase", 96), ("percent_of", 16)]
)
def test_percent_ops(op: str, expected: int) -> None:
    text = steps(
        "{op: init, var: price, value: 80}",
        f"{{op: {op}, base: price, rate: 20, var: result}}",
        "{op: query, var: result}",
        expert="percentage",
    )
    assert solve(text).answer == expected


# ---------------------------------------------------------------- statuses
def test_status_parse_fail() -> None:
    v = verify(steps("{op: init, var: x, value: 80,000}"), 1)
    assert (v.status, v.reward, v.error.code) == (Status.PARSE_FAIL, 0.0, "T104")  # type: ignore[union-attr]


def test_status_wrong_expert_expected() -> None:
    v = verify((EXAMPLES / "janet_eggs.trace").read_text(), 18, expected_expert="percentage")
    assert (v.status, v.reward) == (Status.WRONG_EXPERT, 0.3)


def test_status_invalid_trace() -> None:
    v = verify(steps("{op: init, var: x, value: 1}", "{op: query, var: x}"), 1)
    assert (v.status, v.reward) == (Status.INVALID_TRACE, 0.5)


def test_status_wrong_answer() -> None:
    v = verify((EXAMPLES / "janet_eggs.trace").read_text(), [17, 19])
    assert (v.status, v.reward, v.answer) == (Status.WRONG_ANSWER, 0.7, 18)


def test_status_correct_with_tolerance() -> None:
    text = steps(
        "{op: init, var: a, value: 10}",
        "{op: compute, compute_op: div, args: [a, 3], var: result}",
        "{op: query, var: result}",
    )
    assert verify(text, 3.33).status is Status.WRONG_ANSWER
    assert verify(text, 3.33, tolerance=0.01).status is Status.CORRECT


def test_status_solved_without_expectation() -> None:
    v = verify((EXAMPLES / "janet_eggs.trace").read_text())
    assert v.status is Status.SOLVED and solve((EXAMPLES / "janet_eggs.trace").read_text()).ok


def test_reward_ladder_is_configurable() -> None:
    ladder = RewardLadder(wrong_answer=0.1)
    assert verify((EXAMPLES / "janet_eggs.trace").read_text(), 1, ladder=ladder).reward == 0.1


def test_caller_errors_raise() -> None:
    with pytest.raises(ValueError):
        verify(HEAD, "eighteen")
    with pytest.raises(ValueError):
        verify(HEAD, 1, tolerance=-1)


# ---------------------------------------------------------------- one test per X code
X_CASES: dict[str, tuple[str, int | None]] = {
    "X201": (
        steps(
            "{op: init, var: a, value: 1}",
            "{op: compute, compute_op: div, args: [a, 0], var: r}",
            "{op: query, var: r}",
        ),
        1,
    ),
    "X202": (
        steps("{op: compute, compute_op: add, args: [a, 1], var: r}", "{op: query, var: r}"),
        0,
    ),
    "X203": (steps("{op: init, var: a, value: 1}", "{op: query, var: a}"), 1),
    "X204": (
        steps(
            "{op: init, var: a, value: 1}",
            "{op: percent_of, base: a, rate: 5, var: r}",
            "{op: query, var: r}",
        ),
        1,
    ),
    "X205": (
        steps(
            "{op: init, var: a, source: prev.result}",
            "{op: compute, compute_op: add, args: [a, 1], var: r}",
            "{op: query, var: r}",
        ),
        0,
    ),
    "X206": (
        steps(
            "{op: init, var: a, value: 10}",
            "{op: compute, compute_op: pow, args: [a, 100000000000], var: r}",
            "{op: query, var: r}",
        ),
        1,
    ),
    "X207": (
        steps(
            "{op: init, var: a, value: 1}",
            "{op: transfer, from_entity: a, to_entity: b, amount: 2}",
            "{op: query, var: b}",
            expert="entity_track",
        ),
        1,
    ),
    "X208": (
        steps("{op: consume, entity: a, amount: 2}", "{op: query, var: a}", expert="entity_track"),
        0,
    ),
    "X209": (
        steps(
            "{op: init, var: a, value: 1}", "{op: compute, compute_op: add, args: [a, 1], var: r}"
        ),
        None,
    ),
    "X210": (
        steps(
            "{op: init, var: a, value: 1}",
            "{op: compute, compute_op: sub, args: [a, 1, 1], var: r}",
            "{op: query, var: r}",
        ),
        1,
    ),
    "X211": (
        steps("{op: compute, compute_op: sqrt, args: [-4], var: r}", "{op: query, var: r}"),
        0,
    ),
    "X212": (
        steps(
            "{op: compute, compute_op: add, args: [1, 1], var: r}",
            "{op: state, assertions: {r: 3}}",
            "{op: query, var: r}",
        ),
        1,
    ),
    "X213": (steps("{op: init, var: a, value: 1}", expert="algebra"), None),
}


@pytest.mark.parametrize("code", sorted(X_CASES))
def test_solver_error_codes(code: str) -> None:
    text, step = X_CASES[code]
    r = solve(text)
    want = Status.WRONG_EXPERT if code == "X213" else Status.INVALID_TRACE
    assert r.status is want and r.answer is None
    assert r.error is not None
    assert (r.error.code, r.error.name, r.error.step) == (code, SOLVER_CODES[code].name, step)
    if step is not None:
        assert r.error.line == 3 + step  # positions come from the text
    with pytest.raises(Exception) as info:
        r.raise_for_status()
    assert info.value.code == code  # type: ignore[attr-defined]


def test_x214_too_many_steps() -> None:
    block = SubTrace("arithmetic", (Init("a", 1),) * (MAX_STEPS + 1) + (Query("a"),))
    r = solve(Trace((block,)))
    assert r.status is Status.INVALID_TRACE and r.error is not None and r.error.code == "X214"


def test_every_solver_code_has_a_test() -> None:
    assert set(X_CASES) | {"X214"} == set(SOLVER_CODES)


def test_error_names_the_block_in_composed_traces() -> None:
    text = (
        (EXAMPLES / "discount_shipping.trace")
        .read_text()
        .replace("shipping, value: 10", "shipping, value: 0")
    )
    text = text.replace(
        "compute_op: add, args: [prev, shipping]", "compute_op: div, args: [prev, shipping]"
    )
    r = solve(text)
    assert r.error is not None and (r.error.code, r.error.block, r.error.step) == ("X201", 1, 2)


@pytest.mark.parametrize(
    "args",
    [
        "[2, -5000]",
        "[0.5, 100000]",
        "[-8, 0.5]",
        "[0, -1]",
        "[2, 0.5]",
        "[1, 100000000000000000000]",
    ],
)
def test_pow_is_bounded_and_total(args: str) -> None:
    text = steps(f"{{op: compute, compute_op: pow, args: {args}, var: r}}", "{op: query, var: r}")
    r = solve(text)
    assert isinstance(r, Result) and r.status in (Status.SOLVED, Status.INVALID_TRACE)


def test_huge_products_overflow_instead_of_hanging() -> None:
    big = "9" * 60
    lines = [f"{{op: init, var: a, value: {big}}}"]
    lines += ["{op: compute, compute_op: mul, args: [a, a, a, a, a, a], var: a}" for _ in range(20)]
    r = solve(steps(*lines, "{op: query, var: a}"))
    assert r.status is Status.INVALID_TRACE and r.error is not None and r.error.code == "X206"


def test_entity_track_semantics() -> None:
    r = solve((EXAMPLES / "marbles_transfer.trace").read_text())
    assert r.answer == Fraction(15, 2)


def test_json_trace_gives_the_same_answer_as_its_text() -> None:
    from trace_dsl import to_obj

    text = (EXAMPLES / "discount_shipping.trace").read_text()
    assert solve(to_obj(parse(text))) == solve(text)


def test_json_division_by_zero_is_a_status() -> None:
    obj = {
        "expert": "arithmetic",
        "trace": [
            {"op": "init", "var": "a", "value": 1.5},
            {"op": "compute", "compute_op": "div", "args": ["a", 0], "var": "r"},
            {"op": "query", "var": "r"},
        ],
    }
    r = solve(obj)
    assert r.status is Status.INVALID_TRACE and r.error is not None and r.error.code == "X201"


def test_garbage_inputs_are_statuses() -> None:
    for bad in ["", "\x00", "- - -", "expert: arithmetic\ntrace:\n- {" * 50, 42]:
        r = solve(bad)  # type: ignore[arg-type]
        assert r.status is Status.PARSE_FAIL
