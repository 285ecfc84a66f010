"""compilers.parity reads the text a person sees: wrapped lines are separate words."""

from __future__ import annotations

from dslkit.compilers.parity import svg_texts

_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100">'
    '<text x="1" y="10"><tspan x="1" dy="0">tepid</tspan><tspan x="1" dy="12">body</tspan></text>'
    '<text x="1" y="40">bold<tspan font-weight="bold">face</tspan> run</text>'
    "</svg>"
)


def test_a_positioned_tspan_starts_a_new_word_and_an_inline_one_does_not() -> None:
    assert svg_texts(_SVG) == ["tepid body", "boldface run"]
