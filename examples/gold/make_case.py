"""Regenerate the derived files of gold cases from their hand-written scene.dsl.

    python examples/gold/make_case.py [CASE ...] [--no-goldens]

For each case folder (default: every folder here with a scene.dsl):

1. parse scene.dsl (a draft may be in either form) and rewrite it as the library's canonical
   block text, so the canonical text is never typed by hand;
2. write scene.row.dsl (canonical row form) and prompt.txt (explicit-prompt line);
3. validate against the contract and bind content.json, failing on any error or unused content;
4. unless --no-goldens, compile and write expected.svg / expected.png via the gold checker's
   update path (the same code ``python -m dslkit.compilers gold check --update`` runs).

Exits 1 when any case has an error.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # run from anywhere without installing

from dslkit.compilers.gold import check_case, find_cases, prompt_line  # noqa: E402

import scene_dsl  # noqa: E402


def make(case: Path, *, goldens: bool) -> bool:
    """Canonicalize one case and rebuild its derived files; True when it is clean."""
    draft = (case / "scene.dsl").read_text(encoding="utf-8")
    scene = scene_dsl.canonicalize(scene_dsl.parse(draft))
    (case / "scene.dsl").write_text(
        scene_dsl.to_text(scene, form="block"), encoding="utf-8", newline=""
    )
    (case / "scene.row.dsl").write_text(
        scene_dsl.to_text(scene, form="row"), encoding="utf-8", newline=""
    )
    (case / "prompt.txt").write_text(prompt_line(scene) + "\n", encoding="utf-8", newline="")
    content = json.loads((case / "content.json").read_text(encoding="utf-8"))
    problems = [d for d in scene_dsl.validate(scene, "v1", content) if d.is_error]
    problems += [d for d in scene_dsl.bind(scene, content).diagnostics]
    for d in problems:
        print(f"{case.name}: {d.headline()}")
    if problems or not goldens:
        return not problems
    result = check_case(case, update=True)
    for w in result.warnings:
        print(f"{case.name}: warning {w}")
    for m in result.messages:
        print(f"{case.name}: {m}")
    return result.ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("cases", nargs="*", help="case folder names (default: all)")
    parser.add_argument("--no-goldens", action="store_true", help="skip expected.svg/png")
    args = parser.parse_args(argv)
    cases = [HERE / c for c in args.cases] if args.cases else find_cases(HERE)
    ok = True
    for case in cases:
        ok = make(case, goldens=not args.no_goldens) and ok
    print(f"{len(cases)} cases, {'all clean' if ok else 'problems above'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
