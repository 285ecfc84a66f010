"""Every scene attribute value changes the compiled bytes; unset attributes mean the defaults."""

from __future__ import annotations

import re

import pytest
from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import build

import scene_dsl

CONTRACT = scene_dsl.load_contract("v1")
# the family where an attribute has something to act on
FAMILY_FOR = {"connector": "flow_graph", "columns": "dashboard_cards"}
BASE = {"theme": "infra_dark", "tone": "blue"}


def _values(name: str) -> list[str]:
    spec = CONTRACT.attribute(name)
    assert spec is not None
    if name == "topic":
        return ["kv_cache", "moe_routing"]
    return list(spec.all_values)


CASES = [
    (a.name, v)
    for a in CONTRACT.attributes
    if a.name != "layout"
    for v in _values(a.name)
    if v != (a.default or _values(a.name)[0])
]


def _svg(family: str, **attrs: str) -> str:
    """The compiled SVG with the element-id prefix normalised.

    Ids start with a hash of the canonical scene, so any attribute change changed the bytes
    even when the compiler ignored the attribute; only the drawing may differ here.
    """
    text, content = build(family, attrs={**BASE, **attrs})
    return normalise_ids(compile_scene(text, content).text)


def normalise_ids(svg: str) -> str:
    """``svg`` with its one scene-hash id prefix (``s1a2b3c``) replaced by ``ID``."""
    prefixes = set(_ID_PREFIX.findall(svg))
    assert len(prefixes) == 1, prefixes  # every id carries the same prefix
    return svg.replace(prefixes.pop(), "ID")


_ID_PREFIX = re.compile(r'id="(s[0-9a-f]{6})-')


@pytest.mark.parametrize(("name", "value"), CASES)
def test_attribute_value_changes_output(name: str, value: str) -> None:
    spec = CONTRACT.attribute(name)
    assert spec is not None
    base = spec.default or _values(name)[0]
    family = FAMILY_FOR.get(name, "dashboard_cards")
    extra = {"rail": "accent"} if name != "rail" else {}
    assert _svg(family, **extra, **{name: value}) != _svg(family, **extra, **{name: base})


@pytest.mark.parametrize(
    "layout", ["flow_graph", "decision_tree", "pipeline_lane", "architecture_map", "system_diagram"]
)
def test_connector_styles_differ_where_there_are_connectors(layout: str) -> None:
    outs = {c: _svg(layout, connector=c) for c in ("line", "arrow", "bracket", "curve")}
    assert len(set(outs.values())) == 4


@pytest.mark.parametrize(
    ("theme", "tone"), [("paper_editorial", "amber"), ("signal_glow", "purple")]
)
def test_theme_and_tone_land_in_the_palette(theme: str, tone: str) -> None:
    from dslkit.compilers.scene_svg.theme import THEMES

    svg = _svg("dashboard_cards", theme=theme, tone=tone)
    pal = THEMES[theme]
    assert pal.accent(tone) in svg
    assert pal.bg in svg and pal.bg2 in svg  # the canvas gradient runs bg2 -> bg
    assert f'data-theme="{theme}"' in svg


def test_explicit_defaults_equal_omitted_attributes() -> None:
    text, content = build("dashboard_cards", attrs={})
    defaults = {a.name: a.default for a in CONTRACT.attributes if a.default is not None}
    explicit, _ = build("dashboard_cards", attrs=defaults)
    assert explicit != text
    assert compile_scene(explicit, content).text == compile_scene(text, content).text


@pytest.mark.parametrize(
    ("canvas", "size"), [("wide", (1200, 675)), ("tall", (900, 1350)), ("square", (1080, 1080))]
)
def test_canvas_sets_the_size(canvas: str, size: tuple[int, int]) -> None:
    text, content = build("poster_stack", attrs={"canvas": canvas})
    svg = compile_scene(text, content)
    assert (svg.width, svg.height) == size
    assert f'viewBox="0 0 {size[0]} {size[1]}"' in svg.text


def test_columns_changes_the_card_grid() -> None:
    text1, content = build("dashboard_cards", n=4, attrs={"columns": "1"})
    text4, _ = build("dashboard_cards", n=4, attrs={"columns": "4"})
    cards1 = [b for b in compile_scene(text1, content).boxes if b.kind == "card"]
    cards4 = [b for b in compile_scene(text4, content).boxes if b.kind == "card"]
    assert min(b.w for b in cards4) < min(b.w for b in cards1)
    assert len({round(b.y) for b in cards4}) < len({round(b.y) for b in cards1})


def test_inset_moves_the_content_away_from_the_edge() -> None:
    def left(inset: str) -> float:
        text, content = build("dashboard_cards", attrs={"inset": inset})
        return min(b.x for b in compile_scene(text, content).boxes)

    assert left("sm") < left("md") < left("lg")


@pytest.mark.parametrize("motif", ["grid", "mesh", "rings"])
def test_background_motif_is_clipped_to_the_canvas(motif: str) -> None:
    import re

    text, content = build("dashboard_cards", attrs={"background": motif})
    svg = compile_scene(text, content).text
    clip = re.search(
        r'<clipPath id="([^"]+)"><rect x="0" y="0" width="(\d+)" height="(\d+)"/>', svg
    )
    assert clip is not None
    assert (int(clip.group(2)), int(clip.group(3))) == (1200, 675)
    start = svg.index(f'<g clip-path="url(#{clip.group(1)})">')
    end = svg.index("</g>", start)
    # the motif is drawn inside the clipped group: rings are circles, grid and mesh one path
    assert ("<circle" if motif == "rings" else "<path") in svg[start:end]
