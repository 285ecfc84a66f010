"""Rebuild a solution's literal from the question's own numbers.

GSM8K solutions often write a number the question never states but implies: ``0.8`` where the
question says ``20%`` off, ``3`` for the other three quarters of ``1/4``, ``0.5`` hours for
``30 minutes``, ``140`` for a ``40%`` raise. Such a literal is not a fact of its own; it is
arithmetic over facts of the question. :func:`derive` finds that arithmetic, so the converter can
emit compute steps over grounded inits instead of an ungrounded init.

Only shapes with a clear reading are tried (complement and increase of a stated percent or
fraction, conversion of a stated quantity by a unit whose words appear in the problem). A pair of
arbitrary question numbers that happens to give the literal is never used: small numbers
coincide far too often for that to mean anything.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .gsm8k_grounding import UNIT_CONSTANTS

__all__ = ["UNIT_FACTORS", "Facts", "Node", "derive"]

# ("num", Fraction) | ("op", name, [children]); the converter's expression shape
Node = tuple

_HUNDRED = Fraction(100)

# unit factor -> unit words; a stated quantity is converted by the factor only when one of them
# follows it ("30 minutes" -> 0.5 hours, "25 cents" -> 0.25 dollars, "20 gallons" -> 160 pints)
UNIT_FACTORS: dict[Fraction, re.Pattern[str]] = {
    value: re.compile(
        "(?:"
        + "|".join(u for c in UNIT_CONSTANTS if c.converts and c.value == value for u in c.units)
        + r")(?!\w)",
        re.IGNORECASE,
    )
    for value in dict.fromkeys(c.value for c in UNIT_CONSTANTS if c.converts)
}

# values that are unit constants in their own right: never re-read as a conversion
_UNIT_VALUES = frozenset(
    Fraction(v) for v in (7, 12, 24, 30, 31, 52, 60, 100, 365, 1000, 3600, 5280)
)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the question states, as the derivations need it."""

    values: tuple[Fraction, ...]  # every positive grounded value, ascending
    percents: tuple[Fraction, ...] = ()  # p of each "p%"
    fractions: tuple[tuple[Fraction, Fraction], ...] = ()  # (a, b) of each "a/b" below 1
    # (value, unit factor) of each stated quantity whose unit word has a known factor
    quantities: tuple[tuple[Fraction, Fraction], ...] = ()


def _decimal(v: Fraction) -> bool:
    """A value a trace can write as a literal (finite decimal)."""
    d = v.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _num(v: Fraction) -> Node:
    return ("num", v)


def _op(name: str, *kids: Node) -> Node:
    return ("op", name, list(kids))


def derive(value: Fraction, facts: Facts) -> Node | None:
    """An expression over grounded question values (and unit factors) equal to ``value``.

    Args:
        value: a literal of the solution that the question does not state.
        facts: the question's grounded values, percents, fractions and quantities.

    Returns:
        The expression (leaves: grounded values, percents, fractions, unit factors), or None
        when no shape with a clear reading gives ``value``.
    """
    for p in facts.percents:
        # 20% off -> 80 or 0.8; a 40% raise -> 140 or 1.4
        for rest, name in ((_HUNDRED - p, "sub"), (_HUNDRED + p, "add")):
            if rest <= 0:
                continue
            node = _op(name, _num(_HUNDRED), _num(p))
            if value == rest:
                return node
            if value == rest / _HUNDRED:
                return _op("div", node, _num(_HUNDRED))
    if value in _UNIT_VALUES:
        return None
    for a, b in facts.fractions:
        # 1/4 in the morning -> the other 3/4 (or 3 of 4 parts); 1/5 more -> 6/5
        if value == (b - a) / b:
            return _op("div", _op("sub", _num(b), _num(a)), _num(b))
        if value == b - a and value != 1:
            return _op("sub", _num(b), _num(a))
        if value == (b + a) / b:
            return _op("div", _op("add", _num(b), _num(a)), _num(b))
    if value in (0, 1):
        return None
    for g, unit in facts.quantities:
        # 30 minutes -> 0.5 hours; 2 feet -> 24 inches; 50 cents -> 0.5 dollars; $3 -> 300 cents
        if g == unit or g == 1 or not _decimal(g):
            continue
        if g / unit == value:
            return _op("div", _num(g), _num(unit))
        if g * unit == value:
            return _op("mul", _num(g), _num(unit))
    return None
