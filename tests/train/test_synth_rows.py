"""synth_scenes: well-posed rows over every family, splits that hold content out, leak check."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from dslkit.train.data import qc
from dslkit.train.synth import SynthSettings, leakage, relabel, scene_keys, synth_scenes

import scene_dsl
from scene_dsl.skeleton import skeleton_target

SETTINGS = SynthSettings(n_scenes=400, seed=3, max_components=5)


@pytest.fixture(scope="module")
def rows() -> list:
    return synth_scenes(SETTINGS)


def test_every_family_form_and_style(rows: list) -> None:
    spec = scene_dsl.load_contract("v1")
    assert {r.family for r in rows} == set(spec.families)
    assert {r.prompt.split(" ")[1] for r in rows} == {"[form:block]", "[form:row]"}
    for name in ("theme", "tone", "density"):
        values = {scene_dsl.parse(r.target).attr(name) for r in rows}
        assert values == set(spec.attribute(name).all_values), name
    assert {r.split for r in rows} == {"train", "dev", "test", "hidden"}
    counts = Counter(scene_keys(scene_dsl.parse(r.target))["count"] for r in rows)
    assert len(counts) >= 4 and max(counts) <= SETTINGS.max_components


def test_materialiser_never_breaks_prompt_determinism(rows: list) -> None:
    # the strong form: each target is a function of its prompt (the documented ref policy)
    assert all(skeleton_target(r.prompt) == r.target for r in rows)
    report = qc(rows, compile_scenes=False)
    assert "prompt_determinism" in report.checked
    assert report.ok, report.summary()
    # and QC does reject two rows that share a prompt but not a target
    other = next(r for r in rows if r.target != rows[0].target)
    clash = replace(other, id="clash", prompt=rows[0].prompt)
    assert {p.kind for p in qc([rows[0], clash], compile_scenes=False).problems} == {
        "prompt_determinism"
    }


def test_hidden_holds_unseen_counts_mixes_and_topics(rows: list) -> None:
    assert leakage(rows) == []
    train = [scene_keys(scene_dsl.parse(r.target)) for r in rows if r.split == "train"]
    hidden = [scene_keys(scene_dsl.parse(r.target)) for r in rows if r.split == "hidden"]
    assert SETTINGS.hidden_counts[0] not in {k["count"] for k in train}
    assert {k["topic"] for k in hidden}.isdisjoint({k["topic"] for k in train})
    assert {k["shape"] for k in hidden}.isdisjoint({k["shape"] for k in train})


def test_leakage_names_each_planted_leak(rows: list) -> None:
    hidden = next(r for r in rows if r.split == "hidden")
    leaked = leakage([*relabel(rows, "train", {hidden.id}), hidden])
    assert any(hidden.id in line and "shape" in line and "topic" in line for line in leaked)
    dev = next(r for r in rows if r.split == "dev")
    copy = replace(dev, id="copy", split="train")
    assert any(dev.id in line and "prompt" in line for line in leakage([*rows, copy]))


def test_same_seed_same_rows() -> None:
    small = SynthSettings(n_scenes=40, seed=5)
    assert synth_scenes(small) == synth_scenes(small)
    assert synth_scenes(small) != synth_scenes(replace(small, seed=6))


def test_synth_scenes_command(tmp_path, capsys) -> None:
    from dslkit.train.cli import main
    from dslkit.train.data import read_jsonl

    out = tmp_path / "rows.jsonl"
    assert main(["synth-scenes", str(out), "--scenes", "60", "--forms", "row", "--qc"]) == 0
    printed = capsys.readouterr().out
    assert "leakage check: none" in printed and "qc: ok" in printed
    written = read_jsonl(out)
    assert len(written) == 60 and all(r.prompt.startswith("[task:svg] [form:row]") for r in written)
    assert leakage(written) == []
    assert main(["synth-scenes", str(out), "--forms", "diagonal"]) == 2
