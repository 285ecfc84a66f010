"""``python -m scene_dsl check|fmt|convert|repair``: output shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import scene_dsl
from scene_dsl.cli import main

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "scenes"
GOOD = "[scene]\n[layout:poster_stack]\n[section_card:@cards.0.title|@cards.0.value]\n[/scene]\n"
BAD = "[scene]\n[layout:poster_stack] [canvas:huge]\n[section_card] [ref:cards.0]\n"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    out = {}
    for name, text in {
        "good.dsl": GOOD,
        "bad.dsl": BAD,
        "junk.dsl": "<|bos|>[scene][layout:poster_stack][section_card:@c.0]<|eos|>",
    }.items():
        out[name] = tmp_path / name
        out[name].write_text(text, "utf-8")
    content = {"cards": [{"title": "T", "value": "1"}]}
    out["content.json"] = tmp_path / "content.json"
    out["content.json"].write_text(json.dumps(content), "utf-8")
    return out


def _run(capsys: pytest.CaptureFixture[str], *argv: object) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_scene_cli_check_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "check", files["good.dsl"], files["bad.dsl"], "--json")
    assert code == 1
    good, bad = (json.loads(line) for line in out.splitlines())
    assert good == {"file": str(files["good.dsl"]), "ok": True, "diagnostics": []}
    assert bad["ok"] is False
    first = bad["diagnostics"][0]
    assert set(first) == {"code", "failure_class", "severity", "message", "line", "column"}
    expected = [d.to_dict() for d in scene_dsl.check(BAD)]
    assert bad["diagnostics"] == expected
    assert {d["code"] for d in expected} >= {"S203", "S303"}  # unclosed block, canvas:huge


def test_scene_cli_check_content_and_exit_zero(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "check", files["good.dsl"], "--content", files["content.json"])
    assert code == 0 and "ok" in out
    files["content.json"].write_text('{"cards": []}', "utf-8")
    code, out, _ = _run(
        capsys, "check", files["good.dsl"], "--content", files["content.json"], "--json"
    )
    assert code == 1 and "S601" in {d["code"] for d in json.loads(out)["diagnostics"]}


def test_scene_cli_usage_errors_exit_2(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert _run(capsys, "check", tmp_path / "missing.dsl")[0] == 2
    (tmp_path / "broken.json").write_text("{nope", "utf-8")
    code, _, err = _run(capsys, "check", files["good.dsl"], "--content", tmp_path / "broken.json")
    assert code == 2 and "J101" in err and "@ 1:2" in err and "not JSON" in err
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000, "utf-8")
    code, _, err = _run(capsys, "check", files["good.dsl"], "--content", tmp_path / "deep.json")
    assert code == 2 and "J102" in err and "Traceback" not in err
    assert _run(capsys, "check", files["good.dsl"], "--contract", "v9")[0] == 2
    with pytest.raises(SystemExit) as info:
        main(["fmt"])  # no file: argparse usage error
    assert info.value.code == 2


def test_scene_cli_fmt_and_convert(
    files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(capsys, "fmt", files["good.dsl"])
    assert code == 0 and out == scene_dsl.canonical_text(GOOD)
    code, row, _ = _run(capsys, "convert", files["good.dsl"], "--form", "row", "--inline")
    assert code == 0 and row == scene_dsl.canonical_text(GOOD, form="row", inline=True) + "\n"
    assert scene_dsl.parse(row) == scene_dsl.parse(GOOD)
    code, _, err = _run(capsys, "fmt", files["bad.dsl"])
    assert code == 1 and "S203" in err


def test_scene_cli_repair_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _run(capsys, "repair", files["junk.dsl"], "--json")
    assert code == 0
    result = json.loads(out)
    scene, fixes = scene_dsl.repair(files["junk.dsl"].read_text("utf-8"))
    assert result["text"] == scene_dsl.to_text(scene)
    assert [f["code"] for f in result["fixes"]] == [f.code for f in fixes]
    assert {"split_glued_tokens", "drop_leaked_token", "append_scene_close"} <= {
        f.code for f in fixes
    }


@pytest.mark.skipif(not EXAMPLES.is_dir(), reason="examples/scenes not present")
def test_scene_cli_bundled_examples_check_clean() -> None:
    # One real subprocess: the module entry point, exit code and output on the shipped examples.
    scenes = sorted(EXAMPLES.glob("*.dsl"))
    assert scenes
    for path in scenes:
        content = path.with_suffix(".content.json")
        argv = [sys.executable, "-m", "scene_dsl", "check", str(path), "--json"]
        if content.exists():
            argv += ["--content", str(content)]
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO, check=False)
        report = json.loads(proc.stdout)
        errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
        assert proc.returncode == 0 and report["ok"] and not errors, proc.stdout


def test_check_reports_undecodable_bytes_as_a_diagnostic() -> None:
    diags = scene_dsl.check(b"[scene] \xff [/scene]")
    assert [(d.code, d.line, d.column) for d in diags] == [("S110", 1, 9)]


def test_scene_cli_stdin_and_file_give_the_same_answer(
    files: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    for data in (
        b"[scene] [layout:poster_stack] \xff [/scene]",
        b"\xef\xbb\xbf" + files["good.dsl"].read_bytes(),
    ):
        path = tmp_path / "in.dsl"
        path.write_bytes(data)
        from_file = _run(capsys, "check", path)
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="latin-1"))
        from_stdin = _run(capsys, "check", "-")
        assert from_file[0] == from_stdin[0]
        assert from_file[2].replace(str(path), "<stdin>") == from_stdin[2]
    assert from_file[0] == 0  # the BOM is ignored
