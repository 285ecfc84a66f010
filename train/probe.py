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

The probe is laid out one job per module, and this one re-exports their public names:

- :mod:`dslkit.train.probe_cases`: probe contracts (cases, their file, their hash);
- :mod:`dslkit.train.probe_score`: one output's score, on top of ``dslkit.compilers.verify_scene``;
- :mod:`dslkit.train.probe_boards`: scoreboards of rates, per-case results, the JSON report;
- :mod:`dslkit.train.probe_findings`: interpretation rules and comparison with a baseline;
- this module: running a generator over the cases and aggregating the report.

Nothing here imports torch: the generator is the only model-facing piece.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dslkit.compilers.scene_verdict import SceneCompiler, svg_text, verify_scene
from dslkit.train.probe_boards import (
    RATE_FLAGS,
    RATE_NAMES,
    CaseResult,
    Finding,
    ProbeReport,
    Scoreboard,
    TraceScoreboard,
    load_report,
)
from dslkit.train.probe_cases import (
    SPLITS,
    ProbeCase,
    ProbeMismatchError,
    ProbeSet,
    load_cases,
    probe_hash,
    save_cases,
)
from dslkit.train.probe_findings import RULES_TEXT, compare, interpret
from dslkit.train.probe_score import (
    FAILURE_PRIORITY,
    SceneScore,
    default_compiler,
    score_scene,
    score_verdict,
)

import scene_dsl
from dslkit.errors import ContractError, DslkitError
from scene_dsl.ast import Scene

__all__ = [
    "FAILURE_PRIORITY",
    "RATE_FLAGS",
    "RATE_NAMES",
    "RULES_TEXT",
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
    "build_report",
    "compare",
    "default_compiler",
    "interpret",
    "load_cases",
    "load_report",
    "probe_hash",
    "run",
    "save_cases",
    "score_scene",
    "score_verdict",
]


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
    compile: SceneCompiler | None,
    expected_svg: str | None,
    repair: bool,
    contract: str,
) -> CaseResult:
    verdict = verify_scene(
        output.text, case.content, expected, contract=contract, compile=compile, repair=repair
    )
    score = functools.partial(
        score_verdict, expected=expected, expected_text=case.expected, expected_svg=expected_svg
    )
    raw = score(verdict, hit_budget=output.hit_budget)
    repaired: SceneScore | None = None
    fixes: tuple[str, ...] = ()
    if verdict.repaired is not None:
        fixes = tuple(f.code for f in verdict.fixes)
        # Repair closes a cut scene, so the repaired text is no longer a prefix: keep the
        # truncation verdict of the raw output, it describes the same generation.
        repaired = replace(
            score(verdict.repaired, hit_budget=output.hit_budget), truncated=raw.truncated
        )
    elif verdict.unrepairable:
        # Nothing recognisable: the repaired output is as bad as the raw one.
        fixes = ("unrepairable",)
        repaired = replace(raw, svg=None)
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
    compile: SceneCompiler | str | None = "auto",
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
    compiler = default_compiler(contract) if compile == "auto" else compile
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
    case: ProbeCase, compiler: SceneCompiler | None, contract: str
) -> tuple[Scene, str | None]:
    try:
        scene = scene_dsl.canonicalize(scene_dsl.parse(case.expected, contract=contract), contract)
    except DslkitError as e:
        raise ContractError(f"probe case {case.id!r}: expected target does not parse:\n{e}") from e
    if compiler is None or case.content is None:
        return scene, None
    try:
        return scene, svg_text(compiler(scene, case.content))
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
