"""``gold_asset_parity_score``: how close a compiled scene is to a reference asset.

Pixel SSIM alone is a trap on mostly-empty dark boards: a flat image of the reference's own
mean colour matches its large empty areas and outscores a faithful layout. So the score is a
weighted mean of components that each fail differently, and every component is reported:

- ``ssim``: grayscale SSIM (scikit-image) at a common size. Kept for continuity; low weight.
- ``edges``: F1 of edge pixels (Sobel magnitude above a fixed threshold) matched within a small
  tolerance. A flat image has no edges and scores 0; a layout with panels in the wrong places
  scores low even when its colours match.
- ``boxes``: IoU of panel boxes (``<rect>`` elements, transforms applied, normalised to the
  canvas) greedily matched between both SVGs. ``None`` when either side is a PNG.
- ``colour``: intersection of 8x8x8 RGB histograms. Catches the wrong theme or tone.
- ``text``: share of the reference's ``<text>`` strings found in the candidate's text.
  ``None`` when either side is a PNG.

Components that are ``None`` drop out and the remaining weights renormalise.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dslkit.compilers.raster import png_to_array, to_png

from dslkit._extras import require

__all__ = ["DEFAULT_WEIGHTS", "Parity", "parity", "svg_boxes", "svg_texts"]

# Why these weights: edges and text carry the layout and the content, which is what a compiled
# scene must reproduce; raw SSIM is the component a flat image games, so it gets the least.
DEFAULT_WEIGHTS: Mapping[str, float] = {
    "ssim": 0.10,
    "edges": 0.30,
    "boxes": 0.20,
    "colour": 0.15,
    "text": 0.25,
}

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_EDGE_THRESHOLD = 0.04  # Sobel magnitude on [0, 1] gray; absolute, so noise-free flats give none
_EDGE_TOLERANCE_PX = 2  # at the default 320 px width, about one stroke width of slack
_MIN_BOX_AREA = 0.002  # boxes under 0.2% of the canvas (swatches, dots) are decoration
_SVG_NS = "{http://www.w3.org/2000/svg}"


@dataclass(frozen=True, slots=True)
class Parity:
    """Parity of a candidate against a reference; every component in [0, 1] or ``None``."""

    score: float  # weighted mean of the present components
    ssim: float  # grayscale SSIM at the common size
    edges: float  # tolerant F1 of edge pixels
    colour: float  # RGB histogram intersection
    boxes: float | None  # matched panel-box IoU (SVG vs SVG only)
    text: float | None  # recall of the reference's text strings (SVG vs SVG only)
    size: tuple[int, int] = (0, 0)  # common (width, height) the images were compared at
    weights: tuple[tuple[str, float], ...] = field(default=())  # renormalised weights used

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly dict: every component, the score, the size and the weights."""
        out = asdict(self)
        out["size"] = list(self.size)
        out["weights"] = dict(self.weights)
        return out


def _load(source: Any) -> tuple[str | None, bytes | None]:
    """Return ``(svg_text, png_bytes)``: exactly one is set."""
    if isinstance(source, Path):
        data = source.read_bytes()
        return (None, data) if data.startswith(_PNG_MAGIC) else (data.decode("utf-8"), None)
    if isinstance(source, bytes):
        return (None, source) if source.startswith(_PNG_MAGIC) else (source.decode("utf-8"), None)
    if isinstance(source, str):
        return source, None
    text = getattr(source, "text", None)  # a compiled Svg
    if isinstance(text, str):
        return text, None
    raise TypeError(f"expected SVG text, PNG bytes, a Path or an Svg, not {type(source).__name__}")


def _raster(svg: str | None, png: bytes | None, width: int) -> Any:
    return png_to_array(to_png(svg, width=width) if svg is not None else png)  # type: ignore[arg-type]


def _resize(img: Any, size: tuple[int, int]) -> Any:
    import numpy as np
    from PIL import Image

    if (img.shape[1], img.shape[0]) == size:
        return img
    return np.asarray(Image.fromarray(img).resize(size, Image.Resampling.BILINEAR))


def _gray(img: Any) -> Any:
    # ITU-R 601 luma in [0, 1]; float64 so SSIM and Sobel see no quantisation.
    return (img[..., 0] * 0.299 + img[..., 1] * 0.587 + img[..., 2] * 0.114) / 255.0


def _ssim(a: Any, b: Any) -> float:
    from skimage.metrics import structural_similarity

    return float(structural_similarity(_gray(a), _gray(b), data_range=1.0))


def _edges(a: Any, b: Any) -> float:
    from scipy.ndimage import binary_dilation
    from skimage.filters import sobel
    from skimage.morphology import disk

    ea = sobel(_gray(a)) > _EDGE_THRESHOLD
    eb = sobel(_gray(b)) > _EDGE_THRESHOLD
    na, nb = int(ea.sum()), int(eb.sum())
    if na == 0 and nb == 0:
        return 1.0  # two flat images have the same (empty) structure
    if na == 0 or nb == 0:
        return 0.0
    fp = disk(_EDGE_TOLERANCE_PX)
    precision = float((ea & binary_dilation(eb, structure=fp)).sum()) / na
    recall = float((eb & binary_dilation(ea, structure=fp)).sum()) / nb
    return 0.0 if precision + recall == 0 else 2 * precision * recall / (precision + recall)


def _colour(a: Any, b: Any) -> float:
    import numpy as np

    def hist(img: Any) -> Any:
        q = (img // 32).astype(np.int64)  # 8 levels per channel
        idx = q[..., 0] * 64 + q[..., 1] * 8 + q[..., 2]
        counts = np.bincount(idx.ravel(), minlength=512).astype(np.float64)
        return counts / counts.sum()

    return float(np.minimum(hist(a), hist(b)).sum())


# --- SVG structure ------------------------------------------------------------------------

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_TRANSFORM = re.compile(r"(matrix|translate|scale|rotate|skewX|skewY)\s*\(([^)]*)\)")

Affine = tuple[float, float, float, float, float, float]  # a b c d e f, as in SVG matrix()
_IDENTITY: Affine = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _mul(m: Affine, n: Affine) -> Affine:
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (
        a * a2 + c * b2,
        b * a2 + d * b2,
        a * c2 + c * d2,
        b * c2 + d * d2,
        a * e2 + c * f2 + e,
        b * e2 + d * f2 + f,
    )


def _parse_transform(text: str | None) -> Affine:
    m = _IDENTITY
    for name, args in _TRANSFORM.findall(text or ""):
        v = [float(x) for x in re.findall(_NUM, args)]
        if name == "matrix" and len(v) == 6:
            t: Affine = (v[0], v[1], v[2], v[3], v[4], v[5])
        elif name == "translate" and v:
            t = (1, 0, 0, 1, v[0], v[1] if len(v) > 1 else 0.0)
        elif name == "scale" and v:
            t = (v[0], 0, 0, v[1] if len(v) > 1 else v[0], 0, 0)
        elif name == "rotate" and v:
            r = math.radians(v[0])
            cx, cy = (v[1], v[2]) if len(v) == 3 else (0.0, 0.0)
            rot: Affine = (math.cos(r), math.sin(r), -math.sin(r), math.cos(r), 0, 0)
            t = _mul(_mul((1, 0, 0, 1, cx, cy), rot), (1, 0, 0, 1, -cx, -cy))
        elif name in ("skewX", "skewY") and v:
            k = math.tan(math.radians(v[0]))
            t = (1, 0, k, 1, 0, 0) if name == "skewX" else (1, k, 0, 1, 0, 0)
        else:
            continue
        m = _mul(m, t)
    return m


def _num(value: str | None, default: float = 0.0) -> float:
    if value is None:
        return default
    match = re.match(_NUM, value.strip())
    return float(match.group(0)) if match else default


def _canvas(root: Any) -> tuple[float, float, float, float]:
    view = root.get("viewBox")
    if view:
        parts = [float(x) for x in re.findall(_NUM, view)]
        if len(parts) == 4 and parts[2] > 0 and parts[3] > 0:
            return parts[0], parts[1], parts[2], parts[3]
    return 0.0, 0.0, _num(root.get("width"), 1.0) or 1.0, _num(root.get("height"), 1.0) or 1.0


def _root(svg: str) -> Any:
    from dslkit.compilers.raster import (
        _parse,  # the same entity-refusing parser the rasteriser uses
    )

    return _parse(svg)


def svg_boxes(svg: str) -> list[tuple[float, float, float, float]]:
    """Panel boxes of an SVG: every ``<rect>`` with transforms applied, normalised to [0, 1].

    Args:
        svg: SVG text.

    Returns:
        ``(x0, y0, x1, y1)`` boxes in canvas fractions, in document order, skipping rects
        smaller than 0.2% of the canvas (swatches, dots), inside ``<defs>`` or without a size.
    """
    root = _root(svg)
    vx, vy, vw, vh = _canvas(root)
    out: list[tuple[float, float, float, float]] = []

    def walk(el: Any, m: Affine) -> None:
        tag = el.tag.removeprefix(_SVG_NS) if isinstance(el.tag, str) else ""
        if tag in ("defs", "clipPath", "mask", "pattern", "marker", "symbol"):
            return
        m = _mul(m, _parse_transform(el.get("transform")))
        if tag == "rect":
            x, y = _num(el.get("x")), _num(el.get("y"))
            w, h = _num(el.get("width")), _num(el.get("height"))
            if w > 0 and h > 0:
                xs, ys = [], []
                for px, py in ((x, y), (x + w, y), (x, y + h), (x + w, y + h)):
                    xs.append(m[0] * px + m[2] * py + m[4])
                    ys.append(m[1] * px + m[3] * py + m[5])
                box = (
                    (min(xs) - vx) / vw,
                    (min(ys) - vy) / vh,
                    (max(xs) - vx) / vw,
                    (max(ys) - vy) / vh,
                )
                if (box[2] - box[0]) * (box[3] - box[1]) >= _MIN_BOX_AREA:
                    out.append(box)
        for child in el:
            walk(child, m)

    walk(root, _IDENTITY)
    return out


def svg_texts(svg: str) -> list[str]:
    """Visible text strings of an SVG: one per ``<text>`` element, whitespace-normalised.

    Args:
        svg: SVG text.

    Returns:
        Non-empty strings in document order (``<tspan>`` content joined into its text).
    """
    root = _root(svg)
    out = []
    for el in root.iter(f"{_SVG_NS}text"):
        text = " ".join(_text_content(el).split())
        if text:
            out.append(text)
    return out


# A <tspan> that sets its own position starts a new visual line: its words are separate from the
# previous line's, so it is joined with a space (itertext alone would glue "tepid" + "body").
_LINE_ATTRS = ("x", "y", "dy")


def _text_content(el: Any) -> str:
    parts = [el.text or ""]
    for child in el:
        if child.tag == f"{_SVG_NS}tspan" and any(a in child.attrib for a in _LINE_ATTRS):
            parts.append(" ")
        parts.append(_text_content(child))
        parts.append(child.tail or "")
    return "".join(parts)


def _iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union


def _boxes(candidate: str, reference: str) -> float:
    cand, ref = svg_boxes(candidate), svg_boxes(reference)
    if not cand and not ref:
        return 1.0
    if not cand or not ref:
        return 0.0
    pairs = sorted(
        ((_iou(r, c), i, j) for i, r in enumerate(ref) for j, c in enumerate(cand)),
        key=lambda t: (-t[0], t[1], t[2]),
    )
    used_r: set[int] = set()
    used_c: set[int] = set()
    total = 0.0
    for iou, i, j in pairs:
        if iou <= 0.1:  # below this a "match" is two unrelated panels that happen to touch
            break
        if i in used_r or j in used_c:
            continue
        used_r.add(i)
        used_c.add(j)
        total += iou
    # Divide by the larger count: missing panels and extra panels both cost.
    return total / max(len(ref), len(cand))


def _text_recall(candidate: str, reference: str) -> float | None:
    ref = [t.casefold() for t in svg_texts(reference)]
    if not ref:
        return None
    # Joined in document order so a string the candidate wraps over two lines still matches.
    haystack = " " + " ".join(t.casefold() for t in svg_texts(candidate)) + " "
    return sum(1 for t in ref if t in haystack) / len(ref)


def parity(
    candidate: Any,
    reference: Any,
    *,
    size: int = 320,
    weights: Mapping[str, float] | None = None,
) -> Parity:
    """Score a candidate (compiled scene) against a reference asset: ``gold_asset_parity_score``.

    Args:
        candidate: SVG text, a compiled ``Svg``, SVG/PNG bytes or a Path to an .svg/.png.
        reference: the same kinds; a PNG reference disables the ``boxes`` and ``text`` terms.
        size: common width in pixels; the height follows the reference's aspect ratio.
        weights: component weights (keys of :data:`DEFAULT_WEIGHTS`); renormalised over the
            components that can be computed.

    Returns:
        A :class:`Parity` with every component and the combined ``score`` in [0, 1].

    Raises:
        CompileError: S704 when an SVG is not well-formed.
        ValueError: ``size`` is below 16 or a weight is negative / unknown.
    """
    if size < 16:
        raise ValueError(f"size must be at least 16 px, not {size}")
    for module in ("numpy", "PIL", "skimage", "scipy"):
        require(module, extra="render", feature="parity")
    w = dict(DEFAULT_WEIGHTS if weights is None else weights)
    unknown = set(w) - set(DEFAULT_WEIGHTS)
    if unknown or any(v < 0 for v in w.values()):
        raise ValueError(f"weights must be non-negative, keys from {sorted(DEFAULT_WEIGHTS)}")
    c_svg, c_png = _load(candidate)
    r_svg, r_png = _load(reference)
    ref_img = _raster(r_svg, r_png, size)
    common = (size, max(16, round(ref_img.shape[0] * size / ref_img.shape[1])))
    ref_img = _resize(ref_img, common)
    cand_img = _resize(_raster(c_svg, c_png, size), common)

    parts: dict[str, float | None] = {
        "ssim": max(0.0, _ssim(cand_img, ref_img)),
        "edges": _edges(cand_img, ref_img),
        "colour": _colour(cand_img, ref_img),
        "boxes": _boxes(c_svg, r_svg) if c_svg is not None and r_svg is not None else None,
        "text": _text_recall(c_svg, r_svg) if c_svg is not None and r_svg is not None else None,
    }
    present = {k: w.get(k, 0.0) for k, v in parts.items() if v is not None}
    total = sum(present.values())
    if total <= 0:
        raise ValueError("weights of the computable components sum to zero")
    used = tuple((k, round(present[k] / total, 6)) for k in DEFAULT_WEIGHTS if k in present)
    score = sum(float(parts[k] or 0.0) * present[k] for k in present) / total
    return Parity(
        score=round(score, 6),
        ssim=round(float(parts["ssim"]), 6),  # type: ignore[arg-type]
        edges=round(float(parts["edges"]), 6),  # type: ignore[arg-type]
        colour=round(float(parts["colour"]), 6),  # type: ignore[arg-type]
        boxes=None if parts["boxes"] is None else round(parts["boxes"], 6),
        text=None if parts["text"] is None else round(parts["text"], 6),
        size=common,
        weights=used,
    )
