"""The label-placement index answers exactly what a scan of every rectangle answers."""

from __future__ import annotations

from dslkit.compilers.scene_svg.canvas import Rect
from dslkit.compilers.scene_svg.spatial import RectIndex, overlaps
from hypothesis import given, settings
from hypothesis import strategies as st

coord = st.floats(-500, 2_000, allow_nan=False)
size = st.one_of(st.floats(0, 60), st.floats(0, 3_000), st.just(0.6), st.just(0.0))
rects = st.builds(Rect, coord, coord, size, size)


@settings(max_examples=300, deadline=None)
@given(stored=st.lists(rects, max_size=40), queries=st.lists(rects, min_size=1, max_size=10))
def test_index_agrees_with_a_full_scan(stored: list[Rect], queries: list[Rect]) -> None:
    index = RectIndex(stored)
    for q in queries:
        assert index.hits(q) == any(overlaps(q, r) for r in stored)


def test_overlap_needs_more_than_the_tolerance_on_both_axes() -> None:
    a = Rect(0, 0, 10, 10)
    assert overlaps(a, Rect(9, 9, 10, 10))
    assert not overlaps(a, Rect(9.5, 0, 10, 10))  # 0.5 px of overlap is touching
    assert not overlaps(a, Rect(0, 10, 10, 10))
    index = RectIndex([Rect(0, 0, 5000, 5000), Rect(100, 100, 0.5, 50)])  # a panel, a sliver
    assert index.hits(Rect(4000, 4000, 5, 5))
    assert not RectIndex([Rect(100, 100, 0.5, 50)]).hits(Rect(90, 90, 40, 40))
