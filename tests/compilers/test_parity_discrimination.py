"""gold_asset_parity_score discriminates where pixel SSIM alone does not.

For gold cases, every score is computed here (nothing hard-coded): the true counterpart (the
scene compiled again from its row form, and the same scene with a layout attribute nudged)
must score clearly above a flat image of the reference's own mean colour and above a
different gold asset.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from dslkit.compilers.parity_score import DEFAULT_WEIGHTS, Parity, parity, svg_boxes, svg_texts
from dslkit.compilers.raster import png_to_array, to_png

import scene_dsl

GOLD = Path(__file__).resolve().parents[2] / "examples" / "gold"
MARGIN = 0.15  # a true counterpart must win by at least this much

# (case, a different case to compare against): pairs chosen across themes and within one
PAIRS = [
    ("gpu_memory_hierarchy", "request_lifecycle"),  # same theme (infra_dark), other layout
    ("quantization_memory", "optimizer_board"),  # same theme (paper_editorial)
    ("training_pipeline", "dataloader_graph"),  # same theme (signal_glow)
    ("parallelism_decision", "inference_memory_map"),
]


def _compile(case: str, *, form: str = "row", **attrs: str):
    from dslkit.compilers.scene_svg import compile_scene

    folder = GOLD / case
    scene = scene_dsl.parse((folder / f"scene{'.row' if form == 'row' else ''}.dsl").read_text())
    if attrs:
        kept = tuple(a for a in scene.attrs if a.key not in attrs)
        scene = replace(scene, attrs=kept + tuple(scene_dsl.Attr(k, v) for k, v in attrs.items()))
    content = json.loads((folder / "content.json").read_text())
    return compile_scene(scene, content)


def _flat_like(reference_svg: str) -> str:
    """An SVG of the reference's size filled with the reference's own mean colour."""
    arr = png_to_array(to_png(reference_svg, width=320))
    r, g, b = (round(float(v)) for v in arr.reshape(-1, 3).mean(axis=0))
    root_w, root_h = _size(reference_svg)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{root_w}" height="{root_h}" '
        f'viewBox="0 0 {root_w} {root_h}"><rect width="{root_w}" height="{root_h}" '
        f'fill="rgb({r},{g},{b})"/></svg>'
    )


def _size(svg: str) -> tuple[str, str]:
    import re

    w = re.search(r'<svg[^>]*\bwidth="([\d.]+)', svg)
    h = re.search(r'<svg[^>]*\bheight="([\d.]+)', svg)
    assert w and h
    return w.group(1), h.group(1)


@pytest.fixture(scope="module")
def scores() -> dict[str, dict[str, Parity]]:
    out = {}
    for case, other in PAIRS:
        reference = (GOLD / case / "expected.svg").read_text()
        out[case] = {
            "row_form": parity(_compile(case, form="row"), reference),
            "nudged": parity(_compile(case, form="block", density="airy", gap="lg"), reference),
            "flat": parity(_flat_like(reference), reference),
            "other": parity((GOLD / other / "expected.svg").read_text(), reference),
            "flat_png": parity(
                to_png(_flat_like(reference)), (GOLD / case / "expected.png").read_bytes()
            ),
            "true_png": parity(
                _compile(case, form="row"), (GOLD / case / "expected.png").read_bytes()
            ),
        }
    return out


@pytest.mark.parametrize("case", [c for c, _ in PAIRS])
def test_true_counterpart_beats_flat_and_other_asset(scores, case):
    s = scores[case]
    true = s["row_form"].score
    assert true > s["flat"].score + MARGIN, s
    assert true > s["other"].score + MARGIN, s
    # a faithful but not identical layout (density/gap changed) still wins
    assert s["nudged"].score > s["flat"].score + MARGIN / 2, s
    assert s["nudged"].score > s["other"].score, s


@pytest.mark.parametrize("case", [c for c, _ in PAIRS])
def test_png_reference_drops_svg_only_terms_and_still_discriminates(scores, case):
    s = scores[case]
    for key in ("true_png", "flat_png"):
        assert s[key].text is None and s[key].boxes is None
        assert set(dict(s[key].weights)) == {"ssim", "edges", "colour"}
        assert abs(sum(dict(s[key].weights).values()) - 1) < 1e-6
    assert s["true_png"].score > s["flat_png"].score + MARGIN, s


def test_flat_image_games_ssim_but_not_the_score(scores):
    # The trap the issue measured: a flat image can rival a real layout on SSIM alone.
    # The combined score must still separate them in every pair.
    for case, s in scores.items():
        assert s["flat"].edges == 0.0, case
        assert s["flat"].text == 0.0, case
        assert s["flat"].score < s["row_form"].score - MARGIN, case


def test_components_are_reported_and_bounded(scores):
    p = scores["gpu_memory_hierarchy"]["nudged"]
    d = p.to_dict()
    assert set(d) >= {"score", "ssim", "edges", "colour", "boxes", "text", "size", "weights"}
    for key in ("score", "ssim", "edges", "colour", "boxes", "text"):
        assert 0.0 <= d[key] <= 1.0
    assert set(d["weights"]) == set(DEFAULT_WEIGHTS)
    combined = sum(d[k] * w for k, w in d["weights"].items())
    assert abs(combined - d["score"]) < 1e-4


def test_text_recall_and_boxes_read_the_svg():
    ref = (GOLD / "gpu_memory_hierarchy" / "expected.svg").read_text()
    content = json.loads((GOLD / "gpu_memory_hierarchy" / "content.json").read_text())
    texts = " ".join(svg_texts(ref))
    assert content["tiers"]["hbm"]["value"] in texts
    assert len(svg_boxes(ref)) >= 4
    for x0, y0, x1, y1 in svg_boxes(ref):
        assert -0.01 <= x0 < x1 <= 1.01 and -0.01 <= y0 < y1 <= 1.01


def test_bad_arguments():
    svg = (GOLD / "gpu_memory_hierarchy" / "expected.svg").read_text()
    with pytest.raises(ValueError):
        parity(svg, svg, size=4)
    with pytest.raises(ValueError):
        parity(svg, svg, weights={"pixels": 1.0})
    with pytest.raises(TypeError):
        parity(123, svg)
