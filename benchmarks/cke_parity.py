"""Benchmark: dslkit vs the original CKE renderers on the 29 reference-mapped CKE v7 scenes.

    python benchmarks/cke_parity.py --cke /path/to/C-Kernel-Engine [--json] [--no-cke-render]
                                    [--only STEM] [--size 320]

For each of the 29 cases (scene, content, reference asset; the mapping is the one recorded in
``../shared/reference/cke-v7-dialects.md`` section 10) it compiles the scene with dslkit and
scores the SVG with :func:`dslkit.compilers.parity.parity` against the reference asset, then runs
the original renderer script of that case in place, in a subprocess writing to a temporary
folder, and scores its SVG the same way. It prints one line per case, both means, and on how
many cases dslkit scores higher. A second pass compiles every ``.dsl`` file of the corpus
(``version/v7/artifacts/svg_dsl``) with its content.json and counts compile successes and S703
(content left undrawn) warnings.

The CKE repository is an argument, never part of this project: when the path does not exist
the script prints a message and exits 0 (nothing to measure).

dslkit compiles with ``grow=True`` (a page whose text would be cut grows taller, as the CKE
renderers' pages do); ``--fixed-height`` measures the fixed canvas instead. ``--contract``
compiles with another contract (name or file).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CORPUS = Path("version/v7/artifacts/svg_dsl")
ARCHIVE = CORPUS / "spec_archive_2026-04-08"
SCRIPTS = Path("version/v7/scripts")
ASSETS = Path("docs/site/assets")


@dataclass(frozen=True)
class Case:
    folder: str  # under the spec archive
    stem: str  # scene stem (``<stem>.scene.compact.dsl``)
    content: str  # content file name
    asset: str  # reference asset under docs/site/assets
    renderer: str  # CKE renderer id suffix (script render_svg_structured_scene_<x>_v7.py)


def _c(folder: str, stem: str, asset: str, renderer: str, content: str = "") -> Case:
    return Case(folder, stem, content or f"{stem}.content.json", asset, renderer)


# The 29 file-name triples of the reference mapping (facts about where files live, §10).
CASES: tuple[Case, ...] = (
    _c(
        "spec12_gold_mappings",
        "quantization-formats",
        "quantization-formats.svg",
        "spec12",
        "quantization-formats.content.compact.json",
    ),
    _c(
        "spec12_gold_mappings",
        "failure-decision-tree",
        "ir-v66-failure-decision-tree.svg",
        "spec12",
    ),
    _c("spec12_gold_mappings", "memory-layout-map", "memory-layout-map.svg", "spec12"),
    _c(
        "spec12_gold_mappings",
        "edge-case-matrix",
        "ir-v66-edge-case-matrix.svg",
        "spec12",
        "edge-case-matrix.content.compact.json",
    ),
    _c("spec12_gold_mappings", "training-memory-canary", "v7-train-memory-canary.svg", "spec12"),
    _c("spec13b_gold_mappings", "pipeline-overview-flow", "pipeline-overview.svg", "spec13b"),
    _c("spec13b_gold_mappings", "templates-to-ir", "ir-templates-to-ir.svg", "spec13b"),
    _c("spec13b_gold_mappings", "ir-lowering-pipeline", "ir-lowering-pipeline.svg", "spec13b"),
    _c("spec13b_gold_mappings", "kernel-registry-flow", "kernel-registry-flow.svg", "spec13b"),
    _c("spec13b_gold_mappings", "ir-dataflow-stitching", "ir-dataflow-stitching.svg", "spec13b"),
    _c("spec13b_gold_mappings", "qwen-layer-dataflow", "qwen_layer_dataflow.svg", "spec13b"),
    _c("spec13b_gold_mappings", "ir-pipeline-flow", "ir-pipeline-flow.svg", "spec13b"),
    _c("spec13b_gold_mappings", "ir-artifact-lineage", "ir-v66-artifact-lineage.svg", "spec13b"),
    _c(
        "spec14a_gold_mappings",
        "tokenizer-performance-comparison",
        "tokenizer-performance-comparison.svg",
        "spec14a",
    ),
    _c(
        "spec14a_gold_mappings",
        "sentencepiece-vs-bpe-wordpiece",
        "sentencepiece-vs-bpe-wordpiece.svg",
        "spec14a",
    ),
    _c("spec14a_gold_mappings", "rope-layouts-compared", "rope-layouts-compared.svg", "spec14a"),
    _c(
        "spec14a_gold_mappings", "compute-bandwidth-chasm", "compute-bandwidth-chasm.svg", "spec14a"
    ),
    _c("spec14a_gold_mappings", "quantization-formats", "quantization-formats.svg", "spec14a"),
    _c(
        "spec14b_gold_mappings",
        "ir-v66-evolution-timeline",
        "ir-v66-evolution-timeline.svg",
        "spec14b",
    ),
    _c("spec14b_gold_mappings", "ir-timeline-why", "ir-timeline-why.svg", "spec14b"),
    _c("spec15a_gold_mappings", "memory-layout-map", "memory-layout-map.svg", "spec15a"),
    _c("spec15a_gold_mappings", "bump_allocator_quant", "bump_allocator_quant.svg", "spec15a"),
    _c("spec15a_gold_mappings", "v7-train-memory-canary", "v7-train-memory-canary.svg", "spec15a"),
    _c("spec15b_gold_mappings", "pipeline-overview-system", "pipeline-overview.svg", "spec15b"),
    _c("spec15b_gold_mappings", "ir-pipeline-flow-system", "ir-pipeline-flow.svg", "spec15b"),
    _c(
        "spec15b_gold_mappings",
        "kernel-registry-flow-system",
        "kernel-registry-flow.svg",
        "spec15b",
    ),
    _c(
        "spec_broader_1_gold_mappings/comparison_span_chart",
        "performance-balance",
        "performance-balance.svg",
        "spec09",
    ),
    _c(
        "spec_broader_1_gold_mappings/comparison_span_chart",
        "cpu-gpu-analysis",
        "cpu-gpu-analysis.svg",
        "spec09",
    ),
    _c(
        "spec_broader_1_gold_mappings/comparison_span_chart",
        "theory-of-constraints",
        "theory-of-constraints.svg",
        "spec09",
    ),
)


CONTRACT: str | None = None  # --contract: a contract file to read and compile with
GROW = True  # --fixed-height turns it off: compile_scene(grow=False)


def _parse(text: str):  # type: ignore[no-untyped-def]
    """Read a corpus file with the dialect reader when this checkout has one."""
    import scene_dsl

    kw = {"contract": CONTRACT} if CONTRACT else {}
    try:
        return scene_dsl.parse(text, dialect="auto", **kw)  # type: ignore[call-arg]
    except TypeError:  # a scene_dsl without dialect readers: its own forms only
        return scene_dsl.parse(text, **kw)


def compile_file(scene_path: Path, content_path: Path | None):  # type: ignore[no-untyped-def]
    """(Svg or None, error text, S703 count) for one corpus file."""
    from dslkit.compilers.scene_svg import compile_scene

    from dslkit.errors import DslkitError

    content = {}
    if content_path is not None and content_path.exists():
        content = json.loads(content_path.read_text(encoding="utf-8"))
    try:
        scene = _parse(scene_path.read_text(encoding="utf-8"))
        # grow=True: a crowded page grows taller instead of cutting text, as CKE's pages do
        # the contract the scene was read with (scene_dsl's default unless --contract)
        from scene_dsl.contract import DEFAULT_CONTRACT

        svg = compile_scene(scene, content, grow=GROW, contract=CONTRACT or DEFAULT_CONTRACT)
    except DslkitError as exc:
        first = exc.diagnostics[0] if getattr(exc, "diagnostics", None) else exc
        return None, str(first).splitlines()[0][:110], 0
    undrawn = sum(1 for w in svg.warnings if w.code == "S703")
    return svg, "", undrawn


def run_cke(cke: Path, case: Case, out_dir: Path) -> tuple[str | None, str]:
    """Run the case's original renderer in place; (SVG text or None, error)."""
    script = cke / SCRIPTS / f"render_svg_structured_scene_{case.renderer}_v7.py"
    scene = cke / ARCHIVE / case.folder / f"{case.stem}.scene.compact.dsl"
    content = cke / ARCHIVE / case.folder / case.content
    out = out_dir / f"{case.renderer}-{case.stem}.svg"
    cmd = [sys.executable, str(script), "--scene-file", str(scene), "--out", str(out)]
    if content.exists():
        cmd += ["--content-json", str(content)]
    try:
        proc = subprocess.run(
            cmd, cwd=out_dir, capture_output=True, text=True, timeout=120, check=False
        )
    except subprocess.TimeoutExpired:
        return None, "timeout"
    if proc.returncode != 0 or not out.exists():
        return None, (proc.stderr.strip().splitlines() or ["failed"])[-1][:110]
    return out.read_text(encoding="utf-8"), ""


def _corpus_pass(cke: Path) -> dict[str, object]:
    files = sorted((cke / CORPUS).rglob("*.dsl"))
    ok = 0
    undrawn_files = 0
    undrawn = 0
    failures: dict[str, int] = {}
    for path in files:
        stem = path.name.split(".scene")[0].removesuffix(".dsl")
        candidates = [
            path.parent / f"{stem}.content.compact.json",
            path.parent / f"{stem}.content.json",
        ]
        if path.name.endswith(".scene.dsl"):  # verbose twins read the non-compact content
            candidates.reverse()
        content = next((c for c in candidates if c.exists()), None)
        svg, err, n = compile_file(path, content)
        if svg is None:
            code = err.split(" ", 1)[0]
            failures[code] = failures.get(code, 0) + 1
            continue
        ok += 1
        undrawn += n
        undrawn_files += n > 0
    return {
        "files": len(files),
        "compiled": ok,
        "s703_warnings": undrawn,
        "files_with_s703": undrawn_files,
        "failure_codes": dict(sorted(failures.items(), key=lambda kv: -kv[1])),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cke", required=True, type=Path, help="root of a C-Kernel-Engine checkout")
    ap.add_argument("--size", type=int, default=320, help="parity raster width")
    ap.add_argument("--only", default=None, help="run only cases whose stem contains this")
    ap.add_argument("--no-cke-render", action="store_true", help="skip the original renderers")
    ap.add_argument("--no-corpus", action="store_true", help="skip the 138-file compile pass")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead")
    ap.add_argument("--contract", default=None, help="contract name or file (default: the default)")
    ap.add_argument(
        "--fixed-height", action="store_true", help="compile with grow=False (canvas height)"
    )
    args = ap.parse_args()
    global CONTRACT, GROW
    CONTRACT = args.contract
    GROW = not args.fixed_height
    cke: Path = args.cke
    if not (cke / ARCHIVE).is_dir() or not (cke / ASSETS).is_dir():
        print(f"cke_parity: no CKE v7 checkout at {cke}; nothing to measure")
        return 0

    from dslkit.compilers.parity import parity

    rows = []
    with tempfile.TemporaryDirectory(prefix="cke-parity-") as tmp:
        for case in CASES:
            if args.only and args.only not in case.stem:
                continue
            folder = cke / ARCHIVE / case.folder
            ref = cke / ASSETS / case.asset
            svg, err, n703 = compile_file(
                folder / f"{case.stem}.scene.compact.dsl", folder / case.content
            )
            ours = parity(svg, ref, size=args.size).score if svg is not None else 0.0
            theirs = None
            cke_err = ""
            if not args.no_cke_render:
                text, cke_err = run_cke(cke, case, Path(tmp))
                theirs = parity(text, ref, size=args.size).score if text is not None else 0.0
            rows.append(
                {
                    "case": f"{case.renderer}/{case.stem}",
                    "compiled": svg is not None,
                    "error": err,
                    "s703": n703,
                    "dslkit": round(ours, 4),
                    "cke": None if theirs is None else round(theirs, 4),
                    "cke_error": cke_err,
                }
            )
            if not args.json:
                r = rows[-1]
                cke_txt = "  -   " if r["cke"] is None else f"{r['cke']:.3f}"
                note = f"  !! {err}" if err else (f"  S703x{n703}" if n703 else "")
                print(f"{r['case']:<52} dslkit {r['dslkit']:.3f}  cke {cke_txt}{note}", flush=True)
    summary: dict[str, object] = {
        "cases": len(rows),
        "compiled": sum(1 for r in rows if r["compiled"]),
        "dslkit_mean": round(statistics.fmean(r["dslkit"] for r in rows), 4) if rows else 0.0,
    }
    if not args.no_cke_render and rows:
        summary["cke_mean"] = round(statistics.fmean(r["cke"] for r in rows), 4)
        summary["dslkit_higher"] = sum(1 for r in rows if r["dslkit"] > r["cke"])
    if not args.no_corpus and not args.only:
        summary["corpus"] = _corpus_pass(cke)
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
    else:
        print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
