"""Memorisation called by its name: train against held-out exact, and what held-out cases got wrong.

A run that is exact on the rows it trained on and not on new content has memorised, whatever
its loss says. :func:`memorisation` puts the two rates side by side for every probe (with the
gap and the verdict line of :func:`dslkit.train.discipline.memorisation`), per split, and sorts
the held-out failures into classes a reader can act on:

- the probe's own failure class (``unresolved_ref``, ``missing_required_field``, ...) and
- :func:`mismatch_kind`: for an output that parses, the first way it differs from the expected
  scene (a wrong topic, another attribute, a component dropped or added, a field dropped or
  added, a wrong content ref, topology id or enum/int value), else ``does not parse``.

The report page shows this in its "Memorisation" section beside the rows per family that
training saw (``run.json``'s ``data["train rows per family"]``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

from dslkit.train import discipline as disc
from dslkit.train.probe import ProbeReport

__all__ = ["memorisation", "mismatch_kind"]

_SPLITS = ("train", "dev", "test", "hidden")


def _field_kind(spec: Any, component: str, field: str) -> str:
    cspec = spec.components.get(component)
    fspec = cspec.field(field) if cspec is not None else None
    return fspec.kind if fspec is not None else "unknown"


def mismatch_kind(expected: str, output: str, contract: str = "v1") -> str:
    """The first way ``output`` differs from ``expected`` ("" when the scenes are equal).

    Args:
        expected: the expected scene text (must parse).
        output: the model's scene text.
        contract: the scene contract (field kinds).

    Returns:
        One class (coarse on purpose, so counts add up): ``does not parse``, ``attribute
        topic``, ``attribute other`` (wrong, missing or extra), ``component dropped``,
        ``component added``, ``component swapped``, ``field dropped``, ``field added``,
        ``wrong <kind>`` (kind: ref, id, idref, enum, int), ``nesting``, or ``""``.
    """
    import scene_dsl

    spec = scene_dsl.load_contract(contract)
    want = scene_dsl.canonicalize(scene_dsl.parse(expected, contract=spec), spec)
    try:
        got = scene_dsl.canonicalize(scene_dsl.parse(output, contract=spec), spec)
    except scene_dsl.DslkitError:
        return "does not parse"
    a, b = dict((x.key, x.value) for x in want.attrs), dict((x.key, x.value) for x in got.attrs)
    for key in [*a, *(k for k in b if k not in a)]:
        if a.get(key) != b.get(key):
            return "attribute topic" if key == "topic" else "attribute other"
    wc, gc = want.walk(), got.walk()
    for w, g in zip(wc, gc, strict=False):
        if w.name != g.name:
            names_w, names_g = [c.name for c in wc], [c.name for c in gc]
            if len(names_g) < len(names_w):
                return "component dropped"
            if len(names_g) > len(names_w):
                return "component added"
            return "component swapped"
        wf, gf = list(w.fields), list(g.fields)
        wn, gn = Counter(f.name for f in wf), Counter(f.name for f in gf)
        for name in wn:
            if gn[name] < wn[name]:
                return "field dropped"
        for name in gn:
            if gn[name] > wn[name]:
                return "field added"
        for x, y in zip(wf, gf, strict=True):
            if x.value != y.value:
                return f"wrong {_field_kind(spec, w.name, x.name)}"
    if len(gc) < len(wc):
        return "component dropped"
    if len(gc) > len(wc):
        return "component added"
    return "nesting" if got != want else ""


def memorisation(
    probes: Mapping[str, ProbeReport],
    train_rows_per_family: Mapping[str, int] | None = None,
    mode: str = "raw",
    contract: str = "v1",
) -> dict[str, Any]:
    """Train against held-out exact for every probe, with held-out failures by class.

    Args:
        probes: probe name -> report (scene cases with splits).
        train_rows_per_family: rows per family the model trained on (shown beside the rates).
        mode: ``raw`` or ``repaired`` scoring.
        contract: scene contract of the cases.

    Returns:
        ``{"probes": {name: {...}}, "train_rows_per_family": {...}}``; per probe: ``train``,
        ``held_out`` (dev, test and hidden pooled), ``gap``, ``line`` (the verdict), ``splits``
        (split -> exact rate and cases), ``failure_classes`` and ``mismatch`` (split -> class ->
        count, held-out splits only).
    """
    out: dict[str, Any] = {}
    for name, report in probes.items():
        boards = report.scene_by_split.get(mode, {})
        if not boards:
            continue
        splits = {
            s: {"exact": boards[s].exact_rate, "n": boards[s].n} for s in _SPLITS if s in boards
        }
        train = splits.get("train", {}).get("exact") if "train" in splits else None
        held = [(v["exact"], v["n"]) for s, v in splits.items() if s != "train"]
        held_n = sum(n for _, n in held)
        held_out = sum(r * n for r, n in held) / held_n if held_n else None
        gap = train - held_out if train is not None and held_out is not None else None
        line = disc.memorisation(train, held_out)
        if not line and gap is not None:
            line = (
                f"not memorised: train {train:.0%}, held-out {held_out:.0%} "
                f"(gap {gap * 100:.0f} points, threshold {disc.RULES.split_gap * 100:.0f})"
            )
        classes: dict[str, Counter[str]] = {}
        kinds: dict[str, Counter[str]] = {}
        for case in report.cases:
            score = case.raw if mode == "raw" else case.repaired
            if case.kind != "scene" or case.split == "train" or score is None or score.exact:
                continue
            classes.setdefault(case.split, Counter())[score.failure_class or "not exact"] += 1
            kinds.setdefault(case.split, Counter())[
                mismatch_kind(case.expected, score.text, contract) or "not exact"
            ] += 1
        out[name] = {
            "label": report.label or name,
            "train": train,
            "held_out": held_out,
            "gap": gap,
            "line": line,
            "splits": splits,
            "failure_classes": {s: dict(c.most_common()) for s, c in classes.items()},
            "mismatch": {s: dict(c.most_common()) for s, c in kinds.items()},
        }
    return {"probes": out, "train_rows_per_family": dict(train_rows_per_family or {})}
