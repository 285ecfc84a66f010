"""``python -m dslkit.train repeat``: two seeds of the tiny config, and the CLI's error paths."""

from __future__ import annotations

import json

import pytest
import torch
from cli_probe_helpers import TINY
from dslkit.train.cli import main


@pytest.fixture
def tiny_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # tiny.toml's relative data paths land in tmp_path
    threads = torch.get_num_threads()
    assert main(["synth", "runs/tiny/data", "--rows", "20"]) == 0
    yield tmp_path
    torch.set_num_threads(threads)  # tiny.toml sets num_threads=1


def test_repeat_two_seeds_writes_the_band(tiny_data, capsys) -> None:
    # the documented order: CONFIG first, then --seeds and the overrides
    args = ["repeat", str(TINY), "--seeds", "7,11", "--out_dir=rep", "--max_steps=40"]
    assert main([*args, "--quiet=true"]) == 0
    out = capsys.readouterr().out
    assert "seed 7: final loss" in out and "seed 11: final loss" in out
    rep = json.loads((tiny_data / "rep" / "repeat.json").read_text())
    assert [s["seed"] for s in rep["seeds"]] == [7, 11]
    assert rep["band"]["final_loss"]["count"] == 2
    for seed in (7, 11):
        config = json.loads((tiny_data / "rep" / f"seed_{seed}" / "config.json").read_text())
        assert config["seed"] == seed and config["max_steps"] == 40  # overrides reached fit
    curves = [s["curve"] for s in rep["seeds"]]
    assert curves[0] and curves[0] != curves[1]  # the seed changed the run


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--seeds is required"),
        (["--seeds=7,x"], "--seeds must be comma-separated integers, got '7,x'"),
        (["--seeds", "7", "--model.n_layr=3"], "model.n_layr"),
        (["--seeds", "7", "--batch_size=big"], "batch_size"),
        (["--seeds", "7", "max_steps=3"], "max_steps=3"),
    ],
)
def test_repeat_errors_exit_2_naming_the_problem(tiny_data, capsys, extra, message) -> None:
    assert main(["repeat", str(TINY), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not (tiny_data / "runs" / "tiny" / "seed_7").exists()  # nothing was trained


def test_repeat_missing_config_exits_2(tmp_path, capsys) -> None:
    assert main(["repeat", str(tmp_path / "missing.toml"), "--seeds", "7"]) == 2
    assert "cannot read config" in capsys.readouterr().err
