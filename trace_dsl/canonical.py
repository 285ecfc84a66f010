"""Canonicalisation: meaning-preserving passes ``Trace -> Trace``, run in order.

Layout (key order, spacing, indentation, number spelling such as ``2.50`` or ``-0``) is already
normalised by parsing and printing; these passes normalise what the AST can still spell two
ways. ``canonicalize`` is idempotent and ``to_text(canonicalize(t))`` is the exact-match target.
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction

from .ast import Arg, Compare, Compute, Given, Init, Number, Percent, State, Step, Trace
from .parser import parse

__all__ = ["RULES", "canonicalize", "integral_numbers", "unwrap_single_block"]


def _n(v: Number) -> Number:
    if isinstance(v, Fraction) and v.denominator == 1:
        return v.numerator
    return v


def _a(a: Arg) -> Arg:
    return a if isinstance(a, str) else _n(a)


def _step_numbers(s: Step) -> Step:
    if isinstance(s, Init) and s.value is not None:
        return replace(s, value=_n(s.value))
    if isinstance(s, Compute | Compare):
        return replace(s, args=tuple(_a(a) for a in s.args))
    if isinstance(s, Percent):
        return replace(s, base=_a(s.base), rate=_a(s.rate))
    if isinstance(s, Given):
        return replace(s, values=tuple((k, _n(v)) for k, v in s.values))
    if isinstance(s, State):
        return replace(s, assertions=tuple((k, _n(v)) for k, v in s.assertions))
    return s


def integral_numbers(trace: Trace) -> Trace:
    """Store integral values as ``int`` (hand-built ASTs may hold ``Fraction(4, 1)``)."""
    blocks = tuple(replace(b, steps=tuple(_step_numbers(s) for s in b.steps)) for b in trace.blocks)
    return replace(trace, blocks=blocks)


def unwrap_single_block(trace: Trace) -> Trace:
    """A composed trace of one block that pipes nothing is printed in the single form."""
    pipes = any(isinstance(s, Init) and s.source is not None for s in trace.blocks[0].steps)
    if trace.composed and len(trace.blocks) == 1 and not pipes:
        return replace(trace, composed=False)
    return trace


RULES = (integral_numbers, unwrap_single_block)


def canonicalize(trace: Trace | str) -> Trace:
    """Run the canonicalisation passes.

    Args:
        trace: a trace, or text to parse first.

    Returns:
        The canonical trace; print it with :func:`trace_dsl.to_text`.
    """
    t = parse(trace) if isinstance(trace, str) else trace
    for rule in RULES:
        t = rule(t)
    return t
