"""synth_traces: word problems whose trace the solver checks; hidden phrasings and ranges."""

from __future__ import annotations

import re
from dataclasses import replace
from fractions import Fraction

from dslkit.train.data import qc
from dslkit.train.synth_traces import KINDS, TraceSynthSettings, synth_traces, trace_leakage

SETTINGS = TraceSynthSettings(n_rows=600, seed=2)


def test_rows_solve_to_their_answer_and_make_sense() -> None:
    rows = synth_traces(SETTINGS)
    report = qc(rows, compile_scenes=False)
    assert report.ok, report.summary()
    assert {r.split for r in rows} == {"train", "dev", "test", "hidden"}
    # whole, positive answers: every kind is drawn so the story stays possible
    assert all(Fraction(r.answer) > 0 and Fraction(r.answer).denominator == 1 for r in rows)
    for kind in KINDS:
        assert any(f":{kind.name}:" in r.source for r in rows)


def test_hidden_phrasings_and_numbers_never_reach_train() -> None:
    rows = synth_traces(SETTINGS)
    assert trace_leakage(rows) == []
    lo, hi = SETTINGS.train_range
    held_out = [
        re.compile(
            r"\[task:trace\] "
            + re.sub(r"\\\{\w+\\\}", ".+?", re.escape(k.phrasings[-1]))
            + r" \[OUT\]"
        )
        for k in KINDS
    ]
    assert sum(any(p.fullmatch(r.prompt) for p in held_out) for r in rows) > 0
    for r in rows:
        numbers = [int(n) for n in re.findall(r"value: (\d+)", r.target)]
        if r.split != "hidden":
            assert all(lo <= n <= hi for n in numbers), r.target
            # read from the question itself: no held-out phrasing outside hidden
            assert not any(p.fullmatch(r.prompt) for p in held_out), r.prompt
    hidden = [r for r in rows if r.split == "hidden"]
    assert any(
        r.source.endswith(f"{SETTINGS.hidden_range[0]}-{SETTINGS.hidden_range[1]}") for r in hidden
    )
    # a hidden row moved into train is reported
    leak = next(r for r in hidden if r.source.split(":")[4] == "2")
    moved = [replace(r, split="train") if r.id == leak.id else r for r in rows]
    again = replace(leak, id="again", prompt=leak.prompt + " ")
    assert trace_leakage([*moved, again])


def test_synth_traces_command(tmp_path, capsys) -> None:
    from dslkit.train.cli import main
    from dslkit.train.data import read_jsonl

    out = tmp_path / "traces.jsonl"
    assert main(["synth-traces", str(out), "--rows", "80"]) == 0
    assert "leakage check: none; qc: ok" in capsys.readouterr().out
    assert len(read_jsonl(out)) == 80
