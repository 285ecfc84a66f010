"""dslkit's JSONL files load with ``datasets.load_dataset("json")`` (local files only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dslkit.compilers import scene_reward, trace_reward
from dslkit.train import data
from dslkit.train.hf_datasets import (
    GSM8K_TRACE_COLUMNS,
    ROW_COLUMNS,
    gsm8k_trace_features,
    row_features,
)

datasets = pytest.importorskip("datasets", reason="the [hf] extra is not installed")

REPO = Path(__file__).resolve().parents[2]
# Our own GSM8K-shaped problems: two integer answers, one decimal, one that does not convert.
PROBLEMS = [
    ("A baker makes 12 rolls in the morning and 15 rolls in the afternoon. How many rolls "
     "does the baker make?", "The baker makes 12+15=<<12+15=27>>27 rolls.\n#### 27"),
    ("A tank holds 9 liters. Half of it leaks out. How many liters are left?",
     "Left: 9/2=<<9/2=4.5>>4.5 liters.\n#### 4.5"),
    ("What is the meaning of it all?", "Nobody knows.\n#### 42"),
    ("Sam has 40 stickers and gives away 13 of them. How many stickers does Sam have left?",
     "Sam has 40-13=<<40-13=27>>27 stickers left.\n#### 27"),
]  # fmt: skip


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path) -> None:
    """No network and no shared cache: the files are local and so is everything else."""
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))


@pytest.fixture()
def gsm8k(tmp_path) -> Path:
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("".join(json.dumps({"question": q, "answer": a}) + "\n" for q, a in PROBLEMS))
    return path


def load(path: Path, tmp_path: Path, features=None):
    return datasets.load_dataset(
        "json",
        data_files=str(path),
        split="train",
        features=features,
        cache_dir=str(tmp_path / "cache" / path.stem),
    )


def test_gsm8k_trace_file_loads_with_stable_types(gsm8k, tmp_path) -> None:
    out = tmp_path / "traces.jsonl"
    proc = subprocess.run(
        [sys.executable, "-m", "trace_dsl", "gsm8k", str(gsm8k), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert all(set(r) == set(GSM8K_TRACE_COLUMNS) for r in records)  # the schema tracks the CLI
    ds = load(out, tmp_path, gsm8k_trace_features())
    assert ds.features == gsm8k_trace_features() and len(ds) == len(PROBLEMS)
    assert ds["answer"] == [27.0, 4.5, None, 27.0] and ds["trace"][2] is None
    # Any prefix of the file (all-int answers, or the failed row alone) gets the same schema.
    for lines in ([0], [2], [0, 3]):
        part = tmp_path / f"part{'_'.join(map(str, lines))}.jsonl"
        part.write_text("".join(out.read_text().splitlines(keepends=True)[i] for i in lines))
        assert load(part, tmp_path, gsm8k_trace_features()).features == ds.features
    # The column feeds trace_reward as it comes out of the dataset (floats, nulls).
    converted = ds.filter(lambda r: r["trace"] is not None)
    assert trace_reward(converted["trace"], converted["answer"]) == [1.0] * 3


def test_materialised_rows_load_with_one_schema(gsm8k, tmp_path) -> None:
    rows = data.materialize(gold_dir=REPO / "examples" / "gold", gsm8k=gsm8k).rows
    scenes = [r for r in rows if r.language == "scene"]
    traces = [r for r in rows if r.language == "trace"]
    assert scenes and traces and set(rows[0].to_dict()) == set(ROW_COLUMNS)
    files = {
        "scenes": data.write_jsonl(scenes, tmp_path / "scenes.jsonl"),
        "traces": data.write_jsonl(traces, tmp_path / "traces.jsonl"),
        "mixed": data.write_jsonl(rows, tmp_path / "mixed.jsonl"),
    }
    loaded = {k: load(p, tmp_path, row_features()) for k, p in files.items()}
    assert all(ds.features == row_features() for ds in loaded.values())
    # Without features, datasets infers exactly these types for a file with both kinds.
    assert load(files["mixed"], tmp_path).features == row_features()
    ds = loaded["scenes"]
    assert ds["content"] == [dict(r.content) for r in scenes if r.content is not None]
    assert ds["target"] == [r.target for r in scenes] and set(ds["answer"]) == {None}
    assert loaded["traces"]["answer"] == [r.answer for r in traces]
    # Straight into the reward functions: every gold row is its own exact answer.
    assert scene_reward(ds["target"], ds["content"], ds["target"]) == [1.0] * len(ds)
    tr = loaded["traces"]
    assert trace_reward(tr["target"], tr["answer"]) == [1.0] * len(tr)
