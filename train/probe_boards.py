"""What a probe run measured: per-case results, scoreboards of rates, the JSON report.

A :class:`Scoreboard` holds the scene rates (exact, renderable, materialized-exact, truncation,
frame, nesting, duplicate and leak rates) over a set of :class:`~dslkit.train.probe_score.SceneScore`;
a :class:`TraceScoreboard` the solver's statuses over trace cases. :class:`ProbeReport` gathers
them per mode (raw / repaired), family and split, and reads and writes its JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dslkit.train.probe_score import SceneScore

from dslkit.errors import ContractError

__all__ = [
    "RATE_FLAGS",
    "RATE_NAMES",
    "CaseResult",
    "Finding",
    "ProbeReport",
    "Scoreboard",
    "TraceScoreboard",
    "load_report",
]


# (rate name, SceneScore flag it is the share of), in the order reports print them
RATE_FLAGS: tuple[tuple[str, str], ...] = (
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
RATE_NAMES: tuple[str, ...] = tuple(name for name, _ in RATE_FLAGS)


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
        shares = {name: _share(scores, attr) for name, attr in RATE_FLAGS}
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
