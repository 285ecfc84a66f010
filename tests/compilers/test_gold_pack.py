"""The gold pack passes its checker, and each kind of tampering fails the right check."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from dslkit.compilers.gold import CHECKS, GOLD_PNG_WIDTH, check_case, check_gold_pack

import scene_dsl

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "examples" / "gold"
FAMILIES = {
    "poster_stack",
    "comparison_span_chart",
    "pipeline_lane",
    "timeline_flow",
    "dashboard_cards",
    "table_matrix",
    "decision_tree",
    "flow_graph",
    "architecture_map",
    "memory_map",
    "comparison_board",
    "system_diagram",
}


@pytest.fixture(scope="module")
def report():
    return check_gold_pack(GOLD)


def test_pack_passes(report):
    assert report.ok, report.format()
    assert len(report.cases) >= 14
    for case in report.cases:
        assert list(case.checks) == list(CHECKS)
        assert case.ssim is not None and case.ssim >= 0.99


def test_pack_covers_families_and_themes(report):
    assert {c.family for c in report.cases} >= FAMILIES
    themes = set()
    for case in report.cases:
        scene = scene_dsl.parse((GOLD / case.name / "scene.dsl").read_text())
        themes.add(scene.attr("theme"))
        # the contract's theme rules hold (also checked by the contract check)
        if scene.attr("theme") == "paper_editorial":
            assert scene.attr("tone") != "purple"
        if scene.attr("theme") == "signal_glow":
            assert scene.attr("tone") in {"green", "blue", "purple"}
    assert themes == {"infra_dark", "paper_editorial", "signal_glow"}


def test_cases_are_rich(report):
    contract = scene_dsl.load_contract("v1")
    for case in report.cases:
        scene = scene_dsl.parse((GOLD / case.name / "scene.dsl").read_text())
        kinds = {c.name for c in scene.walk()}
        family_kinds = kinds & set(contract.families[case.family].admits)
        assert len(kinds) >= 4 and family_kinds, case.name
        ref_fields = [
            f for c in scene.walk() for f in c.fields if f.name.endswith("ref") or f.name == "ref"
        ]
        assert any(f.name == "ref" for f in ref_fields) and any(
            f.name != "ref" for f in ref_fields
        ), case.name
        png = (GOLD / case.name / "expected.png").read_bytes()
        from dslkit.compilers.raster import png_to_array

        assert png_to_array(png).shape[1] == GOLD_PNG_WIDTH


def test_prompt_is_one_line(report):
    for case in report.cases:
        text = (GOLD / case.name / "prompt.txt").read_text()
        assert (
            text.count("\n") == 1
            and text.startswith("[task:svg] [layout:")
            and text.endswith("[OUT]\n")
        )


def test_gold_cases_render_without_text_fitting_warnings(report):
    # A gold case is a reference render: text that had to be shrunk or cut (S701/S702) or
    # content nothing draws (S703) would make the golden show a compromise, not the intent.
    from dslkit.compilers.scene_svg import compile_scene

    for case in report.cases:
        folder = GOLD / case.name
        svg = compile_scene((folder / "scene.dsl").read_text("utf-8"), folder / "content.json")
        assert not svg.warnings, (case.name, [w.headline() for w in svg.warnings])


# --- tampering --------------------------------------------------------------------------

CASE = "gpu_memory_hierarchy"


@pytest.fixture
def case_copy(tmp_path) -> Path:
    dst = tmp_path / "pack" / CASE
    shutil.copytree(GOLD / CASE, dst)
    return dst


def _failed(path: Path) -> set[str]:
    result = check_case(path)
    return {k for k, ok in result.checks.items() if not ok}


def test_untouched_copy_passes(case_copy):
    assert _failed(case_copy) == set()


def test_noncanonical_whitespace_fails_canonical_only(case_copy):
    f = case_copy / "scene.dsl"
    f.write_text(f.read_text().replace("] [", "]  [", 1))
    assert _failed(case_copy) == {"canonical"}


def test_row_form_drift_fails_forms_agree(case_copy):
    f = case_copy / "scene.row.dsl"
    f.write_text(f.read_text().replace("[tone:green]", "[tone:blue]"))
    assert "forms_agree" in _failed(case_copy)
    assert "canonical" not in _failed(case_copy)


def test_missing_content_fails_refs(case_copy):
    f = case_copy / "content.json"
    content = json.loads(f.read_text())
    del content["footer"]
    f.write_text(json.dumps(content))
    failed = _failed(case_copy)
    assert "refs" in failed and "compile" in failed
    assert "content_used" not in failed and "canonical" not in failed


def test_unused_content_fails_content_used(case_copy):
    f = case_copy / "content.json"
    content = json.loads(f.read_text())
    content["stale"] = {"title": "nobody reads me"}
    f.write_text(json.dumps(content))
    assert "content_used" in _failed(case_copy)
    assert "refs" not in _failed(case_copy)


def test_contract_violation_fails_contract(case_copy):
    for name in ("scene.dsl", "scene.row.dsl"):
        f = case_copy / name
        f.write_text(
            f.read_text().replace(
                "[theme:infra_dark] [tone:green]", "[theme:signal_glow] [tone:amber]"
            )
        )
    failed = _failed(case_copy)
    assert "contract" in failed and "canonical" not in failed and "forms_agree" not in failed


def test_svg_byte_change_fails_svg_but_not_png(case_copy):
    f = case_copy / "expected.svg"
    f.write_bytes(f.read_bytes().replace(b"</svg>", b"<!-- edited --></svg>"))
    assert _failed(case_copy) == {"svg"}


def test_wrong_png_fails_png(case_copy):
    other = GOLD / "serving_dashboard" / "expected.png"
    (case_copy / "expected.png").write_bytes(other.read_bytes())
    assert _failed(case_copy) == {"png"}


def test_prompt_mismatch_fails_prompt(case_copy):
    (case_copy / "prompt.txt").write_text("[task:svg] [layout:poster_stack] [OUT]\n")
    assert _failed(case_copy) == {"prompt"}


def test_missing_goldens_then_update_restores(case_copy):
    want_svg = (case_copy / "expected.svg").read_bytes()
    (case_copy / "expected.svg").unlink()
    (case_copy / "scene.row.dsl").write_text("[scene]\n[/scene]\n")
    assert {"files", "svg"} <= _failed(case_copy)
    report = check_gold_pack(case_copy.parent, update=True)
    assert report.ok, report.format()
    assert (case_copy / "expected.svg").read_bytes() == want_svg
    assert f"{CASE}/expected.svg" in report.updated and f"{CASE}/scene.row.dsl" in report.updated


def test_unparseable_scene_is_a_result_not_a_crash(case_copy):
    (case_copy / "scene.dsl").write_text("[scene]\n[layout:poster_stack\n")
    result = check_case(case_copy)
    assert not result.ok and result.checks["parse"] is False
    assert any("S1" in m or "S2" in m for m in result.messages), result.messages


def test_empty_or_missing_pack(tmp_path):
    assert not check_gold_pack(tmp_path).ok
    with pytest.raises(NotADirectoryError):
        check_gold_pack(tmp_path / "nope")


def test_pytest_plugin_in_a_downstream_suite(tmp_path, case_copy):
    test_file = tmp_path / "test_downstream.py"
    test_file.write_text(
        "from compilers.pytest_plugin import assert_gold_pack\n"
        "def test_fixture(gold_pack_report):\n"
        "    assert gold_pack_report.ok, gold_pack_report.format()\n"
        "def test_helper(pytestconfig):\n"
        "    assert_gold_pack(pytestconfig.getoption('--gold-pack'))\n"
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "dslkit.compilers.pytest_plugin",
        "--gold-pack",
        str(case_copy.parent),
        str(test_file),
    ]
    ok = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    (case_copy / "prompt.txt").write_text("[task:svg] [OUT]\n")
    bad = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert bad.returncode == 1 and "prompt" in bad.stdout and "2 failed" in bad.stdout
