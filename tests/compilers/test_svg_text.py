"""Text metrics match the pinned font; wrapping and fitting never exceed the width."""

from __future__ import annotations

import pytest
from dslkit.compilers.scene_svg.text import ELLIPSIS, fit_text, measure_text, wrap_text

FONT_DIR = "/usr/share/fonts/truetype/dejavu/"


@pytest.mark.parametrize(
    ("face", "weight", "mono"),
    [
        ("DejaVuSans.ttf", "normal", False),
        ("DejaVuSans-Bold.ttf", "bold", False),
        ("DejaVuSansMono.ttf", "normal", True),
    ],
)
@pytest.mark.parametrize(
    "text", ["Hello, world", "KV cache: 2.5 MiB/token", "Ärger über Öl — 50 %"]
)
def test_measure_matches_freetype(face: str, weight: str, mono: bool, text: str) -> None:
    ImageFont = pytest.importorskip("PIL.ImageFont")
    try:
        font = ImageFont.truetype(FONT_DIR + face, 100, layout_engine=ImageFont.Layout.BASIC)
    except OSError:
        pytest.skip("DejaVu not installed")
    expected = sum(font.getlength(ch) for ch in text) / 100 * 16
    assert measure_text(text, 16, weight=weight, mono=mono) == pytest.approx(expected, rel=0.01)


def test_bold_is_wider_and_mono_is_fixed_pitch() -> None:
    assert measure_text("Throughput", 14, weight="bold") > measure_text("Throughput", 14)
    assert measure_text("iiii", 10, mono=True) == pytest.approx(measure_text("WWWW", 10, mono=True))
    assert measure_text("abc", 20) == pytest.approx(2 * measure_text("abc", 10))


def test_unknown_code_points_count_one_em() -> None:
    assert measure_text("\U0001f680", 20) == pytest.approx(20.0)
    assert measure_text("\u6f22", 10) == pytest.approx(10.0)


@pytest.mark.parametrize("width", [40.0, 120.0, 333.0])
def test_wrap_respects_width(width: float) -> None:
    text = "The quick brown fox jumps over the lazy dog; supercalifragilisticexpialidocious! " * 5
    lines = wrap_text(text, width, 14)
    assert lines and all(measure_text(line, 14) <= width + 1e-6 for line in lines)
    words = set(text.split())
    for line in lines:
        # lines break only between words; a word wider than the line is ellipsized alone
        if line.endswith(ELLIPSIS):
            assert " " not in line and any(w.startswith(line[:-1]) for w in words)
        else:
            assert set(line.split()) <= words
    kept = [w for line in lines if not line.endswith(ELLIPSIS) for w in line.split()]
    assert kept == [w for w in text.split() if measure_text(w, 14) <= width]


def test_fit_never_breaks_mid_word() -> None:
    words = {"checkpointing", "is", "asynchronous"}
    fit = fit_text("checkpointing is asynchronous", 60, 14, 4)
    for line in fit.lines:
        assert line.endswith(ELLIPSIS) or set(line.split()) <= words
    assert fit.ellipsized  # "checkpointing" is wider than 60 px even at 80 %
    words = {"a", "rather", "narrow", "card", "text"}
    fit = fit_text("a rather narrow card text", 90, 14, 4)
    assert not fit.ellipsized and all(set(line.split()) <= words for line in fit.lines)


def test_wrap_keeps_newlines_and_stops_early() -> None:
    assert wrap_text("a\nb", 500, 12) == ["a", "b"]
    assert len(wrap_text("word " * 10000, 100, 12, max_lines=3)) == 4


def test_fit_shrinks_then_ellipsizes() -> None:
    text = "memory bandwidth bound decode " * 3
    natural = wrap_text(text, 200, 16)
    shrunk = fit_text(text, 200, 16, len(natural) - 1)
    assert shrunk.shrunk and not shrunk.ellipsized and shrunk.size < 16
    cut = fit_text(text * 5, 200, 16, 2)
    assert cut.ellipsized and cut.lines[-1].endswith(ELLIPSIS) and len(cut.lines) == 2
    assert cut.size >= 16 * 0.8 - 1e-9
    assert all(measure_text(line, cut.size) <= 200 + 1e-6 for line in cut.lines)


def test_fit_leaves_short_text_alone() -> None:
    fit = fit_text("fits", 200, 16, 1)
    assert fit.lines == ("fits",) and not fit.shrunk and not fit.ellipsized and fit.size == 16
