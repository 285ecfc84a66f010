"""Probe rates on hand-built generators whose outputs are known by construction."""

from __future__ import annotations

from collections import Counter

import pytest
from dslkit.train import probe
from probe_helpers import BEHAVIOURS, fake_compile, generator, scene_cases

# behaviour -> the raw flags it must raise (every other flag must stay down)
RAW_FLAGS = {
    "echo": {"exact", "renderable", "materialized_exact"},
    "truncate": {"truncated", "missing_scene_end"},
    "leak_eos": {"special_token_leak"},
    "duplicate_attr": {"duplicate_attr"},
    "bad_nesting": {"block_nesting_error"},
    "drop_start": {"missing_scene_start"},
    "drift_tone": {"renderable"},
}
FLAG_OF_RATE = dict(probe.RATE_FLAGS)
# behaviour -> primary failure class of the raw output
PRIMARY = {
    "echo": "",
    "truncate": "budget_truncation",
    "leak_eos": "special_token_leak",
    "duplicate_attr": "duplicate_attr",
    "bad_nesting": "block_nesting_failure",
    "drop_start": "scene_prefix_failure",
    "drift_tone": "theme_tone_drift",
}
# behaviours whose repair restores the exact scene (repair drops, closes, dedupes; it never
# invents, so it cannot undo a cut or a drift)
REPAIRABLE = {"echo", "leak_eos", "duplicate_attr", "drop_start", "bad_nesting"}


def _expected_rate(plan: dict[str, str], ids: list[str], flag: str) -> float:
    return sum(flag in RAW_FLAGS[plan[i]] for i in ids) / len(ids)


@pytest.mark.parametrize("behaviour", sorted(BEHAVIOURS))
def test_single_behaviour_raises_exactly_its_flags(behaviour: str) -> None:
    cases = scene_cases()
    plan = {c.id: behaviour for c in cases}
    report = probe.run(generator(cases, plan), cases, compile=fake_compile)
    raw = report.scene["raw"]
    for rate, flag in probe.RATE_FLAGS:
        assert raw.rate(rate) == _expected_rate(plan, list(plan), flag), rate
    assert {c.failure_class for c in report.cases} == {PRIMARY[behaviour]}
    rep = report.scene["repaired"]
    assert rep.exact_rate == (1.0 if behaviour in REPAIRABLE else 0.0)
    # repair leaves only well-formed scenes behind
    assert rep.special_token_leak_rate == rep.missing_scene_end_rate == 0.0


def test_mixed_generator_rates_per_family_and_split() -> None:
    cases = scene_cases()
    names = sorted(BEHAVIOURS)
    plan = {c.id: names[i % len(names)] for i, c in enumerate(cases)}
    report = probe.run(generator(cases, plan), cases, compile=fake_compile)
    for rate, flag in probe.RATE_FLAGS:
        assert report.scene["raw"].rate(rate) == pytest.approx(
            _expected_rate(plan, list(plan), flag)
        )
    for group_of, boards in (
        ("family", report.scene_by_family["raw"]),
        ("split", report.scene_by_split["raw"]),
    ):
        groups: dict[str, list[str]] = {}
        for c in cases:
            groups.setdefault(getattr(c, group_of), []).append(c.id)
        assert set(boards) == set(groups)
        for key, ids in groups.items():
            assert boards[key].n == len(ids)
            for rate, flag in probe.RATE_FLAGS:
                assert boards[key].rate(rate) == pytest.approx(_expected_rate(plan, ids, flag))
    want_classes = Counter(PRIMARY[plan[c.id]] for c in cases if PRIMARY[plan[c.id]])
    assert report.scene["raw"].failure_classes == dict(want_classes)
    repaired_exact = sum(plan[c.id] in REPAIRABLE for c in cases) / len(cases)
    assert report.scene["repaired"].exact_rate == pytest.approx(repaired_exact)


def test_truncation_needs_a_correct_prefix_and_the_budget() -> None:
    cases = scene_cases()[:1]
    cut = " ".join(cases[0].expected.split()[:6])

    def stopped_early(prompt: str) -> tuple[str, bool]:
        return cut, False  # same text, but the generator says it stopped on its own

    def wrong_prefix(prompt: str) -> tuple[str, bool]:
        return cut.replace("[canvas:tall]", "[canvas:wide]"), True

    assert (
        probe.run(lambda p: (cut, True), cases, compile=None).scene["raw"].budget_truncation_rate
        == 1.0
    )
    assert probe.run(lambda p: cut, cases, compile=None).scene["raw"].budget_truncation_rate == 1.0
    for gen in (stopped_early, wrong_prefix):
        assert probe.run(gen, cases, compile=None).scene["raw"].budget_truncation_rate == 0.0


def test_generation_like_objects_are_accepted() -> None:
    class Gen:
        def __init__(self, text: str) -> None:
            self.text = text
            self.hit_budget = True

    cases = scene_cases()[:2]
    report = probe.run(
        lambda p: Gen(next(c.expected for c in cases if c.prompt == p)), cases, compile=fake_compile
    )
    assert report.scene["raw"].exact_rate == 1.0
    assert all(c.hit_budget for c in report.cases)


def test_exact_but_not_materialized_when_compiler_is_nondeterministic() -> None:
    counter = iter(range(10_000))

    def flaky(scene, content):  # type: ignore[no-untyped-def]
        return f"<svg id='{next(counter)}'/>"

    cases = scene_cases()
    report = probe.run(
        lambda p: next(c.expected for c in cases if c.prompt == p), cases, compile=flaky
    )
    raw = report.scene["raw"]
    assert raw.exact_rate == 1.0 and raw.materialized_exact_rate == 0.0
    assert {c.failure_class for c in report.cases} == {"exact_but_not_materialized"}
    assert (
        report.findings[0].rule == "exact_not_materialized" and report.findings[0].severity == "red"
    )


def test_no_compiler_reports_materialized_as_unknown() -> None:
    cases = scene_cases()
    report = probe.run(
        lambda p: next(c.expected for c in cases if c.prompt == p), cases, compile=None
    )
    assert report.scene["raw"].materialized_exact_rate is None
    assert report.scene["raw"].exact_rate == 1.0


def test_layout_drift_and_mismatched_fields() -> None:
    cases = [c for c in scene_cases() if c.family == "poster_stack"][:1]
    out = cases[0].expected.replace("[layout:poster_stack]", "[layout:dashboard_cards]")
    report = probe.run(lambda p: out, cases, compile=fake_compile)
    case = report.cases[0]
    assert case.failure_class == "layout_drift"
    assert any("attr layout" in m and "dashboard_cards" in m for m in case.raw.mismatched)


def test_interpretation_rules_fire_from_the_numbers() -> None:
    cases = scene_cases()
    plan = {c.id: "leak_eos" for c in cases}
    rules = {
        f.rule for f in probe.run(generator(cases, plan), cases, compile=fake_compile).findings
    }
    assert {"special_token_leak", "repair_gap"} <= rules
    plan = {c.id: "truncate" for c in cases}
    rules = {
        f.rule for f in probe.run(generator(cases, plan), cases, compile=fake_compile).findings
    }
    assert "budget_truncation" in rules and "missing_end_no_truncation" not in rules
    plan = {c.id: "echo" for c in cases}
    assert probe.run(generator(cases, plan), cases, compile=fake_compile).findings == ()


def test_broken_expected_target_is_a_contract_error() -> None:
    case = probe.ProbeCase(id="x", prompt="p", expected="[scene] [layout:poster_stack")
    with pytest.raises(probe.ContractError, match="expected target does not parse"):
        probe.run(lambda p: "", [case], compile=None)


def test_empty_output_is_no_output_and_unrepairable() -> None:
    cases = scene_cases()[:1]
    report = probe.run(lambda p: "", cases, compile=fake_compile)
    assert report.cases[0].failure_class == "no_output"
    assert report.cases[0].fixes == ("unrepairable",)
    assert report.scene["repaired"].exact_rate == 0.0
