"""Golden files: identity (canonical scenes print back unchanged), canonicalization pairs,
repair cases with their expected fix lists.

Goldens are regenerated only on request: ``DSLKIT_UPDATE_GOLDENS=1 pytest tests/scene_dsl``
rewrites them from the current implementation; review the diff before committing.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import pytest

import scene_dsl
from scene_dsl.strategies import sample_scene

FIXTURES = Path(__file__).parent / "fixtures"
UPDATE = os.environ.get("DSLKIT_UPDATE_GOLDENS") == "1"
IDENTITY = {"block": FIXTURES / "identity.dsl", "row": FIXTURES / "identity_row.dsl"}
CANON = sorted((FIXTURES / "canon").glob("*.in.dsl"))
REPAIR = sorted((FIXTURES / "repair").glob("*.json"))


def _identity_scenes() -> list[scene_dsl.Scene]:
    # One scene per family (seeded), plus extra seeds: every family and most components.
    contract = scene_dsl.load_contract("v1")
    out = [
        sample_scene(random.Random(i), family=f) for i, f in enumerate(sorted(contract.families))
    ]
    out += [sample_scene(random.Random(1000 + i)) for i in range(12)]
    return out


def _chunks(path: Path) -> list[str]:
    return [c.strip("\n") + "\n" for c in path.read_text("utf-8").split("\n\n") if c.strip()]


@pytest.mark.parametrize("form", sorted(IDENTITY))
def test_scene_identity_file(form: str) -> None:
    path = IDENTITY[form]
    if UPDATE:
        path.write_text(
            "\n".join(scene_dsl.to_text(s, form=form) for s in _identity_scenes()), "utf-8"
        )
    chunks = _chunks(path)
    assert len(chunks) >= 19
    for chunk in chunks:
        scene = scene_dsl.parse(chunk)
        assert scene_dsl.validate(scene) == []
        assert scene_dsl.to_text(scene_dsl.canonicalize(scene), form=form) == chunk
        other = "row" if form == "block" else "block"
        assert scene_dsl.parse(scene_dsl.to_text(scene, form=other)) == scene


def test_scene_identity_files_cover_every_family_and_form_difference() -> None:
    block = [scene_dsl.parse(c) for c in _chunks(IDENTITY["block"])]
    row = [scene_dsl.parse(c) for c in _chunks(IDENTITY["row"])]
    assert block == row  # the two files hold the same scenes in the two surfaces
    contract = scene_dsl.load_contract("v1")
    assert {s.layout for s in block} == set(contract.families)
    assert _chunks(IDENTITY["block"]) != _chunks(IDENTITY["row"])


@pytest.mark.parametrize("path", CANON, ids=lambda p: p.name.removesuffix(".in.dsl"))
def test_scene_canonicalization_pair(path: Path) -> None:
    expected_path = path.with_name(path.name.replace(".in.dsl", ".out.dsl"))
    source = path.read_bytes().decode("utf-8")  # keep CRLF: the parser must tolerate it
    got = scene_dsl.canonical_text(source)
    if UPDATE:
        expected_path.write_text(got, "utf-8")
    assert got == expected_path.read_text("utf-8")
    assert scene_dsl.canonical_text(got) == got  # idempotent on text
    assert scene_dsl.parse(scene_dsl.canonical_text(source, form="row")) == scene_dsl.parse(got)


@pytest.mark.parametrize("path", REPAIR, ids=lambda p: p.stem)
def test_scene_repair_case(path: Path) -> None:
    case = json.loads(path.read_text("utf-8"))
    scene, fixes = scene_dsl.repair(case["input"])
    got_text = scene_dsl.to_text(scene)
    got_fixes = [f.code for f in fixes]
    if UPDATE:
        case.update(expected=got_text, fixes=got_fixes)
        path.write_text(json.dumps(case, indent=1, ensure_ascii=False) + "\n", "utf-8")
    assert got_text == case["expected"]
    assert got_fixes == case["fixes"]
    # honest: repair never invents a value, and its output is stable under repair
    for comp in scene.walk():
        assert comp.name in case["input"]
        for f in comp.fields:
            assert f.value in case["input"]
    assert all(a.value in case["input"] for a in scene.attrs)
    again, more = scene_dsl.repair(got_text)
    assert again == scene and more == []
    assert all(f.line >= 0 and f.column >= 0 for f in fixes)
