"""Variance band over seeds: slopes, plateau coefficient, late variance, repetition rates."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest
from dslkit.train import critic, repeat


def write_log(run: Path, losses: list[float]) -> None:
    run.mkdir(parents=True, exist_ok=True)
    recs = [{"event": "start", "step": 0}]
    recs += [{"event": "train", "step": (i + 1) * 10, "loss": v} for i, v in enumerate(losses)]
    (run / "log.jsonl").write_text("\n".join(json.dumps(r) for r in recs) + "\n")


def test_slope_is_least_squares() -> None:
    pts = [(x, 3.0 - 0.5 * x) for x in range(10)]
    assert repeat.least_squares_slope(pts) == pytest.approx(-0.5)
    assert repeat.least_squares_slope([(1.0, 2.0)]) is None


def test_plateau_coefficient_from_piecewise_curve() -> None:
    # slope -1 over the first half, -0.1 over the second: the ratio is 0.1 by construction
    xs = list(range(101))
    ys = [100 - x if x <= 50 else 50 - 0.1 * (x - 50) for x in xs]
    series = list(zip(map(float, xs), ys, strict=True))
    assert repeat.plateau_coefficient(series) == pytest.approx(0.1)
    flat = [(float(x), 1.0) for x in xs]
    assert repeat.plateau_coefficient(flat) is None  # no early slope: undefined, not infinite


def test_late_variance_uses_last_fifth() -> None:
    losses = [5.0] * 80 + [1.0, 2.0] * 10
    series = [(float(i), v) for i, v in enumerate(losses)]
    assert repeat.late_variance(series) == pytest.approx(statistics.pvariance([1.0, 2.0] * 10))


def test_analyze_builds_band_across_seeds(tmp_path: Path) -> None:
    finals = {7: 0.5, 11: 0.7, 13: 0.9}
    dirs = []
    for seed, final in finals.items():
        run = tmp_path / f"seed_{seed}"
        write_log(run, [3.0 - (3.0 - final) * i / 19 for i in range(20)])
        dirs.append(run)
    rep = repeat.analyze(dirs, list(finals))
    assert [s.final_loss for s in rep.seeds] == pytest.approx(list(finals.values()))
    band = rep.band["final_loss"]
    assert band["mean"] == pytest.approx(statistics.fmean(finals.values()))
    assert band["std"] == pytest.approx(statistics.stdev(finals.values()))
    assert all(s.plateau == pytest.approx(1.0) for s in rep.seeds)  # straight lines
    rep.save(tmp_path / "repeat.json")
    assert repeat.load_repeat(tmp_path / "repeat.json") == rep


def test_run_trains_each_seed_into_its_own_folder(tmp_path: Path) -> None:
    from dataclasses import dataclass

    @dataclass(frozen=True)
    class Cfg:
        out_dir: str
        seed: int = 0

    seen = []

    def fake_train(cfg: Cfg) -> None:
        seen.append(cfg.seed)
        write_log(Path(cfg.out_dir), [2.0, 1.0 + cfg.seed / 100, 1.0])

    rep = repeat.run(Cfg(str(tmp_path)), [7, 11], train=fake_train)
    assert seen == [7, 11]
    assert (tmp_path / "repeat.json").is_file()
    assert [Path(s.run_dir).name for s in rep.seeds] == ["seed_7", "seed_11"]


def test_repetition_rates() -> None:
    text = "[a] [b] [c] [d] " * 10
    toks = text.split()
    grams = [tuple(toks[i : i + 4]) for i in range(len(toks) - 3)]
    assert critic.ngram_repetition_rate(text) == pytest.approx(1 - len(set(grams)) / len(grams))
    assert critic.ngram_repetition_rate("[a] [b] [c] [d] [e]") == 0.0


def test_missing_log_is_a_toolkit_error(tmp_path: Path) -> None:
    with pytest.raises(repeat.RepeatError, match="cannot read run log"):
        repeat.loss_series(tmp_path / "nope" / "log.jsonl")


def test_the_band_holds_each_probes_exact_per_split(tmp_path) -> None:
    import json

    from dslkit.train import probe
    from probe_helpers import generator, scene_cases

    cases = scene_cases()
    dirs = []
    for seed, hidden_plan in ((1, "echo"), (2, "drift_tone")):
        run = tmp_path / f"seed_{seed}"
        (run / "probe").mkdir(parents=True)
        (run / "log.jsonl").write_text(
            "\n".join(json.dumps({"event": "train", "step": s, "loss": 1 / s}) for s in (1, 2, 3))
        )
        plan = {c.id: hidden_plan if c.split == "hidden" else "echo" for c in cases}
        probe.run(generator(cases, plan), cases, label="greedy").save(run / "probe" / "greedy.json")
        dirs.append(run)
    rep = repeat.analyze(dirs, [1, 2])
    assert rep.seeds[0].split_exact["greedy"] == {
        "train": 1.0,
        "dev": 1.0,
        "test": 1.0,
        "hidden": 1.0,
    }
    hidden = rep.band[repeat.split_band_name("greedy", "hidden")]
    assert (hidden["count"], hidden["min"], hidden["max"], hidden["mean"]) == (2, 0.0, 1.0, 0.5)
    assert rep.band[repeat.split_band_name("greedy", "train")]["std"] == 0.0
    back = repeat.load_repeat(rep.save(tmp_path / "repeat.json"))
    assert back.seeds[1].split_exact == rep.seeds[1].split_exact


def test_run_reuses_finished_seeds_and_trains_the_rest(tmp_path) -> None:
    import dataclasses
    import json

    done = tmp_path / "seed_1"
    done.mkdir()
    records = [{"event": "train", "step": 1, "loss": 2.0}, {"event": "end", "step": 1}]
    (done / "log.jsonl").write_text("\n".join(json.dumps(r) for r in records))
    half = tmp_path / "seed_2"  # an interrupted run: no end record, so it trains again
    half.mkdir()
    (half / "log.jsonl").write_text(json.dumps(records[0]))
    trained = []

    def train(cfg):  # type: ignore[no-untyped-def]
        trained.append(cfg.seed)
        Path(cfg.out_dir).mkdir(exist_ok=True)
        (Path(cfg.out_dir) / "log.jsonl").write_text(json.dumps(records[0] | {"loss": 1.0}))

    @dataclasses.dataclass
    class Cfg:
        out_dir: str
        seed: int = 0

    rep = repeat.run(Cfg(str(tmp_path)), [1, 2, 3], train=train, reuse=True)
    assert trained == [2, 3]
    assert [s.final_loss for s in rep.seeds] == [2.0, 1.0, 1.0]
