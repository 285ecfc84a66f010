"""to_png refuses canvases cairo cannot allocate and <use> fan-out before cairo sees them."""

from __future__ import annotations

import pytest

pytest.importorskip("cairosvg")
from dslkit.compilers.raster import MAX_USE_EXPANSION, to_png

from dslkit.errors import CompileError

NS = 'xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"'


def _svg(attrs: str, body: str = '<rect width="1" height="1"/>') -> str:
    return f"<svg {NS} {attrs}>{body}</svg>"


def _fan_out(levels: int, fan: int = 10) -> str:
    defs = ['<g id="a0"><rect width="1" height="1"/></g>']
    for i in range(1, levels + 1):
        defs.append(f'<g id="a{i}">' + f'<use xlink:href="#a{i - 1}"/>' * fan + "</g>")
    return _svg('width="50" height="50"', f'<defs>{"".join(defs)}</defs><use href="#a{levels}"/>')


@pytest.mark.parametrize(
    ("svg", "words"),
    [
        (_svg('viewBox="0 0 1e308 1e308"'), "viewBox"),
        (_svg('width="100" height="100" viewBox="0 0 1e-308 1e308"'), "viewBox"),
        (_svg('width="100" height="100" viewBox="0 0 0 10"'), "positive"),
        (_svg('width="-10" height="-5"'), "width"),
        (_svg('width="10" height="-5"'), "height"),
        (_svg('width="100000000" height="10"'), "width"),
        (_svg('width="30000" height="30000"'), "pixels"),
        (_svg('width="nan" height="10"'), "could not render"),
        (_fan_out(10), "<use>"),
        (_svg('width="5" height="5"', '<g id="g"><use href="#g"/></g>'), "cycle"),
    ],
)
def test_unrasterisable_svgs_are_S704(svg: str, words: str) -> None:
    with pytest.raises(CompileError) as err:
        to_png(svg)
    assert err.value.code == "S704" and words in str(err.value)


def test_a_requested_width_cannot_blow_up_the_height() -> None:
    tall = _svg('width="1" height="1000"')
    with pytest.raises(CompileError, match="per side"):
        to_png(tall, width=1000)
    assert to_png(tall, width=10).startswith(b"\x89PNG")


def test_use_within_the_budget_still_renders() -> None:
    # 10**3 rects through three levels of fan-out: under MAX_USE_EXPANSION, drawn as asked
    assert MAX_USE_EXPANSION > 1_111
    assert to_png(_fan_out(3)).startswith(b"\x89PNG")
