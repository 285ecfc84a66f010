"""Run discipline: which axes a run really changed, and the promotion rules.

DESIGN.md "Train": a run changes one primary axis (DSL, compiler, data, tokenizer, budget,
capacity) and declares what it holds constant. :func:`assess` compares a run's config and
artifact versions with its baseline's, maps every difference to an axis and flags the run
*blurry* when it changed more than its declared axis (a gain could then come from anywhere).
:func:`decide` applies the promotion rules to probe numbers and returns promote / reject /
repair / branch with its reasons and a colour (green proven gain, amber ambiguity, red
rejection).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from dslkit.train.config import AXES

__all__ = [
    "AXES",
    "AXIS_KEYS",
    "RULES",
    "Change",
    "Decision",
    "Discipline",
    "PromotionRules",
    "assess",
    "axis_of",
    "decide",
    "flatten",
    "memorisation",
]

# Dotted keys of a run spec ({"config": TrainConfig dict, "versions": {...}}) -> axis, by
# prefix (the longest matching prefix wins). The optimisation recipe counts as "budget": it
# decides how the training compute is spent, and a silent lr change is exactly the kind of
# second change that makes a comparison blurry.
AXIS_KEYS: dict[str, str] = {
    "versions.dsl": "dsl",
    "versions.contract": "dsl",
    "versions.form": "dsl",
    "versions.compiler": "compiler",
    "versions.data": "data",
    "config.data.train": "data",
    "config.data.dev": "data",
    "versions.tokenizer": "tokenizer",
    "config.model.vocab_size": "tokenizer",
    "config.data.pad_id": "tokenizer",
    "config.model": "capacity",
    "config.max_steps": "budget",
    "config.batch_size": "budget",
    "config.stop_at": "budget",
    "config.max_new_tokens": "budget",
    "config.lr": "budget",
    "config.min_lr": "budget",
    "config.warmup_steps": "budget",
    "config.weight_decay": "budget",
    "config.beta1": "budget",
    "config.beta2": "budget",
    "config.grad_clip": "budget",
    "config.dtype": "budget",
    "config.patience": "budget",
    "config.goal": "budget",
    "config.min_delta": "budget",
    "config.primary_metric": "budget",
    "config.primary_mode": "budget",
    "config.stop_on_parse_drop": "budget",
}

# Keys that describe *how* a run was executed or logged, not what it learns from: never an axis.
RUNTIME_KEYS: tuple[str, ...] = (
    "config.seed",  # seeds are noise: train.repeat measures them, they are not an axis
    "config.device",
    "config.num_threads",
    "config.out_dir",
    "config.resume",
    "config.quiet",
    "config.eval_every",
    "config.log_every",
    "config.ckpt_every",
    "config.exact_match",
    "config.exact_match_rows",
    "config.stop_ids",
    "config.parse_metric",
    "config.primary_axis",
    "config.held_constant",
)


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}} -> {"a.b": 1}`` (lists stay values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, name + "."))
        else:
            out[name] = value
    return out


def axis_of(key: str) -> str | None:
    """The axis a dotted key belongs to; None for runtime keys; ``"other"`` when unmapped."""
    if any(key == k or key.startswith(k + ".") for k in RUNTIME_KEYS):
        return None
    best = ""
    for prefix in AXIS_KEYS:
        if (key == prefix or key.startswith(prefix + ".")) and len(prefix) > len(best):
            best = prefix
    return AXIS_KEYS[best] if best else "other"


@dataclass(frozen=True)
class Change:
    """One key that differs between run and baseline."""

    key: str
    axis: str
    run: Any
    baseline: Any


@dataclass(frozen=True)
class Discipline:
    """What a run declared and what it actually changed against its baseline."""

    primary_axis: str
    held_constant: tuple[str, ...]
    has_baseline: bool
    changes: tuple[Change, ...] = ()
    reasons: tuple[str, ...] = ()

    @property
    def changed_axes(self) -> tuple[str, ...]:
        """Axes (and ``"other"``) with at least one changed key, in AXES order."""
        found = {c.axis for c in self.changes}
        return tuple(a for a in (*AXES, "other") if a in found)

    @property
    def blurry(self) -> bool:
        """True when the run changed anything besides its declared primary axis."""
        return any(a != self.primary_axis for a in self.changed_axes)

    def status(self, axis: str) -> str:
        """``"primary"``, ``"held"`` or ``"undeclared"`` for one axis."""
        if axis == self.primary_axis:
            return "primary"
        return "held" if axis in self.held_constant else "undeclared"

    def to_dict(self) -> dict[str, Any]:
        return {
            "primary_axis": self.primary_axis,
            "held_constant": list(self.held_constant),
            "has_baseline": self.has_baseline,
            "changed_axes": list(self.changed_axes),
            "blurry": self.blurry,
            "changes": [asdict(c) for c in self.changes],
            "reasons": list(self.reasons),
        }


def assess(run: Mapping[str, Any], baseline: Mapping[str, Any] | None) -> Discipline:
    """Detect which axes a run changed against its baseline.

    Args:
        run: ``{"config": <TrainConfig.to_dict()>, "versions": {"dsl": .., "compiler": ..,
            "data": .., "tokenizer": ..}}``; missing parts count as unknown, not as changes.
        baseline: the same for the baseline run, or None.

    Returns:
        A :class:`Discipline`; ``.blurry`` flags a run that changed more than its primary axis.
    """
    config = run.get("config", {}) or {}
    primary = str(config.get("primary_axis", "") or "")
    held = tuple(config.get("held_constant", ()) or ())
    if baseline is None:
        return Discipline(primary, held, False, (), ("no baseline: nothing to compare against",))
    mine, theirs = flatten(_spec(run)), flatten(_spec(baseline))
    changes = []
    for key in sorted(set(mine) | set(theirs)):
        axis = axis_of(key)
        if axis is None or key not in mine or key not in theirs:
            continue  # unknown on one side: cannot claim a change
        if _norm(mine[key]) != _norm(theirs[key]):
            changes.append(Change(key, axis, mine[key], theirs[key]))
    d = Discipline(primary, held, True, tuple(changes))
    reasons = []
    if not primary:
        reasons.append("the run declares no primary axis")
    elif primary not in d.changed_axes:
        reasons.append(f"the declared primary axis {primary!r} did not change: this is a re-run")
    for axis in d.changed_axes:
        if axis == primary:
            continue
        keys = ", ".join(c.key for c in changes if c.axis == axis)
        label = "held-constant axis" if axis in held else "axis"
        reasons.append(f"blurry: {label} {axis!r} changed too ({keys})")
    return Discipline(primary, held, True, tuple(changes), tuple(reasons))


def _spec(run: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "config": dict(run.get("config", {}) or {}),
        "versions": dict(run.get("versions", {}) or {}),
    }


def _norm(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_norm(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


# ----------------------------------------------------------------------------- promotion


@dataclass(frozen=True)
class PromotionRules:
    """Every threshold of the decision surface (rates are fractions in [0, 1]).

    :func:`decide` applies them to promote or not; the probe's interpretation rules
    (:func:`dslkit.train.probe_findings.interpret`) read the same instance, so a finding and
    the decision can never use two different numbers for one idea.
    """

    min_gain: float = 0.02  # a gain smaller than this is not worth a promotion
    z: float = 2.0  # a gain must exceed z standard errors (binomial, both runs) to be proven
    family_regression: float = 0.10  # no family may lose more than this on the primary metric
    repair_gap: float = 0.10  # repaired - raw exact at least this: fix the format first
    alarm_rate: float = 0.10  # leak or truncation rate at least this: fix decoding/budget first
    # train exact - held-out exact at least this: memorised, never promoted (and a split this
    # far below another one is a finding)
    split_gap: float = 0.20
    high: float = 0.5  # findings: a rate at least this counts as high
    materialized_gap: float = 0.05  # findings: exact above materialized-exact by more than this
    mapping_gap: float = 0.20  # findings: renderable - exact (traces: valid - accurate) this big
    drift_share: float = 0.3  # findings: layout drift in at least this share of the failures


RULES = PromotionRules()  # the one set of thresholds every decision and finding uses


@dataclass(frozen=True)
class Decision:
    """The report's verdict."""

    decision: str  # promote | reject | repair | branch
    colour: str  # green (proven gain) | amber (ambiguous) | red (rejection)
    reasons: tuple[str, ...]
    primary_metric: str
    value: float | None
    baseline_value: float | None = None
    delta: float | None = None
    noise: float | None = None  # z x standard error of the delta
    regressed_families: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _se(p1: float, n1: int, p0: float, n0: int) -> float:
    if n1 <= 0 or n0 <= 0:
        return 0.0
    return math.sqrt(max(p1 * (1 - p1), 0.0) / n1 + max(p0 * (1 - p0), 0.0) / n0)


def decide(
    *,
    metric: str,
    value: float | None,
    n: int,
    baseline_value: float | None = None,
    baseline_n: int = 0,
    family_deltas: Mapping[str, float | None] | None = None,
    discipline: Discipline | None = None,
    gate_ok: bool | None = None,
    raw_exact: float | None = None,
    repaired_exact: float | None = None,
    leak_rate: float | None = None,
    truncation_rate: float | None = None,
    noise_floor: float | None = None,
    train_exact: float | None = None,
    heldout_exact: float | None = None,
    rules: PromotionRules = RULES,
) -> Decision:
    """Apply the promotion rules.

    In order: a failed compiler gate rejects (the probe cannot be trusted); a memorised run
    (train exact at least ``rules.split_gap`` above held-out exact) rejects, whatever its gain;
    a blurry run
    branches (split it into single-axis runs); a proven gain with no family regressing beyond
    the threshold promotes; a proven gain with a regressing family branches; a large
    repaired-vs-raw gap, leak or truncation rate asks for repair (decoding, budget, format);
    a proven loss rejects; anything else is within noise and is not promoted.

    Args:
        metric: name of the primary metric (for the reasons).
        value: the run's primary metric.
        n: number of probe cases behind ``value``.
        baseline_value: the baseline's primary metric (None: no baseline).
        baseline_n: cases behind ``baseline_value``.
        family_deltas: family -> delta of the primary metric against the baseline.
        discipline: from :func:`assess`.
        gate_ok: the gold-pack gate (None: not run).
        raw_exact: raw exact rate; with ``repaired_exact`` measures the format gap.
        repaired_exact: repaired exact rate.
        leak_rate: special-token leak rate of raw output.
        truncation_rate: budget truncation rate of raw output.
        noise_floor: an extra noise estimate of the metric (e.g. the seed spread from
            ``dslkit.train.repeat``); the larger of it and the binomial error is used.
        train_exact: exact (traces: accuracy) on the probe's train-split cases.
        heldout_exact: the same on its held-out cases (dev, test, hidden together).
        rules: thresholds.

    Returns:
        The :class:`Decision`.
    """
    reasons: list[str] = []
    delta = noise = None
    if value is not None and baseline_value is not None:
        delta = value - baseline_value
        noise = rules.z * _se(value, n, baseline_value, baseline_n)
        if noise_floor is not None:
            noise = max(noise, noise_floor)
    regressed = {
        f: d
        for f, d in (family_deltas or {}).items()
        if d is not None and d < -rules.family_regression
    }

    def out(decision: str, colour: str) -> Decision:
        return Decision(
            decision, colour, tuple(reasons), metric, value, baseline_value, delta, noise, regressed
        )

    if gate_ok is False:
        reasons.append(
            "compiler gate failed: the gold pack does not round-trip, so the probe "
            "cannot be trusted; fix the compiler before judging the model"
        )
        return out("reject", "red")
    if value is None:
        reasons.append(f"no value for the primary metric {metric}")
        return out("reject", "red")
    memorised = memorisation(train_exact, heldout_exact, rules)
    if memorised:
        reasons.append(memorised)
        reasons.append(
            "the model recalls its training prompts and does not generalise: more varied data "
            "(new content skeletons), fewer steps or more regularisation, not promotion"
        )
        return out("reject", "red")
    if discipline is not None and discipline.has_baseline and discipline.blurry:
        reasons.extend(r for r in discipline.reasons if r.startswith("blurry"))
        reasons.append("split the run into single-axis runs before promoting anything")
        return out("branch", "amber")
    format_gap = (
        (repaired_exact - raw_exact)
        if raw_exact is not None and repaired_exact is not None
        else 0.0
    )
    needs_repair = []
    if format_gap >= rules.repair_gap:
        needs_repair.append(
            f"repaired exact exceeds raw by {format_gap:.0%}: the format, not the "
            "knowledge, is failing (constrained decoding or canonical rows)"
        )
    if leak_rate is not None and leak_rate >= rules.alarm_rate:
        needs_repair.append(f"special-token leak rate {leak_rate:.0%}: fix stop ids / end marker")
    if truncation_rate is not None and truncation_rate >= rules.alarm_rate:
        needs_repair.append(f"budget truncation rate {truncation_rate:.0%}: raise the token budget")
    if delta is None:
        reasons.append(f"no baseline: {metric} = {value:.1%} becomes the reference for later runs")
        if needs_repair:
            reasons.extend(needs_repair)
            return out("repair", "amber")
        if value > 0:
            reasons.append("promoted as the first baseline; no gain is proven yet")
            return out("promote", "amber")
        reasons.append("the primary metric is zero: nothing worth keeping")
        return out("reject", "red")
    assert noise is not None
    proven_gain = delta >= max(rules.min_gain, noise) and delta > 0
    if proven_gain and not regressed:
        reasons.append(
            f"{metric} {baseline_value:.1%} -> {value:.1%} ({delta:+.1%}) beats noise "
            f"({noise:.1%}) and the minimum gain ({rules.min_gain:.0%})"
        )
        reasons.append(f"no family regresses by more than {rules.family_regression:.0%}")
        return out("promote", "green")
    if proven_gain:
        worst = ", ".join(f"{f} {d:+.0%}" for f, d in sorted(regressed.items(), key=lambda x: x[1]))
        reasons.append(f"{metric} improves by {delta:+.1%} but families regress: {worst}")
        reasons.append("branch: keep the baseline for those families and study them separately")
        return out("branch", "amber")
    if needs_repair:
        reasons.extend(needs_repair)
        return out("repair", "amber")
    if delta <= -noise and delta < 0:
        reasons.append(
            f"{metric} drops {baseline_value:.1%} -> {value:.1%} ({delta:+.1%}), beyond "
            f"noise ({noise:.1%})"
        )
        return out("reject", "red")
    reasons.append(
        f"{metric} changes by {delta:+.1%}, within noise ({noise:.1%}) or below the "
        f"minimum gain ({rules.min_gain:.0%}): not promoted; add seeds (train.repeat) or "
        "probe cases to resolve it"
    )
    return out("reject", "amber")


def memorisation(
    train_exact: float | None, heldout_exact: float | None, rules: PromotionRules = RULES
) -> str:
    """Name memorisation when held-out exact is far below train exact ("" when it is not).

    Args:
        train_exact: exact rate on train-split probe cases (None: not measured).
        heldout_exact: exact rate on held-out probe cases (None: not measured).
        rules: ``rules.split_gap`` is what "far below" means.

    Returns:
        ``"memorised: train 100%, held-out 0% (gap 100 points, threshold 20)"`` or ``""``.
    """
    if train_exact is None or heldout_exact is None:
        return ""
    gap = train_exact - heldout_exact
    if gap < rules.split_gap:
        return ""
    return (
        f"memorised: train {train_exact:.0%}, held-out {heldout_exact:.0%} "
        f"(gap {gap * 100:.0f} points, threshold {rules.split_gap * 100:.0f})"
    )


def families_delta(
    run: Mapping[str, float], baseline: Mapping[str, float]
) -> dict[str, float | None]:
    """Per-family delta of one rate (None where a side lacks the family)."""
    return {
        f: (run[f] - baseline[f]) if f in run and f in baseline else None
        for f in sorted(set(run) | set(baseline))
    }
