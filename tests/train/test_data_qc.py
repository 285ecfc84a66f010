"""The QC gate catches each failure kind on crafted rows, and passes clean rows."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from data_decoding_helpers import CharTokenizer, scene_tokenizer, write_gold_pack
from dslkit.train.data import QcError, Row, materialize, qc, trace_prompt

JANET = Path(__file__).resolve().parents[2] / "examples" / "traces" / "janet_eggs.trace"


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> list[Row]:
    gold = write_gold_pack(tmp_path_factory.mktemp("gold"), n=3)
    return [replace(r, split="train") for r in materialize(gold_dir=gold, gsm8k=None).rows]


def _trace_row(answer: str | None) -> Row:
    text = JANET.read_text(encoding="utf-8")
    return Row(
        "trace-1",
        trace_prompt("Janet's ducks lay 16 eggs..."),
        text,
        "train",
        "arithmetic",
        "trace",
        answer=answer,
    )


def kinds(report) -> set[str]:  # type: ignore[no-untyped-def]
    return set(report.counts())


def test_clean_rows_pass(rows: list[Row]) -> None:
    from dslkit.compilers.trace_solver import solve

    answer = str(solve(JANET.read_text(encoding="utf-8")).answer)
    report = qc([*rows, _trace_row(answer)], tokenizer=scene_tokenizer(), ctx=4096)
    assert report.ok, report.summary()
    assert report.max_tokens > 0
    report.raise_if_failed()


def test_parse_failure(rows: list[Row]) -> None:
    bad = replace(rows[0], target=rows[0].target.replace("[/scene]", ""))
    assert kinds(qc([bad])) == {"parse"}


def test_non_canonical_target_is_a_parse_problem(rows: list[Row]) -> None:
    bad = replace(rows[0], target=rows[0].target.replace(" [", "  [", 1))
    assert kinds(qc([bad])) == {"parse"}


def test_validation_failure(rows: list[Row]) -> None:
    target = rows[0].target
    layout = target.split("[layout:")[1].split("]")[0]
    other = "timeline" if layout != "timeline" else "table_matrix"
    bad = replace(rows[0], target=target.replace(f"[layout:{layout}]", f"[layout:{other}]"))
    assert kinds(qc([bad])) == {"validate"}


def test_unresolved_content_is_a_validation_failure(rows: list[Row]) -> None:
    bad = replace(rows[0], content={})
    assert kinds(qc([bad])) == {"validate"}


def test_trace_that_solves_to_another_answer() -> None:
    assert kinds(qc([_trace_row("-1")])) == {"solve"}
    broken = replace(_trace_row("1"), target="expert: arithmetic\ntrace:\n- {op: query}\n")
    assert kinds(qc([broken])) == {"parse"}


def test_duplicates_conflicts_and_leaks(rows: list[Row]) -> None:
    a = rows[0]
    dup = replace(a, id="dup")
    assert kinds(qc([a, dup])) == {"duplicate"}
    conflict = replace(rows[2], id="c", prompt=a.prompt)
    assert "prompt_determinism" in kinds(qc([a, conflict]))
    leak = replace(a, id="leak", split="test", target=a.target)
    report = qc([a, leak])
    assert "holdout_leak" in kinds(report)
    with pytest.raises(QcError, match="holdout_leak"):
        report.raise_if_failed()


def test_unknown_tokens_and_budget(rows: list[Row]) -> None:
    lossy = CharTokenizer(alphabet="[]:_ abcdefghijklmnopqrstuvwxyz?")  # no digits, no '.'
    assert "unknown_token" in kinds(qc(rows[:1], tokenizer=lossy))
    report = qc(rows[:2], tokenizer=scene_tokenizer(), ctx=10)
    assert kinds(report) == {"over_budget"}
    assert report.counts()["over_budget"] == 2


def test_workers_give_the_same_report_in_row_order(rows: list[Row]) -> None:
    bad_parse = replace(rows[0], id="bad-parse", target=rows[0].target.replace("[/scene]", ""))
    bad_refs = replace(rows[1], id="bad-refs", content={})
    mixed = [bad_refs, *rows, bad_parse, _trace_row("1")]
    one = qc(mixed, workers=1)
    two = qc(mixed, workers=2)
    assert two == one
    assert [p.row_id for p in two.problems][:1] == ["bad-refs"]
    assert {"parse", "validate", "solve"} <= kinds(two)
