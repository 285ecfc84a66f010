"""Command lines: python -m trace_dsl check|fmt|gsm8k and python -m dslkit.compilers solve|gsm8k."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trace_dsl.cli import main

REPO = Path(__file__).resolve().parents[2]
EGGS = REPO / "examples" / "traces" / "janet_eggs.trace"
BAD = "expert: arithmetic\ntrace:\n- {op: init, var: x, value: 80,000}\n"


def test_check_ok_and_error_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.trace"
    bad.write_text(BAD)
    assert main(["check", "--json", str(EGGS), str(bad)]) == 1
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert lines[0] == {"file": str(EGGS), "ok": True, "diagnostics": []}
    assert lines[1]["ok"] is False
    assert lines[1]["diagnostics"][0]["code"] == "T104"
    assert (lines[1]["diagnostics"][0]["line"], lines[1]["diagnostics"][0]["column"]) == (3, 31)


def test_check_text_output_names_file_and_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.trace"
    bad.write_text(BAD)
    assert main(["check", str(bad)]) == 1
    assert f"{bad}:3:31: T104 thousands-separator" in capsys.readouterr().err


def test_fmt_prints_canonical_text_and_check_mode(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    messy = tmp_path / "m.trace"
    messy.write_text(
        "expert:  arithmetic\ntrace:\n  - {var: x, op: init, value: 1.50}\n  - {op: compute, compute_op: add, args: [x,x], var: r}\n  - {op: query, var: r}\n"
    )
    assert main(["fmt", "--check", str(messy)]) == 1
    capsys.readouterr()
    assert main(["fmt", str(messy)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[2] == "- {op: init, var: x, value: 1.5}"
    assert main(["fmt", "--write", str(messy)]) == 0
    assert messy.read_text() == out
    assert main(["fmt", "--check", str(messy)]) == 0


def test_usage_error_exits_2() -> None:
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == 2


def test_missing_file_exits_2(tmp_path: Path) -> None:
    assert main(["check", str(tmp_path / "nope.trace")]) == 2


@pytest.mark.parametrize("command", ["check", "fmt"])
def test_non_utf8_file_exits_2_without_traceback(
    tmp_path: Path, command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.trace"
    path.write_bytes(b"expert: arithmetic\xff\n")
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert "J001" in err and "@ 1:19" in err and "byte offset 18" in err and str(path) in err


def _run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=REPO, input=stdin, capture_output=True, text=True, timeout=60
    )


def test_solve_cli_json_from_stdin_text() -> None:
    proc = _run(
        "-m", "dslkit.compilers", "solve", "-", "--expected", "18", "--json", stdin=EGGS.read_text()
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == {
        "status": "correct",
        "answer": 18,
        "reward": 1.0,
        "expert": "arithmetic",
        "error": None,
    }


def test_solve_cli_json_trace_with_error() -> None:
    obj = {
        "expert": "arithmetic",
        "trace": [{"op": "init", "var": "a", "value": 1}, {"op": "query", "var": "a"}],
    }
    proc = _run("-m", "dslkit.compilers", "solve", "-", "--json", stdin=json.dumps(obj))
    assert proc.returncode == 1
    out = json.loads(proc.stdout)
    assert (
        out["status"] == "invalid_trace"
        and out["error"]["code"] == "X203"
        and out["error"]["step"] == 1
    )


def test_solve_cli_wrong_expert_text_mode() -> None:
    proc = _run("-m", "dslkit.compilers", "solve", str(EGGS), "--expert", "percentage")
    assert proc.returncode == 1 and proc.stdout.startswith("wrong_expert")


def _mini_split(tmp_path: Path) -> Path:
    src = tmp_path / "mini.jsonl"
    rows = [
        {
            "question": "Janet has 16 eggs and eats 3. How many are left?",
            "answer": "16 - 3 = <<16-3=13>>13\n#### 13",
        },
        {"question": "What is x?", "answer": "Think.\n#### 4"},
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return src


def test_gsm8k_verify_cli_writes_lines_and_report(tmp_path: Path) -> None:
    # conversion checked by the solver: the compilers' command, not the language's
    src = _mini_split(tmp_path)
    out, report = tmp_path / "t.jsonl", tmp_path / "r.json"
    proc = _run(
        "-m", "dslkit.compilers", "gsm8k", str(src), "--out", str(out), "--report", str(report)
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["status"] for x in lines] == ["correct", "failed"]
    assert lines[0]["answer"] == 13 and lines[0]["trace"].startswith("expert: arithmetic\n")
    assert lines[1]["failure_category"] == "no_annotations"
    summary = json.loads(report.read_text())
    assert summary["correct"] == 1 and summary["failures"] == {"no_annotations": 1}
    assert summary["converted"] == 1
    assert "converted and correct: 1/2" in proc.stdout


def test_gsm8k_verify_cli_reports_what_the_solver_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The solver's verdict, not the converter's, decides: a solver that refuses every trace
    # turns each converted problem into a verify_* failure.
    from dslkit.compilers import __main__ as compilers_main
    from dslkit.compilers import trace_solver

    real = trace_solver.verify
    monkeypatch.setattr(trace_solver, "verify", lambda text, answer: real(text, answer + 1))
    out = tmp_path / "t.jsonl"
    assert compilers_main.main(["gsm8k", str(_mini_split(tmp_path)), "--out", str(out)]) == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["status"] for x in lines] == ["wrong_answer", "failed"]
    assert lines[0]["failure_category"] == "verify_wrong_answer"
    assert "converted and correct: 0/2" in capsys.readouterr().out


def test_gsm8k_convert_cli_writes_lines_and_report(tmp_path: Path) -> None:
    # the language's command converts only: no solver status, no 'correct' count
    src = _mini_split(tmp_path)
    out, report = tmp_path / "t.jsonl", tmp_path / "r.json"
    proc = _run("-m", "trace_dsl", "gsm8k", str(src), "--out", str(out), "--report", str(report))
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["status"] for x in lines] == ["converted", "failed"]
    assert lines[0]["answer"] == 13 and lines[0]["trace"].startswith("expert: arithmetic\n")
    assert lines[0]["failure_category"] is None
    summary = json.loads(report.read_text())
    assert summary["converted"] == 1 and "correct" not in summary
    assert summary["failures"] == {"no_annotations": 1}
    assert "converted: 1/2" in proc.stdout


def test_gsm8k_non_utf8_file_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "latin1.jsonl"
    data = b'{"question": "caf\xe9"}\n'
    path.write_bytes(data)
    assert main(["gsm8k", str(path)]) == 2
    err = capsys.readouterr().err
    assert "J001" in err and f"byte offset {data.index(0xE9)}" in err and "@ 1:18" in err


def test_stdin_and_file_give_the_same_answer_to_the_same_bytes(tmp_path, capsys, monkeypatch):
    import io

    from trace_dsl.cli import main as trace_main

    good = b"expert: arithmetic\ntrace:\n- {op: init, var: x, value: 2}\n- {op: compute, compute_op: add, args: [x, x], var: y}\n- {op: query, var: y}\n"
    for data, want in ((b"expert: arithmetic\ntrace: \xff\n", 2), (b"\xef\xbb\xbf" + good, 0)):
        path = tmp_path / "t.trace"
        path.write_bytes(data)
        from_file = trace_main(["check", str(path)])
        err_file = capsys.readouterr().err.replace(str(path), "-")
        # a latin-1 terminal would decode any byte: the reader must not depend on it
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="latin-1"))
        assert (from_file, trace_main(["check", "-"])) == (want, want)
        assert capsys.readouterr().err.replace("<stdin>", "-") == err_file


def test_gsm8k_verify_non_utf8_file_exits_2_without_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from dslkit.compilers.__main__ import main as compilers_main

    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"question": "caf\xe9"}\n')
    assert compilers_main(["gsm8k", str(path)]) == 2
    assert "not UTF-8" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["trace_dsl", "compilers"])
def test_gsm8k_refuses_deep_json_rows_with_a_position(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    from dslkit.compilers.__main__ import main as compilers_main

    path = tmp_path / "deep.jsonl"
    path.write_text('{"question": "q", "answer": "#### 1"}\n' + "[" * 100_000 + "]" * 100_000)
    run = main if command == "trace_dsl" else compilers_main
    assert run(["gsm8k", str(path)]) == 2
    err = capsys.readouterr().err
    assert "J102" in err and f"{path}:2" in err and "Traceback" not in err
