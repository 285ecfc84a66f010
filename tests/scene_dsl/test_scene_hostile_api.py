"""API misuse, self-referencing content and deep hand-built trees: toolkit errors only."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import scene_dsl
from dslkit.errors import ArgumentError, LimitExceededError
from scene_dsl.ast import MAX_NESTING, Attr, Component, Scene

GOLD = Path(__file__).resolve().parents[2] / "examples" / "gold" / "kv_eviction_tree"
TEXT = "[scene] [layout:poster_stack] [section_card:@cards.0.title] [/scene]"


@pytest.mark.parametrize(
    ("call", "names"),
    [
        (lambda: scene_dsl.parse(None), "parse(text)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.parse(42), "parse(text)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.check(None), "parse(text)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.repair(b"[scene]"), "repair(text)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.canonicalize(TEXT), "canonicalize(scene)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.to_text(None), "to_text(scene)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.validate({}), "validate(scene)"),  # type: ignore[arg-type]
        (lambda: scene_dsl.canonical_text(3.5), "parse(text)"),  # type: ignore[arg-type]
    ],
)
def test_wrong_argument_types_name_the_argument(call: Any, names: str) -> None:
    with pytest.raises(ArgumentError) as err:
        call()
    assert names in str(err.value)
    assert isinstance(err.value, TypeError)  # callers that expect a TypeError still get one


def test_bytes_like_text_is_read_as_utf8() -> None:
    scene = scene_dsl.parse(TEXT)
    assert scene_dsl.parse(memoryview(TEXT.encode())) == scene
    assert scene_dsl.parse(bytearray(TEXT.encode())) == scene
    assert scene_dsl.canonical_text(TEXT.encode()) == scene_dsl.canonical_text(TEXT)
    assert scene_dsl.check(memoryview(TEXT.encode())) == scene_dsl.check(TEXT)


def test_compile_scene_names_misused_arguments() -> None:
    from dslkit.compilers.scene_svg import compile_scene

    text = (GOLD / "scene.dsl").read_text("utf-8")
    content = GOLD / "content.json"
    for kwargs, name in (
        ({"theme_overrides": ["bg"]}, "theme_overrides"),
        ({"theme_overrides": "bg"}, "theme_overrides"),
    ):
        with pytest.raises(ArgumentError, match=name):
            compile_scene(text, content, **kwargs)
    with pytest.raises(ArgumentError, match=r"compile_scene\(scene\)"):
        compile_scene(None, content)  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"compile_scene\(content\)"):
        compile_scene(text, 42)  # type: ignore[arg-type]


def test_self_referencing_content_is_a_diagnostic_not_a_hang() -> None:
    scene = scene_dsl.parse(TEXT)
    content: dict[str, Any] = {"cards": [{"title": "t"}]}
    content["loop"] = {"back": content}
    codes = [(d.code, d.message) for d in scene_dsl.validate(scene, content=content)]
    assert ("S603", "content loop.back contains itself (a cycle)") in codes
    shared = {"title": "t"}  # the same object twice is not a cycle
    plain = scene_dsl.validate(scene, content={"cards": [shared], "again": shared})
    assert "S603" not in {d.code for d in plain}


def _chain(depth: int) -> Component:
    comp = Component("table_row")
    for _ in range(depth - 1):
        comp = Component("table_row", (), (comp,))
    return comp


def test_hand_built_trees_stop_at_the_nesting_ceiling() -> None:
    deepest = _chain(MAX_NESTING)
    scene = Scene((Attr("layout", "table_matrix"),), (deepest,))
    # every recursive operation on nodes works at the ceiling
    assert hash(scene) == hash(pickle.loads(pickle.dumps(scene)))
    assert scene_dsl.parse(scene_dsl.to_text(scene), max_depth=MAX_NESTING) == scene
    assert scene_dsl.canonicalize(scene) == scene
    assert repr(scene).count("table_row") == MAX_NESTING
    with pytest.raises(LimitExceededError, match="at most 100"):
        Component("table_row", (), (deepest,))


def test_a_utf8_bom_is_ignored_and_positions_start_after_it() -> None:
    scene = scene_dsl.parse(TEXT)
    assert scene_dsl.parse("\ufeff" + TEXT) == scene
    assert scene_dsl.parse(b"\xef\xbb\xbf" + TEXT.encode()) == scene
    bad = "\ufeff[scene] [layout:poster_stack] [nope:x] [/scene]"
    [d] = [d for d in scene_dsl.check(bad) if d.code == "S302"]
    assert (d.line, d.column) == (1, bad.index("[nope") + 1 - 1)
    assert d.source_line.startswith("[scene]")
