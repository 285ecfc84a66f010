"""Reward functions for RL fine-tuning (TRL's ``reward_funcs`` signature).

TRL calls each reward function as ``f(prompts=..., completions=..., **columns)`` where the
dataset's other columns arrive as lists aligned with the completions. Both functions here take
that shape and return one float per completion; they never raise on model output or on a gold
value they cannot read (a crash would stop a training run hours in)::

    from trl import GRPOTrainer
    from dslkit.compilers import trace_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[trace_reward], train_dataset=ds)

:func:`trace_reward` scores a trace with the solver's ladder (:class:`RewardLadder`: parse_fail
0.0, wrong_expert 0.3, invalid_trace 0.5, wrong_answer 0.7, correct 1.0). :func:`scene_reward`
scores a scene with :class:`SceneLadder` (no scene / does not parse 0.0, parses but does not
compile with its content 0.3, renders 0.7, renders and equals the expected scene 1.0).
"""

from __future__ import annotations

import json
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dslkit.compilers.trace_solver import RewardLadder, verify

from dslkit.errors import CompileError, DslkitError

__all__ = ["RewardWarning", "SceneLadder", "read_gold", "scene_reward", "trace_reward"]


class RewardWarning(UserWarning):
    """A reward input (a gold answer, a content mapping) could not be read; it scored 0.0."""


@dataclass(frozen=True, slots=True)
class SceneLadder:
    """Reward per outcome of a generated scene."""

    no_scene: float = 0.0  # no ``[scene]`` in the completion, or it does not parse
    parses: float = 0.3  # parses, but does not compile with its content (contract, refs)
    renders: float = 0.7  # compiles to an SVG; no expected scene given, or a different one
    exact: float = 1.0  # compiles and is canonically equal to the expected scene


# ---------------------------------------------------------------------------- shared helpers
def completion_text(completion: Any) -> str:
    """The generated text of one completion: a string, or TRL chat messages.

    Chat completions are ``[{"role": "assistant", "content": ...}]``; the assistant messages'
    contents are joined (a content may itself be a list of ``{"type": "text", "text": ...}``).
    Anything else is read as no text.
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if not isinstance(completion, Sequence):
        return ""
    parts: list[str] = []
    messages = [m for m in completion if isinstance(m, Mapping)]
    chosen = [m for m in messages if m.get("role") == "assistant"] or messages
    for message in chosen:
        content = message.get("content", "")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, Sequence):
            parts += [
                str(p.get("text", "")) for p in content if isinstance(p, Mapping) and "text" in p
            ]
    return "".join(parts)


def _per_completion(value: Any, n: int, name: str) -> list[Any]:
    """TRL passes a column as a list aligned with the completions (``datasets`` as a
    ``Column``, numpy as an array); a single value (number, text, mapping) is shared."""
    single = isinstance(value, (str, bytes, Mapping)) or not (
        hasattr(value, "__len__") and hasattr(value, "__iter__")
    )
    if single or _is_messages(value):
        return [value] * n
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries for {n} completions")
    return list(value)


def _is_messages(value: Any) -> bool:
    return len(value) > 0 and all(isinstance(v, Mapping) and "role" in v for v in value)


def _warn(message: str) -> None:
    warnings.warn(message, RewardWarning, stacklevel=3)


# ---------------------------------------------------------------------------- traces
_MAX_JSON_TRIES = 32  # openers tried per completion: bounded work on brace-heavy prose
_JSON_OPENER = re.compile(r"[\[{]")


def read_gold(value: Any) -> int | Fraction | None:
    """Read a gold answer: a number, a numeric string (``"1,000"``, ``"$5"``, ``"2.5"``,
    ``"7/3"``) or GSM8K answer text ending in ``#### N``.

    Args:
        value: the gold answer.

    Returns:
        The exact value (int when integral), or None when it cannot be read (bool, NaN,
        infinity, text without a number).
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (int, float, Fraction, Decimal)):
        f = Fraction(str(value)) if isinstance(value, float) else Fraction(value)
    elif isinstance(value, str):
        if len(value) > 100_000:  # not a gold answer; Fraction() of huge digit strings is slow
            return None
        if "####" in value:
            from trace_dsl.gsm8k import parse_gold

            return parse_gold(value)
        text = value.strip().replace(",", "").replace("$", "")
        try:
            f = Fraction(text)
        except (ValueError, ZeroDivisionError):
            return None
    else:
        return None
    return f.numerator if f.denominator == 1 else f


def _trace_input(text: str) -> str | Any:
    """The trace in model text: DSL text (prose and fences dropped), else a JSON trace."""
    from trace_dsl.extract import extract

    trace = extract(text)
    if trace:
        return trace
    # Plain-JSON traces ({"expert": ..., "trace": [...]}, or a list of blocks), bare or fenced.
    decoder = json.JSONDecoder()
    # Left to right over both openers: a composed trace is a list whose blocks are objects.
    for tries, m in enumerate(_JSON_OPENER.finditer(text)):
        if tries == _MAX_JSON_TRIES:
            break
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except (ValueError, RecursionError):
            continue
        if isinstance(obj, (dict, list)) and obj:
            return obj
    return ""


def trace_reward(
    completions: Sequence[Any],
    answer: Any = None,
    *,
    ladder: RewardLadder | None = None,
    tolerance: float | Fraction = 0,
    expected_expert: Any = None,
    **kwargs: Any,
) -> list[float]:
    """Score generated traces against gold answers (a TRL reward function).

    The trace is taken out of the completion the way a model writes it: fenced
    (```` ```yaml ````) or after prose (:func:`trace_dsl.extract`), or as a plain JSON trace;
    it is solved exactly and judged with :func:`dslkit.compilers.verify`.

    Args:
        completions: strings, or chat messages (``[{"role": "assistant", "content": ...}]``).
        answer: the gold answers, one per completion (a dataset column) or one for all: numbers,
            numeric strings, or GSM8K answer text (``"... #### 18"``). A gold that cannot be
            read scores 0.0 with a :class:`RewardWarning`.
        ladder: rewards per status (default :class:`RewardLadder`).
        tolerance: absolute tolerance of the answer comparison (0: exact).
        expected_expert: an expert name (or one per completion) the trace must use.
        **kwargs: TRL's other arguments (``prompts``, ``completion_ids``, other columns):
            ignored.

    Returns:
        One reward per completion.

    Raises:
        ValueError: ``answer`` or ``expected_expert`` is a list of another length than
            ``completions`` (a wiring mistake, not a model output).
    """
    n = len(completions)
    golds = _per_completion(answer, n, "answer")
    experts = _per_completion(expected_expert, n, "expected_expert")
    ladder = ladder or RewardLadder()
    rewards: list[float] = []
    for completion, gold, expert in zip(completions, golds, experts, strict=True):
        value = read_gold(gold)
        if value is None:
            _warn(f"trace_reward: cannot read gold answer {str(gold)[:80]!r}; scored 0.0")
            rewards.append(0.0)
            continue
        trace = _trace_input(completion_text(completion))
        judged = verify(trace, value, expected_expert=expert, tolerance=tolerance, ladder=ladder)
        rewards.append(judged.reward)
    return rewards


# ---------------------------------------------------------------------------- scenes
def _scene_text(text: str) -> str:
    start = text.find("[scene]")
    if start < 0:
        return ""
    end = text.find("[/scene]", start)
    return text[start:] if end < 0 else text[start : end + len("[/scene]")]


def _read_content(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, Mapping):
        return value
    if isinstance(value, (str, bytes)):
        try:
            obj = json.loads(value)
        except (ValueError, RecursionError):
            return None
        return obj if isinstance(obj, Mapping) else None
    return None


def scene_reward(
    completions: Sequence[Any],
    content: Any,
    expected: Any = None,
    *,
    ladder: SceneLadder | None = None,
    contract: str = "v1",
    **kwargs: Any,
) -> list[float]:
    """Score generated scenes by what the compiler makes of them (a TRL reward function).

    The first ``[scene] ... [/scene]`` of the completion is parsed and compiled with its
    content; see :class:`SceneLadder` for the rewards (no scene 0.0, parses 0.3, renders 0.7,
    exact 1.0). Renders and exact are :func:`~dslkit.compilers.verify_scene`'s, the toolkit's
    one verdict: exact is the expected scene written as canonical text (block or row form);
    without an expected scene the best a completion earns is ``renders``.

    Args:
        completions: strings, or chat messages.
        content: the content.json of each completion's case (a dataset column) or one for all:
            mappings or JSON text. Unreadable content scores 0.0 with a :class:`RewardWarning`.
        expected: the expected scene text, one per completion or one for all; None for none.
        ladder: rewards per outcome (default :class:`SceneLadder`).
        contract: scene contract name or path.
        **kwargs: TRL's other arguments: ignored.

    Returns:
        One reward per completion.

    Raises:
        ValueError: a column is a list of another length than ``completions``.
    """
    from dslkit.compilers.scene_svg import compile_scene
    from dslkit.compilers.scene_verdict import verify_scene

    import scene_dsl

    n = len(completions)
    contents = _per_completion(content, n, "content")
    expecteds = _per_completion(expected, n, "expected")
    ladder = ladder or SceneLadder()
    spec = scene_dsl.load_contract(contract)
    targets: dict[str, Any] = {}  # expected text -> its scene (None: it does not parse)

    def target(text: str) -> Any:
        if text not in targets:
            try:
                targets[text] = scene_dsl.parse(text, contract=spec)
            except DslkitError:
                _warn("scene_reward: the expected scene does not parse; no exact credit")
                targets[text] = None
        return targets[text]

    def guarded_compile(scene: Any, data: Any) -> Any:
        try:
            return compile_scene(scene, data, contract=spec)
        except DslkitError:
            raise
        except Exception as exc:  # a compiler bug must not end a training run: report it
            _warn(f"scene_reward: compile_scene raised {type(exc).__name__}: {exc} (a bug)")
            raise CompileError(f"compiler bug: {type(exc).__name__}") from None

    rewards: list[float] = []
    for completion, raw_content, exp in zip(completions, contents, expecteds, strict=True):
        data = _read_content(raw_content)
        if data is None:
            _warn(f"scene_reward: cannot read content {str(raw_content)[:80]!r}; scored 0.0")
            rewards.append(0.0)
            continue
        text = _scene_text(completion_text(completion))
        # the toolkit's one verdict (the same exact/renderable as data QC, critic and probe)
        verdict = verify_scene(
            text,
            data,
            expected=None if exp is None else target(str(exp)),
            contract=spec,
            compile=guarded_compile,
        )
        if not verdict.parses:
            rewards.append(ladder.no_scene)
        elif not verdict.renderable:
            rewards.append(ladder.parses)
        elif verdict.exact:
            rewards.append(ladder.exact)
        else:
            rewards.append(ladder.renders)
    return rewards
