"""The one JSON reader: depth limit, positioned errors, BOM, numbers JSON cannot carry."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dslkit import jsonio
from dslkit.errors import InputError, LineIndex, caret_context, line_col


def _error(data: str | bytes, **kwargs: int) -> InputError:
    with pytest.raises(InputError) as err:
        jsonio.loads(data, source="c.json", **kwargs)
    assert isinstance(err.value, ValueError)  # old `except ValueError` guards still hold
    return err.value


def test_deep_nesting_is_a_positioned_limit_not_a_recursion_error() -> None:
    for opener, closer in (("[", "]"), ('{"a":', "}")):
        text = opener * 100_000 + "1" + closer * 100_000
        err = _error(text)
        assert err.code == "J102" and err.line == 1
        assert err.column == len(opener) * jsonio.MAX_DEPTH + 1  # the first bracket too deep
    ok = "[" * jsonio.MAX_DEPTH + "]" * jsonio.MAX_DEPTH
    assert jsonio.loads(ok) is not None
    assert _error(ok, max_depth=10).code == "J102"
    # brackets inside strings do not count
    assert jsonio.loads('["' + "[" * 10_000 + '"]') == ["[" * 10_000]


def test_invalid_json_names_line_and_column() -> None:
    err = _error('{"a": 1,\n  "b": }')
    assert (err.code, err.line, err.column) == ("J101", 2, 8)
    assert "c.json" in str(err) and "^" in str(err)


@pytest.mark.parametrize(
    ("text", "column"),
    [('{"v": NaN}', 7), ('{"v": -Infinity}', 7), ("[1e999]", 2), ("[1, " + "9" * 5000 + "]", 5)],
)
def test_numbers_json_cannot_carry_are_refused(text: str, column: int) -> None:
    err = _error(text)
    assert (err.code, err.line, err.column) == ("J103", 1, column)
    assert jsonio.loads('["NaN", "Infinity", 1e308]') == ["NaN", "Infinity", 1e308]


def test_bom_is_ignored_and_bytes_must_be_utf8() -> None:
    assert jsonio.loads("\ufeff[1]") == [1]
    assert jsonio.loads(b"\xef\xbb\xbf[1]") == [1]
    err = _error(b'{"a":\n "\xff"}')
    assert (err.code, err.line, err.column) == ("J001", 2, 3)


def test_file_and_stdin_read_the_same(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b'\xef\xbb\xbf{"k": "\xc3\xa9"}'
    path = tmp_path / "c.json"
    path.write_bytes(data)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="ascii"))
    assert jsonio.load(path) == jsonio.load("-") == {"k": "é"}
    bad = b"[\x80]"
    path.write_bytes(bad)
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(bad), encoding="utf-8"))
    with pytest.raises(InputError) as from_file:
        jsonio.load(path)
    with pytest.raises(InputError) as from_stdin:
        jsonio.load("-")
    assert from_file.value.code == from_stdin.value.code == "J001"
    with pytest.raises(InputError) as missing:
        jsonio.load(tmp_path / "nope.json")
    assert missing.value.code == "J002"
    with pytest.raises(InputError, match="folder"):
        jsonio.read_text(tmp_path)


def _caret_by_split(text: str, line: int, column: int, width: int) -> tuple[str, str]:
    # the straightforward definition: split every line, window the one asked for
    lines = text.split("\n")
    if not 1 <= line <= len(lines):
        return "", ""
    src = lines[line - 1].rstrip("\r")
    col, first = max(1, column), 0
    if len(src) > width:
        first = max(0, min(col - 1 - width // 2, len(src) - width))
        src = src[first : first + width]
    return "".join(c if c.isprintable() else "?" for c in src), " " * (col - 1 - first) + "^"


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(st.sampled_from("ab\n\r\t["), max_size=300),
    line=st.integers(-1, 40),
    column=st.integers(-2, 320),
    offset=st.integers(-3, 320),
    width=st.sampled_from([5, 10, 100]),
)
def test_line_index_and_caret_context_match_the_definition(
    text: str, line: int, column: int, offset: int, width: int
) -> None:
    want = _caret_by_split(text, line, column, width)
    assert caret_context(text, line, column, width=width) == want
    index = LineIndex(text)
    assert index.caret_context(line, column, width=width) == want
    assert index.line_col(offset) == line_col(text, offset)
