"""The critic: cheap, deterministic labels for candidate training rows.

Candidate rows come from a model (self-generated data) or from outside (scraped, contributed).
Before one enters a training set it gets seven labels::

    syntax_pass       parses (scene grammar / trace grammar)
    tests_pass        scene: validates against contract + content and compiles;
                      trace: solves to the gold answer
    entrypoint_match  required structure present: [scene]..[/scene] with a layout (the expected
                      one, when given) and a component the family requires; trace: expert,
                      trace and a query (the expected expert, when given)
    format_pass       already in canonical form
    no_secret         no key-like strings (AWS keys, private-key blocks, long hex/base64 tokens)
    no_repetition     no degenerate loops (repeated n-grams or runs of one token)
    accepted          all of the above

:func:`filter_rows` keeps accepted rows, plus *repair pairs* (raw output -> its deterministic
repair) for rows whose only problem is their form, so the model can learn the fix.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from dslkit.compilers.scene_verdict import default_compiler, verify_scene

import scene_dsl
from dslkit.errors import DslkitError

__all__ = [
    "Candidate",
    "CriticLabels",
    "FilterResult",
    "char_repetition_rate",
    "filter_rows",
    "find_secrets",
    "label",
    "ngram_repetition_rate",
]

# Key-like strings. Long hex/base64 runs catch tokens without a known prefix; content refs
# (``section_card.0.title``) never match them: dots and underscores break the run.
SECRET_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("private_key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b")),
    (
        "aws_secret_key",
        re.compile(r"(?i)aws.{0,20}(?:secret|key).{0,5}[=:]\s*['\"]?[A-Za-z0-9/+=]{40}"),
    ),
    ("github_token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b")),
    ("slack_token", re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}\b")),
    ("api_key", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b")),
    ("long_hex", re.compile(r"\b[0-9a-fA-F]{32,}\b")),
    (
        "long_base64",
        re.compile(
            r"(?<![A-Za-z0-9+/])(?=[A-Za-z0-9+/]*\d)(?=[A-Za-z0-9+/]*[A-Z])"
            r"[A-Za-z0-9+/]{40,}={0,2}"
        ),
    ),
)

NGRAM = 4  # repeated 4-grams of whitespace tokens: long enough that a DSL's own rhythm passes
MAX_NGRAM_REPETITION = 0.5  # share of 4-grams that repeat an earlier one
MAX_RUN = 8  # the same token this many times in a row is a loop


@dataclass(frozen=True)
class Candidate:
    """A candidate row: the text to train on and what it must satisfy."""

    text: str  # the target (scene DSL or trace text)
    kind: str = "scene"  # "scene" | "trace"
    content: Mapping[str, Any] | None = None  # scenes: content.json to bind and compile
    layout: str | None = None  # scenes: the family the prompt asked for
    answer: Any = None  # traces: the gold answer
    expert: str | None = None  # traces: the expected expert
    prompt: str = ""

    @classmethod
    def of(cls, row: Any) -> Candidate:
        """Read a candidate from a Candidate, a mapping or an object with matching attributes.

        ``target`` is accepted for ``text`` and ``family`` for ``layout`` (``dslkit.train.data.Row``).
        """
        if isinstance(row, Candidate):
            return row
        get: Callable[[str], Any]
        if isinstance(row, Mapping):
            get = row.get
        else:

            def get(k: str) -> Any:
                return getattr(row, k, None)

        text = get("text") if get("text") is not None else get("target")
        if not isinstance(text, str):
            raise TypeError("a candidate row needs a 'text' or 'target' string")
        kind = get("kind") or (
            "trace" if text.lstrip().startswith(("expert:", "- expert:")) else "scene"
        )
        return cls(
            text=text,
            kind=str(kind),
            content=get("content"),
            layout=get("layout") or get("family"),
            answer=get("answer"),
            expert=get("expert"),
            prompt=get("prompt") or "",
        )


@dataclass(frozen=True)
class CriticLabels:
    """The critic's verdict on one candidate, with a reason for every failed label."""

    syntax_pass: bool
    tests_pass: bool
    entrypoint_match: bool
    format_pass: bool
    no_secret: bool
    no_repetition: bool
    reasons: tuple[str, ...] = ()

    @property
    def accepted(self) -> bool:
        """All labels pass."""
        return all(
            (
                self.syntax_pass,
                self.tests_pass,
                self.entrypoint_match,
                self.format_pass,
                self.no_secret,
                self.no_repetition,
            )
        )

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["accepted"] = self.accepted
        return out


def find_secrets(text: str) -> list[str]:
    """Names of the secret patterns found in ``text`` (empty when clean)."""
    return [name for name, pattern in SECRET_PATTERNS if pattern.search(text)]


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for k, v in value.items():
            yield str(k)
            yield from _strings(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from _strings(v)


def ngram_repetition_rate(text: str, n: int = NGRAM) -> float:
    """Share of whitespace-token n-grams that repeat an earlier n-gram (0 for short texts)."""
    toks = text.split()
    grams = [tuple(toks[i : i + n]) for i in range(len(toks) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def char_repetition_rate(text: str, n: int = 8) -> float:
    """Share of character n-grams (default 8) that repeat an earlier one; catches loops in
    texts without whitespace, where token n-grams see nothing."""
    grams = [text[i : i + n] for i in range(len(text) - n + 1)]
    if not grams:
        return 0.0
    return 1.0 - len(set(grams)) / len(grams)


def longest_run(text: str) -> int:
    """Longest run of one identical whitespace token."""
    best = run = 0
    prev = None
    for tok in text.split():
        run = run + 1 if tok == prev else 1
        prev = tok
        best = max(best, run)
    return best


def _repetition_reason(text: str) -> str | None:
    rate = ngram_repetition_rate(text)
    if rate > MAX_NGRAM_REPETITION:
        return f"no_repetition: {rate:.0%} of {NGRAM}-grams repeat"
    run = longest_run(text)
    if run >= MAX_RUN:
        return f"no_repetition: one token repeated {run} times in a row"
    return None


def label(
    row: Any, *, compile: Callable[[Any, Any], Any] | str | None = "auto", contract: str = "v1"
) -> CriticLabels:
    """Label one candidate row.

    Args:
        row: a :class:`Candidate`, a mapping or an object (see :meth:`Candidate.of`).
        compile: ``(scene, content) -> svg`` for the scene test; ``"auto"`` uses the scene
            compiler when installed; None checks contract and content only.
        contract: the scene contract.

    Returns:
        The :class:`CriticLabels`.
    """
    cand = Candidate.of(row)
    reasons: list[str] = []
    secrets = find_secrets(cand.text) + [s for v in _strings(cand.content) for s in find_secrets(v)]
    if secrets:
        reasons.append("no_secret: " + ", ".join(sorted(set(secrets))))
    repetition = _repetition_reason(cand.text)
    if repetition:
        reasons.append(repetition)
    if cand.kind == "trace":
        syntax, tests, entry, fmt = _trace_labels(cand, reasons)
    else:
        syntax, tests, entry, fmt = _scene_labels(cand, compile, contract, reasons)
    values = {
        "syntax_pass": syntax,
        "tests_pass": tests,
        "entrypoint_match": entry,
        "format_pass": fmt,
    }
    for name, ok in values.items():
        if not ok and not any(r.startswith(name + ":") for r in reasons):
            reasons.append(f"{name}: not checked, the text does not parse")
    return CriticLabels(syntax, tests, entry, fmt, not secrets, repetition is None, tuple(reasons))


def _scene_labels(
    cand: Candidate, compile: Any, contract: str, reasons: list[str]
) -> tuple[bool, bool, bool, bool]:
    # parses / renderable / canonical are the one scene verdict's (data QC and the probe ask it too)
    v = verify_scene(cand.text, cand.content, contract=contract, compile=compile)
    scene = v.scene
    if not v.parses:
        first = v.syntax_errors[0] if v.syntax_errors else None
        reasons.append(f"syntax_pass: {first.headline() if first else 'nothing parsed'}")
    elif not v.valid:
        first = next(d for d in v.errors if d not in v.syntax_errors)
        reasons.append(f"tests_pass: {first.headline()}")
    elif not v.renderable:
        reasons.append(f"tests_pass: does not compile: {v.render_error}")
    stripped = cand.text.split()
    frame = bool(stripped) and stripped[0] == "[scene]" and stripped[-1] == "[/scene]"
    entry = frame and scene is not None and scene.layout is not None
    if not entry:
        reasons.append("entrypoint_match: needs [scene] ... [/scene] with a layout")
    elif cand.layout and scene is not None and scene.layout != cand.layout:
        entry = False
        reasons.append(f"entrypoint_match: layout {scene.layout!r}, expected {cand.layout!r}")
    elif scene is not None:
        spec = scene_dsl.load_contract(contract).families.get(scene.layout or "")
        names = {c.name for c in scene.walk()}
        if spec is not None and spec.requires_any and not names & set(spec.requires_any):
            entry = False
            reasons.append(
                f"entrypoint_match: {scene.layout} needs one of {', '.join(spec.requires_any)}"
            )
    if v.parses and not v.canonical:
        reasons.append("format_pass: not in canonical form")
    return v.parses, v.renderable, entry, v.canonical


def _same_text(a: str, b: str) -> bool:
    return a.strip() == b.strip()


def _trace_labels(cand: Candidate, reasons: list[str]) -> tuple[bool, bool, bool, bool]:
    from dslkit.compilers.trace_solver import Status, verify

    import trace_dsl

    try:
        trace = trace_dsl.parse(cand.text)
        syntax = True
    except DslkitError as e:
        trace = None
        syntax = False
        reasons.append(f"syntax_pass: {str(e).splitlines()[0]}")
    tests = False
    if syntax:
        try:
            v = verify(cand.text, cand.answer, expected_expert=cand.expert)
        except ValueError as e:
            v = None
            reasons.append(f"tests_pass: unusable gold answer: {e}")
        if v is not None:
            want = Status.CORRECT if cand.answer is not None else Status.SOLVED
            tests = v.status is want
            if not tests:
                reasons.append(
                    f"tests_pass: solver status {v.status.value}"
                    + (f" ({v.error.message})" if v.error else "")
                )
    entry = False
    if trace is not None:
        experts = [b.expert for b in trace.blocks]
        has_query = any(getattr(s, "op", None) == "query" for b in trace.blocks for s in b.steps)
        entry = bool(experts) and has_query and (cand.expert is None or cand.expert in experts)
        if not entry:
            reasons.append("entrypoint_match: needs an expert (the expected one) and a query step")
    else:
        reasons.append("entrypoint_match: no trace")
    fmt = False
    if trace is not None:
        fmt = _same_text(cand.text, trace_dsl.to_text(trace))
        if not fmt:
            reasons.append("format_pass: not in canonical form")
    return syntax, tests, entry, fmt


@dataclass(frozen=True)
class FilterResult:
    """What :func:`filter_rows` kept."""

    accepted: tuple[Candidate, ...]  # rows that pass every label, unchanged
    repair_pairs: tuple[tuple[str, str], ...]  # (raw text, repaired canonical text)
    rejected: tuple[tuple[Candidate, CriticLabels], ...]  # everything else, with its labels
    reason_counts: dict[str, int]  # failed label -> rows

    def to_dict(self) -> dict[str, Any]:
        return {
            "accepted": len(self.accepted),
            "repair_pairs": len(self.repair_pairs),
            "rejected": len(self.rejected),
            "reason_counts": self.reason_counts,
        }


def filter_rows(
    rows: Iterable[Any],
    *,
    compile: Callable[[Any, Any], Any] | str | None = "auto",
    contract: str = "v1",
) -> FilterResult:
    """Keep accepted rows, and turn form-only failures into repair pairs.

    A scene row becomes a repair pair when it is clean of secrets and loops, and its
    deterministic repair (``scene_dsl.repair``) passes every label: the model then learns
    ``raw -> repaired`` rather than the broken row.

    Args:
        rows: candidates (see :meth:`Candidate.of`).
        compile: as in :func:`label`.
        contract: the scene contract.

    Returns:
        A :class:`FilterResult`.
    """
    compiler = _resolve_compiler(compile, contract)
    accepted: list[Candidate] = []
    pairs: list[tuple[str, str]] = []
    rejected: list[tuple[Candidate, CriticLabels]] = []
    counts: Counter[str] = Counter()
    for row in rows:
        cand = Candidate.of(row)
        labels = label(cand, compile=compiler, contract=contract)
        if labels.accepted:
            accepted.append(cand)
            continue
        for reason in labels.reasons:
            counts[reason.split(":", 1)[0]] += 1
        fixed = _repair_pair(cand, labels, compiler, contract)
        if fixed is not None:
            pairs.append((cand.text, fixed))
        else:
            rejected.append((cand, labels))
    return FilterResult(tuple(accepted), tuple(pairs), tuple(rejected), dict(counts.most_common()))


def _resolve_compiler(compile: Any, contract: str) -> Any:
    # resolve "auto" once for a whole batch of rows, not once per row
    return default_compiler(contract) if compile == "auto" else compile


def _repair_pair(cand: Candidate, labels: CriticLabels, compile: Any, contract: str) -> str | None:
    if cand.kind != "scene" or not labels.no_secret or not labels.no_repetition:
        return None
    # the repaired text is the verdict's: the repair printed canonically, in the text's own form
    verdict = verify_scene(cand.text, cand.content, contract=contract, compile=None, repair=True)
    if verdict.repaired is None:
        return None
    text = verdict.repaired.text
    fixed = Candidate(text, "scene", cand.content, cand.layout, prompt=cand.prompt)
    return text if label(fixed, compile=compile, contract=contract).accepted else None
