"""Property tests: print/parse round trip, fast path == Lark, the solver is total."""

from __future__ import annotations

import random

import pytest
from dslkit.compilers import Result, Status, solve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dslkit.errors import DslkitError
from trace_dsl import canonicalize, from_obj, parse, to_obj, to_text
from trace_dsl import parser as trace_parser
from trace_dsl.strategies import sample_trace, trace_texts, traces

SETTINGS = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(traces())
def test_print_parse_round_trip(trace) -> None:  # type: ignore[no-untyped-def]
    text = to_text(trace)
    assert parse(text) == trace
    assert to_text(canonicalize(text)) == to_text(canonicalize(trace))
    assert from_obj(to_obj(trace)) == trace


@pytest.mark.parametrize("seed", range(0, 400, 7))
def test_sample_trace_is_valid_and_seeded(seed: int) -> None:
    trace = sample_trace(random.Random(seed))
    assert parse(to_text(trace)) == trace  # parse validates the expert vocabularies
    assert sample_trace(random.Random(seed)) == trace


@SETTINGS
@given(trace_texts())
def test_fast_path_agrees_with_lark(text: str) -> None:
    fast = trace_parser._fast_raw(text)
    assert fast is not None  # canonical text always takes the fast path
    assert parse(text) == trace_parser._build(*trace_parser._lark_raw(text), [])


@SETTINGS
@given(traces())
def test_solver_is_total_on_valid_traces(trace) -> None:  # type: ignore[no-untyped-def]
    r = solve(trace)
    assert isinstance(r, Result)
    assert (r.status is Status.SOLVED) == (r.error is None) == (r.answer is not None)


def _mutate(text: str, data: st.DataObject) -> str:
    i = data.draw(st.integers(0, len(text)))
    junk = data.draw(
        st.sampled_from(
            ["", ",", ":", "{", "}", "[", "-", " ", "\t", "&", "yes", "1,000", "\n", "#", '"']
        )
    )
    cut = data.draw(st.integers(0, 3))
    return text[:i] + junk + text[i + cut :]


@SETTINGS
@given(trace_texts(), st.data())
def test_fast_path_agrees_with_lark_on_mutations(text: str, data: st.DataObject) -> None:
    # Whatever the fast path builds without a problem is used as is (no Lark re-parse), so the
    # grammar must accept that text and build the same trace, positions included.
    mutated = _mutate(text, data)
    fast = trace_parser._fast_raw(mutated)
    if fast is None:
        return
    try:
        trace_parser._prescan(mutated)
    except trace_parser._Problems:
        return
    built = trace_parser._build(*fast, [])
    if built is None:
        return
    nl = mutated if mutated.endswith("\n") else mutated + "\n"
    slow = trace_parser._build(*trace_parser._lark_raw(nl), [])
    assert slow == built
    assert [(s.line, s.column) for s in slow.steps] == [(s.line, s.column) for s in built.steps]


@SETTINGS
@given(trace_texts(), st.data())
def test_parse_and_solve_only_raise_toolkit_errors_on_mutations(
    text: str, data: st.DataObject
) -> None:
    mutated = _mutate(text, data)
    try:
        parse(mutated)
    except DslkitError as exc:
        assert exc.diagnostics and exc.diagnostics[0].code.startswith("T")
        assert exc.diagnostics[0].line >= 0
    r = solve(mutated)
    assert isinstance(r, Result) and isinstance(r.status, Status)


@pytest.mark.parametrize("text", ["", "expert", "- expert: arithmetic\n", "\x00\x01", "{}" * 5000])
def test_solver_total_on_garbage(text: str) -> None:
    assert solve(text).status is Status.PARSE_FAIL
