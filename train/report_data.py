"""Collecting a run report's data: everything the report page shows, as JSON-ready data.

:func:`collect` reads what a run left behind (see :mod:`dslkit.train.report` for the folder
layout), compares it with a baseline, assesses the run's discipline and takes the promotion
decision (:mod:`dslkit.train.discipline`). Rendering that data as HTML is
:mod:`dslkit.train.report`'s job alone.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from dslkit.train import discipline as disc
from dslkit.train.probe import ProbeReport, compare, load_report
from dslkit.train.report_memo import memorisation

from dslkit.errors import ContractError

__all__ = ["collect", "heldout_exact"]


def _read_json(path: Path) -> Any:
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ContractError(f"cannot read {path}: {e}") from e


def _read_log(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue  # a torn last line of a crashed run must not hide the rest
    return out


def _probes(run_dir: Path) -> dict[str, ProbeReport]:
    folder = run_dir / "probe"
    if not folder.is_dir():
        return {}
    return {p.stem: load_report(p) for p in sorted(folder.glob("*.json"))}


def _primary(run: Mapping[str, Any], probes: Mapping[str, ProbeReport]) -> dict[str, str]:
    spec = dict((run or {}).get("primary") or {})
    if not spec.get("probe"):
        spec["probe"] = next((n for n in ("greedy", "raw") if n in probes), next(iter(probes), ""))
    spec.setdefault("mode", "raw")
    spec.setdefault("rate", "exact_rate")
    return spec


def _run_spec(config: Any, run: Mapping[str, Any] | None) -> dict[str, Any]:
    return {"config": config or {}, "versions": (run or {}).get("versions", {})}


def collect(run_dir: str | Path, *, baseline: str | Path | None = None) -> dict[str, Any]:
    """Gather and compute everything the report shows (the content of ``report.json``).

    Args:
        run_dir: the run folder.
        baseline: the baseline run folder (its probe reports must use the same probe contracts).

    Returns:
        A JSON-ready dict.

    Raises:
        ProbeMismatchError: a baseline probe report was built from a different probe contract.
        ContractError: an unreadable file in the run folder.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ContractError(f"run folder not found: {run_dir}")
    config = _read_json(run_dir / "config.json") or {}
    run = _read_json(run_dir / "run.json") or {}
    log = _read_log(run_dir / "log.jsonl")
    probes = _probes(run_dir)
    repeat = _read_json(run_dir / "repeat.json")
    base_dir = (
        Path(baseline) if baseline else (Path(run["baseline"]) if run.get("baseline") else None)
    )
    base_probes: dict[str, ProbeReport] = {}
    base_config: Any = None
    base_run: Any = None
    if base_dir is not None:
        if not base_dir.is_dir():
            raise ContractError(f"baseline run folder not found: {base_dir}")
        base_config = _read_json(base_dir / "config.json") or {}
        base_run = _read_json(base_dir / "run.json") or {}
        base_probes = _probes(base_dir)
    deltas = {
        name: compare(p, base_probes[name], mode=m)
        for name, p in probes.items()
        if name in base_probes
        for m in ("raw",)
    }
    deltas_repaired = {
        name: compare(p, base_probes[name], mode="repaired")
        for name, p in probes.items()
        if name in base_probes and "repaired" in p.scene
    }
    discipline = disc.assess(
        _run_spec(config, run), _run_spec(base_config, base_run) if base_dir is not None else None
    )
    primary = _primary(run, probes)
    decision = _decide(primary, probes, base_probes, discipline, run, repeat)
    start: dict[str, Any] = next((r for r in log if r.get("event") == "start"), {})
    end: dict[str, Any] = next((r for r in reversed(log) if r.get("event") == "end"), {})
    return {
        "run_dir": str(run_dir),
        "id": run.get("id") or run_dir.name,
        "date": run.get("date")
        or _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "baseline": str(base_dir) if base_dir is not None else None,
        "baseline_id": (base_run or {}).get("id") or (base_dir.name if base_dir else None),
        "hypothesis": run.get("hypothesis", ""),
        "lessons": list(run.get("lessons", [])),
        "versions": run.get("versions", {}),
        "config": config,
        "model": {**(run.get("model") or {}), "params": start.get("params")},
        "data": run.get("data", {}),
        "tokenizer": run.get("tokenizer", {}),
        "gold": run.get("gold"),
        "training": _training(log, config, start, end),
        "loss": [(r["step"], r["loss"]) for r in log if r.get("event") == "train" and "loss" in r],
        "evals": [r for r in log if r.get("event") == "eval"],
        "probes": {name: p.to_dict() for name, p in probes.items()},
        "probe_labels": {name: p.label or name for name, p in probes.items()},
        "deltas": {"raw": deltas, "repaired": deltas_repaired},
        "discipline": discipline.to_dict(),
        "primary": primary,
        "decision": decision.to_dict(),
        "memorisation": memorisation(
            probes,
            (run.get("data") or {}).get("train rows per family"),
            mode=primary["mode"] if primary["mode"] in ("raw", "repaired") else "raw",
            contract=str(run.get("contract") or "v1"),  # run.json may name the scene contract
        ),
        "repeat": repeat,
        "notes": list(run.get("notes", [])),
    }


def _training(
    log: Sequence[Mapping[str, Any]],
    config: Mapping[str, Any],
    start: Mapping[str, Any],
    end: Mapping[str, Any],
) -> dict[str, Any]:
    steps = end.get("step") or max((r.get("step", 0) for r in log), default=0)
    rows = start.get("train_rows") or 0
    batch = config.get("batch_size") or 0
    return {
        "steps": steps,
        "stop_reason": end.get("stop_reason"),
        "train_loss": end.get("train_loss"),
        "elapsed_s": end.get("elapsed_s"),
        "tokens_per_s": end.get("tokens_per_s"),
        "train_rows": rows,
        "dev_rows": start.get("dev_rows"),
        # row-epochs: how many times each training row was seen on average
        "effective_epochs": (steps * batch / rows) if rows else None,
        "device": start.get("device"),
    }


def _decide(
    primary: Mapping[str, str],
    probes: Mapping[str, ProbeReport],
    base_probes: Mapping[str, ProbeReport],
    discipline: disc.Discipline,
    run: Mapping[str, Any],
    repeat: Mapping[str, Any] | None,
) -> disc.Decision:
    name, mode, rate = primary["probe"], primary["mode"], primary["rate"]
    metric = f"{rate} ({mode}, {probes[name].label or name})" if name in probes else rate
    gold = run.get("gold")
    gate_ok = None if not gold else bool(gold.get("ok"))
    if name in probes and _trace_only(probes[name]):
        return _decide_trace(probes[name], base_probes.get(name), discipline, gate_ok, repeat)
    if name not in probes or mode not in probes[name].scene:
        return disc.decide(metric=metric, value=None, n=0, gate_ok=gate_ok)
    report = probes[name]
    board = report.scene[mode]
    raw, rep = report.scene.get("raw"), report.scene.get("repaired")
    kw: dict[str, Any] = {}
    base = base_probes.get(name)
    if base is not None and mode in base.scene:
        fam_run = {f: b.rate(rate) for f, b in report.scene_by_family.get(mode, {}).items()}
        fam_base = {f: b.rate(rate) for f, b in base.scene_by_family.get(mode, {}).items()}
        kw = {
            "baseline_value": base.scene[mode].rate(rate),
            "baseline_n": base.scene[mode].n,
            "family_deltas": disc.families_delta(
                {k: v for k, v in fam_run.items() if v is not None},
                {k: v for k, v in fam_base.items() if v is not None},
            ),
        }
    noise = _noise(repeat)
    train, held = heldout_exact(
        {k: (b.exact_rate, b.n) for k, b in report.scene_by_split.get(mode, {}).items()}
    )
    decision = disc.decide(
        metric=metric,
        value=board.rate(rate),
        n=board.n,
        discipline=discipline,
        gate_ok=gate_ok,
        raw_exact=raw.exact_rate if raw else None,
        repaired_exact=rep.exact_rate if rep else None,
        leak_rate=raw.special_token_leak_rate if raw else None,
        truncation_rate=raw.budget_truncation_rate if raw else None,
        noise_floor=noise,
        train_exact=train,
        heldout_exact=held,
        **kw,
    )
    if decision.reasons and decision.reasons[0].startswith("memorised"):
        # what the held-out cases got wrong instead: the next run's starting point
        held_out = [
            case.raw if mode == "raw" else case.repaired
            for case in report.cases
            if case.kind == "scene" and case.split != "train"
        ]
        classes = Counter(s.failure_class for s in held_out if s is not None and s.failure_class)
        if classes:
            shown = ", ".join(f"{cls} {n}" for cls, n in classes.most_common())
            reasons = (*decision.reasons[:1], f"held-out failures by class: {shown}")
            decision = replace(decision, reasons=reasons + decision.reasons[1:])
    return decision


def heldout_exact(
    by_split: Mapping[str, tuple[float, int]],
) -> tuple[float | None, float | None]:
    """Train exact and held-out exact (dev, test and hidden cases pooled) of one probe.

    Args:
        by_split: split -> (exact rate, cases).

    Returns:
        ``(train, held_out)``; None for a side without cases.
    """
    train = by_split.get("train")
    held = [(rate, n) for split, (rate, n) in by_split.items() if split != "train"]
    held_n = sum(n for _, n in held)
    return (
        train[0] if train and train[1] else None,
        sum(rate * n for rate, n in held) / held_n if held_n else None,
    )


def _trace_only(report: ProbeReport) -> bool:
    """A probe of traces alone: its scene boards are empty, so the decision must use traces."""
    scene_n = max((b.n for b in report.scene.values()), default=0)
    return scene_n == 0 and report.trace is not None and report.trace.n > 0


def _noise(repeat: Mapping[str, Any] | None) -> float | None:
    band = (repeat or {}).get("band", {}).get("primary", {})
    return disc.RULES.z * band["std"] if band.get("count", 0) >= 2 else None


def _decide_trace(
    report: ProbeReport,
    base: ProbeReport | None,
    discipline: disc.Discipline,
    gate_ok: bool | None,
    repeat: Mapping[str, Any] | None,
) -> disc.Decision:
    """Promotion rules on trace accuracy, with experts playing the role of families."""
    assert report.trace is not None
    kw: dict[str, Any] = {}
    if base is not None and base.trace is not None and base.trace.n:
        kw = {
            "baseline_value": base.trace.accuracy,
            "baseline_n": base.trace.n,
            "family_deltas": disc.families_delta(
                {e: b.accuracy for e, b in report.trace_by_expert.items()},
                {e: b.accuracy for e, b in base.trace_by_expert.items()},
            ),
        }
    train, held = heldout_exact({k: (b.accuracy, b.n) for k, b in report.trace_by_split.items()})
    return disc.decide(
        metric=f"accuracy (trace, {report.label or report.probe_name})",
        value=report.trace.accuracy,
        n=report.trace.n,
        discipline=discipline,
        gate_ok=gate_ok,
        noise_floor=_noise(repeat),
        train_exact=train,
        heldout_exact=held,
        **kw,
    )
