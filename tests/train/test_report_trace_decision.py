"""A trace-only run is decided on trace accuracy, not on an empty scene scoreboard."""

from __future__ import annotations

import json
from pathlib import Path

from dslkit.train import probe, report
from test_report_html import CONFIG

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "traces"


def _cases() -> list[probe.ProbeCase]:
    from dslkit.compilers.trace_solver import solve

    cases = []
    for path in sorted(EXAMPLES.glob("*.trace")):
        text = path.read_text("utf-8")
        answer = solve(text).answer
        cases.append(
            probe.ProbeCase(
                id=path.stem,
                prompt=path.stem,
                expected=text,
                kind="trace",
                split="train",
                answer=answer if isinstance(answer, int) else float(answer),
            )
        )
    return cases


def _run(root: Path, name: str, wrong: set[str]) -> Path:
    cases = _cases()
    by_prompt = {c.prompt: c for c in cases}

    def generate(prompt: str) -> str:
        case = by_prompt[prompt]
        return "not a trace" if case.id in wrong else case.expected

    run = root / name
    (run / "probe").mkdir(parents=True)
    (run / "config.json").write_text(json.dumps(CONFIG))
    (run / "log.jsonl").write_text(json.dumps({"event": "train", "step": 1, "loss": 1.0}) + "\n")
    (run / "run.json").write_text(json.dumps({"id": name}))
    rep = probe.run(generate, probe.ProbeSet("traces", 1, tuple(cases)), label="greedy decoding")
    rep.save(run / "probe" / "greedy.json")
    return run


def test_trace_only_run_is_decided_on_accuracy(tmp_path: Path) -> None:
    cases = _cases()
    assert len(cases) >= 3
    base = _run(tmp_path, "base", wrong={c.id for c in cases[:2]})
    better = _run(tmp_path, "better", wrong=set())
    data = report.collect(better, baseline=base)
    decision = data["decision"]
    expected = 1.0
    assert decision["primary_metric"].startswith("accuracy (trace")
    assert decision["value"] == expected
    assert decision["baseline_value"] == (len(cases) - 2) / len(cases)
