"""repair() and ``python -m scene_dsl repair`` on files written in a CKE dialect.

The dialect file gets the same token-level repairs as dslkit text, is read by its dialect
reader, and its canonical reading comes back, with a ``read_dialect`` fix that says so.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import scene_dsl
from scene_dsl.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "cke"

# A D2 flow of our own, one token a line as the CKE files are written.
FLOW = """[scene]
[layout:flow_graph]
[theme:infra_dark]
[tone:green]
[topic:bread_run]
[header_band:header]
[decision_node:mix|nodes.mix]
[decision_node:bake|nodes.bake]
[outcome_panel:shelf|shelf]
[decision_edge:mix->bake|edges.mix_bake]
[decision_edge:bake->shelf|edges.bake_shelf]
[footer_note:footer]
[/scene]
"""


def _broken(text: str) -> str:
    # a leaked special token in front, two tokens glued, the closing [/scene] lost
    return "<|bos|>" + text.replace("]\n[decision_node:bake", "][decision_node:bake").replace(
        "[/scene]\n", ""
    )


@pytest.mark.parametrize("dialect", ["cke", "d2"])
def test_repair_reads_a_dialect_and_returns_its_canonical_reading(dialect: str) -> None:
    broken = _broken(FLOW)
    assert broken != FLOW
    scene, fixes = scene_dsl.repair(broken, dialect=dialect)
    assert scene == scene_dsl.canonicalize(scene_dsl.parse(FLOW, dialect="cke"))
    codes = [f.code for f in fixes]
    assert {"split_glued_tokens", "drop_leaked_token", "append_scene_close"} <= set(codes)
    said = [f for f in fixes if f.code == "read_dialect"]
    assert len(said) == 1 and "d2" in said[0].message
    # the reading is CKE's: the attributes the file left out are the CKE renderer's defaults
    assert scene.attr("frame") == "panel"


def test_repair_auto_recognises_a_block_dialect() -> None:
    text = (FIXTURES / "d6" / "serving_system.dsl").read_text("utf-8")
    unclosed = text.replace("[/footer_note]\n[/scene]\n", "")
    assert unclosed != text
    scene, fixes = scene_dsl.repair(unclosed, dialect="auto")
    assert scene == scene_dsl.canonicalize(scene_dsl.parse(text, dialect="cke"))
    assert [f.message for f in fixes if f.code == "read_dialect"] == [
        "read as CKE dialect d6; repaired its canonical reading (dslkit AST)"
    ]
    assert "close_open_block" in {f.code for f in fixes}


def test_repair_of_dslkit_text_says_nothing_about_dialects() -> None:
    text = scene_dsl.to_text(scene_dsl.parse(FLOW, dialect="cke"))
    scene, fixes = scene_dsl.repair(text)
    assert scene == scene_dsl.parse(text)
    assert "read_dialect" not in {f.code for f in fixes}


def test_repair_rejects_an_unknown_dialect() -> None:
    with pytest.raises(ValueError, match="dialect must be one of"):
        scene_dsl.repair(FLOW, dialect="d9")


def test_repair_cli_takes_the_dialect_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "flow.dsl"
    path.write_text(_broken(FLOW), encoding="utf-8")
    assert main(["repair", str(path), "--dialect", "cke", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    scene, _ = scene_dsl.repair(_broken(FLOW), dialect="cke")
    assert result["text"] == scene_dsl.to_text(scene)
    assert "read_dialect" in [f["code"] for f in result["fixes"]]
    # without the option the file is read as dslkit text (model output): no dialect reading
    assert main(["repair", str(path), "--json"]) in (0, 1)
    out = capsys.readouterr().out
    assert "read_dialect" not in out
