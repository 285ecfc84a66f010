"""``python -m dslkit.train``: synth + fit on the shipped tiny config, errors that name the key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import torch
from dslkit.train.cli import main

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "examples" / "configs" / "tiny.toml"


def test_synth_then_fit_tiny_config(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)  # tiny.toml's relative data paths land in tmp_path
    threads = torch.get_num_threads()
    try:
        assert main(["synth", "runs/tiny/data", "--rows", "20"]) == 0
        assert main(["fit", str(TINY), "--out_dir=out", "--eval_every=10"]) == 0
    finally:
        torch.set_num_threads(threads)  # tiny.toml sets num_threads=1
    out = capsys.readouterr().out
    assert "stop=goal" in out and "train_exact=1" in out
    end = json.loads((tmp_path / "out" / "log.jsonl").read_text().splitlines()[-1])
    assert end["event"] == "end" and end["stop_reason"] == "goal"
    saved = json.loads((tmp_path / "out" / "config.json").read_text())
    assert saved["eval_every"] == 10 and saved["model"]["n_layer"] == 2


def test_config_errors_exit_2_naming_the_key(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["fit", str(TINY), "--model.n_layr=3"]) == 2
    assert "model.n_layr" in capsys.readouterr().err
    assert main(["fit", str(TINY), "--batch_size=big"]) == 2
    assert "batch_size" in capsys.readouterr().err
    assert main(["fit", str(TINY)]) == 2  # no data made yet
    assert "data.train" in capsys.readouterr().err


def test_import_train_does_not_import_torch() -> None:
    code = "import sys, train; assert 'torch' not in sys.modules; print(sorted(train.__all__))"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "fit" in proc.stdout
