"""solve() never raises, whatever object it is handed; verify() refuses unusable answers."""

from __future__ import annotations

import json
from fractions import Fraction
from typing import Any

import pytest
from dslkit.compilers.trace_solver import MAX_BITS, Status, solve, verify


def _init(value: Any) -> dict[str, Any]:
    return {"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": value},
                                              {"op": "query", "var": "x"}]}  # fmt: skip


def _nested(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def _cyclic() -> dict[str, Any]:
    trace = _init(1)
    trace["trace"][0]["value"] = trace
    return trace


HOSTILE: dict[str, Any] = {
    "10**5000": _init(10**5000),
    "-10**5000": _init(-(10**5000)),
    "nan": _init(float("nan")),
    "inf": _init(float("inf")),
    "deep value": _init(_nested(100_000)),
    "deep blocks": _nested(100_000),
    "huge key": {"expert": "arithmetic", "trace": [{10**5000: 1}]},
    "cycle": _cyclic(),
    "bytes": b"expert: arithmetic",
    "set": {1, 2},
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_solve_reports_instead_of_raising(name: str) -> None:
    result = solve(HOSTILE[name])
    assert result.status is Status.PARSE_FAIL
    assert result.error is not None and result.error.code.startswith("T")
    json.dumps(verify(HOSTILE[name]).to_dict())


def test_huge_integer_value_is_a_number_too_long() -> None:
    err = solve(_init(10**5000)).error
    assert err is not None and err.code == "T003" and "64 digits" in err.message
    assert solve(_init(10**63)).answer is None  # init-only query: it parsed and ran
    assert solve(_init(10**63)).error.code == "X203"  # type: ignore[union-attr]


def test_an_answer_beyond_float_range_still_serialises() -> None:
    trace = {"expert": "arithmetic", "trace": [
        {"op": "init", "var": "x", "value": 10**60},
        {"op": "compute", "compute_op": "pow", "args": ["x", 10], "var": "y"},
        {"op": "compute", "compute_op": "div", "args": ["y", 3], "var": "z"},
        {"op": "query", "var": "z"}]}  # fmt: skip
    out = verify(trace).to_dict()
    assert Fraction(str(out["answer"])) == Fraction(10**600, 3)


@pytest.mark.parametrize("expected", ["1e999", "inf", "nan", "-Infinity", "9" * 500, "1/0"])
def test_unusable_expected_answers_are_refused(expected: str) -> None:
    with pytest.raises(ValueError, match="expected answer"):
        verify(_init(1), expected)


def test_expected_beyond_the_solver_range_is_refused() -> None:
    with pytest.raises(ValueError, match=f"{MAX_BITS}-bit"):
        verify(_init(1), 2 ** (MAX_BITS + 1))
    for ok in ("18", "-2.5", "3/4", "$1,000", ".5", 7, Fraction(1, 3), 2.5):
        verify(_init(1), ok)  # the forms answers are written in still work
