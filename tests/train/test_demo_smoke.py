"""The demo end to end, shrunk: skeleton rows, leakage-checked splits, per-split probe boards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from dslkit.train.data import read_jsonl
from dslkit.train.demo import DemoSettings, run_demo

from scene_dsl.skeleton import skeleton_target


@pytest.mark.slow
def test_demo_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "demo"
    settings = DemoSettings(
        out_dir=str(out),
        n_scenes=150,
        probe_per_split=(("train", 2), ("dev", 2), ("test", 2), ("hidden", 3)),
        max_new_tokens=48,
        overrides=(
            "--max_steps=2",
            "--warmup_steps=1",
            "--eval_every=0",
            "--model.n_layer=1",
            "--model.n_embd=32",
            "--model.n_head=2",
        ),
    )
    report = run_demo(settings)
    assert report.is_file()
    printed = capsys.readouterr().out
    assert "leakage check: none" in printed
    # one line per split in the per-split board, with its case count
    for split, n in (("train", 2), ("dev", 2), ("test", 2), ("hidden", 3)):
        assert f"{split} ({n})" in printed
    rows = read_jsonl(out / "rows.jsonl")
    assert rows and all(skeleton_target(r.prompt) == r.target for r in rows)
    cases = [json.loads(line) for line in (out / "probe_cases.jsonl").read_text().splitlines()]
    assert sum(c.get("split") == "hidden" for c in cases) == 3
    card = json.loads((out / "run.json").read_text())
    assert card["data"]["families"] == 19
