"""Read (and, when the compilers are installed, compile) the real CKE v7 scene corpus.

The C-Kernel-Engine repository is not part of dslkit (and has no license): point this script
at a checkout's ``version/v7/artifacts/svg_dsl`` folder. For every ``*.dsl`` file under it:

- the dialect :func:`scene_dsl.recognize` gives it (text only, no folder names);
- whether it reads clean with its content.json: no error from ``scene_dsl.check(text,
  dialect="auto", content=...)``. Pairing (catalogue §0.1): ``<stem>.content.json`` beside the
  scene, except that a compact scene with a ``<stem>.content.compact.json`` pairs with that
  (the spec12 tables); literal-slug files (d4) have no content;
- whether its canonical text is idempotent (``canonical_text`` of the canonical text is itself);
- whether read -> canonical -> write back to its own dialect gives the same tokens;
- with ``dslkit.compilers`` importable: whether it compiles to well-formed SVG, and the S703
  (content key left undrawn) warnings.

Targets (issue 11): 138/138 read clean with content, canonical idempotent on all 138. Run:
``python benchmarks/cke_corpus.py --corpus /path/to/svg_dsl [--json] [--no-compile]`` (or set
``CKE_CORPUS``; without either it prints that it skipped, so ``make bench`` runs anywhere).
"""

from __future__ import annotations

import os
import sys

# Put the repository root first, so the checkout is measured without installing.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import collections
import json
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import scene_dsl


def content_for(path: Path, dialect: str) -> tuple[Path | None, Any]:
    """The content.json a scene file pairs with (``None`` for d4, which has none)."""
    if dialect == "d4":
        return None, None
    stem = path.name.split(".scene")[0]
    compact = path.with_name(f"{stem}.content.compact.json")
    if path.name.endswith(".scene.compact.dsl") and compact.exists():
        chosen = compact
    else:
        chosen = path.with_name(f"{stem}.content.json")
    if not chosen.exists():
        return chosen, None
    return chosen, json.loads(chosen.read_text("utf-8"))


def measure(path: Path, root: Path, compile_scene: Any) -> dict[str, Any]:
    text = path.read_text("utf-8")
    dialect = scene_dsl.recognize(text)
    content_path, content = content_for(path, dialect)
    row: dict[str, Any] = {"file": str(path.relative_to(root)), "dialect": dialect}
    row["content"] = str(content_path.relative_to(root)) if content_path else None
    if content_path is not None and content is None:
        row["errors"] = [f"missing content file {content_path.name}"]
        row["clean"] = False
        return row
    diags = scene_dsl.check(text, dialect="auto", content=content)
    errors = [d.headline() for d in diags if d.is_error]
    row["errors"] = errors
    row["warnings"] = [d.headline() for d in diags if not d.is_error]
    row["clean"] = not errors
    if errors:
        return row
    scene = scene_dsl.canonicalize(scene_dsl.parse(text, dialect="auto"))
    canonical = scene_dsl.to_text(scene)
    row["idempotent"] = scene_dsl.canonical_text(canonical) == canonical
    row["same_tokens"] = scene_dsl.to_text(scene, dialect=dialect).split() == text.split()
    if compile_scene is not None:
        try:
            svg = compile_scene(scene, content or {}, contract=scene_dsl.load_contract())
            ET.fromstring(svg.text)
            row["compiled"] = True
            row["s703"] = [d.message for d in svg.warnings if d.code == "S703"]
        except Exception as exc:  # a measurement: every failure is a result, not a stop
            row["compiled"] = False
            row["compile_error"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:160]}"
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--corpus",
        default=os.environ.get("CKE_CORPUS"),
        help="the CKE version/v7/artifacts/svg_dsl folder (default: $CKE_CORPUS)",
    )
    ap.add_argument("--json", action="store_true", help="one JSON object per file, then a total")
    ap.add_argument("--no-compile", action="store_true", help="only read, never compile")
    args = ap.parse_args()
    if not args.corpus:
        print("skipped: no CKE corpus given (--corpus or $CKE_CORPUS)")
        return 0
    root = Path(args.corpus)
    files = sorted(root.rglob("*.dsl")) if root.is_dir() else []
    if not files:
        print(f"skipped: no CKE corpus (*.dsl files) under {root}")
        return 0
    compile_scene = None
    if not args.no_compile:
        try:
            from dslkit.compilers.scene_svg import compile_scene
        except ImportError as exc:
            print(f"(not compiling: dslkit.compilers is not importable: {exc})")
    start = time.perf_counter()
    rows = [measure(p, root, compile_scene) for p in files]
    seconds = time.perf_counter() - start
    by_dialect = collections.Counter(r["dialect"] for r in rows)
    clean = [r for r in rows if r["clean"]]
    total = {
        "files": len(rows),
        "by_dialect": dict(sorted(by_dialect.items())),
        "with_content": sum(r["content"] is not None for r in rows),
        "read_clean": len(clean),
        "read_clean_no_warning": sum(not r["warnings"] for r in clean),
        "canonical_idempotent": sum(bool(r.get("idempotent")) for r in rows),
        "same_tokens_in_own_dialect": sum(bool(r.get("same_tokens")) for r in rows),
        "seconds": round(seconds, 2),
    }
    if compile_scene is not None:
        compiled = [r for r in rows if r.get("compiled")]
        total["compiled"] = len(compiled)
        total["compiled_without_s703"] = sum(not r["s703"] for r in compiled)
        total["s703_warnings"] = sum(len(r["s703"]) for r in compiled)
    if args.json:
        for r in rows:
            print(json.dumps(r))
        print(json.dumps({"total": total}))
        return 0
    for r in rows:
        if not r["clean"] or not r.get("idempotent") or r.get("compiled") is False:
            why = r["errors"][:2] or [r.get("compile_error", "not idempotent")]
            print(f"  {r['file']} [{r['dialect']}]: {'; '.join(why)}")
    n = total["files"]
    print(f"files: {n} {total['by_dialect']}, {total['with_content']} with a content file")
    print(
        f"read clean with content: {total['read_clean']}/{n} (no warning at all: {total['read_clean_no_warning']})"
    )
    print(f"canonical text idempotent: {total['canonical_idempotent']}/{n}")
    print(
        f"read -> canonical -> own dialect, same tokens: {total['same_tokens_in_own_dialect']}/{n}"
    )
    if compile_scene is not None:
        print(
            f"compiled to well-formed SVG: {total['compiled']}/{n}, without S703: "
            f"{total['compiled_without_s703']} ({total['s703_warnings']} S703 warnings)"
        )
    ok = total["read_clean"] == n and total["canonical_idempotent"] == n
    print(
        f"target 138/138 clean and idempotent on all: {'OK' if ok and n == 138 else 'MISSED'} ({seconds:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
