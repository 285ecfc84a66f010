"""Print a trace in canonical flow style: one step per line, ``- {k: v, ...}``.

Single form::

    expert: arithmetic
    trace:
    - {op: init, var: x, value: 3}

Composed form: a list of blocks, two-space indentation (``- expert: ...`` / ``  trace:`` /
``  - {...}``). Keys come in the schema's canonical order; numbers print exactly as
terminating decimals (a value like 1/3 is not representable and is refused, never rounded).
"""

from __future__ import annotations

from dslkit.errors import TraceValidationError

from .ast import (
    AddEntity,
    Arg,
    Compare,
    Compute,
    Consume,
    Formula,
    Given,
    Init,
    Number,
    Percent,
    Query,
    State,
    Step,
    Trace,
    Transfer,
)
from .codes import diagnostic

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


def step_to_text(step: Step) -> str:
    """Print one step as a flow map, keys in canonical order.

    Args:
        step: any step node.

    Returns:
        Text like ``{op: query, var: result}`` (no leading dash).
    """
    if isinstance(step, Compute | Compare):
        args = ", ".join(_arg(a) for a in step.args)
        body = f"compute_op: {step.compute_op}, args: [{args}], var: {step.var}"
    elif isinstance(step, Init):
        tail = (
            f"value: {format_number(step.value)}"
            if step.value is not None
            else f"source: {step.source}"
        )
        body = f"var: {step.var}, {tail}"
    elif isinstance(step, Query):
        body = f"var: {step.var}"
    elif isinstance(step, Percent):
        body = f"base: {_arg(step.base)}, rate: {_arg(step.rate)}, var: {step.var}"
    elif isinstance(step, Given):
        body = f"values: {_map(step.values)}"
    elif isinstance(step, State):
        body = f"assertions: {_map(step.assertions)}"
    elif isinstance(step, Formula):
        body = f'expression: "{step.expression}"'
    elif isinstance(step, Transfer):
        body = f"from_entity: {step.from_entity}, to_entity: {step.to_entity}, amount: {_arg(step.amount)}"
    elif isinstance(step, Consume | AddEntity):
        body = f"entity: {step.entity}, amount: {_arg(step.amount)}"
    else:  # pragma: no cover - the Step union is closed
        raise TypeError(f"not a step: {step!r}")
    return f"{{op: {step.op}, {body}}}"


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
