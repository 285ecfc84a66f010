"""Huge, NaN and infinite numbers in content: a diagnostic or a drawing, never a traceback.

Every number-bearing leaf of every gold case is replaced by each hostile value; the compile
either succeeds with only finite coordinates or raises a CompileError with a code.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dslkit.compilers.scene_svg import compile_scene
from dslkit.compilers.scene_svg.canvas import num, parse_number

from dslkit.errors import CompileError

GOLD = Path(__file__).resolve().parents[2] / "examples" / "gold"
CASES = sorted(p.name for p in GOLD.iterdir() if (p / "content.json").is_file())
HOSTILE: list[Any] = [
    1e308,
    -1e308,
    int("9" * 400),
    "9" * 400,
    float("nan"),
    float("inf"),
    float("-inf"),
    10**5000,
]
# numeric attributes: any nan/inf here is a broken drawing
_COORD = re.compile(
    r"\s(?:x|y|x1|x2|y1|y2|cx|cy|r|rx|ry|width|height|d|points|transform|viewBox|"
    r'stroke-width|font-size|offset)="[^"]*(?:nan|inf)',
    re.IGNORECASE,
)


def _number_leaves(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _number_leaves(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _number_leaves(v, (*path, i))
    elif parse_number(node) is not None:
        yield path


def _set(root: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        root = root[step]
    root[path[-1]] = value


@pytest.mark.parametrize("case", CASES)
def test_hostile_numbers_give_a_diagnostic_or_finite_coordinates(case: str) -> None:
    text = (GOLD / case / "scene.dsl").read_text("utf-8")
    content = json.loads((GOLD / case / "content.json").read_text("utf-8"))
    for path in _number_leaves(content):
        for value in HOSTILE:
            poisoned = copy.deepcopy(content)
            _set(poisoned, path, value)
            try:
                svg = compile_scene(text, poisoned)
            except CompileError as exc:
                assert exc.code in ("S603", "S704"), (path, exc)
                continue
            bad = _COORD.search(svg.text)
            assert bad is None, (case, path, value if not isinstance(value, int) else "int", bad)


def test_out_of_range_number_names_the_value() -> None:
    with pytest.raises(CompileError) as err:
        parse_number("9" * 400)
    assert err.value.code == "S603"
    assert "999" in str(err.value) and "cannot be drawn" in str(err.value)
    with pytest.raises(CompileError):
        parse_number(10**5000)  # no int->str or int->float conversion on the way
    assert parse_number("1,234 ms") == 1234.0
    assert parse_number(-1e15) == -1e15


def test_a_coordinate_is_never_written_as_nan() -> None:
    for bad in (float("nan"), float("inf"), float("-inf")):
        with pytest.raises(CompileError) as err:
            num(bad)
        assert err.value.code == "S704"
    assert num(-0.001) == "0" and num(2.5) == "2.5"
