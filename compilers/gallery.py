"""One self-contained HTML page for a gold pack: each render beside its DSL, prompt and checks.

The page references nothing outside itself: SVGs are inlined, styles are inline, there is no
script. Inlined SVGs share one document, so each case's element ids (gradients, markers,
clip paths) are prefixed with the case name; otherwise the second case's ``url(#grad)`` would
paint with the first case's gradient.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from dslkit.compilers.gold import CHECKS, CaseResult, GoldReport, check_gold_pack

__all__ = ["build_gallery", "scope_svg_ids"]

_ID = re.compile(r'\bid="([^"]+)"')
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>\s*")
_ROOT_SIZE = re.compile(r'<svg\b[^>]*?\bwidth="([\d.]+)"[^>]*?\bheight="([\d.]+)"')
_MAX_RENDER_HEIGHT = 880  # px: a tall poster should not push its DSL a screen away

_CSS = """
body{margin:0;padding:24px;background:#f4f2ee;color:#1d1d1f;
 font:14px/1.45 "DejaVu Sans",system-ui,sans-serif}
h1{margin:0 0 4px;font-size:22px} .summary{margin:0 0 20px;color:#555}
.case{display:grid;grid-template-columns:minmax(0,1.1fr) minmax(0,1fr);gap:16px;
 background:#fff;border:1px solid #ddd;border-radius:10px;padding:16px;margin:0 0 20px}
.case.fail{border-color:#c0392b;box-shadow:0 0 0 2px #f5c6c0}
.render svg{width:100%;height:auto;display:block;border-radius:6px}
.meta h2{margin:0;font-size:16px} .family{color:#666;font-size:12px}
.badge{display:inline-block;padding:1px 8px;border-radius:9px;font-size:12px;font-weight:bold}
.ok{background:#d8f0dc;color:#1e6b2f} .bad{background:#f9d6d1;color:#9b2418}
pre{background:#1e1f24;color:#e6e6e6;padding:10px;border-radius:6px;overflow:auto;
 font:12px/1.4 "DejaVu Sans Mono",monospace;max-height:420px;white-space:pre-wrap;
 overflow-wrap:anywhere}
.prompt{background:#eef2f7;color:#1c3553}
ul.checks{list-style:none;padding:0;margin:8px 0;columns:2;font-size:12px}
ul.checks li::before{content:"\\2713  ";color:#1e6b2f}
ul.checks li.fail::before{content:"\\2717  ";color:#b03a2e}
.messages{color:#9b2418;font-size:12px}
"""


def scope_svg_ids(svg: str, prefix: str) -> str:
    """Prefix every id of an SVG, and every reference to one, so it can share a page.

    Args:
        svg: SVG text.
        prefix: a string safe inside an XML id (letters, digits, ``-``, ``_``).

    Returns:
        The SVG text with ``id="x"``, ``url(#x)``, ``href="#x"`` and ``aria-*="x"`` rewritten
        to ``prefix-x``; everything else unchanged.
    """
    ids = set(_ID.findall(svg))
    if not ids:
        return svg
    alt = "|".join(re.escape(i) for i in sorted(ids, key=len, reverse=True))
    svg = re.sub(rf'\bid="({alt})"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(rf"url\(#({alt})\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    svg = re.sub(rf'href="#({alt})"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)

    def aria(m: re.Match[str]) -> str:
        refs = " ".join(f"{prefix}-{r}" if r in ids else r for r in m.group(2).split())
        return f'{m.group(1)}="{refs}"'

    return re.sub(r'\b(aria-labelledby|aria-describedby)="([^"]*)"', aria, svg)


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _fit_style(svg: str) -> str:
    # Cap the height by capping the width (aspect kept), so the <svg> box always has the
    # canvas's aspect ratio and nothing outside the viewBox ever shows.
    m = _ROOT_SIZE.search(svg)
    if not m or float(m.group(2)) <= 0:
        return ""
    max_width = _MAX_RENDER_HEIGHT * float(m.group(1)) / float(m.group(2))
    return f' style="max-width:{max_width:.0f}px"'


def _case_html(pack: Path, result: CaseResult) -> str:
    folder = pack / result.name
    svg = _read(folder / "expected.svg")
    slug = re.sub(r"[^A-Za-z0-9_-]", "_", result.name)
    render = (
        scope_svg_ids(_XML_DECL.sub("", svg), f"g-{slug}")
        if svg
        else '<p class="messages">no expected.svg</p>'
    )
    status = (
        '<span class="badge ok">pass</span>' if result.ok else '<span class="badge bad">FAIL</span>'
    )
    ssim = "" if result.ssim is None else f" &middot; SSIM {result.ssim:.4f}"
    checks = "".join(
        f'<li class="{"" if result.checks.get(name) else "fail"}" title="{html.escape(CHECKS[name])}">'
        f"{html.escape(name)}</li>"
        for name in CHECKS
    )
    messages = "".join(f"<div>{html.escape(m)}</div>" for m in result.messages)
    warnings = "".join(f"<div>warning: {html.escape(w)}</div>" for w in result.warnings)
    return (
        f'<section class="case{"" if result.ok else " fail"}" id="case-{slug}">'
        f'<div class="render"{_fit_style(svg)}>{render}</div>'
        f'<div class="meta"><h2>{html.escape(result.name)} {status}</h2>'
        f'<div class="family">{html.escape(result.family)}{ssim}</div>'
        f'<pre class="prompt">{html.escape(_read(folder / "prompt.txt").strip())}</pre>'
        f'<ul class="checks">{checks}</ul>'
        f'<div class="messages">{messages}{warnings}</div>'
        f"<pre>{html.escape(_read(folder / 'scene.dsl'))}</pre></div></section>"
    )


def build_gallery(
    directory: str | Path,
    *,
    report: GoldReport | None = None,
    contract: str = "v1",
    title: str = "dslkit gold pack",
) -> tuple[str, GoldReport]:
    """Render a gold pack as one HTML page with no external references.

    Args:
        directory: the pack folder.
        report: a report from :func:`dslkit.compilers.gold.check_gold_pack`; computed when ``None``.
        contract: contract name used when the report is computed here.
        title: page heading.

    Returns:
        ``(html, report)``.

    Raises:
        NotADirectoryError: ``directory`` is not a folder.
    """
    pack = Path(directory)
    if report is None:
        report = check_gold_pack(pack, contract=contract)
    passed = sum(c.ok for c in report.cases)
    families = sorted({c.family for c in report.cases if c.family})
    body = "".join(_case_html(pack, c) for c in report.cases)
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(title)}</h1>"
        f'<p class="summary">{len(report.cases)} cases, {passed} pass, '
        f"{len(families)} families: {html.escape(', '.join(families))}</p>"
        f"{body}</body></html>\n"
    )
    return page, report
