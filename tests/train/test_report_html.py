"""The run report: self-contained HTML with every section, decisions, blurry-run detection."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dslkit.train import discipline, probe, report
from probe_helpers import fake_compile, generator, scene_cases

CONFIG = {
    "model": {"n_layer": 2, "n_head": 2, "n_embd": 32, "block_size": 64, "vocab_size": 0},
    "data": {"train": "runs/x/train.npz", "dev": "", "pad_id": 0},
    "batch_size": 8,
    "lr": 0.001,
    "max_steps": 40,
    "seed": 0,
    "out_dir": "runs/x",
    "primary_axis": "capacity",
    "held_constant": ["dsl", "compiler", "data", "tokenizer", "budget"],
}


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.external: list[str] = []
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])  # type: ignore[arg-type]
        for key in ("src", "href"):
            v = a.get(key)
            if v and not v.startswith(("data:", "#")):
                self.external.append(v)
        if tag not in (
            "img",
            "meta",
            "br",
            "rect",
            "line",
            "circle",
            "polyline",
            "polygon",
            "input",
        ):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("rect", "line", "circle", "polyline", "polygon"):
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()


def make_run(
    root: Path,
    name: str,
    plan_of: str | dict[str, str],
    *,
    config: dict | None = None,
    version: int = 1,
    versions: dict | None = None,
) -> Path:
    run = root / name
    (run / "probe").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(config or CONFIG))
    log = [
        {
            "event": "start",
            "step": 0,
            "params": 12345,
            "train_rows": 16,
            "dev_rows": 0,
            "device": "cpu",
        }
    ]
    log += [{"event": "train", "step": s, "loss": 4.0 / s} for s in range(2, 42, 2)]
    log += [
        {"event": "eval", "step": 40, "dev_loss": 0.3},
        {
            "event": "end",
            "step": 40,
            "stop_reason": "max_steps",
            "train_loss": 0.1,
            "elapsed_s": 1.5,
        },
    ]
    (run / "log.jsonl").write_text("\n".join(json.dumps(r) for r in log) + "\n")
    cases = scene_cases()
    plan = plan_of if isinstance(plan_of, dict) else {c.id: plan_of for c in cases}
    rep = probe.run(
        generator(cases, plan),
        probe.ProbeSet("t", version, tuple(cases)),
        compile=fake_compile,
        label="greedy decoding",
    )
    rep.save(run / "probe" / "greedy.json")
    (run / "run.json").write_text(
        json.dumps(
            {
                "id": name,
                "hypothesis": "<b>bigger</b> model learns the format",
                "lessons": ["keep the end marker"],
                "versions": versions or {"dsl": "v1", "data": "abc"},
                "gold": {
                    "ok": True,
                    "cases": [{"name": "g1", "ok": True, "checks": {"parse": True}}],
                    "thumbnails": {
                        "g1": "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'/>"
                    },
                },
                "data": {"rows": {"train": 16}},
                "tokenizer": {"vocab_size": 300},
            }
        )
    )
    return run


def parse_page(path: Path) -> _Collector:
    c = _Collector()
    c.feed(path.read_text())
    c.close()
    return c


def test_report_has_every_section_and_no_external_reference(tmp_path: Path) -> None:
    names = sorted(BEH for BEH in ("echo", "leak_eos", "truncate", "drift_tone"))
    plan = {c.id: names[i % len(names)] for i, c in enumerate(scene_cases())}
    run = make_run(tmp_path, "run", plan)
    path = report.write(run)
    page = parse_page(path)
    assert {sid for sid, _ in report.SECTIONS} <= page.ids
    assert page.external == []
    text = path.read_text()
    assert "&lt;b&gt;bigger&lt;/b&gt;" in text and "<b>bigger</b>" not in text  # escaped
    assert "<polyline" in text  # the loss curve
    assert "data:image/svg+xml;base64," in text  # thumbnails and gallery renders
    data = json.loads((run / "report.json").read_text())
    assert data["decision"]["decision"] in ("promote", "reject", "repair", "branch")
    for cls in ("special_token_leak", "budget_truncation", "theme_tone_drift"):
        assert cls in text  # the gallery shows one card per failure class


@pytest.mark.parametrize(
    ("base_plan", "run_plan", "decision", "exact_delta"),
    [
        ("drift_tone", "echo", ("promote", "green"), 1.0),
        ("echo", "drift_tone", ("reject", "red"), -1.0),
    ],
    ids=["better-promoted-green", "regression-rejected-red"],
)
def test_clean_capacity_run_is_decided_against_its_baseline(
    tmp_path: Path, base_plan: str, run_plan: str, decision: tuple[str, str], exact_delta: float
) -> None:
    base = make_run(tmp_path, "base", base_plan)
    deeper = {**CONFIG, "model": {**CONFIG["model"], "n_layer": 4}}  # one axis: capacity
    run = make_run(tmp_path, "run", run_plan, config=deeper)
    report.write(run, baseline=base)
    d = json.loads((run / "report.json").read_text())
    assert d["discipline"]["changed_axes"] == ["capacity"] and not d["discipline"]["blurry"]
    assert (d["decision"]["decision"], d["decision"]["colour"]) == decision
    assert d["deltas"]["raw"]["greedy"]["overall"]["exact_rate"] == exact_delta


def test_blurry_run_is_flagged_and_branched(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", "drift_tone")
    changed = {**CONFIG, "lr": 0.003, "model": {**CONFIG["model"], "n_layer": 4}}
    run = make_run(tmp_path, "run", "echo", config=changed, versions={"dsl": "v1", "data": "other"})
    path = report.write(run, baseline=base)
    d = json.loads((run / "report.json").read_text())
    assert d["discipline"]["blurry"]
    assert d["discipline"]["changed_axes"] == ["data", "budget", "capacity"]
    assert d["decision"]["decision"] == "branch" and d["decision"]["colour"] == "amber"
    assert "blurry run" in path.read_text()


def test_report_refuses_baseline_with_other_probe_hash(tmp_path: Path) -> None:
    base = make_run(tmp_path, "base", "echo", version=1)
    run = make_run(tmp_path, "run", "echo", version=2)
    with pytest.raises(probe.ProbeMismatchError, match="different probe contracts"):
        report.write(run, baseline=base)


def test_report_of_bare_run_dir_still_renders(tmp_path: Path) -> None:
    run = tmp_path / "bare"
    run.mkdir()
    path = report.write(run)
    assert {sid for sid, _ in report.SECTIONS} <= parse_page(path).ids


def test_assess_maps_keys_to_axes() -> None:
    spec = {"config": CONFIG, "versions": {"tokenizer": "t1", "compiler": "c1"}}
    other = {
        "config": {**CONFIG, "seed": 5, "out_dir": "elsewhere"},
        "versions": {"tokenizer": "t2", "compiler": "c1"},
    }
    d = discipline.assess(other, spec)
    assert d.changed_axes == ("tokenizer",)  # seed and out_dir are runtime, not axes
    assert d.blurry  # primary axis is capacity, tokenizer changed
    assert any("held-constant axis 'tokenizer'" in r for r in d.reasons)
    same = discipline.assess(spec, spec)
    assert not same.blurry and any("did not change" in r for r in same.reasons)


def test_decide_rules() -> None:
    rules = discipline.PromotionRules()
    within_noise = discipline.decide(
        metric="exact", value=0.52, n=50, baseline_value=0.5, baseline_n=50
    )
    assert (within_noise.decision, within_noise.colour) == ("reject", "amber")
    fam = discipline.decide(
        metric="exact",
        value=0.9,
        n=200,
        baseline_value=0.5,
        baseline_n=200,
        family_deltas={"a": 0.5, "b": -(rules.family_regression + 0.05)},
    )
    assert fam.decision == "branch" and "b" in fam.regressed_families
    gate = discipline.decide(metric="exact", value=0.9, n=10, gate_ok=False)
    assert (gate.decision, gate.colour) == ("reject", "red")
    repair = discipline.decide(
        metric="exact",
        value=0.2,
        n=50,
        baseline_value=0.2,
        baseline_n=50,
        raw_exact=0.2,
        repaired_exact=0.6,
    )
    assert repair.decision == "repair"
    seeds = discipline.decide(
        metric="exact", value=0.7, n=1000, baseline_value=0.6, baseline_n=1000, noise_floor=0.2
    )
    assert seeds.decision == "reject" and seeds.noise == 0.2
