"""Golden traces: identity files print back unchanged; canonicalisation pairs map in -> out."""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_dsl import canonicalize, from_obj, parse, to_obj, to_text
from trace_dsl import parser as trace_parser

FIXTURES = Path(__file__).parent / "fixtures"
IDENTITY = sorted((FIXTURES / "identity").glob("*.trace"))
PAIRS = sorted((FIXTURES / "canonical").glob("*.in.trace"))


def _read(path: Path) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def test_fixture_sets_are_not_empty() -> None:
    assert len(IDENTITY) >= 5 and len(PAIRS) >= 3


@pytest.mark.parametrize("path", IDENTITY, ids=lambda p: p.stem)
def test_identity_prints_back_unchanged(path: Path) -> None:
    text = _read(path)
    assert to_text(parse(text)) == text
    assert to_text(canonicalize(text)) == text


@pytest.mark.parametrize("path", PAIRS, ids=lambda p: p.name.split(".")[0])
def test_canonicalization_pair(path: Path) -> None:
    expected = _read(path.with_name(path.name.replace(".in.", ".out.")))
    got = to_text(canonicalize(_read(path)))
    assert got == expected
    assert to_text(canonicalize(got)) == got  # idempotent


@pytest.mark.parametrize("path", IDENTITY + PAIRS, ids=lambda p: p.stem)
def test_fast_path_and_lark_agree(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = _read(path)
    fast = parse(text)
    monkeypatch.setattr(trace_parser, "_fast_raw", lambda _text: None)
    slow = parse(text)
    assert fast == slow
    assert [s.line for s in fast.steps] == [s.line for s in slow.steps]


@pytest.mark.parametrize("path", IDENTITY, ids=lambda p: p.stem)
def test_json_round_trip(path: Path) -> None:
    trace = parse(_read(path))
    assert from_obj(to_obj(trace)) == trace


def test_spans_are_excluded_from_equality() -> None:
    a = parse(
        "expert: arithmetic\ntrace:\n- {op: init, var: x, value: 1}\n- {op: query, var: x}\n",
        validate=True,
    )
    b = parse(
        "\n\nexpert: arithmetic\ntrace:\n  - {op: init, var: x, value: 1}\n  - {op: query, var: x}\n"
    )
    assert a == b
    assert (a.steps[0].line, b.steps[0].line) == (3, 5)
    assert b.steps[0].column == 3
