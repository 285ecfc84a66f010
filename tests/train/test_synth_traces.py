"""synth_traces: word problems whose trace the solver checks; what hidden holds out, proven."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from fractions import Fraction

import pytest
from dslkit.train.data import qc
from dslkit.train.synth_traces import (
    DISTRACTORS,
    HIDDEN_MODES,
    KINDS,
    TraceSynthSettings,
    beyond_rows,
    phrasing_mask,
    synth_traces,
    trace_leakage,
)

from dslkit.errors import ArgumentError

SETTINGS = TraceSynthSettings(n_rows=1500, seed=2)


@pytest.fixture(scope="module")
def rows():
    return synth_traces(SETTINGS)


def _numbers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\d+", text)]


def _trace_numbers(target: str) -> list[int]:
    return [int(n) for n in re.findall(r"(?:value|amount): (\d+)", target)]


def _held_out_pattern(template: str) -> re.Pattern[str]:
    # written here from the template text, not taken from the module under test
    body = re.sub(r"\\\{\w+\\\}", r"[\\w'$]+(?: (?:dollars|euros|pounds))?", re.escape(template))
    return re.compile(r"(?:\] |[.?!] )" + body)


def test_rows_solve_to_their_answer_and_make_sense(rows) -> None:
    report = qc(rows, compile_scenes=False)  # parses, solves to the answer, prompt determinism
    assert report.ok, report.summary()
    assert {r.split for r in rows} == {"train", "dev", "test", "hidden"}
    # whole, positive answers: every kind is drawn so the story stays possible
    assert all(Fraction(r.answer) > 0 and Fraction(r.answer).denominator == 1 for r in rows)
    assert {r.source.split(":")[3] for r in rows} == {k.name for k in KINDS}
    assert {r.family for r in rows} == {k.expert for k in KINDS}
    modes = {r.source.rsplit(":", 1)[1] for r in rows if r.split == "hidden"}
    assert modes == set(HIDDEN_MODES)
    # about a third of the questions carry a number the trace must ignore
    with_distractor = [r for r in rows if ".dx" not in r.source]
    assert 0.2 < len(with_distractor) / len(rows) < 0.4


def test_the_trace_writes_the_question_numbers_in_role_order(rows) -> None:
    # the policy: one init per number in the kind's role order whatever order the question
    # tells them in (a transfer's amount in its step), so the question determines the trace;
    # a distractor's number is never written
    roles = {k.name: [r.var for r in k.roles if r.init] for k in KINDS}
    reordered = 0
    for r in rows:
        kind = r.source.split(":")[3]
        assert re.findall(r"op: init, var: (\w+)", r.target) == roles[kind], r.target
        written, stated = _trace_numbers(r.target), _numbers(r.prompt)
        left = list(stated)
        for n in written:
            left.remove(n)  # every written number is stated in the question
        assert len(left) == (0 if ".dx" in r.source else 1), r.prompt
        reordered += [n for n in stated if n in written] != written
    assert reordered > len(rows) / 10  # fact orders vary, the init order does not


def test_hidden_holds_out_variants_combinations_and_numbers(rows) -> None:
    assert trace_leakage(rows) == []
    lo, hi = SETTINGS.hidden_numbers
    train = [r for r in rows if r.split == "train"]
    held = [_held_out_pattern(k.facts[k.held_slot][-1]) for k in KINDS]
    held.append(_held_out_pattern(DISTRACTORS[-1]))
    for r in train:
        assert not any(lo <= n <= hi for n in _numbers(r.prompt)), r.prompt
        assert not any(p.search(r.prompt) for p in held), r.prompt
    train_masks = {phrasing_mask(r.prompt) for r in train}
    longest = max(len(str(n)) for r in train for n in _trace_numbers(r.target))
    hidden = [r for r in rows if r.split == "hidden"]
    for r in hidden:
        mode = r.source.rsplit(":", 1)[1]
        new_numbers = [n for n in _trace_numbers(r.target) if lo <= n <= hi]
        assert bool(new_numbers) == ("numbers" in mode), r.source
        # held-out values, but never more digits than training writes
        assert all(len(str(n)) <= longest for n in _trace_numbers(r.target))
        if mode != "numbers":
            assert phrasing_mask(r.prompt) not in train_masks, r.prompt
        if mode.startswith("variant"):
            assert any(p.search(r.prompt) for p in held), r.prompt
    assert sum(r.source.endswith(":variant") for r in hidden) > 10


def test_phrasing_mask_is_the_phrasing() -> None:
    rows = synth_traces(TraceSynthSettings(n_rows=3000, seed=5))
    masks = defaultdict(set)
    for r in rows:
        masks[tuple(r.source.split(":")[3:5])].add(phrasing_mask(r.prompt))
    assert all(len(m) == 1 for m in masks.values())  # fillers never change the mask
    assert len({next(iter(m)) for m in masks.values()}) > 0.9 * len(masks)  # phrasings do
    assert phrasing_mask("[task:trace] Amara's 5 apples cost $3 or 3 euros. [OUT]") == (
        "[task:trace] _ # _ cost $# or $#. [OUT]"
    )


def test_leakage_names_what_leaks(rows) -> None:
    lo, hi = SETTINGS.hidden_numbers
    hidden = [r for r in rows if r.split == "hidden"]
    variant = next(r for r in hidden if r.source.endswith(":variant"))
    numbers = next(r for r in hidden if r.source.endswith(":numbers"))
    # a hidden row moved into train: its held-out clause, its held-out numbers
    moved = [replace(r, split="train") if r.id in (variant.id, numbers.id) else r for r in rows]
    found = trace_leakage(moved)
    assert any(variant.id in f and "held-out clause" in f for f in found), found
    assert any(numbers.id in f and f"held-out number in {lo}-{hi}" in f for f in found), found
    # a hidden row whose phrasing occurs in train and whose numbers are training's
    seen = next(r for r in rows if r.split == "train")
    twin = replace(seen, id="twin", split="hidden", prompt=re.sub(r"\d+", "7", seen.prompt))
    assert any(
        "twin" in f and "phrasing occurs in train" in f for f in trace_leakage([*rows, twin])
    )
    # a held-out prompt equal to a training prompt
    copy = replace(seen, id="copy", split="dev")
    assert any("copy" in f and "prompt also in train" in f for f in trace_leakage([*rows, copy]))


def test_beyond_rows_have_more_digits_than_training(rows) -> None:
    extra = beyond_rows(18, seed=3)
    assert {r.split for r in extra} == {"beyond"} and len(extra) >= 9
    assert qc(extra, compile_scenes=False).ok
    longest = max(len(str(n)) for r in rows if r.split == "train" for n in _trace_numbers(r.target))
    assert all(max(len(str(n)) for n in _trace_numbers(r.target)) > longest for r in extra)


def test_a_held_out_range_training_could_not_cover_is_refused() -> None:
    for held in ((50, 60), (150, 140), (900, 1200)):
        with pytest.raises(ArgumentError, match="hidden_numbers"):
            TraceSynthSettings(hidden_numbers=held)


def test_synth_traces_command(tmp_path, capsys) -> None:
    from dslkit.train.cli import main
    from dslkit.train.data import read_jsonl

    out = tmp_path / "traces.jsonl"
    assert main(["synth-traces", str(out), "--rows", "90"]) == 0
    assert "leakage check: none; qc: ok" in capsys.readouterr().out
    assert len(read_jsonl(out)) == 90
    assert main(["synth-traces", str(out), "--rows", "90", "--hidden-numbers", "300", "349"]) == 0
    assert all(
        not any(300 <= n <= 349 for n in _numbers(r.prompt))
        for r in read_jsonl(out)
        if r.split == "train"
    )
    assert main(["synth-traces", str(out), "--hidden-numbers", "20", "30"]) == 2
    assert "hidden_numbers 20-30" in capsys.readouterr().err
