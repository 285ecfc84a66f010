"""Token budget of prompt/target rows under a tokenizer and a context length.

A row is framed as training frames it (:meth:`DslTokenizer.encode_row`): the prompt counts
``<|bos|>`` and the ``[OUT]`` marker, the target counts ``<|eos|>``. Percentiles are
nearest-rank (``p95`` is the smallest count with at least 95% of rows at or below it), so every
reported number is a real row's count.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from dslkit.tokenizer.codes import fail
from dslkit.tokenizer.model import DslTokenizer

__all__ = ["FIT_SHARE", "BudgetReport", "RowCount", "Stats", "budget", "ctx_ladder", "percentile"]

FIT_SHARE = 0.8  # a row "fits" when its total uses at most 80% of the context (room to spare)


@dataclass(frozen=True, slots=True)
class RowCount:
    """Token counts of one row."""

    index: int  # 0-based position in the input
    prompt: int
    target: int

    @property
    def total(self) -> int:
        return self.prompt + self.target


@dataclass(frozen=True, slots=True)
class Stats:
    """p50 / p95 / max of one count."""

    p50: int
    p95: int
    max: int

    @classmethod
    def of(cls, values: list[int]) -> Stats:
        return cls(percentile(values, 50), percentile(values, 95), max(values))


@dataclass(frozen=True, slots=True)
class BudgetReport:
    """Budget of a set of rows for one context length."""

    ctx: int
    rows: tuple[RowCount, ...]
    prompt: Stats
    target: Stats
    total: Stats
    fit_80pct_share: float  # share of rows whose total <= 80% of ctx
    recommended_ctx: int  # smallest ladder length whose 80% is above the p95 total
    not_fitting: tuple[RowCount, ...]  # rows whose total > 80% of ctx, largest first

    def summary(self) -> dict[str, object]:
        """The ``--json`` shape: p50, p95, max (of totals), fit share, recommendation, rows."""
        return {
            "p50": self.total.p50,
            "p95": self.total.p95,
            "max": self.total.max,
            "fit_80pct_share": self.fit_80pct_share,
            "recommended_ctx": self.recommended_ctx,
            "rows": len(self.rows),
        }

    def to_dict(self) -> dict[str, object]:
        """Everything, per-row counts included."""
        return {
            **self.summary(),
            "ctx": self.ctx,
            "prompt": _stats_dict(self.prompt),
            "target": _stats_dict(self.target),
            "total": _stats_dict(self.total),
            "not_fitting": [r.index for r in self.not_fitting],
            "per_row": [
                {"index": r.index, "prompt": r.prompt, "target": r.target, "total": r.total}
                for r in self.rows
            ],
        }

    def format(self, *, show: int = 10) -> str:
        """A readable table: stats per count, fit share, recommendation, worst rows."""
        lines = [
            f"{'':8}{'p50':>8}{'p95':>8}{'max':>8}",
            *(
                f"{name:8}{s.p50:>8}{s.p95:>8}{s.max:>8}"
                for name, s in (
                    ("prompt", self.prompt),
                    ("target", self.target),
                    ("total", self.total),
                )
            ),
            "",
            f"rows: {len(self.rows)}   ctx: {self.ctx}   fit in 80% of ctx "
            f"({int(FIT_SHARE * self.ctx)} tokens): {self.fit_80pct_share:.1%}",
            f"recommended ctx: {self.recommended_ctx}",
        ]
        if self.not_fitting:
            lines.append(f"rows over 80% of ctx: {len(self.not_fitting)}")
            lines.extend(
                f"  row {r.index}: prompt {r.prompt} + target {r.target} = {r.total}"
                for r in self.not_fitting[:show]
            )
            if len(self.not_fitting) > show:
                lines.append(f"  ... and {len(self.not_fitting) - show} more")
        return "\n".join(lines)


def _stats_dict(s: Stats) -> dict[str, int]:
    return {"p50": s.p50, "p95": s.p95, "max": s.max}


def percentile(values: list[int], p: float) -> int:
    """Nearest-rank percentile: the smallest value with at least ``p``% of values <= it."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def ctx_ladder() -> Iterable[int]:
    """256, 512, 768, 1024, then doubling: 2048, 4096, ..."""
    yield from (256, 512, 768, 1024)
    c = 2048
    while True:
        yield c
        c *= 2


def budget(tok: DslTokenizer, rows: Iterable[Mapping[str, str]], ctx: int) -> BudgetReport:
    """Count tokens of prompt/target rows and judge them against a context length.

    Args:
        tok: the tokenizer.
        rows: mappings with string ``prompt`` and ``target``.
        ctx: the model's context length.

    Returns:
        The report.

    Raises:
        TokenizerError: K005 when there are no rows or a row lacks its fields; K001 for ctx < 1.
    """
    if ctx < 1:
        raise fail("K001", f"ctx must be a positive number of tokens, not {ctx}")
    counts: list[RowCount] = []
    for i, row in enumerate(rows):
        prompt, target = row.get("prompt"), row.get("target")
        if not isinstance(prompt, str) or not isinstance(target, str):
            raise fail("K005", f"row {i} needs string 'prompt' and 'target' fields")
        p, t = tok.encode_row(prompt, target)
        counts.append(RowCount(i, len(p), len(t)))
    if not counts:
        raise fail("K005", "no rows to budget")
    totals = [r.total for r in counts]
    limit = FIT_SHARE * ctx
    total = Stats.of(totals)
    recommended = next(c for c in ctx_ladder() if total.p95 < FIT_SHARE * c)
    return BudgetReport(
        ctx=ctx,
        rows=tuple(counts),
        prompt=Stats.of([r.prompt for r in counts]),
        target=Stats.of([r.target for r in counts]),
        total=total,
        fit_80pct_share=sum(1 for t in totals if t <= limit) / len(totals),
        recommended_ctx=recommended,
        not_fitting=tuple(
            sorted((r for r in counts if r.total > limit), key=lambda r: (-r.total, r.index))
        ),
    )
