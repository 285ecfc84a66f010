"""Probe contracts: versioned case files with a content hash; comparisons need equal hashes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from dslkit.train import probe
from probe_helpers import fake_compile, scene_cases

from dslkit.errors import ContractError, DslkitError

JANET = Path(__file__).parents[2] / "examples" / "traces" / "janet_eggs.trace"


def test_cases_round_trip_with_hash(tmp_path: Path) -> None:
    written = probe.save_cases(tmp_path / "p.jsonl", scene_cases(), name="demo", version=3)
    loaded = probe.load_cases(tmp_path / "p.jsonl")
    assert loaded == written and loaded.hash == written.hash
    edited = dataclasses.replace(loaded.cases[0], prompt=loaded.cases[0].prompt + "!")
    assert probe.ProbeSet("demo", 3, (edited, *loaded.cases[1:])).hash != loaded.hash
    assert probe.ProbeSet("demo", 4, loaded.cases).hash != loaded.hash


def test_tampered_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    probe.save_cases(path, scene_cases(), name="demo")
    lines = path.read_text().splitlines()
    case = json.loads(lines[1])
    case["prompt"] = "something else"
    lines[1] = json.dumps(case)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ContractError, match="does not match the cases"):
        probe.load_cases(path)


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('{"id": "a"}\n', "header line"),
        ('{"format": "dslkit-probe", "name": "x", "version": 1}\n{nope\n', r":2:\d+: not JSON"),
        (
            '{"format": "dslkit-probe", "name": "x", "version": 1}\n'
            '{"id": "a", "prompt": "p", "expected": "e", "colour": 1}\n',
            "unknown probe case key 'colour'",
        ),
        (
            '{"format": "dslkit-probe", "name": "x", "version": 1}\n'
            '{"id": "a", "prompt": "p", "expected": "e", "split": "val"}\n',
            "split must be one of",
        ),
    ],
)
def test_bad_probe_files_get_clear_errors(tmp_path: Path, body: str, match: str) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(body)
    with pytest.raises(ContractError, match=match):
        probe.load_cases(path)


def test_compare_refuses_different_probe_hashes() -> None:
    cases = scene_cases()
    echo = {c.prompt: c.expected for c in cases}
    a = probe.run(echo.__getitem__, probe.ProbeSet("demo", 1, tuple(cases)), compile=fake_compile)
    b = probe.run(echo.__getitem__, probe.ProbeSet("demo", 2, tuple(cases)), compile=fake_compile)
    with pytest.raises(probe.ProbeMismatchError, match="different probe contracts") as info:
        probe.compare(a, b)
    assert isinstance(info.value, DslkitError)
    same = probe.compare(a, a)
    assert all(v == 0 for v in same["overall"].values() if v is not None)


def test_report_json_round_trip(tmp_path: Path) -> None:
    cases = scene_cases()
    report = probe.run(lambda p: "[scene] junk", cases, compile=fake_compile, label="raw")
    path = report.save(tmp_path / "probe.json")
    assert probe.load_report(path) == report


def test_trace_scoreboard_statuses() -> None:
    gold = JANET.read_text()
    wrong = gold.replace("value: 2}", "value: 3}")
    other_expert = gold.replace("expert: arithmetic", "expert: percentage")
    outputs = {
        "ok": gold + "<|eos|>",
        "wrong": wrong,
        "expert": other_expert,
        "junk": "no trace here",
    }
    cases = [
        probe.ProbeCase(
            id=k, prompt=k, expected=gold, kind="trace", split=s, answer=18, expert="arithmetic"
        )
        for k, s in zip(outputs, ("train", "test", "test", "hidden"), strict=False)
    ]
    report = probe.run(outputs.__getitem__, cases, compile=None)
    t = report.trace
    assert t is not None and t.n == 4
    assert t.status_counts == {"correct": 1, "wrong_answer": 1, "wrong_expert": 1, "parse_fail": 1}
    assert t.parse_rate == 3 / 4 and t.valid_trace_rate == 2 / 4 and t.accuracy == 1 / 4
    assert t.mean_reward == pytest.approx((1.0 + 0.7 + 0.3 + 0.0) / 4)
    assert report.trace_by_split["test"].n == 2
    assert set(report.trace_by_expert) == {"arithmetic"}
