"""``python -m dslkit.train probe``: a memorised trace model probed through the CLI, JSON and text."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_probe_helpers import trace_cases, train_trace_run, write_cases
from dslkit.train import probe
from dslkit.train.cli import main


@pytest.fixture(scope="module")
def run_and_cases(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("probe_cli")
    cases = root / "cases.jsonl"
    write_cases(cases)
    return train_trace_run(root / "run"), cases


def test_probe_json_scores_the_memorised_traces(run_and_cases, capsys) -> None:
    run, cases = run_and_cases
    assert main(["probe", str(run), "--cases", str(cases), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"scene", "trace", "findings"}
    # every prompt was memorised, so only the case with a deliberately wrong gold answer fails
    assert out["trace"]["n"] == len(trace_cases()) == 5
    assert out["trace"]["status_counts"] == {"correct": 4, "wrong_answer": 1}
    assert out["trace"]["accuracy"] == pytest.approx(0.8)
    assert out["trace"]["parse_rate"] == out["trace"]["valid_trace_rate"] == 1.0
    assert out["scene"] is None  # no scene cases in this contract: no empty scoreboard
    for finding in out["findings"]:
        assert set(finding) == {"rule", "severity", "message"}
    saved = probe.load_report(run / "probe" / "greedy.json")
    assert saved.probe_hash == probe.load_cases(cases).hash
    assert saved.label == "greedy decoding"
    by_id = {c.id: c for c in saved.cases}
    for case in trace_cases():
        assert by_id[case.id].output == case.expected


def test_probe_a_checkpoint_file_constrained_prints_the_table(run_and_cases, capsys) -> None:
    run, cases = run_and_cases
    args = ["probe", str(run / "model.safetensors"), "--cases", str(cases), "--constrained"]
    assert main([*args, "--name", "constrained_ckpt"]) == 0
    text = capsys.readouterr().out
    assert "tiny-traces v1" in text and "constrained decoding" in text
    assert "traces: parse 100.0% valid 100.0% accuracy 80.0%" in text
    path = run / "probe" / "constrained_ckpt.json"
    assert f"wrote {path}" in text
    assert probe.load_report(path).label == "constrained decoding"


def test_probe_errors_exit_2_with_a_message(run_and_cases, tmp_path, capsys) -> None:
    run, cases = run_and_cases
    assert main(["probe", str(tmp_path / "missing_run"), "--cases", str(cases)]) == 2
    assert "no checkpoint at" in capsys.readouterr().err
    lone = tmp_path / "lone"
    lone.mkdir()
    shutil.copy(
        run / "model.safetensors", lone / "model.safetensors"
    )  # a checkpoint without its tokenizer
    assert main(["probe", str(lone), "--cases", str(cases)]) == 2
    assert "no tokenizer folder" in capsys.readouterr().err
    assert main(["probe", str(run), "--cases", str(tmp_path / "none.jsonl")]) == 2
    assert "cannot read probe contract" in capsys.readouterr().err
    edited = tmp_path / "edited.jsonl"
    edited.write_text(cases.read_text().replace("Janet", "Jane"))  # no version bump
    assert main(["probe", str(run), "--cases", str(edited)]) == 2
    assert "stored hash" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse usage error
        main(["probe", str(run)])
    assert exc.value.code == 2
    assert "--cases" in capsys.readouterr().err
