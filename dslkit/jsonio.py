"""The one JSON (and input text) reader of the toolkit.

Every command line and API that reads JSON a user wrote (content.json, JSON traces, GSM8K and
row ``.jsonl`` files) goes through :func:`loads` / :func:`load`, so they all agree on what is
accepted and every refusal is one :class:`~dslkit.errors.InputError` with a code and a 1-based
line:column:

- bytes must be UTF-8 (``J001``); a leading UTF-8 byte order mark is accepted and ignored;
- the text must be JSON (``J101``, with the position :mod:`json` reports);
- arrays and objects nest at most ``max_depth`` levels (``J102``): checked before parsing,
  because :mod:`json` recurses once per level and a 100,000-deep input would otherwise end in
  a ``RecursionError``;
- numbers must be finite and readable (``J103``): ``NaN``, ``Infinity`` and ``1e999`` are not
  JSON numbers a program can use, and an integer over 4,300 digits cannot even be converted.

:func:`read_text` is the matching text reader (``-`` reads stdin as bytes), so a file and the
same bytes on stdin always get the same answer.
"""

from __future__ import annotations

import json
import math
import re
import sys
from itertools import accumulate
from pathlib import Path
from typing import Any

from dslkit.codes import Code, CodeTable
from dslkit.errors import InputError

__all__ = ["JSON_CODES", "MAX_DEPTH", "MAX_INT_DIGITS", "decode", "load", "loads", "read_text"]

# fmt: off
JSON_CODES = CodeTable((
    Code("J001", "not-utf8", "bad_input"),
    Code("J002", "unreadable", "bad_input"),
    Code("J101", "invalid-json", "bad_input"),
    Code("J102", "json-too-deep", "limit_exceeded"),
    Code("J103", "bad-json-number", "bad_input"),
), error=InputError)
# fmt: on

# Far deeper than any content.json or trace (they nest 3-6 levels), far shallower than the
# recursion limit that json's decoder and every recursive consumer of the result run into.
MAX_DEPTH = 200
# CPython refuses int() of longer digit strings (sys.get_int_max_str_digits default).
MAX_INT_DIGITS = 4300

_BOM = "\ufeff"
_STRINGS_OR_TEXT = re.compile(r'"(?:[^"\\]|\\.)*"?|[^\[\]{}"]+')  # all but the brackets
_BRACKETS = re.compile(r'"(?:[^"\\]|\\.)*"?|[\[\]{}]')
_CONSTANT = re.compile(r'"(?:[^"\\]|\\.)*"?|(-?Infinity|NaN)')
_NUMBER = re.compile(r'"(?:[^"\\]|\\.)*"?|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)')
_DELTA = {"[": 1, "{": 1, "]": -1, "}": -1}


def _fail(code: str, message: str, text: str = "", offset: int = -1) -> InputError:
    d = JSON_CODES.diag(code, message, offset=offset, text=text if offset >= 0 else None)
    return InputError("", [d])


def decode(data: bytes | str, *, source: str = "<input>") -> str:
    """UTF-8 text of ``data`` without a leading byte order mark.

    Args:
        data: raw bytes (or text, only stripped of its BOM).
        source: how to name the input in messages (a path, ``<stdin>``).

    Returns:
        The text.

    Raises:
        InputError: ``J001`` with the line:column of the first byte that is not UTF-8.
    """
    if isinstance(data, str):
        return data.removeprefix(_BOM)
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        good = bytes(data)[: exc.start].decode("utf-8").removeprefix(_BOM)
        raise _fail(
            "J001",
            f"{source}: not UTF-8 (byte 0x{data[exc.start]:02x} at byte offset {exc.start})",
            good,
            len(good),
        ) from None
    return text.removeprefix(_BOM)


def read_text(path: str | Path) -> str:
    """Read a file, or stdin for ``"-"``, as UTF-8 text (a leading BOM is dropped).

    Stdin is read as bytes and decoded here, so a pipe and a file holding the same bytes get
    the same answer whatever the locale of the terminal.

    Raises:
        InputError: ``J002`` when the file cannot be read, ``J001`` when it is not UTF-8.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    try:
        data = sys.stdin.buffer.read() if str(path) == "-" else Path(path).read_bytes()
    except FileNotFoundError:
        raise _fail("J002", f"{name}: no such file") from None
    except IsADirectoryError:
        raise _fail("J002", f"{name}: is a folder, not a file") from None
    except OSError as exc:
        raise _fail("J002", f"{name}: cannot read ({exc.strerror or exc})") from None
    return decode(data, source=name)


def _check_depth(text: str, max_depth: int, source: str) -> None:
    # Cheap, C-speed screens first: few brackets cannot nest deep, and the running depth over
    # the brackets outside strings is one accumulate(); a Python loop only finds the position.
    if text.count("[") + text.count("{") <= max_depth:
        return
    brackets = _STRINGS_OR_TEXT.sub("", text)
    if max(accumulate(map(_DELTA.__getitem__, brackets)), default=0) <= max_depth:
        return
    depth = 0
    for m in _BRACKETS.finditer(text):
        ch = m.group()
        if ch in "[{":
            depth += 1
            if depth > max_depth:
                raise _fail(
                    "J102",
                    f"{source}: arrays and objects nest deeper than {max_depth} levels",
                    text,
                    m.start(),
                )
        elif ch in "]}":
            depth -= 1


def _check_constants(text: str, source: str) -> None:
    if "NaN" not in text and "Infinity" not in text:
        return
    for m in _CONSTANT.finditer(text):
        if m.group(1):
            raise _fail("J103", f"{source}: {m.group(1)} is not a JSON number", text, m.start(1))


class _BadNumber(Exception):
    def __init__(self, literal: str, why: str) -> None:
        super().__init__(why)
        self.literal = literal
        self.why = why


def _parse_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _BadNumber(literal, f"an integer longer than {MAX_INT_DIGITS} digits")
    return int(literal)


def _parse_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise _BadNumber(literal, "a number too large for a float")
    return value


def loads(data: str | bytes, *, source: str = "<json>", max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON text (or UTF-8 bytes) with the toolkit's limits.

    Args:
        data: the JSON document; a leading UTF-8 BOM is ignored.
        source: how to name the input in messages.
        max_depth: the deepest nesting of arrays and objects accepted.

    Returns:
        The parsed value (dicts, lists, str, int, float, bool, None).

    Raises:
        InputError: J001 (not UTF-8), J101 (not JSON), J102 (too deep), J103 (NaN, Infinity,
            an overflowing float or an over-long integer), each with line:column.
    """
    text = decode(data, source=source)
    _check_depth(text, max_depth, source)
    _check_constants(text, source)
    try:
        return json.loads(text, parse_int=_parse_int, parse_float=_parse_float)
    except json.JSONDecodeError as exc:
        raise _fail("J101", f"{source}: not JSON: {exc.msg}", text, exc.pos) from None
    except _BadNumber as exc:
        offset = next((m.start(1) for m in _NUMBER.finditer(text) if m.group(1) == exc.literal), -1)
        raise _fail("J103", f"{source}: {exc.why}", text, offset) from None
    except RecursionError:  # only when called already near the limit: still no traceback
        raise _fail("J102", f"{source}: nesting too deep for the interpreter stack") from None


def load(path: str | Path, *, max_depth: int = MAX_DEPTH) -> Any:
    """Read and parse a JSON file (``"-"`` reads stdin) with :func:`read_text` and :func:`loads`.

    Raises:
        InputError: as :func:`read_text` and :func:`loads`; messages name the file.
    """
    name = "<stdin>" if str(path) == "-" else str(path)
    return loads(read_text(path), source=name, max_depth=max_depth)
