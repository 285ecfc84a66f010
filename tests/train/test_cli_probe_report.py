"""``python -m dslkit.train report``: HTML + JSON from a probed run, baselines, refused comparisons."""

from __future__ import annotations

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from cli_probe_helpers import train_trace_run, write_cases
from dslkit.train import report
from dslkit.train.cli import main


class _Ids(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.ids.update(v for k, v in attrs if k == "id" and v)


@pytest.fixture(scope="module")
def probed_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A memorised trace run with a greedy probe report in probe/greedy.json."""
    root = tmp_path_factory.mktemp("report_cli")
    run = train_trace_run(root / "run")
    write_cases(root / "cases.jsonl")
    assert main(["probe", str(run), "--cases", str(root / "cases.jsonl")]) == 0
    return run


def _copy(run: Path, to: Path) -> Path:
    return Path(shutil.copytree(run, to))


def test_report_writes_html_and_json(probed_run, tmp_path, capsys) -> None:
    run = _copy(probed_run, tmp_path / "run")
    capsys.readouterr()
    assert main(["report", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {run / 'report.html'}" in out
    data = json.loads((run / "report.json").read_text())
    assert data["run_dir"] == str(run) and data["baseline"] is None
    assert list(data["probes"]) == ["greedy"]
    assert data["decision"]["decision"] in ("promote", "reject", "repair", "branch")
    assert f"decision: {data['decision']['decision']} ({data['decision']['colour']})" in out
    assert data["training"]  # the run log was read
    html = (run / "report.html").read_text()
    parser = _Ids()
    parser.feed(html)
    assert {sid for sid, _ in report.SECTIONS} <= parser.ids
    assert "tiny-traces" in html


def test_report_against_a_baseline_with_the_same_probe(probed_run, tmp_path, capsys) -> None:
    run = _copy(probed_run, tmp_path / "run")
    base = _copy(probed_run, tmp_path / "base")
    assert main(["report", str(run), "--baseline", str(base)]) == 0
    data = json.loads((run / "report.json").read_text())
    assert data["baseline"] == str(base)
    assert data["discipline"]["changed_axes"] == []  # a copy changes nothing
    assert data["decision"]["baseline_value"] == data["decision"]["value"]


def test_report_refuses_a_baseline_probed_with_another_contract(
    probed_run, tmp_path, capsys
) -> None:
    run = _copy(probed_run, tmp_path / "run")
    base = _copy(probed_run, tmp_path / "base")
    write_cases(tmp_path / "cases_v2.jsonl", version=2)
    assert main(["probe", str(base), "--cases", str(tmp_path / "cases_v2.jsonl")]) == 0
    capsys.readouterr()
    assert main(["report", str(run), "--baseline", str(base)]) == 2
    err = capsys.readouterr().err
    assert "refusing to compare probe reports over different probe contracts" in err
    assert "tiny-traces v1" in err and "tiny-traces v2" in err
    assert not (run / "report.html").exists() and not (run / "report.json").exists()


def test_report_missing_run_dir_exits_2(tmp_path, capsys) -> None:
    assert main(["report", str(tmp_path / "no_such_run")]) == 2
    assert "run folder not found" in capsys.readouterr().err
