"""dslkit.compilers.raster: no external resource is ever read; output is deterministic."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from dslkit.compilers.raster import external_refs, png_to_array, sanitize_svg, to_png
from PIL import Image

from dslkit.errors import CompileError

BASE = (
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" '
    'width="120" height="80" viewBox="0 0 120 80">'
    '<rect width="120" height="80" fill="#202020"/>{body}</svg>'
)


def _red_png(path) -> str:
    Image.new("RGB", (120, 80), (255, 0, 0)).save(path)
    return path.as_uri()


def _red_share(png: bytes) -> float:
    a = png_to_array(png).astype(int)
    red = (a[..., 0] > 200) & (a[..., 1] < 60) & (a[..., 2] < 60)
    return float(red.mean())


@pytest.mark.parametrize("attr", ["href", "xlink:href"])
def test_local_file_image_is_not_read(tmp_path, attr):
    uri = _red_png(tmp_path / "red.png")
    svg = BASE.format(body=f'<image {attr}="{uri}" x="0" y="0" width="120" height="80"/>')
    # The test can fail: cairosvg itself, when allowed, does paint the file.
    import cairosvg

    assert _red_share(cairosvg.svg2png(bytestring=svg.encode(), unsafe=True)) > 0.9
    assert _red_share(to_png(svg)) == 0.0
    assert external_refs(svg) == [uri]


def test_passwd_and_http_references_never_fetched(monkeypatch):
    calls = []

    def spy(url, *args, **kwargs):  # any network or file fetch through cairosvg lands here
        calls.append(url)
        raise AssertionError(f"fetched {url}")

    import cairosvg
    import cairosvg.url

    monkeypatch.setattr(cairosvg.url, "fetch", spy)
    monkeypatch.setattr(cairosvg.url, "urlopen", spy, raising=False)
    body = (
        '<image href="file:///etc/passwd" width="10" height="10"/>'
        '<image xlink:href="http://127.0.0.1:9/x.png" width="10" height="10"/>'
        '<use href="https://example.invalid/sprite.svg#icon"/>'
        '<rect width="10" height="10" style="fill:url(http://example.invalid/p.svg#g)"/>'
        "<style>@import url(http://example.invalid/a.css); rect{fill:#333}</style>"
    )
    # The spy is reachable: cairosvg left to itself does fetch through it.
    with pytest.raises(AssertionError, match="fetched"):
        cairosvg.svg2png(bytestring=BASE.format(body=body).encode(), unsafe=True)
    assert calls
    calls.clear()
    png = to_png(BASE.format(body=body))
    assert png.startswith(b"\x89PNG")
    assert calls == []


def test_sanitize_removes_exactly_the_external_refs():
    body = (
        '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient></defs>'
        '<rect width="10" height="10" fill="url(#g)"/>'
        '<image href="file:///etc/passwd" width="10" height="10"/>'
    )
    svg = BASE.format(body=body)
    clean, diags = sanitize_svg(svg)
    assert "passwd" not in clean
    assert "url(#g)" in clean  # fragment references survive
    assert [d.code for d in diags] == ["S705"]
    untouched, none = sanitize_svg(BASE.format(body=""))
    assert untouched == BASE.format(body="") and none == []


def test_data_uri_image_still_renders():
    buf = io.BytesIO()
    Image.new("RGB", (120, 80), (255, 0, 0)).save(buf, format="PNG")
    uri = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    svg = BASE.format(
        body=f'<image href="{uri}" width="120" height="80" preserveAspectRatio="none"/>'
    )
    assert external_refs(svg) == []
    assert _red_share(to_png(svg)) > 0.9


def test_entities_and_malformed_xml_are_toolkit_errors():
    xxe = (
        '<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>&x;</text></svg>'
    )
    with pytest.raises(CompileError) as err:
        to_png(xxe)
    assert err.value.code == "S704"
    with pytest.raises(CompileError) as err:
        to_png('<svg xmlns="http://www.w3.org/2000/svg">\n<rect></svg>')
    assert err.value.code == "S704" and err.value.line == 2


def test_deterministic_and_width():
    svg = BASE.format(
        body='<circle cx="60" cy="40" r="30" fill="#4a9"/><text x="5" y="15">Hi</text>'
    )
    a, b = to_png(svg, width=300), to_png(svg, width=300)
    assert a == b
    assert png_to_array(a).shape == (200, 300, 3)
    assert png_to_array(to_png(svg)).shape == (80, 120, 3)
    with pytest.raises(ValueError):
        to_png(svg, width=0)


def test_svg_object_and_alpha_composited_on_white():
    class Svg:  # duck-typed like compilers.scene_svg.Svg
        text = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="20"></svg>'

    arr = png_to_array(to_png(Svg()))
    assert np.all(arr == 255)  # transparent -> white, not black


def test_render_does_not_depend_on_what_was_rendered_before():
    # cairo caches glyph metrics per font across renders: each order runs in a fresh
    # process, so the second document's pixels cannot borrow the first one's cache state.
    import subprocess
    import sys
    from pathlib import Path

    gold = Path(__file__).resolve().parents[2] / "examples" / "gold"
    a, b = (str(gold / c / "expected.svg") for c in ("optimizer_board", "checkpoint_system"))
    script = (
        "import hashlib, sys\n"
        "from compilers.raster import to_png\n"
        "print(*(hashlib.sha256(to_png(open(p).read(), width=480)).hexdigest() "
        "for p in sys.argv[1:]))\n"
    )

    def digests(*paths: str) -> dict[str, str]:
        run = subprocess.run(
            [sys.executable, "-c", script, *paths], capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        return dict(zip(paths, run.stdout.split(), strict=True))

    assert digests(a, b) == digests(b, a)


def test_use_without_a_local_reference_is_a_toolkit_error_not_a_recursion():
    # cairosvg draws a <use> with no href as the whole document again, without end
    outside = BASE.format(body='<g><use href="http://example.invalid/x.svg#a"/></g>')
    clean, diags = sanitize_svg(outside)
    assert "<use" not in clean and [d.code for d in diags] == ["S705"]
    assert to_png(outside).startswith(b"\x89PNG")
    with pytest.raises(CompileError) as err:
        to_png(BASE.format(body="<use/>").replace("<svg ", '<svg font-size="12" ', 1))
    assert err.value.code == "S704"
