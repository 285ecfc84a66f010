"""Materialisation: rows from a gold pack and the sampler, prompt surfaces, splits, JSONL, packing."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from data_decoding_helpers import scene_tokenizer, write_gold_pack
from dslkit.train.data import (
    GOAL_BY_FAMILY,
    assign_split,
    materialize,
    pack,
    qc,
    read_jsonl,
    write_jsonl,
)
from dslkit.train.model import IGNORE_INDEX
from dslkit.train.packing import make_batch

import scene_dsl


@pytest.fixture(scope="module")
def gold(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_gold_pack(tmp_path_factory.mktemp("gold"), n=5)


def test_materialize_is_deterministic_and_passes_qc(gold: Path) -> None:
    a = materialize(gold_dir=gold, n_sampled=12, gsm8k=None, seed=3)
    b = materialize(gold_dir=gold, n_sampled=12, gsm8k=None, seed=3)
    assert a.rows == b.rows
    assert [r.id for r in a] == [r.id for r in b]
    assert len(a) == 2 * (5 + 12)  # explicit + intent per scene
    report = qc(a.rows, compile_scenes=False)  # the compiler has its own gate and tests
    assert report.ok, report.summary()
    c = materialize(gold_dir=gold, n_sampled=12, gsm8k=None, seed=4)
    assert [r.target for r in c][:10] == [r.target for r in a][:10]  # gold rows do not move
    assert [r.split for r in c] != [r.split for r in a]  # the seed reshuffles splits


def test_prompt_surfaces_follow_the_scene(gold: Path) -> None:
    rows = materialize(gold_dir=gold, gsm8k=None).rows
    for r in rows:
        scene = scene_dsl.parse(r.target)
        assert r.family == scene.layout
        assert r.prompt.startswith("[task:svg] ") and r.prompt.endswith(" [OUT]")
        if r.surface == "explicit":
            assert f"[layout:{scene.layout}]" in r.prompt
        else:
            assert f"[goal:{GOAL_BY_FAMILY[scene.layout]}]" in r.prompt
        # the target is the canonical inline text of itself
        assert scene_dsl.canonical_text(r.target, inline=True) == r.target
        assert r.content is not None and r.source.startswith("gold:")


def test_row_form_targets(gold: Path) -> None:
    rows = materialize(gold_dir=gold, gsm8k=None, form="row").rows
    for r in rows:
        assert scene_dsl.canonical_text(r.target, form="row", inline=True) == r.target
    assert qc(rows, compile_scenes=False).ok


def test_splits_are_a_function_of_the_prompt_and_disjoint() -> None:
    rows = materialize(gold_dir=None, n_sampled=150, gsm8k=None, seed=1).rows
    by_split: dict[str, set[str]] = {}
    for r in rows:
        assert r.split == assign_split(r.prompt, 1)
        by_split.setdefault(r.split, set()).add(r.prompt)
    assert set(by_split) == {"train", "dev", "test", "hidden"}
    names = sorted(by_split)
    for i, x in enumerate(names):
        for y in names[i + 1 :]:
            assert not by_split[x] & by_split[y], (x, y)
    only_train = materialize(gold_dir=None, n_sampled=5, gsm8k=None, fractions=(("train", 1.0),))
    assert {r.split for r in only_train} == {"train"}


def test_missing_sources_are_noted_not_fatal(tmp_path: Path) -> None:
    m = materialize(gold_dir=tmp_path / "nope", gsm8k=tmp_path / "gsm8k.jsonl", n_sampled=1)
    assert len(m) == 2
    assert any("gold rows skipped" in n for n in m.notes)
    assert any("trace rows skipped" in n and "not found" in n for n in m.notes)


def test_jsonl_round_trip(gold: Path, tmp_path: Path) -> None:
    rows = materialize(gold_dir=gold, gsm8k=None).rows
    path = write_jsonl(rows, tmp_path / "rows.jsonl")
    back = read_jsonl(path)
    assert back == list(rows)
    assert [r.content for r in back] == [r.content for r in rows]


def test_pack_ends_targets_with_eos_and_masks_prompts(gold: Path) -> None:
    tok = scene_tokenizer()
    rows = materialize(gold_dir=gold, gsm8k=None).rows
    packed = pack(rows, tok)
    eos = tok.special_ids["<|eos|>"]
    assert len(packed) == len(rows)
    for i, r in enumerate(rows):
        assert packed.target(i)[-1] == eos
        assert tok.decode(packed.target(i)[:-1].tolist()) == r.target
        assert tok.decode(packed.prompt(i).tolist()) == "<|bos|>" + r.prompt
    _x, y = make_batch(packed, [0, 1])
    p0 = len(packed.prompt(0))
    assert (y[0, : p0 - 1] == IGNORE_INDEX).all()  # no loss on prompt tokens
    assert np.array_equal(y[0, p0 - 1 : p0 - 1 + len(packed.target(0))].numpy(), packed.target(0))


def test_trace_rows_from_gsm8k(tmp_path: Path) -> None:
    import json

    records = [
        {
            "question": "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. How many clips did Natalia sell altogether in April and May?",
            "answer": "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\nNatalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
        },
        {"question": "No annotations here?", "answer": "It is just 5.\n#### 5"},
    ]
    path = tmp_path / "gsm8k.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    m = materialize(gold_dir=None, gsm8k=path)
    assert len(m) == 1 and any("1 records not convertible" in n for n in m.notes)
    row = m.rows[0]
    assert row.language == "trace" and row.answer == "72" and row.surface == "question"
    assert row.prompt.startswith("[task:trace] Natalia") and row.prompt.endswith(" [OUT]")
    assert qc(m.rows).ok
