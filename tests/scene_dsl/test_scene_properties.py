"""Property tests over generated scenes: validity, round trips, idempotent canonical form."""

from __future__ import annotations

import random
import subprocess
import sys

from hypothesis import given, settings
from hypothesis import strategies as st

import scene_dsl
from scene_dsl.strategies import (
    sample_content,
    sample_scene,
    scene_texts,
    scenes,
    scenes_with_content,
)

FORMS = st.sampled_from(["block", "row"])
SETTINGS = settings(max_examples=60, deadline=None)


@SETTINGS
@given(scenes())
def test_scene_generated_scenes_validate_cleanly(scene: scene_dsl.Scene) -> None:
    assert scene_dsl.validate(scene) == []
    assert scene_dsl.canonicalize(scene) == scene


@SETTINGS
@given(scenes_with_content())
def test_scene_generated_content_resolves_every_ref(pair: tuple) -> None:
    scene, content = pair
    assert scene_dsl.validate(scene, content=content) == []
    binding = scene_dsl.bind(scene, content)
    assert binding.ok
    contract = scene_dsl.load_contract("v1")
    refs = {
        f.value
        for c in scene.walk()
        for f in c.fields
        if contract.components[c.name].field(f.name).kind == "ref"  # type: ignore[union-attr]
    }
    assert refs
    assert refs <= set(binding.values)


@SETTINGS
@given(scenes(), FORMS, st.booleans())
def test_scene_print_parse_round_trip(scene: scene_dsl.Scene, form: str, inline: bool) -> None:
    text = scene_dsl.to_text(scene, form=form, inline=inline)
    assert scene_dsl.parse(text) == scene
    assert scene_dsl.to_text(scene_dsl.parse(text), form=form, inline=inline) == text
    if inline:
        assert "\n" not in text


@SETTINGS
@given(scenes(), FORMS, FORMS)
def test_scene_row_block_conversion_is_lossless(scene: scene_dsl.Scene, a: str, b: str) -> None:
    converted = scene_dsl.canonical_text(scene_dsl.to_text(scene, form=a), form=b)
    assert scene_dsl.parse(converted) == scene


@SETTINGS
@given(scenes(), st.randoms(use_true_random=False), st.booleans())
def test_scene_canonicalize_idempotent_on_shuffled_input(
    scene: scene_dsl.Scene, rng: random.Random, omit: bool
) -> None:
    from dataclasses import replace

    attrs = list(scene.attrs)
    rng.shuffle(attrs)
    comps = []
    for c in scene.components:
        fields = list(c.fields)
        rng.shuffle(fields)
        comps.append(replace(c, fields=tuple(fields)))
    messy = replace(scene, attrs=tuple(attrs), components=tuple(comps))
    once = scene_dsl.canonicalize(messy, omit_defaults=omit)
    assert scene_dsl.canonicalize(once, omit_defaults=omit) == once
    if not omit:
        # Only the order of distinct fields is canonical; repeated fields keep their order.
        assert [a.key for a in once.attrs] == [a.key for a in scene.attrs]
        assert [sorted(f.name for f in c.fields) for c in once.components] == [
            sorted(f.name for f in c.fields) for c in scene.components
        ]


@SETTINGS
@given(scene_texts("row", inline=True))
def test_scene_texts_are_canonical(text: str) -> None:
    assert scene_dsl.canonical_text(text, form="row", inline=True) == text


def test_scene_sampler_is_deterministic_per_seed() -> None:
    a = [sample_scene(random.Random(7)) for _ in range(3)]
    b = [sample_scene(random.Random(7)) for _ in range(3)]
    assert a == b
    assert sample_content(a[0], rng=random.Random(1)) == sample_content(b[0], rng=random.Random(1))
    assert len({scene_dsl.to_text(sample_scene(random.Random(s))) for s in range(20)}) > 15


def test_scene_sampler_covers_every_family_and_component() -> None:
    contract = scene_dsl.load_contract("v1")
    seen: set[str] = set()
    for family in contract.families:
        for seed in range(40):
            scene = sample_scene(random.Random(seed), family=family)
            assert scene.layout == family
            seen.update(c.name for c in scene.walk())
    assert seen == set(contract.components)


def test_scene_import_does_not_import_hypothesis() -> None:
    code = "import sys, scene_dsl, scene_dsl.strategies; sys.exit('hypothesis' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
