"""Plain dict/JSON traces: the shape other trace tools store in JSONL.

``{"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": 3}, ...]}`` for the
single form, a list of those for the composed form. ``from_obj`` checks exactly what the text
parser checks (it feeds the same builder), so a JSON trace and its text form are accepted or
rejected alike, with the same codes.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from fractions import Fraction
from typing import Any

from dslkit.errors import Diagnostic, DslkitError, LimitExceededError, TraceValidationError

from . import parser as _p
from .ast import (
    Arg,
    Compare,
    Compute,
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
from .printer import format_number
from .validate import validate as _validate

__all__ = ["from_obj", "to_obj"]

_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*\Z")


class _Bad(Exception):
    def __init__(self, diag: Diagnostic) -> None:
        super().__init__(diag.message)
        self.diag = diag


# A trace value is a number, a name, or a short list of them; JSON nests far deeper than any
# trace ever does, and the walk below recurses once per level.
_MAX_VALUE_DEPTH = 32


def _value(v: object, where: str, depth: int = 0) -> _p.V:
    if depth > _MAX_VALUE_DEPTH:
        raise _Bad(diagnostic("T001", f"{where}: values nest deeper than {_MAX_VALUE_DEPTH}"))
    if isinstance(v, bool) or v is None:
        raise _Bad(diagnostic("T204", f"{where}: {json_repr(v)} is not a number or a name"))
    if isinstance(v, int):
        # the text grammar's own limit; also keeps str() clear of CPython's 4,300-digit cap
        if abs(v) >= 10**_p.MAX_NUMBER_CHARS:
            raise _Bad(
                diagnostic("T003", f"{where}: number longer than {_p.MAX_NUMBER_CHARS} digits")
            )
        return ("num", str(v), 0, 0)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _Bad(diagnostic("T106", f"{where}: {v!r} is not a finite number"))
        return ("num", format_number(_p_norm(Fraction(repr(v)))), 0, 0)
    if isinstance(v, str):
        return ("name" if _NAME_RE.match(v) else "str", v, 0, 0)
    if isinstance(v, Mapping):
        items = [(str(k), 0, 0, _value(x, f"{where}.{k}", depth + 1)) for k, x in v.items()]
        return ("map", items, 0, 0)
    if isinstance(v, Sequence):
        return ("seq", [_value(x, where, depth + 1) for x in v], 0, 0)
    raise _Bad(diagnostic("T204", f"{where}: unsupported JSON value of type {type(v).__name__}"))


def json_repr(v: object) -> str:
    """JSON-ish repr for messages (``true``, ``null``)."""
    if v is True or v is False or v is None:
        return {True: "true", False: "false", None: "null"}[v]
    return repr(v)


def _p_norm(f: Fraction) -> Number:
    return f.numerator if f.denominator == 1 else f


def _block(obj: object, index: int) -> _p.RawBlock:
    where = f"block {index}"
    if not isinstance(obj, Mapping):
        raise _Bad(diagnostic("T204", f"{where}: expected an object with 'expert' and 'trace'"))
    extra = set(obj) - {"expert", "trace"}
    if extra:
        raise _Bad(diagnostic("T201", f"{where}: unknown key {sorted(map(str, extra))[0]!r}"))
    for key in ("expert", "trace"):
        if key not in obj:
            raise _Bad(diagnostic("T203", f"{where}: missing {key!r}"))
    expert, steps = obj["expert"], obj["trace"]
    if not isinstance(expert, str):
        raise _Bad(diagnostic("T204", f"{where}: 'expert' must be a string"))
    if isinstance(steps, (str, bytes)) or not isinstance(steps, Sequence):
        raise _Bad(diagnostic("T204", f"{where}: 'trace' must be a list of steps"))
    if len(steps) > _p.MAX_STEPS:
        raise _Bad(diagnostic("T002", f"{where}: more than {_p.MAX_STEPS} steps"))
    raw_steps: list[_p.RawStep] = []
    for i, step in enumerate(steps):
        if not isinstance(step, Mapping):
            raise _Bad(diagnostic("T204", f"{where}, step {i}: a step must be an object"))
        pairs = [(str(k), 0, 0, _value(v, f"step {i}.{k}")) for k, v in step.items()]
        raw_steps.append((pairs, 0, 0))
    return (expert, 0, 0, 0, 0, 0, raw_steps)


def from_obj(obj: Mapping[str, Any] | Sequence[Any], *, validate: bool = True) -> Trace:
    """Build a trace from plain data (parsed JSON).

    Args:
        obj: ``{"expert", "trace": [steps]}`` (single form) or a list of those (composed).
        validate: also check expert vocabularies, like :func:`trace_dsl.parse`.

    Returns:
        The :class:`Trace`.

    Raises:
        TraceValidationError: wrong shape, keys, types or vocabulary (``T2xx``/``T3xx``).
        LimitExceededError: too many steps.
    """
    try:
        if isinstance(obj, Mapping):
            composed, raws = False, [_block(obj, 0)]
        elif isinstance(obj, Sequence) and not isinstance(obj, (str, bytes)):
            if not obj:
                raise _Bad(diagnostic("T210", "empty list of blocks"))
            composed, raws = True, [_block(b, i) for i, b in enumerate(obj)]
        else:
            raise _Bad(diagnostic("T204", "a trace is an object or a list of objects"))
        diags: list[Diagnostic] = []
        trace = _p._build(composed, raws, diags, check_layout=False)
    except _Bad as exc:
        cls: type[DslkitError] = (
            LimitExceededError if exc.diag.code.startswith("T0") else TraceValidationError
        )
        raise cls("", [exc.diag]) from None
    except _p._Problems as exc:
        raise LimitExceededError("", exc.diags) from None
    if trace is None:
        raise _p._error_class(tuple(diags))("", diags)
    if validate:
        vocab = _validate(trace)
        if vocab:
            raise TraceValidationError("", vocab)
    return trace


def _num(v: Number) -> int | float:
    return v if isinstance(v, int) else float(v)


def _arg(a: Arg) -> object:
    return a if isinstance(a, str) else _num(a)


def _step(s: Step) -> dict[str, object]:
    out: dict[str, object] = {"op": s.op}
    if isinstance(s, Init):
        out["var"] = s.var
        if s.value is not None:
            out["value"] = _num(s.value)
        else:
            out["source"] = s.source
    elif isinstance(s, Compute | Compare):
        out.update(compute_op=s.compute_op, args=[_arg(a) for a in s.args], var=s.var)
    elif isinstance(s, Query):
        out["var"] = s.var
    elif isinstance(s, Percent):
        out.update(base=_arg(s.base), rate=_arg(s.rate), var=s.var)
    elif isinstance(s, Given):
        out["values"] = {k: _num(v) for k, v in s.values}
    elif isinstance(s, State):
        out["assertions"] = {k: _num(v) for k, v in s.assertions}
    elif isinstance(s, Formula):
        out["expression"] = s.expression
    elif isinstance(s, Transfer):
        out.update(from_entity=s.from_entity, to_entity=s.to_entity, amount=_arg(s.amount))
    else:
        out.update(entity=s.entity, amount=_arg(s.amount))
    return out


def to_obj(trace: Trace) -> dict[str, object] | list[dict[str, object]]:
    """Turn a trace into plain JSON-ready data (the inverse of :func:`from_obj`).

    Args:
        trace: the trace.

    Returns:
        A dict for the single form, a list of dicts for the composed form. Integral numbers
        are ints, others floats.
    """
    blocks: list[dict[str, object]] = [
        {"expert": b.expert, "trace": [_step(s) for s in b.steps]} for b in trace.blocks
    ]
    return blocks if trace.composed else blocks[0]
