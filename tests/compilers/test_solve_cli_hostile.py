"""python -m dslkit.compilers solve on hostile input: exit 2 with a coded message, no traceback."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from dslkit.compilers.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
JANET = ROOT / "examples" / "traces" / "janet_eggs.trace"


def _solve(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["solve", *argv])
    return code, capsys.readouterr().err


def test_deep_json_trace_is_refused_with_a_position(tmp_path, capsys):
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 100_000 + "]" * 100_000)
    code, err = _solve(capsys, str(deep))
    assert code == 2 and "J102" in err and "@ 1:201" in err and "Traceback" not in err


def test_huge_value_and_expected_answers(tmp_path, capsys):
    huge = tmp_path / "huge.json"
    huge.write_text(
        '{"expert": "arithmetic", "trace": [{"op": "init", "var": "x", "value": '
        + "9" * 5000
        + '}, {"op": "query", "var": "x"}]}'
    )
    code, err = _solve(capsys, str(huge))
    assert code == 2 and "J103" in err  # an integer no JSON reader should build
    for expected in ("1e999", "inf", "nan"):
        code, err = _solve(capsys, str(JANET), "--expected", expected)
        assert code == 2 and "--expected" in err and "not a decimal number" in err
    assert _solve(capsys, str(JANET), "--expected", "18")[0] == 0


def test_stdin_and_file_agree_on_bytes_that_are_not_utf8(tmp_path, capsys, monkeypatch):
    data = b"expert: arithmetic\ntrace:\n- {op: init, var: x, value: \xff}\n"
    path = tmp_path / "bad.trace"
    path.write_bytes(data)
    from_file = _solve(capsys, str(path))
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="latin-1"))
    from_stdin = _solve(capsys, "-")
    assert from_file[0] == from_stdin[0] == 2
    assert "J001" in from_file[1] and "J001" in from_stdin[1]
    monkeypatch.setattr(
        "sys.stdin", io.TextIOWrapper(io.BytesIO(b"\xef\xbb\xbf" + JANET.read_bytes()))
    )
    assert _solve(capsys, "-", "--expected", "18")[0] == 0  # a BOM is ignored
