"""Print a trace in canonical flow style: one step per line, ``- {k: v, ...}``.

Single form::

    expert: arithmetic
    trace:
    - {op: init, var: x, value: 3}

Composed form: a list of blocks, two-space indentation (``- expert: ...`` / ``  trace:`` /
``  - {...}``). Keys come in the canonical order of :mod:`trace_dsl.schema`; numbers print exactly as
terminating decimals (a value like 1/3 is not representable and is refused, never rounded).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dslkit.errors import TraceValidationError

from .ast import Arg, Number, Step, Trace
from .codes import diagnostic
from .schema import KINDS, SCHEMAS

__all__ = ["format_number", "step_to_text", "to_text"]


def format_number(value: Number) -> str:
    """Print an exact number as a plain decimal (``16``, ``-0.25``).

    Args:
        value: an int or a Fraction whose denominator has only factors 2 and 5.

    Returns:
        The decimal text, with no exponent and no trailing zeros.

    Raises:
        TraceValidationError: ``T303`` when the value has no finite decimal expansion.
    """
    if isinstance(value, bool):
        raise TraceValidationError("", [diagnostic("T303", f"{value!r} is not a number")])
    if isinstance(value, int):
        return str(value)
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    twos = fives = 0
    while den % 2 == 0:
        den //= 2
        twos += 1
    while den % 5 == 0:
        den //= 5
        fives += 1
    if den != 1:
        raise TraceValidationError(
            "", [diagnostic("T303", f"{value} has no finite decimal form; traces hold decimals")]
        )
    places = max(twos, fives)
    scaled = abs(value.numerator) * 10**places // value.denominator
    digits = str(scaled).rjust(places + 1, "0")
    sign = "-" if value < 0 else ""
    text = f"{sign}{digits[:-places]}.{digits[-places:]}".rstrip("0")
    return text


def _arg(a: Arg) -> str:
    return a if isinstance(a, str) else format_number(a)


def _map(pairs: tuple[tuple[str, Number], ...]) -> str:
    return "{" + ", ".join(f"{k}: {format_number(v)}" for k, v in pairs) + "}"


# value kind (schema.KINDS) -> its text
_SHOW: dict[str, Callable[[Any], str]] = {
    "name": str,
    "compute_op": str,
    "source": str,
    "number": format_number,
    "arg": _arg,
    "args": lambda args: "[" + ", ".join(_arg(a) for a in args) + "]",
    "text": lambda text: f'"{text}"',
    "num_map": _map,
}
assert set(_SHOW) == set(KINDS)


def step_to_text(step: Step) -> str:
    """Print one step as a flow map, keys in the schema's canonical order.

    Args:
        step: any step node.

    Returns:
        Text like ``{op: query, var: result}`` (no leading dash).
    """
    schema = SCHEMAS.get(step.op)
    if schema is None:  # pragma: no cover - the Step union is closed
        raise TypeError(f"not a step: {step!r}")
    parts = [f"op: {step.op}"]
    for key in schema.keys:
        value = getattr(step, key.name)
        if value is not None:  # an optional key left out (init's value or source)
            parts.append(f"{key.name}: {_SHOW[key.kind](value)}")
    return "{" + ", ".join(parts) + "}"


def to_text(trace: Trace) -> str:
    """Print a trace in canonical form (ends with a newline).

    Args:
        trace: the trace to print.

    Returns:
        Canonical text; ``parse(to_text(t)) == t`` for every valid trace.
    """
    lines: list[str] = []
    if trace.composed:
        for block in trace.blocks:
            lines.append(f"- expert: {block.expert}")
            lines.append("  trace:")
            lines.extend(f"  - {step_to_text(s)}" for s in block.steps)
    else:
        (block,) = trace.blocks
        lines.append(f"expert: {block.expert}")
        lines.append("trace:")
        lines.extend(f"- {step_to_text(s)}" for s in block.steps)
    return "\n".join(lines) + "\n"
