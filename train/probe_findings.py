"""Reading a probe report: the interpretation rules, and deltas against a baseline.

:func:`interpret` turns a report's scoreboards into written findings (what the numbers say and
what to try); its thresholds are :data:`dslkit.train.discipline.RULES`, the same ones the
promotion decision applies. :func:`compare` gives per-rate deltas of two reports over the same
probe contract.
"""

from __future__ import annotations

from typing import Any

from dslkit.train.discipline import RULES, PromotionRules
from dslkit.train.probe_boards import RATE_NAMES, Finding, ProbeReport, Scoreboard
from dslkit.train.probe_cases import ProbeMismatchError

__all__ = ["RULES_TEXT", "compare", "interpret"]

RULES_TEXT: tuple[tuple[str, str], ...] = (
    (
        "exact_not_materialized",
        "High exact with low materialized-exact: the model is right and the "
        "compiler or the probe is wrong (nondeterministic compile, stale expected SVG). Fix that first.",
    ),
    (
        "budget_truncation",
        "High budget-truncation: correct prefixes cut at the token budget. A budget "
        "problem (max_new_tokens, block_size, tokenizer granularity), not a knowledge problem.",
    ),
    (
        "special_token_leak",
        "High special-token leak: stop tokens or prompt tags inside scenes. A "
        "stop-token / decoding problem: check stop_ids and the end marker in the training rows.",
    ),
    (
        "repair_gap",
        "Repaired much better than raw: the model knows the content and fumbles the "
        "format. Constrained decoding or canonical-form training data, not more capacity.",
    ),
    (
        "renderable_not_exact",
        "High renderable with low exact: the syntax is learned, the mapping "
        "from prompt to scene is not. More or more varied data, or a longer run.",
    ),
    (
        "missing_end_no_truncation",
        "Missing [/scene] without truncation: generation stopped early on "
        "a stop id, or the end marker was never learned (check the rows end with it).",
    ),
    (
        "nesting",
        "Block-nesting errors: block structure not learned. Try constrained decoding or the "
        "row form.",
    ),
    (
        "duplicate_attr",
        "Duplicated attributes: the model loops over its prefix. Check repetition and "
        "the scene-prefix rows.",
    ),
    ("split_gap", "Train much better than dev/test: memorisation. More data or regularisation."),
    (
        "hidden_gap",
        "Hidden much worse than test: test leaked into training or hidden is out of distribution.",
    ),
    ("layout_drift", "Layout drift dominates failures: the prompt-to-family mapping is weak."),
    (
        "trace_parse_ok_wrong",
        "Traces parse and run but answers are wrong: arithmetic/knowledge, not format.",
    ),
    ("trace_wrong_expert", "Many wrong-expert traces: expert routing is not learned."),
)
_RULE_MESSAGES = dict(RULES_TEXT)


def interpret(report: ProbeReport, rules: PromotionRules = RULES) -> list[Finding]:
    """Apply the interpretation rules of the method to a probe report.

    Args:
        report: a probe report.
        rules: the thresholds (the ones the decision uses).

    Returns:
        The findings that fired, most severe first. The full rule list is :data:`RULES_TEXT`.
    """
    out: list[Finding] = []

    def fire(rule: str, severity: str, numbers: str) -> None:
        out.append(Finding(rule, severity, f"{_RULE_MESSAGES[rule]} ({numbers})"))

    raw = report.scene.get("raw")
    rep = report.scene.get("repaired")
    if raw is not None and raw.n:
        mat = raw.materialized_exact_rate
        if (
            mat is not None
            and raw.exact_rate >= rules.high
            and raw.exact_rate - mat > rules.materialized_gap
        ):
            fire(
                "exact_not_materialized",
                "red",
                f"exact {raw.exact_rate:.0%}, materialized {mat:.0%}",
            )
        if raw.budget_truncation_rate >= rules.alarm_rate:
            fire("budget_truncation", "amber", f"truncation {raw.budget_truncation_rate:.0%}")
        if raw.special_token_leak_rate >= rules.alarm_rate:
            fire("special_token_leak", "amber", f"leak {raw.special_token_leak_rate:.0%}")
        if rep is not None and rep.exact_rate - raw.exact_rate >= rules.repair_gap:
            fire(
                "repair_gap",
                "amber",
                f"raw exact {raw.exact_rate:.0%}, repaired {rep.exact_rate:.0%}",
            )
        if (
            raw.renderable_rate >= rules.high
            and raw.renderable_rate - raw.exact_rate >= rules.mapping_gap
        ):
            fire(
                "renderable_not_exact",
                "info",
                f"renderable {raw.renderable_rate:.0%}, exact {raw.exact_rate:.0%}",
            )
        if raw.missing_scene_end_rate - raw.budget_truncation_rate >= rules.alarm_rate:
            fire(
                "missing_end_no_truncation",
                "amber",
                f"missing end {raw.missing_scene_end_rate:.0%}, truncation {raw.budget_truncation_rate:.0%}",
            )
        if raw.block_nesting_error_rate >= rules.alarm_rate:
            fire("nesting", "amber", f"nesting errors {raw.block_nesting_error_rate:.0%}")
        if raw.duplicate_attr_rate >= rules.alarm_rate:
            fire("duplicate_attr", "amber", f"duplicate attrs {raw.duplicate_attr_rate:.0%}")
        splits = report.scene_by_split.get("raw", {})
        if "train" in splits:
            held = [splits[s].exact_rate for s in ("dev", "test") if s in splits]
            if held and splits["train"].exact_rate - max(held) >= rules.split_gap:
                fire(
                    "split_gap",
                    "info",
                    f"train {splits['train'].exact_rate:.0%}, dev/test {max(held):.0%}",
                )
        if (
            "hidden" in splits
            and "test" in splits
            and splits["test"].exact_rate - splits["hidden"].exact_rate >= rules.split_gap
        ):
            fire(
                "hidden_gap",
                "amber",
                f"test {splits['test'].exact_rate:.0%}, hidden {splits['hidden'].exact_rate:.0%}",
            )
        failures = sum(raw.failure_classes.values())
        if failures and raw.failure_classes.get("layout_drift", 0) / failures >= rules.drift_share:
            fire(
                "layout_drift",
                "info",
                f"{raw.failure_classes['layout_drift']} of {failures} failures",
            )
    if report.trace is not None and report.trace.n:
        t = report.trace
        if (
            t.valid_trace_rate >= rules.high
            and t.valid_trace_rate - t.accuracy >= rules.mapping_gap
        ):
            fire(
                "trace_parse_ok_wrong",
                "info",
                f"valid {t.valid_trace_rate:.0%}, accuracy {t.accuracy:.0%}",
            )
        if t.status_counts.get("wrong_expert", 0) / t.n >= rules.alarm_rate:
            fire(
                "trace_wrong_expert",
                "amber",
                f"wrong expert {t.status_counts['wrong_expert']}/{t.n}",
            )
    order = {"red": 0, "amber": 1, "info": 2}
    return sorted(out, key=lambda f: order[f.severity])


# --------------------------------------------------------------------------- comparing


def compare(run: ProbeReport, baseline: ProbeReport, *, mode: str = "raw") -> dict[str, Any]:
    """Deltas of a run's scoreboards against a baseline's, over the same probe contract.

    Args:
        run: the run's probe report.
        baseline: the baseline's probe report.
        mode: ``"raw"`` or ``"repaired"``.

    Returns:
        ``{"overall": {rate: delta}, "by_family": {family: {rate: delta}}, "trace": {...}}``;
        a delta is None where either side has no value.

    Raises:
        ProbeMismatchError: the two reports used different probe contracts (hash differs).
    """
    if run.probe_hash != baseline.probe_hash:
        raise ProbeMismatchError(
            f"refusing to compare probe reports over different probe contracts: run used "
            f"{run.probe_name} v{run.probe_version} (hash {run.probe_hash}), baseline used "
            f"{baseline.probe_name} v{baseline.probe_version} (hash {baseline.probe_hash}); "
            "re-probe the baseline with the run's case file"
        )

    def deltas(a: Scoreboard | None, b: Scoreboard | None) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for name in RATE_NAMES:
            va = a.rate(name) if a else None
            vb = b.rate(name) if b else None
            out[name] = None if va is None or vb is None else va - vb
        return out

    fam_a = run.scene_by_family.get(mode, {})
    fam_b = baseline.scene_by_family.get(mode, {})
    trace: dict[str, float] = {}
    if run.trace and baseline.trace:
        for key in ("parse_rate", "valid_trace_rate", "accuracy", "mean_reward"):
            trace[key] = getattr(run.trace, key) - getattr(baseline.trace, key)
    return {
        "overall": deltas(run.scene.get(mode), baseline.scene.get(mode)),
        "by_family": {
            f: deltas(fam_a.get(f), fam_b.get(f)) for f in sorted(set(fam_a) | set(fam_b))
        },
        "trace": trace,
    }
