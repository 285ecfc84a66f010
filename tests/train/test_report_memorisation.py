"""Memorisation called by its name: never promoted, named with its gap in the decision and page."""

from __future__ import annotations

import json
from pathlib import Path

from dslkit.train import discipline, report
from probe_helpers import scene_cases
from test_report_html import CONFIG, make_run


def test_decide_never_promotes_a_memorised_run() -> None:
    # a proven gain over the baseline, yet held-out exact is far below train exact
    d = discipline.decide(
        metric="exact",
        value=0.5,
        n=400,
        baseline_value=0.1,
        baseline_n=400,
        train_exact=1.0,
        heldout_exact=0.0,
    )
    assert (d.decision, d.colour) == ("reject", "red")
    assert d.reasons[0] == "memorised: train 100%, held-out 0% (gap 100 points, threshold 20)"
    # the same run generalising promotes: the gap, and only the gap, decided
    ok = discipline.decide(
        metric="exact",
        value=0.5,
        n=400,
        baseline_value=0.1,
        baseline_n=400,
        train_exact=0.55,
        heldout_exact=0.45,
    )
    assert (ok.decision, ok.colour) == ("promote", "green")


def test_the_threshold_is_the_one_rules_value() -> None:
    gap = discipline.RULES.split_gap
    assert discipline.memorisation(0.9, 0.9 - gap) != ""
    assert discipline.memorisation(0.9, 0.9 - gap + 0.01) == ""
    assert discipline.memorisation(None, 0.0) == "" and discipline.memorisation(1.0, None) == ""
    strict = discipline.PromotionRules(split_gap=0.05)
    assert discipline.memorisation(0.9, 0.8, strict).startswith("memorised: train 90%")


def test_the_report_names_memorisation_with_its_gap(tmp_path: Path) -> None:
    # train cases answered exactly, every held-out case drifts: a model that recalls its rows
    plan = {c.id: "echo" if c.split == "train" else "drift_tone" for c in scene_cases()}
    run = make_run(tmp_path, "run", plan, config=CONFIG)
    path = report.write(run)
    d = json.loads((run / "report.json").read_text())
    assert (d["decision"]["decision"], d["decision"]["colour"]) == ("reject", "red")
    named = "memorised: train 100%, held-out 0% (gap 100 points, threshold 20)"
    assert d["decision"]["reasons"][0] == named
    # and what the held-out cases got wrong instead: 6 held-out cases, all drifted in tone
    assert d["decision"]["reasons"][1] == "held-out failures by class: theme_tone_drift 6"
    assert named in path.read_text()


def test_a_run_good_on_every_split_is_not_called_memorised(tmp_path: Path) -> None:
    run = make_run(tmp_path, "run", "echo", config=CONFIG)
    report.write(run)
    d = json.loads((run / "report.json").read_text())
    assert not any(r.startswith("memorised") for r in d["decision"]["reasons"])
    assert d["decision"]["decision"] == "promote"


def test_mismatch_kind_names_the_first_difference() -> None:
    from dslkit.train.report_memo import mismatch_kind

    want = (
        "[scene] [layout:timeline] [theme:infra_dark] [topic:cache_plan] "
        "[timeline_stage:rank|@timeline_stage.0|title=@timeline_stage.0.title] "
        "[timeline_arrow:rank->rank|@timeline_arrow.0.label] [/scene]"
    )
    assert mismatch_kind(want, want) == ""
    cases = {
        "attribute topic": want.replace("cache_plan", "cache_plans"),
        "attribute other": want.replace("[theme:infra_dark] ", ""),
        "field dropped": want.replace("|title=@timeline_stage.0.title", ""),
        "field added": want.replace("label]", "label|accent=amber]"),
        "wrong ref": want.replace("stage.0.title", "stage.1.title"),
        "wrong id": want.replace("[timeline_stage:rank", "[timeline_stage:ranks"),
        "component dropped": want.replace(
            " [timeline_arrow:rank->rank|@timeline_arrow.0.label]", ""
        ),
        "does not parse": want.replace("[/scene]", "[/scene"),
    }
    for kind, output in cases.items():
        assert mismatch_kind(want, output) == kind, (kind, output)


def test_the_memorisation_section_counts_failures_and_training_rows(tmp_path: Path) -> None:
    plan = {c.id: "echo" if c.split == "train" else "drift_tone" for c in scene_cases()}
    run = make_run(tmp_path, "run", plan, config=CONFIG)
    card = json.loads((run / "run.json").read_text())
    card.setdefault("data", {})["train rows per family"] = {"poster_stack": 7, "decision_tree": 5}
    (run / "run.json").write_text(json.dumps(card))
    path = report.write(run)
    d = json.loads((run / "report.json").read_text())["memorisation"]
    (probe,) = d["probes"].values()
    assert probe["line"] == "memorised: train 100%, held-out 0% (gap 100 points, threshold 20)"
    assert probe["splits"]["train"] == {"exact": 1.0, "n": 2}
    # every held-out case drifted in tone: one wrong attribute per case, split by split
    assert probe["mismatch"] == {s: {"attribute other": 2} for s in ("dev", "test", "hidden")}
    assert sum(sum(c.values()) for c in probe["failure_classes"].values()) == 6
    assert d["train_rows_per_family"] == {"poster_stack": 7, "decision_tree": 5}
    page = path.read_text()
    assert 'id="memorisation"' in page and "Rows per family seen in training (12 rows)" in page


def test_a_generalising_run_is_named_too(tmp_path: Path) -> None:
    run = make_run(tmp_path, "run", "echo", config=CONFIG)
    report.write(run)
    (probe,) = json.loads((run / "report.json").read_text())["memorisation"]["probes"].values()
    assert probe["line"] == "not memorised: train 100%, held-out 100% (gap 0 points, threshold 20)"
    assert probe["failure_classes"] == {} and probe["mismatch"] == {}
