"""The probe: the decision surface of a run, for any ``generate(prompt) -> text`` callable.

A probe runs a fixed, versioned list of cases (the *probe contract*) through a generator and
scores every output twice, raw and after deterministic repair (``scene_dsl.repair``), so a
formatting problem can never pass for a knowledge problem or the other way round::

    cases = load_cases("examples/probes/demo.jsonl")
    report = run(lambda prompt: my_model(prompt), cases)
    print(report.scene["raw"].exact_rate, report.scene["repaired"].exact_rate)

Scene cases get exact / renderable / materialized-exact / truncation / prefix / suffix / nesting
/ duplicate / leak rates, per family and per split, and each case one primary failure class with
its mismatched fields. Trace cases get parse, valid-trace and accuracy rates, mean reward and
status counts from the solver's ladder. :func:`interpret` turns a scoreboard into written
findings. Reports over different probe contracts cannot be compared (:class:`ProbeMismatchError`).

Nothing here imports torch: the generator is the only model-facing piece.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import scene_dsl
from dslkit.errors import ContractError, Diagnostic, DslkitError
from scene_dsl.ast import Component, Scene

__all__ = [
    "FAILURE_PRIORITY",
    "SPLITS",
    "CaseResult",
    "Finding",
    "ProbeCase",
    "ProbeMismatchError",
    "ProbeReport",
    "ProbeSet",
    "SceneScore",
    "Scoreboard",
    "TraceScoreboard",
    "compare",
    "interpret",
    "load_cases",
    "load_report",
    "run",
    "save_cases",
    "score_scene",
]

SPLITS = ("train", "dev", "test", "hidden")
PROBE_FORMAT = "dslkit-probe"  # header marker of a probe contract file
PROBE_FORMAT_VERSION = 1

# One primary failure class per case. Structural failures come first: they hide everything
# behind them. Drifts (the model drew the wrong thing) come before contract and binding
# diagnostics because a wrong layout is usually *why* components stop fitting the family.
FAILURE_PRIORITY: tuple[str, ...] = (
    "no_output",
    "special_token_leak",
    "budget_truncation",
    "scene_prefix_failure",
    "scene_suffix_failure",
    "block_nesting_failure",
    "duplicate_attr",
    "syntax_error",
    "limit_exceeded",
    "layout_drift",
    "theme_tone_drift",
    # any other diagnostic failure class (unknown_value, unresolved_ref, ...) goes here
    "render_failure",
    "renderable_but_not_exact",
    "exact_but_not_materialized",
)

_SPECIAL_RE = re.compile(r"<\|[^|<>\s]{0,32}\|>|</s>|<s>|\[(?:OUT|IN)\]")
_PROMPT_TAG_RE = re.compile(r"\[(?:task|goal|audience|bos|eos|pad):[^\]\s]*\]")


class ProbeMismatchError(ContractError):
    """Two probe reports were built from different probe contracts and cannot be compared."""


# --------------------------------------------------------------------------- probe contracts


@dataclass(frozen=True)
class ProbeCase:
    """One probe case: a prompt and what a correct generator answers."""

    id: str  # stable within its probe contract
    prompt: str  # exactly what the generator receives
    expected: str  # the target text (scene DSL in its training form, or trace text)
    split: str = "test"  # train | dev | test | hidden
    family: str = ""  # layout family (scenes) or expert (traces); "" = from the target
    kind: str = "scene"  # "scene" | "trace"
    content: Mapping[str, Any] | None = None  # content.json the scene binds to
    answer: Any = None  # trace: the gold answer (number, numeric string or list)
    expert: str | None = None  # trace: the expert the trace must use

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of one line of a probe contract file."""
        out = asdict(self)
        out["content"] = dict(self.content) if self.content is not None else None
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "") -> ProbeCase:
        """Build a case from one JSON object, naming ``where`` in errors."""
        known = {f for f in cls.__dataclass_fields__}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ContractError(f"{where}unknown probe case key {unknown[0]!r}")
        for key in ("id", "prompt", "expected"):
            if not isinstance(data.get(key), str):
                raise ContractError(f"{where}probe case needs a string {key!r}")
        case = cls(**dict(data))
        if case.kind not in ("scene", "trace"):
            raise ContractError(
                f"{where}probe case kind must be 'scene' or 'trace', got {case.kind!r}"
            )
        if case.split not in SPLITS:
            raise ContractError(
                f"{where}probe case split must be one of {SPLITS}, got {case.split!r}"
            )
        return case


@dataclass(frozen=True)
class ProbeSet:
    """A versioned probe contract: a named list of cases and the hash that pins it."""

    name: str
    version: int
    cases: tuple[ProbeCase, ...]

    @property
    def hash(self) -> str:
        """sha256 (16 hex digits) of name, version and every case: any edit changes it."""
        return probe_hash(self.name, self.version, self.cases)


def probe_hash(name: str, version: int, cases: Sequence[ProbeCase]) -> str:
    """Content hash of a probe contract (key order and whitespace do not matter).

    Args:
        name: probe contract name.
        version: its version number.
        cases: the cases, in order.

    Returns:
        16 hex digits of sha256 over the canonical JSON.
    """
    body = {"name": name, "version": version, "cases": [c.to_dict() for c in cases]}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def save_cases(
    path: str | Path, cases: Iterable[ProbeCase], *, name: str, version: int = 1
) -> ProbeSet:
    """Write a probe contract: a header line, then one case per line.

    Args:
        path: the ``.jsonl`` file to write.
        cases: the cases.
        name: the contract's name (e.g. ``"demo-scenes"``).
        version: bump it whenever the cases change on purpose.

    Returns:
        The written :class:`ProbeSet` (with its hash).
    """
    probe = ProbeSet(name, version, tuple(cases))
    ids = [c.id for c in probe.cases]
    if len(set(ids)) != len(ids):
        raise ContractError(f"probe {name!r}: case ids must be unique")
    header = {
        "format": PROBE_FORMAT,
        "format_version": PROBE_FORMAT_VERSION,
        "name": name,
        "version": version,
        "hash": probe.hash,
    }
    lines = [json.dumps(header, sort_keys=True)]
    lines += [json.dumps(c.to_dict(), sort_keys=True, ensure_ascii=False) for c in probe.cases]
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text("\n".join(lines) + "\n", encoding="utf-8")
    return probe


def load_cases(path: str | Path) -> ProbeSet:
    """Read a probe contract written by :func:`save_cases`.

    Args:
        path: the ``.jsonl`` file.

    Returns:
        The :class:`ProbeSet`.

    Raises:
        ContractError: unreadable file, bad JSON (with its line), missing header, unknown keys,
            duplicate ids, or a stored hash that does not match the cases (the file was edited
            without bumping its version).
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as e:
        raise ContractError(f"cannot read probe contract {path}: {e}") from e
    records: list[tuple[int, Any]] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append((number, json.loads(line)))
        except json.JSONDecodeError as e:
            raise ContractError(f"{path}:{number}:{e.colno}: not JSON: {e.msg}") from e
    if (
        not records
        or not isinstance(records[0][1], dict)
        or records[0][1].get("format") != PROBE_FORMAT
    ):
        raise ContractError(
            f"{path}:1:1: a probe contract starts with a header line "
            f'{{"format": "{PROBE_FORMAT}", "name": ..., "version": ...}}'
        )
    header = records[0][1]
    cases = []
    for number, rec in records[1:]:
        if not isinstance(rec, dict):
            raise ContractError(f"{path}:{number}:1: a probe case is a JSON object")
        cases.append(ProbeCase.from_dict(rec, where=f"{path}:{number}:1: "))
    ids = [c.id for c in cases]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise ContractError(f"{path}: duplicate probe case id {dup!r}")
    probe = ProbeSet(
        str(header.get("name", path.stem)), int(header.get("version", 1)), tuple(cases)
    )
    stored = header.get("hash")
    if stored and stored != probe.hash:
        raise ContractError(
            f"{path}:1:1: stored hash {stored} does not match the cases ({probe.hash}): the "
            "contract was edited; bump its version and rewrite it with save_cases"
        )
    return probe


# --------------------------------------------------------------------------- generator output


@dataclass(frozen=True)
class _Output:
    text: str
    hit_budget: bool | None  # None: the generator did not say (plain str)


def _coerce_output(out: Any) -> _Output:
    """Accept a str, a ``(text, hit_budget)`` pair, or an object with ``text`` and ``hit_budget``."""
    if isinstance(out, str):
        return _Output(out, None)
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], str):
        return _Output(out[0], None if out[1] is None else bool(out[1]))
    text = getattr(out, "text", None)
    if not isinstance(text, str):
        raise TypeError(
            f"generate() must return str or an object with .text, got {type(out).__name__}"
        )
    hit = getattr(out, "hit_budget", None)
    if callable(hit):
        hit = hit()
    return _Output(text, None if hit is None else bool(hit))


# --------------------------------------------------------------------------- scene scoring


@dataclass(frozen=True)
class SceneScore:
    """How one scene output fares (raw or repaired)."""

    text: str  # the scored text
    parses: bool  # no syntax-level error (frame, tokens, nesting, leaks)
    renderable: bool  # parses, validates against contract + content, and compiles
    exact: bool  # canonical AST equals the expected one
    materialized_exact: bool | None  # compiled SVG equals the expected SVG (None: no compiler)
    truncated: bool  # a correct prefix of the target, cut at the token budget
    hit_budget: bool | None
    missing_scene_start: bool
    missing_scene_end: bool
    duplicate_attr: bool
    block_nesting_error: bool
    special_token_leak: bool
    failure_class: str  # "" when exact (and materialized-exact where measurable)
    mismatched: tuple[str, ...]  # fields that differ from the expected scene
    diagnostics: tuple[dict[str, Any], ...]  # every diagnostic, as dicts
    svg: str | None = None  # the compiled SVG of this output, when it compiles


_SYNTAX_CLASSES = frozenset(
    {
        "scene_prefix_failure",
        "scene_suffix_failure",
        "block_nesting_failure",
        "syntax_error",
        "special_token_leak",
        "limit_exceeded",
    }
)

Compile = Callable[[Scene, Mapping[str, Any]], Any]


def _svg_text(svg: Any) -> str:
    if isinstance(svg, str):
        return svg
    if isinstance(svg, bytes):
        return svg.decode("utf-8")
    for attr in ("text", "svg", "source", "data"):
        value = getattr(svg, attr, None)
        if isinstance(value, str):
            return value
        if isinstance(value, bytes):
            return value.decode("utf-8")
    return str(svg)


def default_compiler() -> Compile | None:
    """``dslkit.compilers.compile_scene`` when the scene compiler is installed, else None."""
    try:
        from dslkit import compilers

        return compilers.compile_scene
    except (ImportError, AttributeError):
        return None


def _tokens(text: str) -> list[str]:
    return text.split()


def _is_truncated(actual: str, expected: str, hit_budget: bool | None) -> bool:
    """A strict, correct prefix of the target (the last token may be cut mid-way)."""
    if hit_budget is False:
        return False  # the generator stopped on its own: whatever it is, it is not a cut
    got, want = _tokens(actual), _tokens(expected)
    if not got or len(got) > len(want):
        return False
    if got[:-1] != want[: len(got) - 1] or not want[len(got) - 1].startswith(got[-1]):
        return False
    return got != want


def _scene_diff(expected: Scene, actual: Scene | None) -> tuple[str, ...]:
    """Human-readable list of what differs, attributes first, then components in order."""
    if actual is None:
        return ("scene: nothing parsed",)
    out: list[str] = []
    exp_attrs = {a.key: a.value for a in expected.attrs}
    act_attrs = {a.key: a.value for a in actual.attrs}
    for key in list(exp_attrs) + [k for k in act_attrs if k not in exp_attrs]:
        if exp_attrs.get(key) != act_attrs.get(key):
            out.append(f"attr {key}: expected {exp_attrs.get(key)!r}, got {act_attrs.get(key)!r}")
    for key, count in Counter(a.key for a in actual.attrs).items():
        if count > 1:
            out.append(f"attr {key}: written {count} times")
    exp_c, act_c = expected.components, actual.components
    if len(exp_c) != len(act_c):
        out.append(f"components: expected {len(exp_c)}, got {len(act_c)}")
    for i, (e, a) in enumerate(zip(exp_c, act_c, strict=False)):
        out.extend(_component_diff(f"component {i}", e, a))
    for i in range(len(act_c), len(exp_c)):
        out.append(f"component {i}: missing {exp_c[i].name}")
    for i in range(len(exp_c), len(act_c)):
        out.append(f"component {i}: extra {act_c[i].name}")
    return tuple(out[:40])


def _component_diff(where: str, e: Component, a: Component) -> list[str]:
    if e.name != a.name:
        return [f"{where}: expected {e.name}, got {a.name}"]
    out = []
    ef = [(f.name, f.value) for f in e.fields]
    af = [(f.name, f.value) for f in a.fields]
    if ef != af:
        exp_d, act_d = dict(ef), dict(af)
        for key in list(exp_d) + [k for k in act_d if k not in exp_d]:
            if exp_d.get(key) != act_d.get(key):
                out.append(
                    f"{where} {e.name}.{key}: expected {exp_d.get(key)!r}, got {act_d.get(key)!r}"
                )
        if not out:
            out.append(f"{where} {e.name}: repeated fields differ in order or count")
    if len(e.children) != len(a.children):
        out.append(f"{where} {e.name}: expected {len(e.children)} children, got {len(a.children)}")
    for j, (ec, ac) in enumerate(zip(e.children, a.children, strict=False)):
        out.extend(_component_diff(f"{where}.{j}", ec, ac))
    return out


def _primary_class(
    diags: Sequence[Diagnostic],
    truncated: bool,
    leak: bool,
    expected: Scene,
    actual: Scene | None,
    renderable: bool,
    exact: bool,
    materialized: bool | None,
    render_class: str,
    empty: bool,
) -> str:
    if exact and materialized is not False:
        return ""
    errors = [d for d in diags if d.is_error]
    classes = {d.failure_class for d in errors}
    if actual is not None and not errors and renderable is False and not render_class:
        classes.add("scene_suffix_failure")  # only the end marker is missing
    if empty:
        return "no_output"
    if leak:
        return "special_token_leak"
    if truncated:
        return "budget_truncation"
    for cls in FAILURE_PRIORITY[3:9]:
        if cls in classes:
            return cls
    if actual is not None and actual.layout != expected.layout:
        return "layout_drift"
    if actual is not None and any(actual.attr(k) != expected.attr(k) for k in ("theme", "tone")):
        return "theme_tone_drift"
    if errors:  # contract and binding classes, first by position
        return sorted(errors, key=lambda d: (d.line, d.column))[0].failure_class
    if not renderable:
        return render_class or "render_failure"
    if not exact:
        return "renderable_but_not_exact"
    return "exact_but_not_materialized"


def score_scene(
    text: str,
    expected: Scene,
    *,
    expected_text: str,
    content: Mapping[str, Any] | None,
    hit_budget: bool | None = None,
    compile: Compile | None = None,
    expected_svg: str | None = None,
    contract: str = "v1",
) -> SceneScore:
    """Score one scene output against the expected scene.

    Args:
        text: the generated (or repaired) text.
        expected: the expected scene, canonicalized.
        expected_text: the target text as trained (for the truncation prefix test).
        content: the case's content.json (refs are then checked and the scene compiled).
        hit_budget: whether generation ran out of budget (None: unknown).
        compile: ``(scene, content) -> svg``; None skips compiling (materialized is None).
        expected_svg: the expected scene's compiled SVG text.
        contract: contract name.

    Returns:
        A :class:`SceneScore`.
    """
    diags = scene_dsl.check(text, contract=contract, content=content)
    parsed = scene_dsl.parse(text, errors="collect", contract=contract).scene
    actual = scene_dsl.canonicalize(parsed, contract) if parsed is not None else None
    errors = [d for d in diags if d.is_error]
    codes = {d.code for d in errors}
    missing_end = "S002" in codes or "[/scene]" not in text.split()
    if missing_end:
        # A block left open because the output stops (S203 at the end of input) is the missing
        # end showing through, not a nesting mistake: count it once, as a missing end.
        errors = [d for d in errors if d.code != "S203"]
    classes = {d.failure_class for d in errors}
    leak = "S401" in codes or bool(_SPECIAL_RE.search(text) or _PROMPT_TAG_RE.search(text))
    parses = actual is not None and not (classes & _SYNTAX_CLASSES) and not missing_end
    exact = parses and actual == expected
    svg: str | None = None
    render_class = ""
    compiles = not errors and parses
    if compiles and compile is not None and content is not None:
        try:
            svg = _svg_text(compile(actual, content))  # type: ignore[arg-type]
        except DslkitError as e:
            compiles = False
            render_class = e.diagnostic.failure_class if e.diagnostic else "render_failure"
    renderable = parses and compiles
    materialized: bool | None = None
    if compile is not None and expected_svg is not None:
        materialized = svg is not None and svg == expected_svg
    truncated = _is_truncated(text, expected_text, hit_budget)
    fail = _primary_class(
        errors,
        truncated,
        leak,
        expected,
        actual,
        renderable,
        exact,
        materialized,
        render_class,
        not text.strip(),
    )
    return SceneScore(
        text=text,
        parses=parses,
        renderable=renderable,
        exact=exact,
        materialized_exact=materialized,
        truncated=truncated,
        hit_budget=hit_budget,
        missing_scene_start="S001" in codes,
        missing_scene_end=missing_end,
        duplicate_attr="duplicate_attr" in classes,
        block_nesting_error="block_nesting_failure" in classes,
        special_token_leak=leak,
        failure_class=fail,
        mismatched=() if exact else _scene_diff(expected, actual),
        diagnostics=tuple(d.to_dict() for d in diags),
        svg=svg,
    )


# --------------------------------------------------------------------------- scoreboards

_RATES = (
    ("exact_rate", "exact"),
    ("renderable_rate", "renderable"),
    ("materialized_exact_rate", "materialized_exact"),
    ("budget_truncation_rate", "truncated"),
    ("missing_scene_start_rate", "missing_scene_start"),
    ("missing_scene_end_rate", "missing_scene_end"),
    ("duplicate_attr_rate", "duplicate_attr"),
    ("block_nesting_error_rate", "block_nesting_error"),
    ("special_token_leak_rate", "special_token_leak"),
)
RATE_NAMES: tuple[str, ...] = tuple(name for name, _ in _RATES)


def _share(scores: Sequence[SceneScore], attr: str) -> float | None:
    """Share of scores whose ``attr`` is true, among those where it is known (None: none)."""
    known = [v for v in (getattr(s, attr) for s in scores) if v is not None]
    return sum(map(bool, known)) / len(known) if known else None


@dataclass(frozen=True)
class Scoreboard:
    """Rates over a set of scene outputs (one of raw / repaired, or one family or split)."""

    n: int
    exact_rate: float
    renderable_rate: float
    materialized_exact_rate: float | None  # None when no case could be compiled
    budget_truncation_rate: float
    missing_scene_start_rate: float
    missing_scene_end_rate: float
    duplicate_attr_rate: float
    block_nesting_error_rate: float
    special_token_leak_rate: float
    parse_rate: float
    failure_classes: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, scores: Sequence[SceneScore]) -> Scoreboard:
        """Aggregate per-case scores."""
        n = len(scores)
        shares = {name: _share(scores, attr) for name, attr in _RATES}
        # Only the materialized rate may be unknown (no case compiled); the others count an
        # unknown as 0, and an empty set of scores has every rate 0.
        materialized = shares.pop("materialized_exact_rate")
        rates = {name: share or 0.0 for name, share in shares.items()}
        classes = Counter(s.failure_class for s in scores if s.failure_class)
        return cls(
            n=n,
            materialized_exact_rate=materialized if materialized is not None or n else 0.0,
            parse_rate=(sum(s.parses for s in scores) / n) if n else 0.0,
            failure_classes=dict(classes.most_common()),
            **rates,
        )

    def rate(self, name: str) -> float | None:
        """A rate by name (``"exact_rate"`` ...)."""
        return getattr(self, name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TraceScoreboard:
    """Trace outputs judged by the solver (``dslkit.compilers.trace_solver.verify``)."""

    n: int
    parse_rate: float  # status is not parse_fail
    valid_trace_rate: float  # ran to an answer: wrong_answer, correct or solved
    accuracy: float  # status correct
    mean_reward: float
    status_counts: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, results: Sequence[CaseResult]) -> TraceScoreboard:
        n = len(results)
        statuses = [r.trace_status or "parse_fail" for r in results]
        counts = Counter(statuses)
        ran = sum(counts[s] for s in ("wrong_answer", "correct", "solved"))
        return cls(
            n=n,
            parse_rate=(n - counts["parse_fail"]) / n if n else 0.0,
            valid_trace_rate=ran / n if n else 0.0,
            accuracy=counts["correct"] / n if n else 0.0,
            mean_reward=sum(r.trace_reward or 0.0 for r in results) / n if n else 0.0,
            status_counts=dict(counts.most_common()),
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CaseResult:
    """One case: what was asked, what came back, and how raw and repaired output scored."""

    id: str
    kind: str
    split: str
    family: str
    prompt: str
    expected: str
    output: str  # raw generated text
    hit_budget: bool | None
    raw: SceneScore | None = None  # scenes only
    repaired: SceneScore | None = None  # scenes only; None when nothing was repairable
    fixes: tuple[str, ...] = ()  # repair fix codes, in order
    trace_status: str | None = None  # traces only
    trace_reward: float | None = None
    trace_answer: str | None = None
    trace_error: str | None = None

    @property
    def failure_class(self) -> str:
        """The one primary failure class of the raw output ("" when it is correct)."""
        if self.kind == "trace":
            return "" if self.trace_status == "correct" else (self.trace_status or "parse_fail")
        return self.raw.failure_class if self.raw is not None else "no_output"

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["failure_class"] = self.failure_class
        return out


def _repaired_or_unrepairable(raw_fail: SceneScore) -> SceneScore:
    # Nothing recognisable: the repaired output is as bad as the raw one.
    return replace(raw_fail, svg=None)


@dataclass(frozen=True)
class Finding:
    """One interpretation rule that fired: what the numbers say and what to do."""

    rule: str  # stable id, e.g. "exact_not_materialized"
    severity: str  # "red" | "amber" | "info"
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class ProbeReport:
    """Everything one probe run measured. Serialises to JSON and back."""

    probe_name: str
    probe_version: int
    probe_hash: str
    label: str  # e.g. "raw decoding", "constrained decoding"
    cases: tuple[CaseResult, ...]
    scene: dict[str, Scoreboard]  # "raw" and "repaired"
    scene_by_family: dict[str, dict[str, Scoreboard]]  # "raw"/"repaired" -> family -> board
    scene_by_split: dict[str, dict[str, Scoreboard]]
    trace: TraceScoreboard | None
    trace_by_expert: dict[str, TraceScoreboard]
    trace_by_split: dict[str, TraceScoreboard]
    findings: tuple[Finding, ...]
    compiler: bool  # whether materialized-exact could be measured

    def to_dict(self) -> dict[str, Any]:
        """JSON shape (``load_report`` reads it back)."""
        return {
            "probe": {
                "name": self.probe_name,
                "version": self.probe_version,
                "hash": self.probe_hash,
            },
            "label": self.label,
            "compiler": self.compiler,
            "scene": {k: v.to_dict() for k, v in self.scene.items()},
            "scene_by_family": {
                m: {k: v.to_dict() for k, v in d.items()} for m, d in self.scene_by_family.items()
            },
            "scene_by_split": {
                m: {k: v.to_dict() for k, v in d.items()} for m, d in self.scene_by_split.items()
            },
            "trace": self.trace.to_dict() if self.trace else None,
            "trace_by_expert": {k: v.to_dict() for k, v in self.trace_by_expert.items()},
            "trace_by_split": {k: v.to_dict() for k, v in self.trace_by_split.items()},
            "findings": [f.to_dict() for f in self.findings],
            "cases": [c.to_dict() for c in self.cases],
        }

    def save(self, path: str | Path) -> Path:
        """Write the JSON report."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(self.to_dict(), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        return path

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ProbeReport:
        def board(d: Mapping[str, Any]) -> Scoreboard:
            return Scoreboard(**d)

        def tboard(d: Mapping[str, Any]) -> TraceScoreboard:
            return TraceScoreboard(**d)

        def score(d: Mapping[str, Any] | None) -> SceneScore | None:
            if d is None:
                return None
            d = dict(d)
            d["mismatched"] = tuple(d["mismatched"])
            d["diagnostics"] = tuple(d["diagnostics"])
            return SceneScore(**d)

        cases = []
        for c in data["cases"]:
            c = {k: v for k, v in c.items() if k != "failure_class"}
            c["raw"], c["repaired"] = score(c["raw"]), score(c["repaired"])
            c["fixes"] = tuple(c["fixes"])
            cases.append(CaseResult(**c))
        return cls(
            probe_name=data["probe"]["name"],
            probe_version=int(data["probe"]["version"]),
            probe_hash=data["probe"]["hash"],
            label=data.get("label", ""),
            cases=tuple(cases),
            scene={k: board(v) for k, v in data["scene"].items()},
            scene_by_family={
                m: {k: board(v) for k, v in d.items()} for m, d in data["scene_by_family"].items()
            },
            scene_by_split={
                m: {k: board(v) for k, v in d.items()} for m, d in data["scene_by_split"].items()
            },
            trace=tboard(data["trace"]) if data.get("trace") else None,
            trace_by_expert={k: tboard(v) for k, v in data.get("trace_by_expert", {}).items()},
            trace_by_split={k: tboard(v) for k, v in data.get("trace_by_split", {}).items()},
            findings=tuple(Finding(**f) for f in data.get("findings", [])),
            compiler=bool(data.get("compiler", False)),
        )


def load_report(path: str | Path) -> ProbeReport:
    """Read a probe report written by :meth:`ProbeReport.save`.

    Raises:
        ContractError: unreadable or malformed file.
    """
    try:
        return ProbeReport.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ContractError(f"cannot read probe report {path}: {e}") from e


# --------------------------------------------------------------------------- running


def _family_of(case: ProbeCase, expected: Scene | None) -> str:
    if case.family:
        return case.family
    if case.kind == "trace":
        return case.expert or "unknown"
    return (expected.layout if expected is not None else None) or "unknown"


def _score_trace(case: ProbeCase, output: _Output) -> CaseResult:
    from dslkit.compilers.trace_solver import verify

    from trace_dsl.extract import extract

    # Traces are scored on the extracted trace (the trace analogue of scene repair: cut at
    # special tokens, drop prose around it); an empty extraction is a parse failure.
    text = extract(output.text) or output.text
    try:
        v = verify(text, case.answer, expected_expert=case.expert)
    except ValueError as e:  # the *case* has an unusable gold answer: a contract problem
        raise ContractError(f"probe case {case.id!r}: {e}") from e
    answer = None if v.answer is None else str(v.answer)
    return CaseResult(
        id=case.id,
        kind="trace",
        split=case.split,
        family=_family_of(case, None),
        prompt=case.prompt,
        expected=case.expected,
        output=output.text,
        hit_budget=output.hit_budget,
        trace_status=v.status.value,
        trace_reward=v.reward,
        trace_answer=answer,
        trace_error=v.error.message if v.error else None,
    )


def _score_scene_case(
    case: ProbeCase,
    output: _Output,
    expected: Scene,
    compile: Compile | None,
    expected_svg: str | None,
    repair: bool,
    contract: str,
) -> CaseResult:
    score = functools.partial(
        score_scene,
        expected_text=case.expected,
        content=case.content,
        compile=compile,
        expected_svg=expected_svg,
        contract=contract,
    )
    raw = score(output.text, expected, hit_budget=output.hit_budget)
    repaired: SceneScore | None = None
    fixes: tuple[str, ...] = ()
    if repair:
        try:
            scene, fix_list = scene_dsl.repair(output.text, contract)
            fixes = tuple(f.code for f in fix_list)
            form = "row" if _looks_row(case.expected) else "block"
            text = scene_dsl.to_text(scene, form=form, inline=True)
            repaired = score(text, expected, hit_budget=output.hit_budget)
            # Repair closes a cut scene, so the repaired text is no longer a prefix: keep the
            # truncation verdict of the raw output, it describes the same generation.
            repaired = replace(repaired, truncated=raw.truncated)
        except DslkitError:
            fixes = ("unrepairable",)
            repaired = _repaired_or_unrepairable(raw)
    return CaseResult(
        id=case.id,
        kind="scene",
        split=case.split,
        family=_family_of(case, expected),
        prompt=case.prompt,
        expected=case.expected,
        output=output.text,
        hit_budget=output.hit_budget,
        raw=raw,
        repaired=repaired,
        fixes=fixes,
    )


def _looks_row(text: str) -> bool:
    # Row form puts a component's fields inside one token with '|' or ':'.
    return bool(re.search(r"\[[a-z_]+:[^\]]*\|", text)) or "[/" not in text.replace("[/scene]", "")


def _group(
    results: Sequence[CaseResult], key: Callable[[CaseResult], str]
) -> dict[str, list[CaseResult]]:
    groups: dict[str, list[CaseResult]] = {}
    for r in results:
        groups.setdefault(key(r), []).append(r)
    return dict(sorted(groups.items()))


def _boards(
    scored: Sequence[tuple[CaseResult, SceneScore]], key: Callable[[CaseResult], str]
) -> dict[str, Scoreboard]:
    """One scoreboard per group (family or split) of scored scene cases, sorted by group."""
    groups: dict[str, list[SceneScore]] = {}
    for r, score in scored:
        groups.setdefault(key(r), []).append(score)
    return {k: Scoreboard.of(v) for k, v in sorted(groups.items())}


def run(
    generate: Callable[[str], Any],
    cases: ProbeSet | Sequence[ProbeCase],
    *,
    repair: bool = True,
    compile: Compile | str | None = "auto",
    label: str = "",
    contract: str = "v1",
    progress: Callable[[int, int], None] | None = None,
) -> ProbeReport:
    """Run every probe case through ``generate`` and score the outputs.

    Args:
        generate: ``prompt -> text``; may also return ``(text, hit_budget)`` or an object with
            ``.text`` and ``.hit_budget`` (e.g. a decoded ``Generation``) so budget truncation is
            told apart from a model that stopped early.
        cases: a :class:`ProbeSet` (its hash pins the report) or a plain list of cases.
        repair: also score the deterministically repaired output.
        compile: ``(scene, content) -> svg``; ``"auto"`` uses ``dslkit.compilers.compile_scene`` when it
            is installed; None skips the compiler (materialized-exact is then reported as n/a).
        label: what this run of the probe was (e.g. ``"constrained decoding"``).
        contract: the scene contract.
        progress: called as ``progress(done, total)`` after each case.

    Returns:
        A :class:`ProbeReport` with per-case results, scoreboards and findings.

    Raises:
        ContractError: a case whose expected target does not parse or validate (a broken probe
            contract must not be scored as model failures).
    """
    probe = cases if isinstance(cases, ProbeSet) else ProbeSet("adhoc", 0, tuple(cases))
    compiler = default_compiler() if compile == "auto" else compile
    assert not isinstance(compiler, str)
    results: list[CaseResult] = []
    total = len(probe.cases)
    for i, case in enumerate(probe.cases):
        output = _coerce_output(generate(case.prompt))
        if case.kind == "trace":
            results.append(_score_trace(case, output))
        else:
            expected, expected_svg = _expected_scene(case, compiler, contract)
            results.append(
                _score_scene_case(case, output, expected, compiler, expected_svg, repair, contract)
            )
        if progress is not None:
            progress(i + 1, total)
    return build_report(results, probe, label=label, compiler=compiler is not None)


def _expected_scene(
    case: ProbeCase, compiler: Compile | None, contract: str
) -> tuple[Scene, str | None]:
    try:
        scene = scene_dsl.canonicalize(scene_dsl.parse(case.expected, contract=contract), contract)
    except DslkitError as e:
        raise ContractError(f"probe case {case.id!r}: expected target does not parse:\n{e}") from e
    if compiler is None or case.content is None:
        return scene, None
    try:
        return scene, _svg_text(compiler(scene, case.content))
    except DslkitError as e:
        raise ContractError(
            f"probe case {case.id!r}: expected target does not compile:\n{e}"
        ) from e


def build_report(
    results: Sequence[CaseResult], probe: ProbeSet, *, label: str = "", compiler: bool = False
) -> ProbeReport:
    """Aggregate case results into scoreboards and findings.

    Args:
        results: per-case results (from :func:`run`).
        probe: the probe contract they came from.
        label: what this probe run was.
        compiler: whether the compiler was available.

    Returns:
        The :class:`ProbeReport`.
    """
    scenes = [r for r in results if r.kind == "scene"]
    traces = [r for r in results if r.kind == "trace"]
    modes: dict[str, Callable[[CaseResult], SceneScore | None]] = {
        "raw": lambda r: r.raw,
        "repaired": lambda r: r.repaired,
    }
    scene: dict[str, Scoreboard] = {}
    by_family: dict[str, dict[str, Scoreboard]] = {}
    by_split: dict[str, dict[str, Scoreboard]] = {}
    for mode, get in modes.items():
        scored = [(r, s) for r in scenes if (s := get(r)) is not None]
        if mode == "repaired" and not scored:
            continue
        scene[mode] = Scoreboard.of([s for _, s in scored])
        by_family[mode] = _boards(scored, lambda r: r.family)
        by_split[mode] = _boards(scored, lambda r: r.split)
    trace = TraceScoreboard.of(traces) if traces else None
    t_expert = {k: TraceScoreboard.of(g) for k, g in _group(traces, lambda r: r.family).items()}
    t_split = {k: TraceScoreboard.of(g) for k, g in _group(traces, lambda r: r.split).items()}
    report = ProbeReport(
        probe_name=probe.name,
        probe_version=probe.version,
        probe_hash=probe.hash,
        label=label,
        cases=tuple(results),
        scene=scene,
        scene_by_family=by_family,
        scene_by_split=by_split,
        trace=trace,
        trace_by_expert=t_expert,
        trace_by_split=t_split,
        findings=(),
        compiler=compiler,
    )
    return replace(report, findings=tuple(interpret(report)))


# --------------------------------------------------------------------------- interpretation

# Thresholds of the interpretation rules; deliberately coarse: a finding is a prompt to look,
# not a verdict (the report's decision applies the promotion rules).
HIGH = 0.5
GAP = 0.10
RATE_ALARM = 0.10

RULES_TEXT: tuple[tuple[str, str], ...] = (
    (
        "exact_not_materialized",
        "High exact with low materialized-exact: the model is right and the "
        "compiler or the probe is wrong (nondeterministic compile, stale expected SVG). Fix that first.",
    ),
    (
        "budget_truncation",
        "High budget-truncation: correct prefixes cut at the token budget. A budget "
        "problem (max_new_tokens, block_size, tokenizer granularity), not a knowledge problem.",
    ),
    (
        "special_token_leak",
        "High special-token leak: stop tokens or prompt tags inside scenes. A "
        "stop-token / decoding problem: check stop_ids and the end marker in the training rows.",
    ),
    (
        "repair_gap",
        "Repaired much better than raw: the model knows the content and fumbles the "
        "format. Constrained decoding or canonical-form training data, not more capacity.",
    ),
    (
        "renderable_not_exact",
        "High renderable with low exact: the syntax is learned, the mapping "
        "from prompt to scene is not. More or more varied data, or a longer run.",
    ),
    (
        "missing_end_no_truncation",
        "Missing [/scene] without truncation: generation stopped early on "
        "a stop id, or the end marker was never learned (check the rows end with it).",
    ),
    (
        "nesting",
        "Block-nesting errors: block structure not learned. Try constrained decoding or the "
        "row form.",
    ),
    (
        "duplicate_attr",
        "Duplicated attributes: the model loops over its prefix. Check repetition and "
        "the scene-prefix rows.",
    ),
    ("split_gap", "Train much better than dev/test: memorisation. More data or regularisation."),
    (
        "hidden_gap",
        "Hidden much worse than test: test leaked into training or hidden is out of distribution.",
    ),
    ("layout_drift", "Layout drift dominates failures: the prompt-to-family mapping is weak."),
    (
        "trace_parse_ok_wrong",
        "Traces parse and run but answers are wrong: arithmetic/knowledge, not format.",
    ),
    ("trace_wrong_expert", "Many wrong-expert traces: expert routing is not learned."),
)
_RULE_MESSAGES = dict(RULES_TEXT)


def interpret(report: ProbeReport) -> list[Finding]:
    """Apply the interpretation rules of the method to a probe report.

    Args:
        report: a probe report.

    Returns:
        The findings that fired, most severe first. The full rule list is :data:`RULES_TEXT`.
    """
    out: list[Finding] = []

    def fire(rule: str, severity: str, numbers: str) -> None:
        out.append(Finding(rule, severity, f"{_RULE_MESSAGES[rule]} ({numbers})"))

    raw = report.scene.get("raw")
    rep = report.scene.get("repaired")
    if raw is not None and raw.n:
        mat = raw.materialized_exact_rate
        if mat is not None and raw.exact_rate >= HIGH and raw.exact_rate - mat > GAP / 2:
            fire(
                "exact_not_materialized",
                "red",
                f"exact {raw.exact_rate:.0%}, materialized {mat:.0%}",
            )
        if raw.budget_truncation_rate >= RATE_ALARM:
            fire("budget_truncation", "amber", f"truncation {raw.budget_truncation_rate:.0%}")
        if raw.special_token_leak_rate >= RATE_ALARM:
            fire("special_token_leak", "amber", f"leak {raw.special_token_leak_rate:.0%}")
        if rep is not None and rep.exact_rate - raw.exact_rate >= GAP:
            fire(
                "repair_gap",
                "amber",
                f"raw exact {raw.exact_rate:.0%}, repaired {rep.exact_rate:.0%}",
            )
        if raw.renderable_rate >= HIGH and raw.renderable_rate - raw.exact_rate >= 2 * GAP:
            fire(
                "renderable_not_exact",
                "info",
                f"renderable {raw.renderable_rate:.0%}, exact {raw.exact_rate:.0%}",
            )
        if raw.missing_scene_end_rate - raw.budget_truncation_rate >= RATE_ALARM:
            fire(
                "missing_end_no_truncation",
                "amber",
                f"missing end {raw.missing_scene_end_rate:.0%}, truncation {raw.budget_truncation_rate:.0%}",
            )
        if raw.block_nesting_error_rate >= RATE_ALARM:
            fire("nesting", "amber", f"nesting errors {raw.block_nesting_error_rate:.0%}")
        if raw.duplicate_attr_rate >= RATE_ALARM:
            fire("duplicate_attr", "amber", f"duplicate attrs {raw.duplicate_attr_rate:.0%}")
        splits = report.scene_by_split.get("raw", {})
        if "train" in splits:
            held = [splits[s].exact_rate for s in ("dev", "test") if s in splits]
            if held and splits["train"].exact_rate - max(held) >= 2 * GAP:
                fire(
                    "split_gap",
                    "info",
                    f"train {splits['train'].exact_rate:.0%}, dev/test {max(held):.0%}",
                )
        if (
            "hidden" in splits
            and "test" in splits
            and splits["test"].exact_rate - splits["hidden"].exact_rate >= 2 * GAP
        ):
            fire(
                "hidden_gap",
                "amber",
                f"test {splits['test'].exact_rate:.0%}, hidden {splits['hidden'].exact_rate:.0%}",
            )
        failures = sum(raw.failure_classes.values())
        if failures and raw.failure_classes.get("layout_drift", 0) / failures >= 0.3:
            fire(
                "layout_drift",
                "info",
                f"{raw.failure_classes['layout_drift']} of {failures} failures",
            )
    if report.trace is not None and report.trace.n:
        t = report.trace
        if t.valid_trace_rate >= HIGH and t.valid_trace_rate - t.accuracy >= 2 * GAP:
            fire(
                "trace_parse_ok_wrong",
                "info",
                f"valid {t.valid_trace_rate:.0%}, accuracy {t.accuracy:.0%}",
            )
        if t.status_counts.get("wrong_expert", 0) / t.n >= RATE_ALARM:
            fire(
                "trace_wrong_expert",
                "amber",
                f"wrong expert {t.status_counts['wrong_expert']}/{t.n}",
            )
    order = {"red": 0, "amber": 1, "info": 2}
    return sorted(out, key=lambda f: order[f.severity])


# --------------------------------------------------------------------------- comparing


def compare(run: ProbeReport, baseline: ProbeReport, *, mode: str = "raw") -> dict[str, Any]:
    """Deltas of a run's scoreboards against a baseline's, over the same probe contract.

    Args:
        run: the run's probe report.
        baseline: the baseline's probe report.
        mode: ``"raw"`` or ``"repaired"``.

    Returns:
        ``{"overall": {rate: delta}, "by_family": {family: {rate: delta}}, "trace": {...}}``;
        a delta is None where either side has no value.

    Raises:
        ProbeMismatchError: the two reports used different probe contracts (hash differs).
    """
    if run.probe_hash != baseline.probe_hash:
        raise ProbeMismatchError(
            f"refusing to compare probe reports over different probe contracts: run used "
            f"{run.probe_name} v{run.probe_version} (hash {run.probe_hash}), baseline used "
            f"{baseline.probe_name} v{baseline.probe_version} (hash {baseline.probe_hash}); "
            "re-probe the baseline with the run's case file"
        )

    def deltas(a: Scoreboard | None, b: Scoreboard | None) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for name in RATE_NAMES:
            va = a.rate(name) if a else None
            vb = b.rate(name) if b else None
            out[name] = None if va is None or vb is None else va - vb
        return out

    fam_a = run.scene_by_family.get(mode, {})
    fam_b = baseline.scene_by_family.get(mode, {})
    trace: dict[str, float] = {}
    if run.trace and baseline.trace:
        for key in ("parse_rate", "valid_trace_rate", "accuracy", "mean_reward"):
            trace[key] = getattr(run.trace, key) - getattr(baseline.trace, key)
    return {
        "overall": deltas(run.scene.get(mode), baseline.scene.get(mode)),
        "by_family": {
            f: deltas(fam_a.get(f), fam_b.get(f)) for f in sorted(set(fam_a) | set(fam_b))
        },
        "trace": trace,
    }
