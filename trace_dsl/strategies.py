"""Generators of valid traces, for property tests, benchmarks and tokenizer corpora.

Two layers, as in ``scene_dsl.strategies``:

- :func:`sample_trace` is a plain ``random.Random`` sampler: fast, deterministic for a seed,
  usable without hypothesis; its traces read like GSM8K ones (word names, entities, a query).
- :func:`traces`, :func:`trace_texts`, :func:`steps`, :func:`names`, :func:`numbers` and
  :func:`expressions` are
  hypothesis strategies, shipped so other repos can property-test against them.

hypothesis is imported lazily inside the strategy functions, so importing this module never
requires it (and ``import trace_dsl`` never imports this module).
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from .ast import (
    PERCENT_OPS,
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
    Step,
    SubTrace,
    Trace,
    Transfer,
)
from .experts import ARITY, COMPUTE_OPS, EXPERTS, ops_for
from .parser import RESERVED
from .printer import to_text

if TYPE_CHECKING:  # pragma: no cover - typing only
    from hypothesis import strategies as st

__all__ = ["expressions", "names", "numbers", "sample_trace", "steps", "trace_texts", "traces"]

# -- plain random sampler ----------------------------------------------------------------------
# Word-like names and entities so sampled traces read like GSM8K ones (tokenizer corpora).
_NAMES = ("eggs", "price", "apples", "total", "speed", "hours", "cost", "marbles", "tax", "width")
_ENTITIES = ("alice", "bob", "shop", "jar", "box")


def _sample_number(rng: random.Random) -> int | Fraction:
    if rng.random() < 0.2:
        return Fraction(rng.randint(1, 999), rng.choice((2, 4, 5, 10, 100)))
    return rng.randint(0, 500)


def _sample_block(rng: random.Random, expert: str, source: str | None) -> SubTrace:
    names = rng.sample(_NAMES, 3)
    steps: list[Step] = []
    if source is not None:
        steps.append(Init(var="prev", source=source))
        names[0] = "prev"
    else:
        steps.append(Init(var=names[0], value=_sample_number(rng)))
    steps.append(Init(var=names[1], value=_sample_number(rng)))
    if expert == "percentage":
        op = rng.choice(PERCENT_OPS)
        steps.append(Percent(op=op, base=names[0], rate=rng.randint(1, 90), var="result"))
    elif expert == "entity_track":
        a, b = rng.sample(_ENTITIES, 2)
        steps.append(AddEntity(entity=a, amount=names[0]))
        steps.append(Transfer(from_entity=a, to_entity=b, amount=names[1]))
        steps.append(Consume(entity=b, amount=1))
        steps.append(Compute(compute_op="add", args=(names[0], names[1]), var="result"))
    else:
        op = rng.choice(COMPUTE_OPS)
        lo, _ = ARITY[op]
        args = tuple(names[:lo]) if lo <= 2 else tuple(names[:2])
        cls = Compare if expert == "comparison" else Compute
        steps.append(cls(compute_op=op, args=args, var="step1"))
        steps.append(Compute(compute_op="add", args=("step1", rng.randint(0, 9)), var="result"))
    steps.append(Query(var="result"))
    return SubTrace(expert=expert, steps=tuple(steps))


def sample_trace(rng: random.Random) -> Trace:
    """One trace over a random expert: single form (70%) or composed of 2-3 piped blocks.

    Args:
        rng: the source of randomness (same state, same trace).

    Returns:
        A trace that parses back from :func:`trace_dsl.to_text` and passes ``validate``.
    """
    k = 1 if rng.random() < 0.7 else rng.randint(2, 3)
    blocks = []
    for j in range(k):
        source = None if j == 0 else rng.choice(("prev.result", f"sub{rng.randrange(j)}.result"))
        blocks.append(_sample_block(rng, rng.choice(EXPERTS), source))
    return Trace(blocks=tuple(blocks), composed=k > 1)


# -- hypothesis strategies ---------------------------------------------------------------------


def names() -> st.SearchStrategy[str]:
    """Variable names (short, so generated traces reuse them and actually compute)."""
    from hypothesis import strategies as st

    return st.sampled_from(
        ["a", "b", "c", "x", "total", "prev", "step1", "result"]
    ) | st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True).filter(lambda s: s not in RESERVED)


def numbers() -> st.SearchStrategy[Any]:
    """Exact decimals as the AST stores them: int, or a Fraction with a 2/5-only denominator."""
    from hypothesis import strategies as st

    ints = st.integers(min_value=-(10**12), max_value=10**12)
    decimals = st.builds(
        lambda n, places: Fraction(n, 10**places), st.integers(-(10**9), 10**9), st.integers(1, 6)
    ).map(lambda f: f.numerator if f.denominator == 1 else f)
    return ints | decimals


def expressions() -> st.SearchStrategy[str]:
    """Formula texts: any printable Unicode the grammar's ``STRING`` takes (``café × 2``),
    without ``#`` (the fast parse path leaves comment-like text to Lark; both parse it)."""
    from hypothesis import strategies as st

    chars = st.characters(
        blacklist_categories=("Cs", "Cc"), blacklist_characters='"\\#'
    )  # Cc: newlines and tabs end or break a string
    return st.text(chars, max_size=20)


def _args(op: str) -> st.SearchStrategy[tuple[Any, ...]]:
    from hypothesis import strategies as st

    lo, hi = ARITY[op]
    return st.lists(names() | numbers(), min_size=lo, max_size=hi if hi is not None else 4).map(
        tuple
    )


def _compute(cls: type) -> st.SearchStrategy[Any]:
    from hypothesis import strategies as st

    return st.sampled_from(COMPUTE_OPS).flatmap(
        lambda op: st.builds(cls, st.just(op), _args(op), names())
    )


def _pairs() -> st.SearchStrategy[tuple[tuple[str, Any], ...]]:
    from hypothesis import strategies as st

    return st.dictionaries(names(), numbers(), min_size=1, max_size=3).map(
        lambda d: tuple(d.items())
    )


def steps(expert: str, *, first_block: bool = True) -> st.SearchStrategy[Any]:
    """Any step allowed in ``expert`` (``source`` inits only when a block can pipe)."""
    from hypothesis import strategies as st

    arg = names() | numbers()
    by_op: dict[str, st.SearchStrategy[Any]] = {
        "init": st.builds(Init, names(), numbers()),
        "given": st.builds(Given, _pairs()),
        "compute": _compute(Compute),
        "compare": _compute(Compare),
        "query": st.builds(Query, names()),
        "state": st.builds(State, _pairs()),
        "formula": st.builds(Formula, expressions()),
        "transfer": st.builds(Transfer, names(), names(), arg),
        "consume": st.builds(Consume, names(), arg),
        "add_entity": st.builds(AddEntity, names(), arg),
    }
    for op in PERCENT_OPS:
        by_op[op] = st.builds(Percent, st.just(op), arg, arg, names())
    allowed = sorted(ops_for(expert))
    options = [by_op[op] for op in allowed]
    if not first_block:
        options.append(
            st.builds(Init, names(), st.none(), st.sampled_from(["prev.result", "sub0.result"]))
        )
    return st.one_of(options)


def _block(first: bool) -> st.SearchStrategy[SubTrace]:
    from hypothesis import strategies as st

    return st.sampled_from(EXPERTS).flatmap(
        lambda e: st.lists(steps(e, first_block=first), min_size=1, max_size=8).map(
            lambda ss: SubTrace(e, tuple(ss))
        )
    )


def traces() -> st.SearchStrategy[Trace]:
    """Valid traces (they parse and pass ``validate``; most fail to *solve*, which is fine)."""
    from hypothesis import strategies as st

    single = _block(True).map(lambda b: Trace((b,), False))
    composed = st.tuples(_block(True), st.lists(_block(False), min_size=0, max_size=2)).map(
        lambda t: Trace((t[0], *t[1]), True)
    )
    return single | composed


def trace_texts() -> st.SearchStrategy[str]:
    """Canonical texts of :func:`traces`."""
    return traces().map(to_text)
