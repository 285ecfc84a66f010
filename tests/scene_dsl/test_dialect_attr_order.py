"""The CKE writers keep the attribute order a file was written in (trivia, like LibCST)."""

from __future__ import annotations

import scene_dsl
from scene_dsl.ast import Attr, Scene

# A spec-row (D2) timeline with its attributes in a file's own order: density before frame.
_D2 = """[scene]
[layout:timeline]
[theme:infra_dark]
[tone:green]
[density:compact]
[frame:panel]
[background:none]
[topic:seasons]
[header_band:head]
[timeline_stage:sow|stages.sow|lane=top]
[timeline_stage:reap|stages.reap|lane=bottom]
[timeline_arrow:sow->reap]
[/scene]
"""


def test_written_back_in_the_files_own_attribute_order() -> None:
    dialect = scene_dsl.recognize(_D2)
    scene = scene_dsl.canonicalize(scene_dsl.parse(_D2, dialect="auto"))
    # canonical text puts frame first (the contract's order) ...
    keys = [a.key for a in scene.attrs if not a.implicit]
    assert keys.index("frame") < keys.index("density")
    # ... yet the file's own dialect gets its tokens back in its own order
    assert scene_dsl.to_text(scene, dialect=dialect).split() == _D2.split()


def test_a_scene_built_in_code_is_written_in_canonical_order() -> None:
    parsed = scene_dsl.canonicalize(scene_dsl.parse(_D2, dialect="auto"))
    # the same attributes with no source behind them (no spans): canonical order
    built = Scene(
        attrs=tuple(Attr(a.key, a.value, implicit=a.implicit) for a in reversed(parsed.attrs)),
        components=parsed.components,
    )
    built = scene_dsl.canonicalize(built)
    lines = scene_dsl.to_text(built, dialect="d2").split()
    assert lines.index("[frame:panel]") < lines.index("[density:compact]")
    assert scene_dsl.parse("\n".join(lines), dialect="auto") == parsed
