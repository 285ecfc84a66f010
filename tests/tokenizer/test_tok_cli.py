"""The command line: build, lint, budget, encode, and errors with codes instead of tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from dslkit.tokenizer.cli import main
from dslkit.tokenizer.model import load

ROOT = Path(__file__).resolve().parents[2]  # `python -m dslkit.tokenizer` runs from the repo root


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus):
    d = tmp_path_factory.mktemp("cli")
    src = d / "corpus.jsonl"
    src.write_text(
        "\n".join(json.dumps({"prompt": "[task:svg] [OUT]", "target": t}) for t in corpus[:300])
    )
    out = d / "tok"
    assert (
        main(
            [
                "build",
                "--language",
                "both",
                "--granularity",
                "atomic",
                "--corpus",
                str(src),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    return out


def test_build_saves_a_loadable_tokenizer(built):
    tok = load(built)
    assert tok.meta.language == "both" and tok.meta.granularity == "atomic"


def test_build_default_corpus(tmp_path, capsys):
    assert (
        main(
            [
                "build",
                "--language",
                "trace",
                "--granularity",
                "split",
                "--generated",
                "50",
                "--out",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "trace/split" in capsys.readouterr().out


def test_lint_exit_codes(built, tmp_path, capsys):
    assert main(["lint", str(built), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    meta = json.loads((built / "dslkit_tokenizer.json").read_text())
    bad = tmp_path / "bad"
    from dslkit.tokenizer import build

    build(
        "scene", corpus=["[scene] [/scene]"], reserved=[*meta["reserved"][:10], "[node_id:start]"]
    ).save(bad)
    assert main(["lint", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "K201" in out and "K101" in out and "FAILED" in out


def test_budget_json_shape(built, tmp_path, capsys):
    rows = tmp_path / "rows.jsonl"
    rows.write_text(json.dumps({"prompt": "[OUT]", "target": "[scene]"}) + "\n")
    assert main(["budget", str(built), "--rows", str(rows), "--ctx", "256", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "p50": 4, "p95": 4, "max": 4, "fit_80pct_share": 1.0, "recommended_ctx": 256, "rows": 1,
    }  # fmt: skip
    assert main(["budget", str(built), "--rows", str(rows), "--ctx", "256"]) == 0
    assert "recommended ctx: 256" in capsys.readouterr().out


def test_encode_shows_boundaries(built, capsys):
    assert main(["encode", str(built), "[scene] [tone:amber] [/scene]"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "[scene]│ │[tone:amber]│ │[/scene]"
    assert "5 tokens" in out
    assert main(["encode", str(built), "[title_ref:a.b]", "--json"]) == 0
    got = json.loads(capsys.readouterr().out)
    assert [t["text"] for t in got["tokens"]] == ["[title_ref:", "a", ".", "b", "]"]
    assert got["tokens"][0]["kind"] == "reserved"


def test_bad_input_is_a_coded_error_not_a_traceback(built, tmp_path):
    rows = tmp_path / "rows.jsonl"
    rows.write_text('{"prompt": "x", "target": "y"}\n{oops\n')
    cases = [
        ["-m", "dslkit.tokenizer", "lint", str(tmp_path / "missing")],
        ["-m", "dslkit.tokenizer", "budget", str(built), "--rows", str(rows), "--ctx", "512"],
        [
            "-m",
            "dslkit.tokenizer",
            "build",
            "--corpus",
            str(tmp_path / "none.dsl"),
            "--out",
            str(tmp_path / "o"),
        ],
    ]
    for argv, code in zip(cases, ["K004", "K005", "K003"], strict=True):
        proc = subprocess.run(
            [sys.executable, *argv], capture_output=True, text=True, check=False, cwd=ROOT
        )
        assert proc.returncode == 2, proc.stderr
        assert code in proc.stderr and "Traceback" not in proc.stderr
    assert (
        ":2:"
        in subprocess.run(
            [sys.executable, *cases[1]], capture_output=True, text=True, cwd=ROOT
        ).stderr
    )


def test_hostile_stdin_and_rows_exit_2_with_a_code(built, tmp_path):
    # non-UTF-8 stdin to encode, and a 100,000-deep JSON row to budget: coded errors, exit 2
    enc = subprocess.run(
        [sys.executable, "-m", "dslkit.tokenizer", "encode", str(built), "-"],
        input=b"[scene] \xff\xfe",
        capture_output=True,
        cwd=ROOT,
    )
    assert enc.returncode == 2 and b"J001" in enc.stderr and b"Traceback" not in enc.stderr
    rows = tmp_path / "deep.jsonl"
    rows.write_text('{"prompt": "x", "target": "y"}\n' + "[" * 100_000 + "]" * 100_000 + "\n")
    argv = ["budget", str(built), "--rows", str(rows), "--ctx", "64"]
    bud = subprocess.run(
        [sys.executable, "-m", "dslkit.tokenizer", *argv], capture_output=True, text=True, cwd=ROOT
    )
    assert bud.returncode == 2 and "K005" in bud.stderr and "nest deeper" in bud.stderr
    assert "Traceback" not in bud.stderr
