"""Hostile content stays text: escaped, well-formed, self-contained, fitted."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import FAMILIES, build, geometry_problems

HOSTILE = [
    "<script>alert('x')</script>",
    "]]><![CDATA[ & &amp; &#x3c; \"quoted\" 'single'",
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u202eevil\u202c",
    "\U0001f680\U0001f525 \u6f22\u5b57\u30c6\u30b9\u30c8 \U0001f9d1\u200d\U0001f4bb",
    "nul\x00 bell\x07 esc\x1b del\x7f ff\ufffe lone\ud800 end",
    "x" * 5000,
    "word " * 1000,
    '<image href="http://evil.example/x.png"/> url(http://evil.example) <a xlink:href="file:///etc/passwd">',
]


def _poison(content: object, value: str) -> object:
    if isinstance(content, dict):
        return {k: _poison(v, value) for k, v in content.items()}
    if isinstance(content, list):
        return [_poison(v, value) for v in content]
    if isinstance(content, str):
        return value
    return content


ALLOWED = {
    "svg",
    "title",
    "desc",
    "defs",
    "linearGradient",
    "clipPath",
    "stop",
    "marker",
    "g",
    "rect",
    "line",
    "path",
    "circle",
    "text",
    "tspan",
}


def _check(svg_text: str) -> ET.Element:
    """Well-formed, only drawing elements, no references outside the document."""
    root = ET.fromstring(svg_text)
    assert "<!ENTITY" not in svg_text and "<!DOCTYPE" not in svg_text
    for el in root.iter():
        assert el.tag.split("}")[-1] in ALLOWED, el.tag
        for name, value in el.attrib.items():
            assert "href" not in name
            if name == "aria-label":  # content text, escaped; not a reference
                continue
            for ref in re.findall(r"url\(([^)]*)\)", value):
                assert ref.startswith("#"), value
            assert "http" not in value and "file:" not in value, (name, value)
    return root


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
@pytest.mark.parametrize(
    "family", ["poster_stack", "table_matrix", "decision_tree", "comparison_span_chart"]
)
def test_hostile_strings_stay_text(family: str, value: str) -> None:
    text, content = build(family)
    svg = compile_scene(text, _poison(content, value))
    root = _check(svg.text)
    assert geometry_problems(svg) == []
    drawn = "".join(root.itertext())
    if value.startswith("<script"):
        # drawn as literal text (an ellipsis anywhere on the canvas would not show that)
        assert value in drawn


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_escapes_markup(family: str) -> None:
    text, content = build(family)
    svg = compile_scene(text, _poison(content, '<b>&</b> "q"'))
    _check(svg.text)
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in svg.text


def test_control_characters_are_dropped_not_emitted() -> None:
    text, content = build("dashboard_cards")
    svg = compile_scene(text, _poison(content, "a\x00b\x1bc\ud800d"))
    _check(svg.text)
    assert "abcd" in svg.text


def test_theme_overrides_accept_only_hex_colours() -> None:
    text, content = build("dashboard_cards")
    svg = compile_scene(
        text, content, theme_overrides={"bg": '#000000"/><script>', "blue": "#123456"}
    )
    _check(svg.text)
    assert "#123456" in svg.text
