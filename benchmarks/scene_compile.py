"""Benchmark: scene compile vs raster, per case, in the same run.

    python benchmarks/scene_compile.py [--repeat 20] [--raster-repeat 5] [--cold] [--json]

Cases come from the gold pack (``examples/gold/*/scene.dsl`` + ``content.json``) when it
exists, else from the test factory's generated scenes (one per layout family). Prints the
median ms per case for compile (parse excluded: the scene is parsed once) and for raster
(``dslkit.compilers.raster.to_png`` when present, else cairosvg directly), scenes/s, and the ratio
compile/raster. Targets: compile <= 5 ms median per case on one core, and <= 1/5 of raster.
``--cold`` clears the text-measurement caches before every compile (worst case: nothing
measured before). The process pins itself to one CPU when the OS allows it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _cases() -> list[tuple[str, object, dict]]:
    import scene_dsl

    gold = sorted((ROOT / "examples" / "gold").glob("*/scene.dsl"))
    out = []
    for path in gold:
        content = json.loads((path.parent / "content.json").read_text(encoding="utf-8"))
        out.append((path.parent.name, scene_dsl.parse(path.read_text(encoding="utf-8")), content))
    if out:
        return out
    sys.path.insert(0, str(ROOT / "tests" / "compilers"))
    from svg_scene_factory import FAMILIES, build

    for fam in FAMILIES:
        text, content = build(fam)
        out.append((f"gen:{fam}", scene_dsl.parse(text), content))
    return out


def _rasterizer():
    try:
        from dslkit.compilers.raster import to_png

        return "dslkit.compilers.raster.to_png", lambda svg: to_png(svg)
    except ImportError:
        import cairosvg

        return "cairosvg.svg2png", lambda svg: cairosvg.svg2png(bytestring=svg.text.encode("utf-8"))


def _clear_caches() -> None:
    from dslkit.compilers.scene_svg import text

    for fn in (text._units, text.clean_text, text._paragraphs):
        fn.cache_clear()


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the table (or JSON)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--raster-repeat", type=int, default=5)
    ap.add_argument(
        "--cold", action="store_true", help="clear measurement caches before each compile"
    )
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if hasattr(os, "sched_setaffinity"):
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from dslkit.compilers.scene_svg import compile_scene

    raster_name, raster = _rasterizer()
    rows = []
    for name, scene, content in _cases():
        svg = compile_scene(scene, content)  # warm imports and contract caches
        ct = []
        for _ in range(args.repeat):
            if args.cold:
                _clear_caches()
            t0 = time.perf_counter()
            compile_scene(scene, content)
            ct.append(time.perf_counter() - t0)
        rt = []
        for _ in range(args.raster_repeat):
            t0 = time.perf_counter()
            raster(svg)
            rt.append(time.perf_counter() - t0)
        rows.append(
            {
                "case": name,
                "compile_ms": statistics.median(ct) * 1e3,
                "raster_ms": statistics.median(rt) * 1e3,
            }
        )
    c = statistics.median(r["compile_ms"] for r in rows)
    r_ = statistics.median(r["raster_ms"] for r in rows)
    summary = {
        "cases": len(rows),
        "rasterizer": raster_name,
        "cold": args.cold,
        "compile_ms_median": round(c, 3),
        "compile_ms_max": round(max(r["compile_ms"] for r in rows), 3),
        "raster_ms_median": round(r_, 3),
        "scenes_per_s": round(1000.0 / c, 1),
        "compile_over_raster": round(c / r_, 4),
    }
    if args.json:
        print(json.dumps({"rows": rows, "summary": summary}, indent=2))
        return 0
    print(f"{'case':34s} {'compile ms':>10s} {'raster ms':>10s} {'ratio':>7s}")
    for row in rows:
        ratio = row["compile_ms"] / row["raster_ms"]
        print(f"{row['case']:34s} {row['compile_ms']:10.3f} {row['raster_ms']:10.3f} {ratio:7.3f}")
    print(
        f"\n{summary['cases']} cases ({'cold' if args.cold else 'warm'} caches, raster via {raster_name}): "
        f"compile median {c:.3f} ms (max {summary['compile_ms_max']:.3f}), raster median {r_:.3f} ms, "
        f"{summary['scenes_per_s']} scenes/s, compile/raster = {c / r_:.3f} "
        f"(targets: <= 5 ms, <= 0.2)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
