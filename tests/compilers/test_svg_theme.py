"""The themes look like the CKE v7 themes of the same name (read back from the compiled SVG)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest
from dslkit.compilers.scene_svg import compile_scene
from svg_scene_factory import build

NS = "{http://www.w3.org/2000/svg}"


def _rgb(hex_: str) -> tuple[int, int, int]:
    return int(hex_[1:3], 16), int(hex_[3:5], 16), int(hex_[5:7], 16)


def _canvas_gradient(theme: str) -> tuple[ET.Element, list[str]]:
    text, content = build("dashboard_cards", attrs={"theme": theme, "tone": "blue"})
    root = ET.fromstring(compile_scene(text, content).text)
    w, h = root.get("width"), root.get("height")
    canvas = next(
        r
        for r in root.iter(f"{NS}rect")
        if (r.get("width"), r.get("height")) == (w, h) and (r.get("fill") or "").startswith("url(")
    )
    gid = re.fullmatch(r"url\(#(.+)\)", canvas.get("fill") or "")
    assert gid is not None
    grad = next(g for g in root.iter(f"{NS}linearGradient") if g.get("id") == gid.group(1))
    stops = [s.get("stop-color") or "" for s in grad.iter(f"{NS}stop")]
    return grad, stops


@pytest.mark.parametrize("theme", ["infra_dark", "signal_glow"])
def test_dark_canvases_are_navy_and_run_diagonally(theme: str) -> None:
    grad, stops = _canvas_gradient(theme)
    # top-left to bottom-right, as the CKE renderers fill the canvas
    assert (grad.get("x2"), grad.get("y2")) == ("1", "1")
    assert len(stops) == 2
    for stop in stops:
        r, g, b = _rgb(stop)
        assert b > g > r and max(r, g, b) < 0x40  # dark and blue-leaning
    # CKE's dark canvases end in navy (blue channel well above the red), not neutral black
    r, _, b = _rgb(stops[1])
    assert b >= 0x28 and b - r >= 0x14
    # the gradient brightens toward the bottom-right
    assert sum(_rgb(stops[1])) > sum(_rgb(stops[0]))


def test_paper_canvas_is_warm_and_light() -> None:
    _, stops = _canvas_gradient("paper_editorial")
    for stop in stops:
        r, g, b = _rgb(stop)
        assert r > g > b > 0xD0


def test_accent_wash_is_the_accent_over_the_surface() -> None:
    from dslkit.compilers.scene_svg.theme import THEMES

    for pal in THEMES.values():
        for tone in ("amber", "green", "blue", "purple"):
            acc, surf, soft = _rgb(pal.accent(tone)), _rgb(pal.surface), _rgb(pal.soft(tone))
            # every channel of the wash lies between the surface and the accent
            for a, s, w in zip(acc, surf, soft, strict=True):
                assert min(a, s) <= w <= max(a, s)
            assert soft != surf


def test_panel_frame_is_a_faint_wash() -> None:
    text, content = build("dashboard_cards", attrs={"frame": "panel"})
    root = ET.fromstring(compile_scene(text, content).text)
    big = [
        r
        for r in root.iter(f"{NS}rect")
        if r.get("opacity")
        and float(r.get("width") or 0) > 0.9 * float(root.get("width") or 1)
        and float(r.get("height") or 0) > 0.5 * float(root.get("height") or 1)
    ]
    assert big, "frame:panel draws a panel behind the content"
    # CKE's panel shell is a light wash over the canvas (the canvas gradient shows through)
    assert all(float(r.get("opacity") or 1) <= 0.25 for r in big)


@pytest.mark.parametrize(
    ("family", "page"),
    [("decision_tree", (1780, 1220)), ("flow_graph", (1760, 820)), ("timeline", (1600, 980))],
)
def test_wide_canvas_takes_the_cke_page_proportions(family: str, page: tuple[int, int]) -> None:
    omitted, content = build(family, attrs={})
    explicit, _ = build(family, attrs={"canvas": "wide"})
    svg = compile_scene(omitted, content)
    root = ET.fromstring(svg.text)
    w, h = float(root.get("width") or 0), float(root.get("height") or 0)
    assert w == 1200  # the width (and so the text scale) is the wide canvas's
    assert h / w == pytest.approx(page[1] / page[0], abs=0.002)
    # explicit defaults equal omitted ones
    assert compile_scene(explicit, content).text == svg.text


def test_other_canvases_and_families_keep_their_size() -> None:
    for family, attrs, size in (
        ("decision_tree", {"canvas": "square"}, (1080, 1080)),
        ("poster_stack", {}, (1200, 675)),
    ):
        text, content = build(family, attrs=attrs)
        svg = compile_scene(text, content)
        assert (svg.width, svg.height) == size


def _text_x(root: ET.Element, needle: str) -> list[float]:
    out = []
    for el in root.iter(f"{NS}text"):
        if needle.casefold() in " ".join(" ".join(el.itertext()).split()).casefold():
            out.append(float(el.get("x") or 0))
    return out


@pytest.mark.parametrize("scale", [False, True])
def test_a_duel_holds_its_thesis_between_the_columns(scale: bool) -> None:
    text, content = build("comparison_span_chart", n=1)  # two bars
    if not scale:  # no axis min/max: nothing to print a scale with, the chart is a duel
        content = {**content, "axis": {"label": content["axis"]["label"]}}
    root = ET.fromstring(compile_scene(text, content).text)
    w = float(root.get("width") or 0)
    thesis = content["thesis"]["body"]
    thesis_x = _text_x(root, thesis)
    assert thesis_x
    if scale:  # a scaled chart keeps the thesis as a page strip at the content's left edge
        assert thesis_x[0] < w * 0.1
        return
    bar_x = sorted(x for i in range(2) for x in _text_x(root, content[f"bar{i}"]["label"]))
    assert len(bar_x) >= 2
    # the duel's columns stand at the edges; the thesis sits in the middle between them
    assert bar_x[0] < w * 0.25 < thesis_x[0] < w * 0.5 < bar_x[-1]


def test_memory_segment_parts_are_chips_beside_the_label() -> None:
    import scene_dsl

    text = (
        "[scene]\n[layout:memory_map]\n[theme:infra_dark]\n[tone:green]\n[topic:chips]\n"
        "[memory_segment] [segment_id:pool] [title_ref:segs.pool.title] "
        "[subregion_ref:segs.pool.parts.0] [subregion_ref:segs.pool.parts.1] "
        "[subregion_ref:segs.pool.parts.2] [/memory_segment]\n[/scene]\n"
    )
    parts = ["alpha", "beta", "gamma"]
    content = {"segs": {"pool": {"title": "Pool zone", "parts": parts}}}
    svg = compile_scene(scene_dsl.parse(text, dialect="auto"), content)
    root = ET.fromstring(svg.text)
    title_x = _text_x(root, "Pool zone")
    chip_x = [_text_x(root, p) for p in parts]
    # each part is its own text (not one joined line), left to right, right of the label
    assert all(len(xs) == 1 for xs in chip_x)
    xs = [x[0] for x in chip_x]
    assert xs == sorted(xs) and xs[0] > title_x[0]
    # and each sits on a chip: a rect whose box holds the text's anchor
    rects = [(float(r.get("x") or 0), float(r.get("width") or 0)) for r in root.iter(f"{NS}rect")]
    for x in xs:
        assert any(rx < x < rx + rw and rw < svg.width * 0.3 for rx, rw in rects)
