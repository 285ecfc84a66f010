"""python -m dslkit.compilers compile / gold check / gallery: outputs, JSON shape, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from dslkit.compilers.__main__ import main
from dslkit.compilers.raster import png_to_array

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT / "examples" / "gold"
CASE = GOLD / "kv_eviction_tree"


def _compile(scene: Path, content: Path, out: Path, *extra: str) -> int:
    return main(["compile", str(scene), "--content", str(content), "-o", str(out), *extra])


def test_compile_writes_svg_and_png(tmp_path, capsys):
    out, png = tmp_path / "o.svg", tmp_path / "o.png"
    code = _compile(
        CASE / "scene.row.dsl", CASE / "content.json", out, "--png", str(png), "--width", "300"
    )
    assert code == 0, capsys.readouterr().err
    assert out.read_bytes() == (CASE / "expected.svg").read_bytes()
    assert png_to_array(png.read_bytes()).shape[1] == 300
    assert "wrote" in capsys.readouterr().out


def test_compile_error_prints_positions_and_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.dsl"
    text = (CASE / "scene.dsl").read_text().replace("[ref:nodes.shared]", "[ref:nodes.missing]")
    assert text != (CASE / "scene.dsl").read_text()
    bad.write_text(text)
    code = _compile(bad, CASE / "content.json", tmp_path / "x.svg")
    err = capsys.readouterr().err
    assert code == 1
    line = next(i for i, ln in enumerate(text.splitlines(), 1) if "nodes.missing" in ln)
    assert "S601" in err and f"@ {line}:" in err and "^" in err
    assert not (tmp_path / "x.svg").exists()


def test_compile_syntax_error_and_bad_json(tmp_path, capsys):
    bad = tmp_path / "bad.dsl"
    bad.write_text("[scene]\n[layout:decision_tree] [theme:\n[/scene]\n")
    assert _compile(bad, CASE / "content.json", tmp_path / "x.svg") == 1
    err = capsys.readouterr().err
    assert "@ 2:" in err and "Traceback" not in err
    # unreadable input exits 2, as in every toolkit CLI; the error has a code and a position
    js = tmp_path / "c.json"
    js.write_text('{"a": 1,,}')
    assert _compile(CASE / "scene.dsl", js, tmp_path / "x.svg") == 2
    err = capsys.readouterr().err
    assert "J101" in err and "@ 1:9" in err and str(js) in err
    assert _compile(tmp_path / "none.dsl", js, tmp_path / "x.svg") == 2
    assert "no such file" in capsys.readouterr().err
    js.write_text("[" * 100_000 + "]" * 100_000)
    assert _compile(CASE / "scene.dsl", js, tmp_path / "x.svg") == 2
    assert "J102" in capsys.readouterr().err


def test_compile_reads_the_scene_from_stdin(tmp_path, capsys, monkeypatch):
    import io

    data = b"\xef\xbb\xbf" + (CASE / "scene.dsl").read_bytes()  # with a BOM, ignored
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data)))
    out = tmp_path / "o.svg"
    assert main(["compile", "-", "--content", str(CASE / "content.json"), "-o", str(out)]) == 0
    assert out.read_bytes() == (CASE / "expected.svg").read_bytes()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"[scene] \xff")))
    assert main(["compile", "-", "--content", str(CASE / "content.json"), "-o", str(out)]) == 2
    assert "J001" in capsys.readouterr().err
    assert main(["compile", "-", "--content", "-", "-o", str(out)]) == 2


def _pack(tmp_path: Path, names=("kv_eviction_tree", "optimizer_board")) -> Path:
    for name in names:
        shutil.copytree(GOLD / name, tmp_path / "pack" / name)
    return tmp_path / "pack"


def test_gold_check_json_shape_and_exit_codes(tmp_path, capsys):
    pack = _pack(tmp_path)
    assert main(["gold", "check", str(pack), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and len(data["cases"]) == 2
    for case in data["cases"]:
        assert {"name", "family", "ok", "checks", "ssim"} <= set(case)
        assert case["ok"] is True and all(case["checks"].values()) and case["ssim"] >= 0.99
    assert {c["family"] for c in data["cases"]} == {"decision_tree", "comparison_board"}

    (pack / "optimizer_board" / "expected.svg").write_text("<svg/>")
    assert main(["gold", "check", str(pack), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is False
    bad = next(c for c in data["cases"] if c["name"] == "optimizer_board")
    assert bad["checks"]["svg"] is False and bad["checks"]["png"] is True

    assert main(["gold", "check", str(pack), "--update"]) == 0
    assert "2/2 cases pass" in capsys.readouterr().out
    assert main(["gold", "check", str(tmp_path / "missing")]) == 2


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def test_gallery_is_self_contained_and_lists_every_case(tmp_path, capsys):
    out = tmp_path / "gallery.html"
    assert main(["gallery", str(GOLD), "-o", str(out)]) == 0
    html = out.read_text()
    parser = _Collect()
    parser.feed(html)
    parser.close()
    cases = sorted(p.parent.name for p in GOLD.glob("*/scene.dsl"))
    sections = [a.get("id") for t, a in parser.tags if t == "section"]
    assert sections == [f"case-{c}" for c in cases]
    assert sum(1 for t, _ in parser.tags if t == "svg") == len(cases)
    for tag, attrs in parser.tags:
        assert tag not in {"script", "link", "iframe", "img"}
        for key in ("src", "href", "xlink:href"):
            value = attrs.get(key)
            assert value is None or value.startswith(("#", "data:")), (tag, key, value)
    assert "url(http" not in html and "@import" not in html
    for c in cases:
        prompt = (GOLD / c / "prompt.txt").read_text().strip()
        assert prompt.replace("&", "&amp;") in html
    # every inlined SVG's ids are unique on the page
    ids = [a["id"] for _, a in parser.tags if a.get("id")]
    assert len(ids) == len(set(ids))


def test_gallery_scopes_ids():
    from dslkit.compilers.gallery import scope_svg_ids

    svg = '<svg><defs><linearGradient id="g"/></defs><rect fill="url(#g)"/><use href="#g"/></svg>'
    out = scope_svg_ids(svg, "c1")
    assert 'id="c1-g"' in out and "url(#c1-g)" in out and 'href="#c1-g"' in out


@pytest.mark.slow
def test_python_dash_m_entry_point(tmp_path):
    pack = _pack(tmp_path, names=("kv_eviction_tree",))
    run = subprocess.run(
        [sys.executable, "-m", "dslkit.compilers", "gold", "check", str(pack), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["ok"] is True
