"""Hypothesis strategies for traces, shipped so other repos can property-test against them.

Importing this module imports hypothesis; nothing else in ``trace_dsl`` does.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from hypothesis import strategies as st

from .ast import (
    AddEntity,
    Compare,
    Compute,
    Consume,
    Formula,
    Given,
    Init,
    Percent,
    Query,
    State,
    SubTrace,
    Trace,
    Transfer,
)
from .experts import ARITY, COMPUTE_OPS, EXPERTS, ops_for
from .parser import RESERVED
from .printer import to_text

__all__ = ["names", "numbers", "steps", "trace_texts", "traces"]


def names() -> st.SearchStrategy[str]:
    """Variable names (short, so generated traces reuse them and actually compute)."""
    return st.sampled_from(
        ["a", "b", "c", "x", "total", "prev", "step1", "result"]
    ) | st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in RESERVED)


def numbers() -> st.SearchStrategy[Any]:
    """Exact decimals as the AST stores them: int, or a Fraction with a 2/5-only denominator."""
    ints = st.integers(min_value=-(10**12), max_value=10**12)
    decimals = st.builds(
        lambda n, places: Fraction(n, 10**places), st.integers(-(10**9), 10**9), st.integers(1, 6)
    ).map(lambda f: f.numerator if f.denominator == 1 else f)
    return ints | decimals


def _args(op: str) -> st.SearchStrategy[tuple[Any, ...]]:
    lo, hi = ARITY[op]
    return st.lists(names() | numbers(), min_size=lo, max_size=hi if hi is not None else 4).map(
        tuple
    )


def _compute(cls: type) -> st.SearchStrategy[Any]:
    return st.sampled_from(COMPUTE_OPS).flatmap(
        lambda op: st.builds(cls, st.just(op), _args(op), names())
    )


def _pairs() -> st.SearchStrategy[tuple[tuple[str, Any], ...]]:
    return st.dictionaries(names(), numbers(), min_size=1, max_size=3).map(
        lambda d: tuple(d.items())
    )


def steps(expert: str, *, first_block: bool = True) -> st.SearchStrategy[Any]:
    """Any step allowed in ``expert`` (``source`` inits only when a block can pipe)."""
    arg = names() | numbers()
    by_op: dict[str, st.SearchStrategy[Any]] = {
        "init": st.builds(Init, names(), numbers()),
        "given": st.builds(Given, _pairs()),
        "compute": _compute(Compute),
        "compare": _compute(Compare),
        "query": st.builds(Query, names()),
        "state": st.builds(State, _pairs()),
        "formula": st.builds(Formula, st.from_regex(r"[a-z0-9 +*/=-]{0,20}", fullmatch=True)),
        "transfer": st.builds(Transfer, names(), names(), arg),
        "consume": st.builds(Consume, names(), arg),
        "add_entity": st.builds(AddEntity, names(), arg),
    }
    for op in ("percent_off", "percent_increase", "percent_of"):
        by_op[op] = st.builds(Percent, st.just(op), arg, arg, names())
    allowed = sorted(ops_for(expert))
    options = [by_op[op] for op in allowed]
    if not first_block:
        options.append(
            st.builds(Init, names(), st.none(), st.sampled_from(["prev.result", "sub0.result"]))
        )
    return st.one_of(options)


def _block(first: bool) -> st.SearchStrategy[SubTrace]:
    return st.sampled_from(EXPERTS).flatmap(
        lambda e: st.lists(steps(e, first_block=first), min_size=1, max_size=8).map(
            lambda ss: SubTrace(e, tuple(ss))
        )
    )


def traces() -> st.SearchStrategy[Trace]:
    """Valid traces (they parse and pass ``validate``; most fail to *solve*, which is fine)."""
    single = _block(True).map(lambda b: Trace((b,), False))
    composed = st.tuples(_block(True), st.lists(_block(False), min_size=0, max_size=2)).map(
        lambda t: Trace((t[0], *t[1]), True)
    )
    return single | composed


def trace_texts() -> st.SearchStrategy[str]:
    """Canonical texts of :func:`traces`."""
    return traces().map(to_text)
