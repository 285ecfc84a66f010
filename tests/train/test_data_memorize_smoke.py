"""Test-sized run of examples/memorize_gold.py: materialise, QC, tokenize, pack, fit, decode.

Both target forms: with ``form="row"`` the rows are row-form targets and constrained decoding
uses the row-form automaton (a block-form mask would forbid the first row token)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from data_decoding_helpers import write_gold_pack

SCRIPT = Path(__file__).resolve().parents[2] / "examples" / "memorize_gold.py"


@pytest.mark.parametrize("form", ["block", "row"])
def test_memorize_gold_smoke(tmp_path: Path, form: str) -> None:
    spec = importlib.util.spec_from_file_location(f"memorize_gold_{form}", SCRIPT)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    gold = write_gold_pack(tmp_path / "gold", n=1, seed=3)
    out = tmp_path / "run"
    summary = mod.run(
        gold,
        overrides=[
            f"--out_dir={out}",
            f"--data.train={out / 'train.npz'}",
            "--max_steps=400",
            "--warmup_steps=10",
            "--eval_every=10",
            "--batch_size=2",
            "--lr=0.01",
            "--num_threads=1",
            "--model.n_layer=1",
            "--model.n_embd=48",
            "--model.n_head=2",
            "--quiet=true",
        ],
        cases=1,
        form=form,
    )
    assert summary["rows"] == 2 and summary["params"] < 5_000_000
    assert summary["form"] == form  # benchmarks/decode_mask.py decodes the run in this form
    # The gate itself, at test size: the loop stops on its goal (teacher-forced exact match),
    # and real token-by-token decoding, raw and constrained, confirms every row.
    assert summary["stop_reason"] == "goal" and summary["steps"] < 400
    assert summary["loop_train_exact"] == 1.0
    assert summary["raw_exact"] == 1.0
    assert summary["constrained_exact"] == 1.0
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    train = [r for r in log if r["event"] == "train"]
    assert train and all(r["tokens_per_s"] > 0 for r in train)
    assert train[-1]["loss"] < train[0]["loss"]  # it learns something
    assert json.loads((out / "summary.json").read_text()) == summary
    rows = [json.loads(line) for line in (out / "rows.jsonl").read_text().splitlines()]
    is_row = ["|" in r["target"] or "=" in r["target"] for r in rows]
    assert rows and all(is_row) if form == "row" else not any(is_row)
