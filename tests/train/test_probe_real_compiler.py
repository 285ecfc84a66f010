"""The probe and the critic with the real scene compiler, not the fake_compile stand-in.

fake_compile never fails and returns the row text, so the probe's render-failure and
materialized-SVG paths only ever saw that stand-in; here they run through compile_scene.
"""

from __future__ import annotations

import copy

import pytest
from dslkit.train import critic, probe
from probe_helpers import POSTER, POSTER_CONTENT, block_text, generator, scene_cases

pytest.importorskip("dslkit.compilers.scene_svg")


def test_probe_renders_and_materializes_with_the_real_compiler() -> None:
    cases = scene_cases()
    report = probe.run(generator(cases, {c.id: "echo" for c in cases}), cases, compile="auto")
    raw = report.scene["raw"]
    assert raw.exact_rate == raw.renderable_rate == raw.materialized_exact_rate == 1.0
    assert all(c.raw.svg and c.raw.svg.startswith("<svg") for c in report.cases)  # type: ignore[union-attr]


def test_a_drifted_scene_renders_but_does_not_materialize() -> None:
    # drift_tone parses and validates but the compiler draws other bytes than the target's
    cases = scene_cases()
    report = probe.run(generator(cases, {c.id: "drift_tone" for c in cases}), cases, compile="auto")
    raw = report.scene["raw"]
    assert raw.renderable_rate == 1.0 and raw.materialized_exact_rate == 0.0
    assert not any(c.raw.exact for c in report.cases)


def test_critic_runs_the_real_compiler() -> None:
    good = {"text": block_text(POSTER), "content": POSTER_CONTENT, "layout": "poster_stack"}
    assert critic.label(good, compile="auto").accepted
    huge = copy.deepcopy(POSTER_CONTENT)
    huge["cards"][1]["value"] = 10**5000
    labels = critic.label({**good, "content": huge}, compile="auto")
    assert not labels.tests_pass and not labels.accepted
