"""Property test: every valid scene from scene_dsl.strategies compiles within the invariants."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import geometry_problems

from dslkit.errors import DslkitError

hypothesis = pytest.importorskip("hypothesis")
strategies = pytest.importorskip("scene_dsl.strategies")

from hypothesis import HealthCheck, given, settings  # noqa: E402


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.scenes_with_content())
def test_generated_scenes_compile_within_invariants(pair: tuple[object, dict]) -> None:
    scene, content = pair
    try:
        svg = compile_scene(scene, content)  # type: ignore[arg-type]
    except DslkitError as exc:  # only the toolkit's own errors, and only for invalid input
        pytest.fail(f"valid generated scene raised {exc!r}")
    ET.fromstring(svg.text)
    assert geometry_problems(svg) == []
    assert all(not w.is_error for w in svg.warnings)
