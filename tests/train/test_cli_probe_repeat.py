"""``python -m dslkit.train repeat``: two seeds of the tiny config, and the CLI's error paths."""

from __future__ import annotations

import json
from pathlib import Path

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


def test_repeat_demo_runs_the_demo_per_seed_and_prints_the_split_band(
    tmp_path, monkeypatch, capsys
) -> None:
    # the demo itself is stood in for (its own smoke test runs it): the command must run it
    # once per seed, with the seed and the overrides, into <out_dir>/seed_<s>, and band its
    # probes' exact per split
    from dslkit.train import demo, probe
    from probe_helpers import generator, scene_cases

    seen = []

    def fake_demo(settings):  # type: ignore[no-untyped-def]
        seen.append(settings)
        out = Path(settings.out_dir)
        (out / "probe").mkdir(parents=True)
        (out / "log.jsonl").write_text(json.dumps({"event": "train", "step": 1, "loss": 1.0}))
        seed = int(next(o for o in settings.overrides if o.startswith("--seed="))[7:])
        cases = scene_cases()
        plan = {c.id: "drift_tone" if c.split == "hidden" and seed == 2 else "echo" for c in cases}
        probe.run(generator(cases, plan), cases).save(out / "probe" / "greedy.json")
        return out / "report.html"

    monkeypatch.setattr(demo, "run_demo", fake_demo)
    config = Path(demo.DemoSettings().config)
    args = ["repeat", str(config), "--demo", "--seeds", "1,2", f"--out_dir={tmp_path / 'rep'}"]
    assert main([*args, "--scenes", "300", "--max_steps=50"]) == 0
    assert [s.out_dir for s in seen] == [str(tmp_path / "rep" / f"seed_{s}") for s in (1, 2)]
    assert all(s.n_scenes == 300 and "--max_steps=50" in s.overrides for s in seen)
    assert [o for o in seen[1].overrides if o.startswith("--seed=")] == ["--seed=2"]
    out = capsys.readouterr().out
    assert "greedy hidden exact_rate: mean 50.0%, std 70.7%, band 0.0%..100.0% over 2 seeds" in out
    rep = json.loads((tmp_path / "rep" / "repeat.json").read_text())
    assert rep["band"]["greedy train exact_rate"]["mean"] == 1.0


def test_demo_command_routes_form_scenes_and_overrides(monkeypatch, tmp_path) -> None:
    from dslkit.train import demo

    seen = []
    monkeypatch.setattr(demo, "run_demo", lambda settings: seen.append(settings))
    out = str(tmp_path / "d")
    assert (
        main(["demo", "--form", "row", "--scenes", "300", "--out-dir", out, "--max_steps=9"]) == 0
    )
    assert len(seen) == 1
    assert (seen[0].form, seen[0].n_scenes, seen[0].out_dir) == ("row", 300, out)
    assert seen[0].overrides == ("--max_steps=9",)
    assert main(["demo", "--out-dir", out]) == 0
    assert (seen[1].form, seen[1].n_scenes) == ("block", 40000)  # the documented defaults
