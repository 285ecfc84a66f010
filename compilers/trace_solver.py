"""The trace solver: what a trace means (a number), computed exactly, and its reward.

``solve`` runs a trace with exact rational arithmetic and returns a :class:`Result`;
``verify`` compares that answer with an expected one and scores it on a :class:`RewardLadder`.
Neither raises for a bad trace: parse failures, wrong experts and execution errors (division
by zero, undefined variables, init-only queries, overflow, ...) are statuses, each naming the
step and a stable ``X...`` code. Only a wrong *call* (e.g. a negative tolerance) raises.
"""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from dslkit.compilers.codes import SOLVER_CODES

from dslkit.errors import Diagnostic, DslkitError, SolverError
from trace_dsl.ast import (
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
    Trace,
    Transfer,
)
from trace_dsl.experts import ARITY, DOMAIN_OPS, ops_for

__all__ = ["Result", "RewardLadder", "Status", "StepError", "Verification", "solve", "verify"]

Number = int | Fraction

# A value whose numerator or denominator needs more bits than this is an overflow: it keeps
# every step O(1)-ish and no GSM8K-sized problem comes near it (2**4096 ~ 10**1233).
MAX_BITS = 4096
MAX_STEPS = 10_000
MAX_NUMBER_CHARS = 64  # as trace_dsl.parser: the longest number literal a trace may write


class Status(str, enum.Enum):
    """Outcome of solving or verifying a trace, worst first."""

    PARSE_FAIL = "parse_fail"  # the text is not a trace
    WRONG_EXPERT = "wrong_expert"  # unknown expert, or not the expected one
    INVALID_TRACE = "invalid_trace"  # an execution error (see StepError.code)
    WRONG_ANSWER = "wrong_answer"  # ran, but no expected answer matches
    CORRECT = "correct"  # ran and matches an expected answer
    SOLVED = "solved"  # ran; no expected answer was given

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True)
class RewardLadder:
    """Reward per status; configurable so a training run can reshape the ladder."""

    parse_fail: float = 0.0
    wrong_expert: float = 0.3
    invalid_trace: float = 0.5
    wrong_answer: float = 0.7
    correct: float = 1.0
    solved: float = 0.7  # a trace that ran but could not be checked earns no bonus

    def reward(self, status: Status) -> float:
        """Return the reward of a status.

        Args:
            status: any :class:`Status`.

        Returns:
            The configured reward.
        """
        return float(getattr(self, status.value))


@dataclass(frozen=True, slots=True)
class StepError:
    """Why a trace failed: a stable code, a message and where (block and step, 0-based)."""

    code: str  # "X201" ... for execution errors, "T..." for parse/validation errors
    name: str  # kebab-case, e.g. "division-by-zero"
    message: str  # one sentence
    step: int | None = None  # 0-based step index within its block (None: whole trace)
    block: int = 0  # 0-based block index (always 0 in single form)
    line: int = 0  # 1-based source line when the trace came from text
    column: int = 0

    def to_dict(self) -> dict[str, object]:
        """JSON shape: ``{"code", "name", "message", "step", "block"}``."""
        return {
            "code": self.code,
            "name": self.name,
            "message": self.message,
            "step": self.step,
            "block": self.block,
        }

    def to_diagnostic(self) -> Diagnostic:
        """The error as a toolkit :class:`Diagnostic`."""
        if self.code in SOLVER_CODES:
            return SOLVER_CODES.diag(self.code, self.message, self.line, self.column)
        return Diagnostic(
            self.code, "trace_parse_failure", self.message, self.line, self.column, name=self.name
        )


@dataclass(frozen=True, slots=True)
class Result:
    """What :func:`solve` returns."""

    status: Status  # SOLVED, INVALID_TRACE, WRONG_EXPERT or PARSE_FAIL
    answer: Number | None = None  # int when integral, else Fraction; None on failure
    expert: str | None = None  # expert of the last block, when the trace parsed
    error: StepError | None = None  # set unless status is SOLVED
    block_answers: tuple[Number | None, ...] = ()  # answer of each block, in order
    trace: Trace | None = field(default=None, compare=False, repr=False)

    @property
    def ok(self) -> bool:
        """True when the trace ran to an answer."""
        return self.status is Status.SOLVED

    @property
    def answer_float(self) -> float | None:
        """The answer as a float (None on failure)."""
        return None if self.answer is None else float(self.answer)

    def raise_for_status(self) -> None:
        """Raise :class:`SolverError` when the trace failed (for callers who prefer raising)."""
        if self.error is not None:
            raise SolverError("", [self.error.to_diagnostic()])


@dataclass(frozen=True, slots=True)
class Verification:
    """What :func:`verify` returns: the solve result, the judged status and its reward."""

    status: Status
    reward: float
    result: Result
    expected: tuple[Number, ...] = ()  # the accepted answers (empty: nothing to check)

    @property
    def answer(self) -> Number | None:
        """The trace's answer (None on failure)."""
        return self.result.answer

    @property
    def error(self) -> StepError | None:
        """The failure, if any."""
        return self.result.error

    def to_dict(self) -> dict[str, object]:
        """JSON shape of the CLI: ``{"status", "answer", "reward", "expert", "error"}``."""
        return {
            "status": self.status.value,
            "answer": _json_number(self.answer),
            "reward": self.reward,
            "expert": self.result.expert,
            "error": None if self.error is None else self.error.to_dict(),
        }


def _json_number(value: Number | None) -> object:
    if value is None or isinstance(value, int):
        return value
    try:
        return float(value)
    except OverflowError:  # a fraction beyond float range: its exact "p/q" text instead
        return str(value)


class _Fail(Exception):
    """Internal: an execution error at the current step."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _norm(v: Fraction) -> Number:
    return v.numerator if v.denominator == 1 else v


def _check(v: Number) -> Number:
    if isinstance(v, int):
        if v.bit_length() > MAX_BITS:
            raise _Fail("X206", f"value exceeds {MAX_BITS} bits")
        return v
    if v.numerator.bit_length() > MAX_BITS or v.denominator.bit_length() > MAX_BITS:
        raise _Fail("X206", f"value exceeds {MAX_BITS} bits")
    return _norm(v)


def _div(a: Number, b: Number) -> Number:
    if b == 0:
        raise _Fail("X201", "division by zero")
    if isinstance(a, int) and isinstance(b, int):
        q, r = divmod(a, b)
        return q if r == 0 else Fraction(a, b)
    return _norm(Fraction(a) / b)


def _pow(a: Number, b: Number) -> Number:
    if isinstance(b, int) or b.denominator == 1:
        e = int(b)
        if a == 0 and e < 0:
            raise _Fail("X201", "zero to a negative power")
        if a in (0, 1):
            return a
        if a == -1:
            return 1 if e % 2 == 0 else -1
        size = max(Fraction(a).numerator.bit_length(), Fraction(a).denominator.bit_length())
        if abs(e) > MAX_BITS or size * abs(e) > MAX_BITS + 64:
            raise _Fail("X206", f"pow result would exceed {MAX_BITS} bits")
        return _check(_norm(Fraction(a) ** e))
    # non-integer exponent: exact only when the root is exact, else the float approximation
    if a < 0:
        raise _Fail("X211", "negative base with a fractional exponent")
    try:
        return _norm(Fraction(float(a) ** float(b)))
    except (OverflowError, ValueError):
        raise _Fail("X206", "pow result out of range") from None


def _sqrt(a: Number) -> Number:
    if a < 0:
        raise _Fail("X211", "square root of a negative number")
    f = Fraction(a)
    rn, rd = math.isqrt(f.numerator), math.isqrt(f.denominator)
    if rn * rn == f.numerator and rd * rd == f.denominator:
        return _norm(Fraction(rn, rd))
    # irrational: the nearest double, as an exact rational (documented approximation)
    return _norm(Fraction(math.sqrt(f)))


def _apply(op: str, vals: list[Number]) -> Number:
    lo, hi = ARITY[op]
    n = len(vals)
    if n < lo or (hi is not None and n > hi):
        want = f"{lo}" if lo == hi else f"at least {lo}"
        raise _Fail("X210", f"{op} takes {want} argument(s), got {n}")
    if op == "add":
        out: Number = sum(vals)
    elif op == "sub":
        out = vals[0] - vals[1]
    elif op == "mul":
        out = vals[0]
        for v in vals[1:]:
            out = _check(out * v)
    elif op == "div":
        out = _div(vals[0], vals[1])
    elif op == "mod":
        if vals[1] == 0:
            raise _Fail("X201", "modulo by zero")
        out = vals[0] % vals[1]
    elif op == "pow":
        return _pow(vals[0], vals[1])
    elif op == "min":
        out = min(vals)
    elif op == "max":
        out = max(vals)
    elif op == "abs":
        out = -vals[0] if vals[0] < 0 else vals[0]
    else:
        out = _sqrt(vals[0])
    return _check(out)


def _run_block(
    steps: Sequence[Step], expert: str, answers: list[Number | None], index: int
) -> tuple[Number | None, int]:
    """Run one block with a fresh state; returns (answer, steps run). Raises _Fail with .step."""
    env: dict[str, Number] = {}
    computed: set[str] = set()  # written by compute or a domain op (queryable)
    allowed = ops_for(expert)
    answer: Number | None = None

    def get(a: object) -> Number:
        if isinstance(a, str):
            try:
                return env[a]
            except KeyError:
                raise _Fail("X202", f"undefined variable {a!r}") from None
        return a  # type: ignore[return-value]

    for i, step in enumerate(steps):
        try:
            op = step.op
            if op not in allowed:
                owner = next((e for e, ops in DOMAIN_OPS.items() if op in ops), None)
                hint = f" (it belongs to {owner!r})" if owner else ""
                raise _Fail(
                    "X204", f"op {op!r} is not in the vocabulary of expert {expert!r}{hint}"
                )
            t = type(step)
            if t is Init:
                if step.source is not None:  # type: ignore[union-attr]
                    env[step.var] = _piped(step.source, answers, index)  # type: ignore[union-attr]
                else:
                    env[step.var] = _check(step.value)  # type: ignore[union-attr,arg-type]
                computed.discard(step.var)  # type: ignore[union-attr]
            elif t is Compute or t is Compare:
                env[step.var] = _apply(step.compute_op, [get(a) for a in step.args])  # type: ignore[union-attr]
                computed.add(step.var)  # type: ignore[union-attr]
            elif t is Query:
                var = step.var  # type: ignore[union-attr]
                if var not in env:
                    raise _Fail("X202", f"query of undefined variable {var!r}")
                if var not in computed:
                    raise _Fail(
                        "X203", f"query of {var!r}, which was only initialised, never computed"
                    )
                answer = env[var]
            elif t is Percent:
                base, rate = get(step.base), get(step.rate)  # type: ignore[union-attr]
                pct = _div(rate, 100)
                if op == "percent_off":
                    out = base * (1 - pct)
                elif op == "percent_increase":
                    out = base * (1 + pct)
                else:
                    out = base * pct
                env[step.var] = _check(out)  # type: ignore[union-attr]
                computed.add(step.var)  # type: ignore[union-attr]
            elif t is Given:
                for name, value in step.values:  # type: ignore[union-attr]
                    env[name] = _check(value)
                    computed.discard(name)
            elif t is State:
                for name, value in step.assertions:  # type: ignore[union-attr]
                    if name not in env:
                        raise _Fail("X202", f"state asserts undefined variable {name!r}")
                    if env[name] != value:
                        raise _Fail(
                            "X212", f"state asserts {name} = {value}, but it is {env[name]}"
                        )
            elif t is Formula:
                pass  # documentation only
            elif t is Transfer:
                amount = get(step.amount)  # type: ignore[union-attr]
                src, dst = step.from_entity, step.to_entity  # type: ignore[union-attr]
                if src not in env:
                    raise _Fail("X208", f"transfer from uninitialised entity {src!r}")
                if amount < 0 or env[src] < amount:
                    raise _Fail("X207", f"{src!r} holds {env[src]}, cannot transfer {amount}")
                env[src] = env[src] - amount
                env[dst] = _check(env.get(dst, 0) + amount)
                computed.add(src)
                computed.add(dst)
            elif t is Consume:
                amount = get(step.amount)  # type: ignore[union-attr]
                ent = step.entity  # type: ignore[union-attr]
                if ent not in env:
                    raise _Fail("X208", f"consume from uninitialised entity {ent!r}")
                if amount < 0 or env[ent] < amount:
                    raise _Fail("X207", f"{ent!r} holds {env[ent]}, cannot consume {amount}")
                env[ent] = env[ent] - amount
                computed.add(ent)
            elif t is AddEntity:
                amount = get(step.amount)  # type: ignore[union-attr]
                ent = step.entity  # type: ignore[union-attr]
                env[ent] = _check(env.get(ent, 0) + amount)
                computed.add(ent)
            else:  # pragma: no cover - the Step union is closed
                raise _Fail("X204", f"unknown step {step!r}")
        except _Fail as exc:
            exc.step = i  # type: ignore[attr-defined]
            raise
        except (ArithmeticError, TypeError, ValueError) as exc:  # belt and braces: never escape
            fail = _Fail("X211", f"arithmetic error: {exc}")
            fail.step = i  # type: ignore[attr-defined]
            raise fail from None
    return answer, len(steps)


def _piped(source: str, answers: list[Number | None], index: int) -> Number:
    ref = source.split(".", 1)[0]
    target = index - 1 if ref == "prev" else int(ref[3:])
    if target < 0 or target >= index:
        raise _Fail("X205", f"{source} refers to no earlier block")
    value = answers[target]
    if value is None:
        raise _Fail("X205", f"{source}: block {target} produced no answer")
    return value


def _error(
    code: str, message: str, step: int | None = None, block: int = 0, node: object = None
) -> StepError:
    entry = SOLVER_CODES[code]
    return StepError(
        code, entry.name, message, step, block, getattr(node, "line", 0), getattr(node, "column", 0)
    )


def _as_trace(trace: Trace | str | Mapping[str, Any] | Sequence[Any]) -> Trace | StepError:
    if isinstance(trace, Trace):
        return trace
    try:
        if isinstance(trace, str):
            from trace_dsl.parser import parse

            return parse(trace, validate=False)
        from trace_dsl.interop import from_obj

        return from_obj(trace, validate=False)
    except DslkitError as exc:
        d = exc.diagnostic
        if d is None:
            return StepError("T000", "parse-error", str(exc))
        return StepError(d.code, d.name, d.message, None, 0, d.line, d.column)
    except (RecursionError, ValueError, TypeError) as exc:
        # A Python object no JSON trace can be (keys that refuse str(), containers that
        # contain themselves): solve() reports it, it never raises.
        return StepError("T204", "wrong-type", f"not a trace: {type(exc).__name__}: {exc}"[:200])


def solve(trace: Trace | str | Mapping[str, Any] | Sequence[Any]) -> Result:
    """Run a trace exactly and return its answer or the reason it failed.

    Args:
        trace: a :class:`Trace`, trace text, or a plain JSON trace (``{"expert", "trace"}`` or a
            list of those).

    Returns:
        A :class:`Result` with status ``solved`` and the answer (int when integral, else a
        Fraction), or ``parse_fail`` / ``wrong_expert`` / ``invalid_trace`` with a
        :class:`StepError`. Never raises for a bad trace.
    """
    parsed = _as_trace(trace)
    if isinstance(parsed, StepError):
        return Result(Status.PARSE_FAIL, error=parsed)
    expert = parsed.blocks[-1].expert if parsed.blocks else None
    if sum(len(b.steps) for b in parsed.blocks) > MAX_STEPS:
        return Result(
            Status.INVALID_TRACE,
            expert=expert,
            error=_error("X214", f"more than {MAX_STEPS} steps"),
            trace=parsed,
        )
    answers: list[Number | None] = []

    def failed(status: Status, err: StepError) -> Result:
        return Result(status, expert=expert, error=err, block_answers=tuple(answers), trace=parsed)

    for bi, block in enumerate(parsed.blocks):
        if block.expert not in DOMAIN_OPS:
            err = _error("X213", f"unknown expert {block.expert!r}", None, bi, block)
            return failed(Status.WRONG_EXPERT, err)
        try:
            answer, _ = _run_block(block.steps, block.expert, answers, bi)
        except _Fail as exc:
            si = getattr(exc, "step", None)
            node = block.steps[si] if si is not None else block
            return failed(Status.INVALID_TRACE, _error(exc.code, exc.message, si, bi, node))
        except RecursionError:  # pragma: no cover - no recursion in the solver
            err = _error("X206", "recursion limit", None, bi, block)
            return Result(Status.INVALID_TRACE, expert=expert, error=err, trace=parsed)
        answers.append(answer)
    final = answers[-1] if answers else None
    if final is None:
        bi = len(parsed.blocks) - 1
        err = _error(
            "X209",
            "the trace has no query, so no answer",
            None,
            bi,
            parsed.blocks[-1] if parsed.blocks else None,
        )
        return failed(Status.INVALID_TRACE, err)
    return Result(Status.SOLVED, final, expert, None, tuple(answers), parsed)


_EXPECTED_RE = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:/\d+)?")
_MAX_EXPECTED_CHARS = 2 * MAX_NUMBER_CHARS + 1  # "p/q" with two number literals


def _expected_number(value: object) -> Number:
    if isinstance(value, bool):
        raise ValueError(f"expected answer must be a number, got {value!r}")
    if isinstance(value, int | Fraction):
        try:
            return _check(_norm(Fraction(value)))  # no answer can exceed MAX_BITS
        except _Fail:
            raise ValueError(f"expected answer exceeds the solver's {MAX_BITS}-bit range") from None
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected answer must be finite, got {value!r}")
        return _norm(Fraction(str(value)))
    if isinstance(value, str):
        text = value.strip().replace(",", "").replace("$", "")
        shown = repr(value) if len(value) <= 40 else repr(value[:37] + "...")
        # Written the way answers are written: no exponents ("1e999"), no nan/inf, no
        # 5,000-digit strings (Fraction would read them, as a number no float can hold)
        if len(text) > _MAX_EXPECTED_CHARS or not _EXPECTED_RE.fullmatch(text):
            raise ValueError(
                f"expected answer {shown} is not a decimal number or fraction (e.g. 18, "
                f"-2.5, 3/4; at most {_MAX_EXPECTED_CHARS} characters)"
            )
        try:
            return _norm(Fraction(text))
        except ZeroDivisionError:
            raise ValueError(f"expected answer {shown} divides by zero") from None
    raise ValueError(
        f"expected answer must be a number or numeric string, got {type(value).__name__}"
    )


def verify(
    trace_or_text: Trace | str | Mapping[str, Any] | Sequence[Any],
    expected_answer: object = None,
    *,
    expected_expert: str | None = None,
    tolerance: float | Fraction = 0,
    ladder: RewardLadder | None = None,
) -> Verification:
    """Solve a trace and judge it against an expected answer and expert.

    Args:
        trace_or_text: anything :func:`solve` accepts.
        expected_answer: a number, a numeric string (``"1,000"`` is read as a gold answer), a
            list of acceptable answers, or None (nothing to check: status ``solved``).
        expected_expert: when given, a trace none of whose blocks use this expert is
            ``wrong_expert``.
        tolerance: absolute tolerance for the comparison (0 means exact).
        ladder: rewards per status (default :class:`RewardLadder`).

    Returns:
        A :class:`Verification` with the judged status and reward.

    Raises:
        ValueError: when ``expected_answer`` or ``tolerance`` is not a usable number (a
            mistake of the caller, not of the trace).
    """
    ladder = ladder or RewardLadder()
    if isinstance(expected_answer, (list, tuple, set, frozenset)):
        expected = tuple(_expected_number(v) for v in expected_answer)
    elif expected_answer is None:
        expected = ()
    else:
        expected = (_expected_number(expected_answer),)
    tol = Fraction(str(tolerance)) if isinstance(tolerance, float) else Fraction(tolerance)
    if tol < 0:
        raise ValueError("tolerance must be >= 0")
    result = solve(trace_or_text)
    status = result.status
    if (
        status is not Status.PARSE_FAIL
        and expected_expert is not None
        and result.trace is not None
        and all(b.expert != expected_expert for b in result.trace.blocks)
    ):
        # a wrong expert outranks the execution status
        status = Status.WRONG_EXPERT
        if result.error is None:
            err = StepError(
                "X213",
                "wrong-expert",
                f"expected expert {expected_expert!r}, got {result.expert!r}",
            )
            result = Result(
                Status.WRONG_EXPERT,
                result.answer,
                result.expert,
                err,
                result.block_answers,
                result.trace,
            )
    if status is Status.SOLVED and expected:
        ans = result.answer
        assert ans is not None
        hit = any(ans == e if tol == 0 else -tol <= ans - e <= tol for e in expected)
        status = Status.CORRECT if hit else Status.WRONG_ANSWER
    return Verification(status, ladder.reward(status), result, expected)
