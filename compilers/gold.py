"""Gold-pack checker: the gate a user runs before spending training compute.

A gold pack is a folder of case folders. Each case holds::

    scene.dsl        canonical block form (the exact-match target)
    scene.row.dsl    the same scene in row form
    content.json     the content every ref resolves into (nothing unused)
    prompt.txt       one explicit-prompt line: [task:svg] [layout:..] ... [OUT]
    expected.svg     the compiled SVG, byte for byte
    expected.png     its raster, GOLD_PNG_WIDTH px wide

:func:`check_gold_pack` runs, per case and in this order, the checks named in :data:`CHECKS`.
A check that cannot run because an earlier one failed counts as failed, with a reason.
``update=True`` rewrites the derived files (scene.row.dsl, expected.svg, expected.png) from
scene.dsl and content.json first; scene.dsl itself is never rewritten (it is the source).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dslkit import jsonio
from dslkit._extras import require
from dslkit.errors import DslkitError, InputError

__all__ = [
    "CHECKS",
    "GOLD_PNG_WIDTH",
    "SSIM_THRESHOLD",
    "CaseResult",
    "GoldReport",
    "check_case",
    "check_gold_pack",
    "find_cases",
    "prompt_line",
]

GOLD_PNG_WIDTH = 480  # small enough to review in a diff viewer, big enough to read the text
SSIM_THRESHOLD = 0.99  # rasterisers differ a little across cairo builds; layouts do not

# check name -> what it proves, in the order they run
CHECKS: dict[str, str] = {
    "files": "scene.dsl, scene.row.dsl, content.json, prompt.txt, expected.svg, expected.png exist",
    "parse": "scene.dsl and scene.row.dsl both parse",
    "forms_agree": "both forms give the same AST after canonicalization",
    "canonical": "scene.dsl equals canonical_text(scene, form='block') exactly",
    "row_canonical": "scene.row.dsl equals canonical_text(scene, form='row') exactly",
    "refs": "every content ref resolves in content.json",
    "content_used": "content.json holds nothing the scene does not reference",
    "contract": "the scene validates against the contract",
    "prompt": "prompt.txt is the one explicit-prompt line for the scene's attributes",
    "compile": "the scene compiles",
    "svg": "the compiled SVG equals expected.svg byte for byte",
    "png": f"the PNG's SSIM against expected.png is >= {SSIM_THRESHOLD}",
}

_REQUIRED_FILES = ("scene.dsl", "scene.row.dsl", "content.json", "prompt.txt")
_GOLDEN_FILES = ("expected.svg", "expected.png")
_PROMPT_ATTRS = ("layout", "topic", "theme", "tone", "density")


@dataclass(frozen=True, slots=True)
class CaseResult:
    """The outcome of every check on one case."""

    name: str  # case folder name
    family: str  # the scene's layout family ("" when scene.dsl does not parse)
    checks: dict[str, bool]  # check name -> passed, in CHECKS order
    ssim: float | None = None  # PNG SSIM against expected.png, when computed
    messages: tuple[str, ...] = ()  # why each failed check failed
    warnings: tuple[str, ...] = ()  # compiler warnings (text shrunk, ...); informative
    seconds: float = 0.0  # wall time of this case's checks

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return all(self.checks.values())

    def to_dict(self) -> dict[str, Any]:
        """The ``--json`` shape of one case."""
        return {
            "name": self.name,
            "family": self.family,
            "ok": self.ok,
            "checks": dict(self.checks),
            "ssim": self.ssim,
            "messages": list(self.messages),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class GoldReport:
    """Results of a whole gold pack."""

    directory: str  # the pack folder as given
    cases: tuple[CaseResult, ...] = ()  # one per case folder, sorted by name
    seconds: float = 0.0  # wall time of the whole check
    updated: tuple[str, ...] = field(default=())  # files rewritten by update=True

    @property
    def ok(self) -> bool:
        """True when the pack has cases and every case passed."""
        return bool(self.cases) and all(c.ok for c in self.cases)

    @property
    def failures(self) -> tuple[CaseResult, ...]:
        """The cases with at least one failed check."""
        return tuple(c for c in self.cases if not c.ok)

    def to_dict(self) -> dict[str, Any]:
        """``{"cases": [...], "ok": bool}`` plus timing, as printed by ``gold check --json``."""
        return {
            "cases": [c.to_dict() for c in self.cases],
            "ok": self.ok,
            "seconds": round(self.seconds, 3),
            "updated": list(self.updated),
        }

    def format(self) -> str:
        """Human summary: one line per case, failed checks with their reasons."""
        lines = []
        for c in self.cases:
            mark = "ok  " if c.ok else "FAIL"
            ssim = "" if c.ssim is None else f" ssim={c.ssim:.4f}"
            lines.append(f"{mark} {c.name} [{c.family}]{ssim}")
            lines.extend(f"     {m}" for m in c.messages)
        passed = sum(c.ok for c in self.cases)
        lines.append(f"{passed}/{len(self.cases)} cases pass ({self.seconds:.2f} s)")
        if not self.cases:
            lines.append(f"no case folders (with a scene.dsl) under {self.directory}")
        return "\n".join(lines)


def find_cases(directory: str | Path) -> list[Path]:
    """Case folders of a pack: sub-folders holding a ``scene.dsl``, sorted by name.

    Args:
        directory: the pack folder.

    Returns:
        Sorted case folder paths.
    """
    root = Path(directory)
    return sorted(p.parent for p in root.glob("*/scene.dsl"))


def prompt_line(scene: Any, contract: str = "v1") -> str:
    """The explicit-prompt line for a scene: ``[task:svg] [layout:..] ... [OUT]``.

    Attributes the scene leaves out take the contract default, so the prompt always names
    layout, topic, theme, tone and density.

    Args:
        scene: a parsed :class:`scene_dsl.Scene`.
        contract: the contract that supplies defaults.

    Returns:
        The line, without a trailing newline.
    """
    from scene_dsl import load_contract

    spec = load_contract(contract)
    parts = ["[task:svg]"]
    for key in _PROMPT_ATTRS:
        value = scene.attr(key)
        if value is None:
            attr = spec.attribute(key)
            value = attr.default if attr is not None else None
        parts.append(f"[{key}:{value if value is not None else 'none'}]")
    parts.append("[OUT]")
    return " ".join(parts)


class _Case:
    """Mutable bookkeeping while one case is checked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.checks: dict[str, bool] = dict.fromkeys(CHECKS, False)
        self.messages: list[str] = []
        self.warnings: list[str] = []

    def fail(self, check: str, why: str) -> None:
        self.checks[check] = False
        self.messages.append(f"{check}: {why}")

    def skip(self, checks: list[str], because: str) -> None:
        for name in checks:
            self.fail(name, f"not run ({because})")


def _read(path: Path) -> str:
    # newline="" keeps CRLF visible: a CRLF scene.dsl is not canonical and must fail.
    with path.open(encoding="utf-8", newline="") as fh:
        return fh.read()


def _diag_lines(diags: Any, limit: int = 5) -> str:
    shown = [d.headline() for d in list(diags)[:limit]]
    more = len(list(diags)) - limit
    return "; ".join(shown) + (f"; ... {more} more" if more > 0 else "")


def _png_ssim(png: bytes, expected: bytes) -> float | None:
    from dslkit.compilers.raster import png_to_array

    require("skimage", extra="render", feature="the gold-pack PNG check")
    from skimage.metrics import structural_similarity

    a, b = png_to_array(png), png_to_array(expected)
    if a.shape != b.shape:
        return None
    return float(structural_similarity(a, b, channel_axis=2, data_range=255))


def check_case(path: str | Path, *, update: bool = False, contract: str = "v1") -> CaseResult:
    """Run every check of :data:`CHECKS` on one case folder.

    Args:
        path: the case folder.
        update: rewrite scene.row.dsl, expected.svg and expected.png from scene.dsl first.
        contract: contract name the scene is validated and compiled against.

    Returns:
        The :class:`CaseResult`; never raises for a broken case (failures are results).
    """
    import scene_dsl

    start = time.perf_counter()
    case = _Case(Path(path))
    family = ""
    ssim: float | None = None
    try:
        family, ssim = _run_checks(case, update=update, contract=contract, sd=scene_dsl)
    except DslkitError as exc:  # a toolkit error the checks did not anticipate: still a result
        case.messages.append(f"error: {exc.message.splitlines()[0] if exc.message else exc!r}")
    except Exception as exc:  # a compiler bug must fail this case, not hide the other cases
        case.messages.append(f"internal error (a bug, please report): {type(exc).__name__}: {exc}")
    return CaseResult(
        name=case.path.name,
        family=family,
        checks=case.checks,
        ssim=None if ssim is None else round(ssim, 6),
        messages=tuple(case.messages),
        warnings=tuple(case.warnings),
        seconds=time.perf_counter() - start,
    )


def _run_checks(case: _Case, *, update: bool, contract: str, sd: Any) -> tuple[str, float | None]:
    p = case.path
    names = list(CHECKS)
    missing = [f for f in _REQUIRED_FILES if not (p / f).is_file()]
    if "scene.dsl" in missing or "content.json" in missing:
        case.fail("files", f"missing {', '.join(missing)}")
        case.skip(names[1:], "required files missing")
        return "", None

    block_text = _read(p / "scene.dsl")
    try:
        scene = sd.parse(block_text, contract=contract)
    except DslkitError as exc:
        case.fail("parse", f"scene.dsl: {_diag_lines(exc.diagnostics) or exc}")
        case.skip(names[2:], "scene.dsl does not parse")
        case.checks["files"] = not missing
        return "", None
    family = scene.layout or ""
    canon = sd.canonicalize(scene, contract)
    row_canonical = sd.to_text(canon, form="row", contract=contract)
    try:
        content = jsonio.loads(_read(p / "content.json"), source="content.json")
    except InputError as exc:
        content = None
        d = exc.diagnostic
        where = f" @ {d.line}:{d.column}" if d is not None and d.line else ""
        content_error = f"content.json is not JSON{where}: {d.message if d else exc}"
    else:
        content_error = ""

    svg_obj = None
    if update and content is not None:
        svg_obj = _compile(case, canon, content, contract)
        if svg_obj is not None:
            _write_goldens(p, row_canonical, svg_obj)
            missing = [f for f in _REQUIRED_FILES if not (p / f).is_file()]

    absent = missing + [f for f in _GOLDEN_FILES if not (p / f).is_file()]
    case.checks["files"] = not absent
    if absent:
        case.messages.append(f"files: missing {', '.join(absent)}")

    # parse + forms_agree
    row_scene = None
    if (p / "scene.row.dsl").is_file():
        try:
            row_scene = sd.parse(_read(p / "scene.row.dsl"), contract=contract)
        except DslkitError as exc:
            case.fail("parse", f"scene.row.dsl: {_diag_lines(exc.diagnostics) or exc}")
        else:
            case.checks["parse"] = True
    else:
        case.fail("parse", "scene.row.dsl missing")
    if row_scene is None:
        case.skip(["forms_agree"], "scene.row.dsl unavailable")
    elif sd.canonicalize(row_scene, contract) == canon:
        case.checks["forms_agree"] = True
    else:
        case.fail("forms_agree", "scene.row.dsl parses to a different scene than scene.dsl")

    # canonical texts
    block_canonical = sd.to_text(canon, form="block", contract=contract)
    if block_text == block_canonical:
        case.checks["canonical"] = True
    else:
        case.fail("canonical", _first_difference(block_text, block_canonical, "scene.dsl"))
    if row_scene is not None:
        row_text = _read(p / "scene.row.dsl")
        if row_text == row_canonical:
            case.checks["row_canonical"] = True
        else:
            case.fail("row_canonical", _first_difference(row_text, row_canonical, "scene.row.dsl"))
    else:
        case.skip(["row_canonical"], "scene.row.dsl unavailable")

    # content binding
    if content is None:
        case.fail("refs", content_error)
        case.skip(["content_used"], "content.json unreadable")
    else:
        binding = sd.bind(canon, content, contract=contract)
        unresolved = [d for d in binding.diagnostics if d.is_error]
        unused = [d for d in binding.diagnostics if d.code == "S602"]
        if unresolved:
            case.fail("refs", _diag_lines(unresolved))
        else:
            case.checks["refs"] = True
        if unused:
            case.fail("content_used", _diag_lines(unused))
        else:
            case.checks["content_used"] = True

    # contract
    errors = [d for d in sd.validate(canon, contract, source=block_text) if d.is_error]
    if errors:
        case.fail("contract", _diag_lines(errors))
    else:
        case.checks["contract"] = True

    # prompt
    expected_prompt = prompt_line(canon, contract)
    if not (p / "prompt.txt").is_file():
        case.fail("prompt", "prompt.txt missing")
    else:
        got = _read(p / "prompt.txt")
        if got.rstrip("\n") == expected_prompt and got.count("\n") <= 1:
            case.checks["prompt"] = True
        else:
            case.fail("prompt", f"expected {expected_prompt!r}, found {got.strip()[:120]!r}")

    # compile + goldens
    if content is None:
        case.skip(["compile", "svg", "png"], "content.json unreadable")
        return family, None
    if svg_obj is None:
        svg_obj = _compile(case, canon, content, contract)
    if svg_obj is None:
        case.skip(["svg", "png"], "the scene does not compile")
        return family, None
    case.checks["compile"] = True
    case.warnings.extend(d.headline() for d in getattr(svg_obj, "warnings", ()))
    return family, _compare_goldens(case, svg_obj)


def _compile(case: _Case, scene: Any, content: Any, contract: str) -> Any:
    from dslkit.compilers.scene_svg import compile_scene

    try:
        return compile_scene(scene, content, contract=contract)
    except DslkitError as exc:
        case.fail("compile", _diag_lines(exc.diagnostics) or str(exc))
        return None


def _write_goldens(p: Path, row_text: str, svg_obj: Any) -> None:
    from dslkit.compilers.raster import to_png

    (p / "scene.row.dsl").write_text(row_text, encoding="utf-8", newline="")
    (p / "expected.svg").write_bytes(svg_obj.text.encode("utf-8"))
    (p / "expected.png").write_bytes(to_png(svg_obj.text, width=GOLD_PNG_WIDTH))


def _compare_goldens(case: _Case, svg_obj: Any) -> float | None:
    from dslkit.compilers.raster import to_png

    p = case.path
    if (p / "expected.svg").is_file():
        want = (p / "expected.svg").read_bytes()
        got = svg_obj.text.encode("utf-8")
        if got == want:
            case.checks["svg"] = True
        else:
            case.fail(
                "svg",
                _first_difference(want.decode("utf-8", "replace"), svg_obj.text, "expected.svg"),
            )
    else:
        case.fail("svg", "expected.svg missing (run with --update)")
    if not (p / "expected.png").is_file():
        case.fail("png", "expected.png missing (run with --update)")
        return None
    ssim = _png_ssim(to_png(svg_obj.text, width=GOLD_PNG_WIDTH), (p / "expected.png").read_bytes())
    if ssim is None:
        case.fail("png", "expected.png has a different size than the render")
    elif ssim >= SSIM_THRESHOLD:
        case.checks["png"] = True
    else:
        case.fail("png", f"SSIM {ssim:.4f} < {SSIM_THRESHOLD}")
    return ssim


def _first_difference(have: str, want: str, label: str) -> str:
    """Where two texts first differ, as line:column with both lines shown."""
    if have == want:
        return f"{label}: identical"
    hl, wl = have.split("\n"), want.split("\n")
    for i, (a, b) in enumerate(zip(hl, wl, strict=False)):
        if a != b:
            col = next(
                (j for j, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
                min(len(a), len(b)),
            )
            return f"{label} differs @ {i + 1}:{col + 1}: has {a[:80]!r}, expected {b[:80]!r}"
    line = min(len(hl), len(wl)) + 1
    return f"{label} differs @ {line}:1: has {len(hl)} lines, expected {len(wl)}"


def check_gold_pack(
    directory: str | Path, *, update: bool = False, contract: str = "v1"
) -> GoldReport:
    """Check (or with ``update=True`` regenerate, then check) every case of a gold pack.

    Args:
        directory: the pack folder; its case folders are the sub-folders with a scene.dsl.
        update: rewrite scene.row.dsl, expected.svg and expected.png from scene.dsl and
            content.json before checking. Use only to accept a reviewed compiler change.
        contract: contract name to validate and compile against.

    Returns:
        A :class:`GoldReport`; ``report.ok`` is the gate.

    Raises:
        NotADirectoryError: ``directory`` is not a folder.
    """
    root = Path(directory)
    if not root.is_dir():
        raise NotADirectoryError(f"gold pack folder not found: {root}")
    start = time.perf_counter()
    results = []
    updated: list[str] = []
    for case_dir in find_cases(root):
        before = _stamp(case_dir) if update else {}
        results.append(check_case(case_dir, update=update, contract=contract))
        if update:
            after = _stamp(case_dir)
            updated.extend(
                f"{case_dir.name}/{n}" for n in sorted(after) if after[n] != before.get(n)
            )
    return GoldReport(
        directory=str(directory),
        cases=tuple(results),
        seconds=time.perf_counter() - start,
        updated=tuple(updated),
    )


def _stamp(case_dir: Path) -> dict[str, bytes]:
    out = {}
    for name in ("scene.row.dsl", *_GOLDEN_FILES):
        f = case_dir / name
        if f.is_file():
            out[name] = f.read_bytes()
    return out
