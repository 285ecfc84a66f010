"""Same config, several seeds: how much of a difference between two runs is noise.

For every seed the variance band records the final loss, the loss variance over the last 20%
of logged steps, the plateau coefficient (|late slope| / |early slope| of loss against tokens
seen, least squares over the 10-30% and 70-90% windows: near 0 the run has flattened, near 1 it
is still learning as fast as at the start) and the character / n-gram repetition rates of its
probe outputs. The spread of the primary probe metric across seeds is the noise floor the
report's promotion rule uses.

Run dirs are those of :func:`dslkit.train.loop.fit` (``log.jsonl``) plus optional ``probe/*.json``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from dslkit.train.critic import char_repetition_rate, ngram_repetition_rate

from dslkit.errors import DslkitError

__all__ = [
    "BAND_STATS",
    "RepeatReport",
    "SeedStats",
    "analyze",
    "late_variance",
    "least_squares_slope",
    "load_repeat",
    "loss_series",
    "plateau_coefficient",
    "run",
    "split_band_name",
]


class RepeatError(DslkitError):
    """A repeat run could not be analysed (missing log, nothing logged)."""


def loss_series(log_path: str | Path) -> list[tuple[float, float]]:
    """``(tokens seen, loss)`` of every ``train`` record of a JSONL run log.

    Logs without a token count use the step: with a fixed batch, tokens are proportional to
    steps and the slope *ratios* computed here do not change.

    Raises:
        RepeatError: the log is missing or unreadable.
    """
    try:
        lines = Path(log_path).read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise RepeatError(f"cannot read run log {log_path}: {e}") from e
    out = []
    for number, line in enumerate(lines, 1):
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as e:
            raise RepeatError(f"{log_path}:{number}:{e.colno}: not JSON: {e.msg}") from e
        if rec.get("event") == "train" and isinstance(rec.get("loss"), (int, float)):
            x = rec.get("tokens_seen", rec.get("step"))
            if isinstance(x, (int, float)) and math.isfinite(rec["loss"]):
                out.append((float(x), float(rec["loss"])))
    return out


def least_squares_slope(points: Sequence[tuple[float, float]]) -> float | None:
    """Slope of the least-squares line through ``points`` (None with fewer than 2 distinct x)."""
    if len(points) < 2:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    sxx = sum((x - mx) ** 2 for x, _ in points)
    if sxx == 0:
        return None
    return sum((x - mx) * (y - my) for x, y in points) / sxx


def _window(
    series: Sequence[tuple[float, float]], lo: float, hi: float
) -> list[tuple[float, float]]:
    if not series:
        return []
    x0, x1 = series[0][0], series[-1][0]
    a, b = x0 + lo * (x1 - x0), x0 + hi * (x1 - x0)
    return [(x, y) for x, y in series if a <= x <= b]


def late_variance(series: Sequence[tuple[float, float]], fraction: float = 0.2) -> float | None:
    """Population variance of the loss over the last ``fraction`` of the records."""
    k = max(2, math.ceil(len(series) * fraction))
    tail = [y for _, y in series[-k:]]
    return statistics.pvariance(tail) if len(tail) >= 2 else None


def plateau_coefficient(series: Sequence[tuple[float, float]]) -> float | None:
    """``|slope over 70-90%| / |slope over 10-30%|`` of tokens seen (None when undefined)."""
    early = least_squares_slope(_window(series, 0.1, 0.3))
    late = least_squares_slope(_window(series, 0.7, 0.9))
    if early is None or late is None or early == 0:
        return None
    return abs(late) / abs(early)


@dataclass(frozen=True)
class SeedStats:
    """One seed's numbers."""

    seed: int
    run_dir: str
    final_loss: float | None
    late_loss_variance: float | None
    plateau: float | None
    char_repetition: float | None  # mean over probe outputs (None without a probe)
    ngram_repetition: float | None
    primary: float | None  # the primary probe metric (raw exact rate by default)
    curve: tuple[tuple[float, float], ...] = ()  # the loss series, for the chart
    # probe name -> split -> raw exact rate (the demo's hidden exact is the band issue 16 asks)
    split_exact: dict[str, dict[str, float]] = field(default_factory=dict)


# The SeedStats fields the band summarises, in the order the report's variance table shows them.
BAND_STATS: tuple[str, ...] = (
    "final_loss",
    "late_loss_variance",
    "plateau",
    "char_repetition",
    "ngram_repetition",
    "primary",
)


@dataclass(frozen=True)
class RepeatReport:
    """The variance band over seeds."""

    seeds: tuple[SeedStats, ...]
    band: dict[str, dict[str, float]] = field(default_factory=dict)  # metric -> mean/std/min/max
    metric: str = "exact_rate"

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "band": self.band, "seeds": [asdict(s) for s in self.seeds]}

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")
        return path

    @property
    def noise_floor(self) -> float | None:
        """Two standard deviations of the primary metric across seeds (None with < 2 seeds)."""
        b = self.band.get("primary")
        return 2 * b["std"] if b and b.get("count", 0) >= 2 else None


def load_repeat(path: str | Path) -> RepeatReport:
    """Read a ``repeat.json``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        seeds = tuple(
            SeedStats(**{**s, "curve": tuple(tuple(p) for p in s.get("curve", ()))})
            for s in data["seeds"]
        )
        return RepeatReport(seeds, data.get("band", {}), data.get("metric", "exact_rate"))
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise RepeatError(f"cannot read repeat report {path}: {e}") from e


def _probe_outputs(run_dir: Path, metric: str) -> tuple[list[str], float | None]:
    from dslkit.train.probe import load_report

    files = sorted((run_dir / "probe").glob("*.json")) if (run_dir / "probe").is_dir() else []
    if not files:
        return [], None
    report = load_report(files[0])
    board = report.scene.get("raw")
    value = (
        board.rate(metric)
        if board is not None
        else (report.trace.accuracy if report.trace else None)
    )
    return [c.output for c in report.cases], value


def _split_exact(run_dir: Path, metric: str) -> dict[str, dict[str, float]]:
    """probe name -> split -> raw ``metric`` of every probe report in ``run_dir/probe``."""
    from dslkit.train.probe import load_report

    folder = run_dir / "probe"
    out: dict[str, dict[str, float]] = {}
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        boards = load_report(path).scene_by_split.get("raw", {})
        rates = {split: b.rate(metric) for split, b in boards.items()}
        out[path.stem] = {k: v for k, v in rates.items() if v is not None}
    return out


def split_band_name(probe: str, split: str, metric: str = "exact_rate") -> str:
    """The band key of one probe's rate on one split, e.g. ``greedy hidden exact_rate``."""
    return f"{probe} {split} {metric}"


def _band(values: Sequence[float | None]) -> dict[str, float]:
    known = [v for v in values if v is not None]
    if not known:
        return {"count": 0}
    return {
        "count": len(known),
        "mean": statistics.fmean(known),
        "std": statistics.stdev(known) if len(known) > 1 else 0.0,
        "min": min(known),
        "max": max(known),
    }


def analyze(
    run_dirs: Sequence[str | Path], seeds: Sequence[int], *, metric: str = "exact_rate"
) -> RepeatReport:
    """Compute the variance band of finished runs.

    Args:
        run_dirs: one run dir per seed (each with ``log.jsonl``, optionally ``probe/*.json``).
        seeds: the seeds, in the same order.
        metric: the probe rate used as the primary metric.

    Returns:
        A :class:`RepeatReport`.
    """
    stats = []
    for seed, run_dir in zip(seeds, run_dirs, strict=True):
        run_dir = Path(run_dir)
        series = loss_series(run_dir / "log.jsonl")
        outputs, primary = _probe_outputs(run_dir, metric)
        stats.append(
            SeedStats(
                seed=seed,
                run_dir=str(run_dir),
                final_loss=series[-1][1] if series else None,
                late_loss_variance=late_variance(series),
                plateau=plateau_coefficient(series),
                char_repetition=statistics.fmean(map(char_repetition_rate, outputs))
                if outputs
                else None,
                ngram_repetition=statistics.fmean(map(ngram_repetition_rate, outputs))
                if outputs
                else None,
                primary=primary,
                curve=tuple(series),
                split_exact=_split_exact(run_dir, metric),
            )
        )
    band = {name: _band([getattr(s, name) for s in stats]) for name in BAND_STATS}
    keys = sorted({(p, sp) for s in stats for p, d in s.split_exact.items() for sp in d})
    for probe, split in keys:
        band[split_band_name(probe, split, metric)] = _band(
            [s.split_exact.get(probe, {}).get(split) for s in stats]
        )
    return RepeatReport(tuple(stats), band, metric)


def run(
    config: Any,
    seeds: Sequence[int],
    *,
    train: Callable[[Any], Any] | None = None,
    after: Callable[[Path], None] | None = None,
    metric: str = "exact_rate",
    progress: Callable[[str], None] | None = None,
    reuse: bool = False,
) -> RepeatReport:
    """Train the same config once per seed, then analyse the runs.

    Args:
        config: a ``dslkit.train.config.TrainConfig``; seed ``s`` trains into ``<out_dir>/seed_<s>``.
        seeds: the seeds.
        train: ``config -> anything`` that trains one run (default: load ``config.data``'s
            packed rows and call :func:`dslkit.train.loop.fit`).
        after: called with each finished run dir, e.g. to probe it into ``probe/``.
        metric: the probe rate of the band's ``primary`` row.
        progress: called with a line of text per seed.
        reuse: keep a seed's finished run (its ``log.jsonl`` ends with an ``end`` record)
            instead of training it again: seeds trained side by side, or a repeat that was
            interrupted, are analysed as if this call had trained them.

    Returns:
        The :class:`RepeatReport`, also written to ``<out_dir>/repeat.json``.
    """
    if not seeds:
        raise RepeatError("give at least one seed")
    train = train or _default_train
    base = Path(config.out_dir)
    dirs = []
    for seed in seeds:
        out = base / f"seed_{seed}"
        if reuse and _finished(out):
            if progress:
                progress(f"seed {seed}: reusing the finished run in {out}")
            dirs.append(out)
            continue
        if progress:
            progress(f"seed {seed}: training into {out}")
        train(dataclasses.replace(config, seed=seed, out_dir=str(out)))
        if after is not None:
            after(out)
        dirs.append(out)
    report = analyze(dirs, seeds, metric=metric)
    report.save(base / "repeat.json")
    return report


def _finished(run_dir: Path) -> bool:
    """Whether ``run_dir`` holds a run whose log ends with its ``end`` record."""
    try:
        lines = (run_dir / "log.jsonl").read_text(encoding="utf-8").splitlines()
        return bool(lines) and json.loads(lines[-1]).get("event") == "end"
    except (OSError, ValueError, AttributeError):
        return False


def _default_train(config: Any) -> Any:
    from dslkit.train.config import ConfigError
    from dslkit.train.loop import fit
    from dslkit.train.packing import PackedRows

    if not config.data.train:
        raise ConfigError("config key 'data.train' is empty: point it at a packed .npz file")
    dev = PackedRows.load(config.data.dev) if config.data.dev else None
    return fit(config, PackedRows.load(config.data.train), dev)
