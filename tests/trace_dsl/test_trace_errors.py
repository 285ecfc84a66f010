"""One test per trace diagnostic code: each bad input gets its code, class and position."""

from __future__ import annotations

import pickle
from fractions import Fraction

import pytest

from dslkit.errors import LimitExceededError, TraceSyntaxError, TraceValidationError
from trace_dsl import Init, SubTrace, Trace, from_obj, parse, to_text
from trace_dsl.codes import TRACE_CODES
from trace_dsl.parser import MAX_STEPS, MAX_TEXT

HEAD = "expert: arithmetic\ntrace:\n"
OK_TAIL = (
    "- {op: compute, compute_op: add, args: [x, 1], var: result}\n- {op: query, var: result}\n"
)


def trace_with(step: str) -> str:
    return HEAD + step + "\n" + OK_TAIL


# code -> (text, error class, line, column); columns are 1-based
CASES: dict[str, tuple[str, type, int, int]] = {
    "T001": ("x" * (MAX_TEXT + 1), LimitExceededError, 1, 1),
    "T003": (
        trace_with("- {op: init, var: x, value: 1" + "0" * 80 + "}"),
        LimitExceededError,
        3,
        29,
    ),
    "T101": (trace_with("- {op: init, var: x, value: $5}"), TraceSyntaxError, 3, 29),
    "T102": (trace_with("-\t{op: init, var: x, value: 5}"), TraceSyntaxError, 3, 2),
    "T103": (trace_with("- {op: init, var: x, value: &a 5}"), TraceSyntaxError, 3, 29),
    "T104": (trace_with("- {op: init, var: x, value: 80,000}"), TraceSyntaxError, 3, 31),
    "T105": (trace_with("- {op: init, var: x, value: 1:30}"), TraceSyntaxError, 3, 30),
    "T106": (trace_with("- {op: init, var: x, value: 016}"), TraceSyntaxError, 3, 29),
    "T107": (trace_with("- {op: init var: x, value: 5}"), TraceSyntaxError, 3, 13),
    "T108": (HEAD, TraceSyntaxError, 3, 1),
    "T109": (
        HEAD + "- {op: init, var: x, value: 5}\n  - {op: query, var: x}\n",
        TraceSyntaxError,
        4,
        3,
    ),
    "T110": ("  \n\n", TraceSyntaxError, 1, 1),
    "T201": (
        trace_with("- {op: init, var: x, colour: red, value: 5}"),
        TraceValidationError,
        3,
        22,
    ),
    "T202": (trace_with("- {op: init, var: x, value: 5, value: 6}"), TraceValidationError, 3, 32),
    "T203": (trace_with("- {op: init, value: 5}"), TraceValidationError, 3, 1),
    "T204": (trace_with("- {op: init, var: x, value: yes}"), TraceValidationError, 3, 29),
    "T205": (trace_with("- {op: initialise, var: x, value: 5}"), TraceValidationError, 3, 8),
    "T206": (
        HEAD
        + "- {op: init, var: x, value: 5}\n- {op: compute, compute_op: plus, args: [x, x], var: r}\n- {op: query, var: r}\n",
        TraceValidationError,
        4,
        29,
    ),
    "T207": (
        trace_with("- {op: init, var: x, value: 5, source: prev.result}"),
        TraceValidationError,
        3,
        1,
    ),
    "T208": (
        trace_with("- {op: init, var: x, source: previous.answer}"),
        TraceValidationError,
        3,
        30,
    ),
    "T209": (trace_with("- {op: init, var: true, value: 5}"), TraceValidationError, 3, 19),
    "T301": (
        "expert: algebra\ntrace:\n- {op: init, var: x, value: 5}\n" + OK_TAIL,
        TraceValidationError,
        1,
        1,
    ),
    "T302": (
        trace_with("- {op: transfer, from_entity: a, to_entity: b, amount: 1}"),
        TraceValidationError,
        3,
        1,
    ),
}


@pytest.mark.parametrize("code", sorted(CASES))
def test_text_error_codes(code: str) -> None:
    text, cls, line, column = CASES[code]
    with pytest.raises(cls) as info:
        parse(text)
    err = info.value
    assert (err.code, err.line, err.column) == (code, line, column), str(err)
    d = err.diagnostic
    assert d is not None and d.name == TRACE_CODES[code].name
    assert d.failure_class == TRACE_CODES[code].failure_class
    assert f"{code} {d.name} @ {line}:{column}" in str(err)


def test_t002_too_many_steps() -> None:
    text = HEAD + "- {op: init, var: x, value: 1}\n" * (MAX_STEPS + 1)
    with pytest.raises(LimitExceededError) as info:
        parse(text)
    assert info.value.code == "T002"


def test_t210_empty_trace_from_json() -> None:
    with pytest.raises(TraceValidationError) as info:
        from_obj({"expert": "arithmetic", "trace": []})
    assert info.value.code == "T210"


def test_t303_fraction_without_decimal_form_is_refused_by_printer() -> None:
    trace = Trace((SubTrace("arithmetic", (Init("x", Fraction(1, 3)),)),))
    with pytest.raises(TraceValidationError) as info:
        to_text(trace)
    assert info.value.code == "T303"


def test_every_code_has_a_test() -> None:
    tested = set(CASES) | {"T002", "T210", "T303"}
    assert tested == set(TRACE_CODES)


def test_collect_mode_gathers_every_schema_problem() -> None:
    text = (
        HEAD
        + "- {op: init, var: x, value: yes}\n- {op: init, var: y, colour: 1, value: 2}\n"
        + OK_TAIL
    )
    result = parse(text, errors="collect")
    assert result.trace is None and not result.ok
    assert [(d.code, d.line) for d in result.diagnostics] == [("T204", 3), ("T201", 4)]
    assert result.diagnostics[0].source_line.startswith("- {op: init")


def test_collect_mode_on_valid_text() -> None:
    result = parse(trace_with("- {op: init, var: x, value: 5}"), errors="collect")
    assert result.ok and result.trace is not None and result.diagnostics == ()


def test_bad_error_mode_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        parse(HEAD, errors="ignore")


def test_errors_pickle() -> None:
    with pytest.raises(TraceSyntaxError) as info:
        parse(trace_with("- {op: init, var: x, value: 80,000}"))
    clone = pickle.loads(pickle.dumps(info.value))
    assert clone.diagnostics == info.value.diagnostics and type(clone) is TraceSyntaxError


@pytest.mark.parametrize(
    "obj, code",
    [
        ({"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": "16"}]}, "T204"),
        ({"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": True}]}, "T204"),
        (
            {"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": 1}], "extra": 1},
            "T201",
        ),
        ({"expert": "arithmetic"}, "T203"),
        ([], "T210"),
        ("expert: arithmetic", "T204"),
        (
            {"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": float("nan")}]},
            "T106",
        ),
    ],
)
def test_json_shape_errors(obj: object, code: str) -> None:
    with pytest.raises(TraceValidationError) as info:
        from_obj(obj)  # type: ignore[arg-type]
    assert info.value.code == code


def test_a_utf8_bom_is_ignored() -> None:
    import trace_dsl

    text = "expert: arithmetic\ntrace:\n- {op: init, var: x, value: 2}\n- {op: query, var: x}\n"
    assert trace_dsl.parse("\ufeff" + text) == trace_dsl.parse(text)
    bad = "\ufeffexpert: arithmetic\ntrace:\n- {op: init, var: x, value: 80,000}\n"
    result = trace_dsl.parse(bad, errors="collect")
    assert [(d.code, d.line) for d in result.diagnostics][:1] == [("T104", 3)]
