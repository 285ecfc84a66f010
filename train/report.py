"""Run reports: one self-contained HTML page (plus ``report.json``) a person can decide from.

``write(run_dir, baseline=None)`` reads what a run left behind::

    config.json     the TrainConfig (train.loop.fit writes it)
    log.jsonl       the run log (train and eval records)
    run.json        optional run card extras: id, date, hypothesis, lessons, versions of the
                    dsl/compiler/data/tokenizer, data and tokenizer stats, gold-pack gate
                    (GoldReport.to_dict() plus "thumbnails": {case: svg}), "primary":
                    {"probe": name, "mode": "raw", "rate": "exact_rate"}
    probe/*.json    probe reports (train.probe.ProbeReport.save), one per decoding mode
    repeat.json     optional seed variance band (train.repeat)

and writes ``report.html`` and ``report.json`` into the run dir. Collecting the data (and the
decision) is :mod:`dslkit.train.report_data`; this module only renders it. The page has no external
reference: CSS is inline, charts are inline SVG drawn here, compiled scenes are ``data:`` images
(an ``<img>`` never runs script, whatever a generated scene contains). Every text is escaped.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from dslkit.train import discipline as disc
from dslkit.train.probe import RATE_NAMES
from dslkit.train.repeat import BAND_STATS
from dslkit.train.report_data import collect

__all__ = ["SECTIONS", "collect", "render", "write"]

# (id, title) of every section, in page order; tests check each one is present.
SECTIONS: tuple[tuple[str, str], ...] = (
    ("headline", "Headline"),
    ("run-card", "Run card"),
    ("hypothesis", "Hypothesis"),
    ("held-constant", "Held-constant matrix"),
    ("data", "Data and tokenizer"),
    ("compiler-gate", "Compiler gate"),
    ("probe-summary", "Probe summary"),
    ("per-family", "Per family"),
    ("per-split", "Per split"),
    ("memorisation", "Memorisation"),
    ("loss-curve", "Loss curve"),
    ("variance", "Seed variance band"),
    ("failure-gallery", "Failure gallery"),
    ("lessons", "Findings and lessons"),
    ("decision", "Decision"),
)

HIGHER_IS_BETTER = {
    "exact_rate",
    "renderable_rate",
    "materialized_exact_rate",
    "parse_rate",
    "accuracy",
    "valid_trace_rate",
    "mean_reward",
}
GALLERY_SIZE = 12

# ----------------------------------------------------------------------------- rendering

CSS = """
:root{--green:#1a7f37;--green-bg:#dafbe1;--amber:#9a6700;--amber-bg:#fff8c5;--red:#cf222e;
--red-bg:#ffebe9;--ink:#1f2328;--muted:#656d76;--line:#d0d7de;--blue:#0969da}
*{box-sizing:border-box}body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;
color:var(--ink);margin:0;background:#f6f8fa}main{max-width:1280px;margin:0 auto;padding:20px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:14px 18px;
margin:14px 0}h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:0 0 10px}
h3{font-size:14px;margin:12px 0 6px}table{border-collapse:collapse;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:3px 10px;border-radius:12px;font-weight:600}
.green{color:var(--green);background:var(--green-bg)}.amber{color:var(--amber);
background:var(--amber-bg)}.red{color:var(--red);background:var(--red-bg)}
.info{color:var(--blue);background:#ddf4ff}.muted{color:var(--muted)}
.pos{color:var(--green);font-weight:600}.neg{color:var(--red);font-weight:600}
.headline{display:flex;gap:18px;flex-wrap:wrap;align-items:stretch}
.kpi{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:150px}
.kpi .v{font-size:24px;font-weight:700}.kpi .l{color:var(--muted);font-size:12px}
.decision-box{border-radius:8px;padding:10px 16px;min-width:260px}
.decision-box .v{font-size:26px;font-weight:800;text-transform:uppercase}
tr.primary td{background:#ddf4ff;font-weight:600}pre{white-space:pre-wrap;word-break:break-all;
background:#f6f8fa;border:1px solid var(--line);border-radius:6px;padding:6px 8px;margin:4px 0;
font-size:12px;max-height:220px;overflow:auto}.grid{display:grid;grid-template-columns:
repeat(auto-fill,minmax(170px,1fr));gap:10px}.thumb{border:1px solid var(--line);
border-radius:6px;padding:6px;font-size:12px}.thumb img{width:100%;height:auto;display:block}
.card{border:1px solid var(--line);border-radius:8px;padding:10px;margin:10px 0;display:grid;
grid-template-columns:minmax(0,1fr) 280px;gap:12px}.card img{width:100%;border:1px solid
var(--line)}ul{margin:4px 0 4px 18px;padding:0}.chart{max-width:100%;height:auto}
"""


def _where(diag: dict[str, Any]) -> str:
    """`` @ line:col`` for a positioned diagnostic; nothing for whole-file ones (line 0)."""
    return f" @ {diag['line']}:{diag['column']}" if diag.get("line") else ""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1%}"


def _delta(value: float | None, metric: str, noise: float | None = None) -> str:
    if value is None:
        return '<span class="muted">–</span>'
    better = value > 0 if metric in HIGHER_IS_BETTER else value < 0
    cls = "pos" if better and abs(value) > 1e-12 else ("neg" if abs(value) > 1e-12 else "muted")
    return f'<span class="{cls}">{value:+.1%}</span>'


def _img(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/svg+xml;base64,{data}">'


def _table(
    head: Sequence[str], rows: Sequence[Sequence[str]], row_classes: Sequence[str] = ()
) -> str:
    h = "".join(f"<th>{c}</th>" for c in head)
    body = []
    for i, r in enumerate(rows):
        cls = f' class="{row_classes[i]}"' if i < len(row_classes) and row_classes[i] else ""
        body.append(f"<tr{cls}>" + "".join(r) + "</tr>")
    return f"<table><thead><tr>{h}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _td(text: str, num: bool = False) -> str:
    return f'<td class="num">{text}</td>' if num else f"<td>{text}</td>"


def line_chart(
    series: Sequence[tuple[str, str, Sequence[tuple[float, float]]]],
    *,
    width: int = 760,
    height: int = 260,
    x_label: str = "step",
    y_label: str = "loss",
    band: tuple[Sequence[tuple[float, float]], Sequence[tuple[float, float]]] | None = None,
) -> str:
    """An inline SVG line chart (polylines) with axes, ticks and a legend.

    Args:
        series: ``(label, colour, points)`` per line.
        width: pixels.
        height: pixels.
        x_label: x axis title.
        y_label: y axis title.
        band: optional ``(lower, upper)`` point lists drawn as a shaded area.

    Returns:
        SVG markup (escaped labels, no external references).
    """
    pts = [p for _, _, s in series for p in s if all(math.isfinite(v) for v in p)]
    if not pts:
        return '<p class="muted">no data logged</p>'
    left, right, top, bottom = 56, 16, 14, 40
    xs, ys = [p[0] for p in pts], [p[1] for p in pts]
    x0, x1 = min(xs), max(xs)
    y0, y1 = min(0.0, min(ys)), max(ys)
    if x1 == x0:
        x1 = x0 + 1
    if y1 == y0:
        y1 = y0 + 1
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + ph - (y - y0) / (y1 - y0) * ph

    out = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{_e(y_label)} over {_e(x_label)}">'
    ]
    for i in range(5):
        yv = y0 + (y1 - y0) * i / 4
        out.append(
            f'<line x1="{left}" x2="{left + pw}" y1="{sy(yv):.1f}" y2="{sy(yv):.1f}" '
            'stroke="#eaeef2"/>'
        )
        out.append(
            f'<text x="{left - 6}" y="{sy(yv) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#656d76">{yv:.3g}</text>'
        )
        xv = x0 + (x1 - x0) * i / 4
        out.append(
            f'<text x="{sx(xv):.1f}" y="{top + ph + 16}" font-size="11" text-anchor="middle" '
            f'fill="#656d76">{xv:.4g}</text>'
        )
    out.append(f'<line x1="{left}" x2="{left}" y1="{top}" y2="{top + ph}" stroke="#8c959f"/>')
    out.append(
        f'<line x1="{left}" x2="{left + pw}" y1="{top + ph}" y2="{top + ph}" stroke="#8c959f"/>'
    )
    out.append(
        f'<text x="{left + pw / 2:.0f}" y="{height - 6}" font-size="12" text-anchor="middle">'
        f"{_e(x_label)}</text>"
    )
    out.append(
        f'<text x="14" y="{top + ph / 2:.0f}" font-size="12" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + ph / 2:.0f})">{_e(y_label)}</text>'
    )
    if band is not None and band[0] and band[1]:
        poly = [*band[1], *reversed(band[0])]
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in poly)
        out.append(f'<polygon points="{coords}" fill="#0969da" fill-opacity="0.12" stroke="none"/>')
    for i, (label, colour, s) in enumerate(series):
        good = [p for p in s if all(math.isfinite(v) for v in p)]
        if not good:
            continue
        coords = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in good)
        if len(good) == 1 or label.startswith("dev"):
            out.extend(
                f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{_e(colour)}"/>'
                for x, y in good
            )
        if len(good) > 1:
            out.append(
                f'<polyline points="{coords}" fill="none" stroke="{_e(colour)}" '
                'stroke-width="1.6"/>'
            )
        lx = left + pw - 150
        ly = top + 12 + 16 * i
        out.append(f'<rect x="{lx}" y="{ly - 8}" width="10" height="10" fill="{_e(colour)}"/>')
        out.append(f'<text x="{lx + 15}" y="{ly + 1}" font-size="11">{_e(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _section(sid: str, body: str, extra_title: str = "") -> str:
    title = dict(SECTIONS)[sid]
    return f'<section id="{sid}"><h2>{_e(title)}{extra_title}</h2>{body}</section>'


def _headline(d: Mapping[str, Any]) -> str:
    dec = d["decision"]
    colour = dec["colour"]
    kpis = [
        f'<div class="decision-box {colour}"><div class="l">decision</div>'
        f'<div class="v">{_e(dec["decision"])}</div><div>{_e(dec["primary_metric"])}</div></div>'
    ]
    prim = d["primary"]
    for name, p in d["probes"].items():
        label = d["probe_labels"][name]
        for mode in ("raw", "repaired"):
            board = p["scene"].get(mode)
            if not board:
                continue
            delta = d["deltas"][mode].get(name, {}).get("overall", {}).get("exact_rate")
            star = " ★" if name == prim["probe"] and mode == prim["mode"] else ""
            kpis.append(
                f'<div class="kpi"><div class="l">exact · {_e(label)} · {mode}{star}</div>'
                f'<div class="v">{_pct(board["exact_rate"])}</div>'
                f"<div>{_delta(delta, 'exact_rate')} vs baseline · renderable "
                f"{_pct(board['renderable_rate'])}</div></div>"
            )
        if p.get("trace"):
            t = p["trace"]
            kpis.append(
                f'<div class="kpi"><div class="l">trace accuracy · {_e(label)}</div>'
                f'<div class="v">{_pct(t["accuracy"])}</div>'
                f"<div>parse {_pct(t['parse_rate'])} · reward {t['mean_reward']:.2f}</div></div>"
            )
    reasons = "".join(f"<li>{_e(r)}</li>" for r in dec["reasons"])
    blurry = ""
    if d["discipline"]["blurry"]:
        blurry = (
            '<p><span class="badge amber">blurry run</span> changed axes: '
            f"{_e(', '.join(d['discipline']['changed_axes']))}</p>"
        )
    base = _e(d["baseline_id"]) if d["baseline_id"] else "none"
    return (
        f'<h1>Run report: {_e(d["id"])}</h1><p class="muted">{_e(d["date"])} · baseline: {base}'
        f" · primary axis: {_e(d['config'].get('primary_axis') or 'none declared')}</p>"
        f'<div class="headline">{"".join(kpis)}</div>{blurry}<ul>{reasons}</ul>'
    )


def _run_card(d: Mapping[str, Any]) -> str:
    cfg = d["config"]
    model = cfg.get("model", {})
    t = d["training"]
    rows = [
        ("run id", d["id"]),
        ("date", d["date"]),
        ("run folder", d["run_dir"]),
        ("baseline", d["baseline"] or "none"),
        ("primary axis", cfg.get("primary_axis") or "none declared"),
        ("held constant", ", ".join(cfg.get("held_constant", [])) or "none declared"),
        ("model", ", ".join(f"{k}={v}" for k, v in model.items())),
        ("parameters", f"{d['model'].get('params'):,}" if d["model"].get("params") else "n/a"),
        (
            "optimiser",
            f"lr={cfg.get('lr')} batch={cfg.get('batch_size')} max_steps={cfg.get('max_steps')}"
            f" seed={cfg.get('seed')}",
        ),
        (
            "training",
            f"{t['steps']} steps, stop: {t['stop_reason']}, last train loss "
            f"{_num(t['train_loss'])}, {_num(t['elapsed_s'])} s on {t['device']}",
        ),
        *[(f"{k} version", v) for k, v in d["versions"].items()],
    ]
    return _table(["", ""], [[_td(f"<b>{_e(k)}</b>"), _td(_e(v))] for k, v in rows])


def _num(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return _e(v) if v is not None else "n/a"


def _held_matrix(d: Mapping[str, Any]) -> str:
    dd = d["discipline"]
    changes: dict[str, list[str]] = {}
    for c in dd["changes"]:
        changes.setdefault(c["axis"], []).append(f"{c['key']}: {c['baseline']!r} → {c['run']!r}")
    rows, classes = [], []
    held = set(dd["held_constant"])
    for axis in (*disc.AXES, "other"):
        if axis == "other" and axis not in changes:
            continue
        declared = (
            "primary"
            if axis == dd["primary_axis"]
            else "held constant"
            if axis in held
            else "undeclared"
        )
        if not dd["has_baseline"]:
            changed = '<span class="muted">no baseline</span>'
        elif axis in changes:
            bad = axis != dd["primary_axis"]
            changed = f'<span class="badge {"red" if bad else "green"}">changed</span>'
        else:
            bad_primary = axis == dd["primary_axis"]
            changed = f'<span class="badge {"amber" if bad_primary else "green"}">unchanged</span>'
        rows.append(
            [
                _td(f"<b>{_e(axis)}</b>"),
                _td(_e(declared)),
                _td(changed),
                _td(
                    "<br>".join(_e(x) for x in changes.get(axis, []))
                    or _e(d["versions"].get(axis, ""))
                ),
            ]
        )
        classes.append("primary" if axis == dd["primary_axis"] else "")
    verdict = (
        '<p><span class="badge amber">blurry</span> this run changed more than its primary '
        "axis: its gain cannot be pinned on one layer.</p>"
        if dd["blurry"]
        else '<p><span class="badge green">clean</span> only the primary axis changed.</p>'
        if dd["has_baseline"]
        else ""
    )
    notes = "".join(f"<li>{_e(r)}</li>" for r in dd["reasons"])
    return (
        _table(["axis", "declared", "vs baseline", "changes / version"], rows, classes)
        + verdict
        + (f"<ul>{notes}</ul>" if notes else "")
    )


def _kv_table(data: Mapping[str, Any]) -> str:
    rows = []
    for k, v in data.items():
        if isinstance(v, Mapping):
            v = ", ".join(f"{a}={b}" for a, b in v.items())
        elif isinstance(v, (list, tuple)):
            v = "; ".join(map(str, v))
        rows.append([_td(f"<b>{_e(k)}</b>"), _td(_e(v))])
    return _table(["", ""], rows) if rows else '<p class="muted">not recorded</p>'


def _data_section(d: Mapping[str, Any]) -> str:
    t = d["training"]
    training = {
        "train rows (packed)": t["train_rows"],
        "dev rows (packed)": t["dev_rows"],
        "effective epochs (row-epochs)": f"{t['effective_epochs']:.1f}"
        if t["effective_epochs"]
        else "n/a",
        "tokens/s": t["tokens_per_s"],
    }
    return (
        f"<h3>Dataset</h3>{_kv_table(d['data'])}<h3>Training exposure</h3>{_kv_table(training)}"
        f"<h3>Tokenizer</h3>{_kv_table(d['tokenizer'])}"
    )


def _gate(d: Mapping[str, Any]) -> str:
    gold = d["gold"]
    if not gold:
        return '<p><span class="badge amber">not run</span> no gold-pack result recorded.</p>'
    cases = gold.get("cases", [])
    ok = sum(1 for c in cases if c.get("ok"))
    badge = "green" if gold.get("ok") else "red"
    head = (
        f'<p><span class="badge {badge}">{ok}/{len(cases)} cases pass</span> '
        f"{_e(gold.get('directory', ''))} · {_e(gold.get('seconds', ''))} s</p>"
    )
    failed = [c for c in cases if not c.get("ok")]
    fail_rows = [
        [
            _td(_e(c["name"])),
            _td(_e(", ".join(k for k, v in c["checks"].items() if not v))),
            _td("<br>".join(_e(m) for m in c.get("messages", [])[:3])),
        ]
        for c in failed
    ]
    fails = _table(["case", "failed checks", "why"], fail_rows) if failed else ""
    thumbs = gold.get("thumbnails", {})
    grid = "".join(
        f'<div class="thumb">{_img(svg, name)}<div>{"✓" if _case_ok(cases, name) else "✗"} '
        f"{_e(name)}</div></div>"
        for name, svg in thumbs.items()
    )
    return head + fails + (f'<div class="grid">{grid}</div>' if grid else "")


def _case_ok(cases: Sequence[Mapping[str, Any]], name: str) -> bool:
    return any(c.get("name") == name and c.get("ok") for c in cases)


def _probe_summary(d: Mapping[str, Any]) -> str:
    if not d["probes"]:
        return '<p class="muted">no probe report in probe/</p>'
    parts = []
    prim = d["primary"]
    for name, p in d["probes"].items():
        pr = p["probe"]
        parts.append(
            f'<h3>{_e(d["probe_labels"][name])} <span class="muted">probe {_e(pr["name"])} '
            f"v{_e(pr['version'])} · hash {_e(pr['hash'])} · "
            f"{'compiler on' if p['compiler'] else 'no compiler: materialized n/a'}</span></h3>"
        )
        if p["scene"]:
            modes = [m for m in ("raw", "repaired") if m in p["scene"]]
            rows, classes = [], []
            for rate in (*RATE_NAMES, "parse_rate"):
                row = [_td(_e(rate))]
                for m in modes:
                    row.append(_td(_pct(p["scene"][m].get(rate)), num=True))
                    delta = d["deltas"][m].get(name, {}).get("overall", {}).get(rate)
                    row.append(_td(_delta(delta, rate), num=True))
                rows.append(row)
                classes.append("primary" if name == prim["probe"] and rate == prim["rate"] else "")
            head = ["metric"] + [h for m in modes for h in (m, f"Δ {m}")]
            n = p["scene"][modes[0]]["n"]
            parts.append(f"<p>{n} scene cases</p>" + _table(head, rows, classes))
            fc = p["scene"]["raw"]["failure_classes"]
            if fc:
                parts.append(
                    "<p>primary failure classes (raw): "
                    + ", ".join(f"<b>{_e(k)}</b> {v}" for k, v in fc.items())
                    + "</p>"
                )
        if p.get("trace"):
            t = p["trace"]
            trows = [
                [_td(_e(k)), _td(_pct(t[k]) if k != "mean_reward" else f"{t[k]:.3f}", num=True)]
                for k in ("parse_rate", "valid_trace_rate", "accuracy", "mean_reward")
            ]
            parts.append(
                f"<p>{t['n']} trace cases · statuses: "
                + ", ".join(f"{_e(k)} {v}" for k, v in t["status_counts"].items())
                + "</p>"
                + _table(["metric", "value"], trows)
            )
            if p.get("trace_by_expert"):
                erows = [
                    [
                        _td(_e(k)),
                        _td(str(v["n"]), True),
                        _td(_pct(v["accuracy"]), True),
                        _td(_pct(v["parse_rate"]), True),
                    ]
                    for k, v in p["trace_by_expert"].items()
                ]
                parts.append(_table(["expert", "n", "accuracy", "parse"], erows))
    return "".join(parts)


def _group_table(d: Mapping[str, Any], key: str) -> str:
    name = d["primary"]["probe"]
    p = d["probes"].get(name)
    if not p or not p.get(key):
        return '<p class="muted">no scene probe</p>'
    raw = p[key].get("raw", {})
    rep = p[key].get("repaired", {})
    dkey = "by_family" if key == "scene_by_family" else None
    deltas = d["deltas"]["raw"].get(name, {}).get(dkey, {}) if dkey else {}
    rows = []
    for group, b in raw.items():
        rb = rep.get(group, {})
        row = [_td(_e(group)), _td(str(b["n"]), True), _td(_pct(b["exact_rate"]), True)]
        if dkey:
            row.append(_td(_delta(deltas.get(group, {}).get("exact_rate"), "exact_rate"), True))
        row += [
            _td(_pct(rb.get("exact_rate")), True),
            _td(_pct(b["renderable_rate"]), True),
            _td(_pct(b["materialized_exact_rate"]), True),
            _td(_e(", ".join(f"{k} {v}" for k, v in b["failure_classes"].items()))),
        ]
        rows.append(row)
    head = (
        [key.split("_")[-1], "n", "exact raw"]
        + (["Δ exact"] if dkey else [])
        + ["exact repaired", "renderable", "materialized", "failure classes"]
    )
    return f'<p class="muted">probe: {_e(d["probe_labels"][name])}</p>' + _table(head, rows)


def _loss_section(d: Mapping[str, Any]) -> str:
    series: list[tuple[str, str, Sequence[tuple[float, float]]]] = [
        ("train loss", "#0969da", d["loss"])
    ]
    dev = [
        (e["step"], e["dev_loss"])
        for e in d["evals"]
        if isinstance(e.get("dev_loss"), (int, float))
    ]
    if dev:
        series.append(("dev loss", "#bf3989", dev))
    return line_chart(series)


def _variance(d: Mapping[str, Any]) -> str:
    rep = d["repeat"]
    if not rep:
        return (
            '<p class="muted">single seed: no variance band. Run <code>python -m dslkit.train repeat '
            "CONFIG --seeds 7,11,13</code> to measure the noise floor.</p>"
        )
    rows = []
    for s in rep["seeds"]:
        rows.append(
            [
                _td(str(s["seed"])),
                _td(_num(s["final_loss"]), True),
                _td(_num(s["late_loss_variance"]), True),
                _td(_num(s["plateau"]), True),
                _td(_pct(s["char_repetition"]), True),
                _td(_pct(s["ngram_repetition"]), True),
                _td(_pct(s["primary"]), True),
            ]
        )
    band = rep.get("band", {})
    for stat in ("mean", "std"):
        rows.append(
            [_td(f"<b>{stat}</b>")]
            + [
                _td(
                    _num(band.get(k, {}).get(stat))
                    if k != "primary"
                    else _pct(band.get(k, {}).get(stat)),
                    True,
                )
                for k in BAND_STATS
            ]
        )
    table = _table(
        [
            "seed",
            "final loss",
            "loss var (last 20%)",
            "plateau |late/early|",
            "char repetition",
            "4-gram repetition",
            rep.get("metric", "primary"),
        ],
        rows,
    )
    palette = ["#0969da", "#bf3989", "#1a7f37", "#9a6700", "#8250df", "#cf222e"]
    series = [
        (f"seed {s['seed']}", palette[i % len(palette)], [tuple(p) for p in s.get("curve", [])])
        for i, s in enumerate(rep["seeds"])
    ]
    band_pts = _minmax_band([s.get("curve", []) for s in rep["seeds"]])
    return table + line_chart(series, x_label="tokens seen (or step)", band=band_pts)


def _minmax_band(
    curves: Sequence[Sequence[Sequence[float]]],
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]] | None:
    if len(curves) < 2 or not all(curves):
        return None
    n = min(len(c) for c in curves)
    lo = [(curves[0][i][0], min(c[i][1] for c in curves)) for i in range(n)]
    hi = [(curves[0][i][0], max(c[i][1] for c in curves)) for i in range(n)]
    return lo, hi


def _gallery(d: Mapping[str, Any]) -> str:
    name = d["primary"]["probe"]
    p = d["probes"].get(name)
    if not p:
        return '<p class="muted">no probe report</p>'
    failures = [c for c in p["cases"] if c["failure_class"]]
    if not failures:
        return '<p><span class="badge green">no failures</span> every probe case is exact.</p>'
    # one case per failure class first, so the gallery shows the variety, then the rest
    picked: list[Mapping[str, Any]] = []
    seen: set[str] = set()
    for c in failures:
        if c["failure_class"] not in seen:
            picked.append(c)
            seen.add(c["failure_class"])
    picked += [c for c in failures if c not in picked]
    cards = []
    for c in picked[:GALLERY_SIZE]:
        raw = c.get("raw") or {}
        rep = c.get("repaired") or {}
        diags = "".join(
            f"<li>{_e(x['code'])} [{_e(x['failure_class'])}]{_where(x)}: {_e(x['message'])}</li>"
            for x in sorted(raw.get("diagnostics", []), key=lambda x: x["severity"] != "error")[:6]
        )
        mism = "".join(f"<li>{_e(m)}</li>" for m in raw.get("mismatched", [])[:8])
        trace = ""
        if c["kind"] == "trace":
            trace = (
                f"<p>status <b>{_e(c['trace_status'])}</b>, answer {_e(c['trace_answer'])}"
                f"{', ' + _e(c['trace_error']) if c['trace_error'] else ''}</p>"
            )
        svg = raw.get("svg")
        pic_label = "rendered output"
        if not svg and rep.get("svg"):
            svg, pic_label = rep["svg"], "rendered after repair"
        picture = (
            f"<div>{_img(svg, c['id'])}<div class='muted'>{pic_label}</div></div>"
            if svg
            else '<div class="muted">does not compile: nothing to render</div>'
        )
        fixes = ", ".join(c.get("fixes", []))
        cards.append(
            f'<div class="card"><div><b>{_e(c["id"])}</b> · {_e(c["family"])} · {_e(c["split"])} · '
            f'<span class="badge red">{_e(c["failure_class"])}</span>'
            f"{' · hit budget' if c.get('hit_budget') else ''}"
            f"<h3>prompt</h3><pre>{_e(c['prompt'])}</pre><h3>expected</h3><pre>{_e(c['expected'])}</pre>"
            f"<h3>actual</h3><pre>{_e(c['output'])}</pre>{trace}"
            + (f"<h3>diagnostics</h3><ul>{diags}</ul>" if diags else "")
            + (f"<h3>mismatched fields</h3><ul>{mism}</ul>" if mism else "")
            + (
                f"<p class='muted'>repair: {_e(fixes)} → repaired exact: "
                f"{'yes' if rep.get('exact') else 'no'}</p>"
                if fixes
                else ""
            )
            + f"</div>{picture}</div>"
        )
    more = len(failures) - len(cards)
    return (
        f"<p>{len(failures)} failing cases in {_e(d['probe_labels'][name])}; showing "
        f"{len(cards)}{f' ({more} more in report.json)' if more > 0 else ''}.</p>" + "".join(cards)
    )


def _lessons(d: Mapping[str, Any]) -> str:
    items = []
    for name, p in d["probes"].items():
        for f in p["findings"]:
            items.append(
                f'<li><span class="badge {f["severity"]}">{_e(f["severity"])}</span> '
                f"<b>{_e(d['probe_labels'][name])}</b>: {_e(f['message'])}</li>"
            )
    lessons = "".join(f"<li>{_e(x)}</li>" for x in d["lessons"])
    notes = "".join(f"<li>{_e(x)}</li>" for x in d["notes"])
    return (
        (
            f"<h3>Interpretation rules that fired</h3><ul>{items}</ul>"
            if items
            else "<p class='muted'>no interpretation rule fired</p>"
        )
        + (f"<h3>Lessons</h3><ul>{lessons}</ul>" if lessons else "")
        + (f"<h3>Notes</h3><ul>{notes}</ul>" if notes else "")
    )


def _memorisation(d: Mapping[str, Any]) -> str:
    """Train against held-out exact per probe, the held-out failures by class, and the rows per
    family training saw: memorisation named, not inferred from a loss curve."""
    m = d.get("memorisation") or {}
    parts = []
    for p in (m.get("probes") or {}).values():
        colour = "red" if p["line"].startswith("memorised") else "green"
        splits = p["splits"]
        rows = [
            [_td(_e(s)), _td(str(v["n"]), num=True), _td(_pct(v["exact"]), num=True)]
            for s, v in splits.items()
        ]
        parts.append(
            f"<h3>{_e(p['label'])}</h3>"
            f'<p><span class="badge {colour}">{_e(p["line"])}</span></p>'
            + _table(["split", "cases", "exact"], rows)
        )
        held = [s for s in splits if s != "train"]
        if held:
            crow = []
            for key, title in (
                ("failure_classes", "failure class"),
                ("mismatch", "first difference"),
            ):
                cells = [_td(_e(title))]
                for s in held:
                    c = p[key].get(s, {})
                    cells.append(_td(_e(", ".join(f"{k} {n}" for k, n in c.items()) or "none")))
                crow.append(cells)
            parts.append(
                "<p>held-out failures by class</p>" + _table(["", *(_e(s) for s in held)], crow)
            )
    fam = m.get("train_rows_per_family") or {}
    if fam:
        parts.append(
            f"<h3>Rows per family seen in training ({sum(fam.values())} rows)</h3>"
            + _table(
                ["family", "train rows"],
                [[_td(_e(k)), _td(str(v), num=True)] for k, v in sorted(fam.items())],
            )
        )
    return "".join(parts) or "<p class='muted'>no scene probe with splits</p>"


def _decision(d: Mapping[str, Any]) -> str:
    dec = d["decision"]
    rows = [
        ("primary metric", dec["primary_metric"]),
        ("value", _pct(dec["value"])),
        ("baseline", _pct(dec["baseline_value"])),
        ("delta", _pct(dec["delta"])),
        ("noise (z·SE or seed band)", _pct(dec["noise"])),
    ]
    reg = dec.get("regressed_families") or {}
    if reg:
        rows.append(("regressed families", ", ".join(f"{k} {v:+.1%}" for k, v in reg.items())))
    rules = (
        "<p class='muted'>Rules: a failed compiler gate rejects; a memorised run (held-out "
        f"exact {disc.RULES.split_gap:.0%} or more below train exact) rejects; a blurry run "
        "branches; promote "
        "only if the primary metric improves beyond noise and the minimum gain and no family "
        "regresses beyond the threshold; a large repaired-vs-raw gap, leak or truncation rate "
        "asks for repair; a proven loss rejects; anything else stays unpromoted.</p>"
    )
    reasons = "".join(f"<li>{_e(r)}</li>" for r in dec["reasons"])
    return (
        f'<p><span class="badge {dec["colour"]}" style="font-size:18px">'
        f"{_e(dec['decision']).upper()}</span></p><ul>{reasons}</ul>"
        + _table(["", ""], [[_td(f"<b>{_e(k)}</b>"), _td(_e(v))] for k, v in rows])
        + rules
    )


def render(d: Mapping[str, Any]) -> str:
    """The report page for the data of :func:`collect`.

    Args:
        d: the collected report data.

    Returns:
        One self-contained HTML document.
    """
    hyp = d["hypothesis"] or 'No hypothesis recorded (add "hypothesis" to run.json).'
    body = [
        _section("headline", _headline(d)),
        _section("run-card", _run_card(d)),
        _section("hypothesis", f"<p>{_e(hyp)}</p>"),
        _section("held-constant", _held_matrix(d)),
        _section("data", _data_section(d)),
        _section("compiler-gate", _gate(d)),
        _section("probe-summary", _probe_summary(d)),
        _section("per-family", _group_table(d, "scene_by_family")),
        _section("per-split", _group_table(d, "scene_by_split")),
        _section("memorisation", _memorisation(d)),
        _section("loss-curve", _loss_section(d)),
        _section("variance", _variance(d)),
        _section("failure-gallery", _gallery(d)),
        _section("lessons", _lessons(d)),
        _section("decision", _decision(d)),
    ]
    # The headline section carries the page title itself; drop its generic h2.
    body[0] = body[0].replace("<h2>Headline</h2>", "", 1)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>dslkit run report: {_e(d['id'])}</title><style>{CSS}</style></head>"
        f"<body><main>{''.join(body)}</main></body></html>\n"
    )


def write(run_dir: str | Path, *, baseline: str | Path | None = None) -> Path:
    """Write ``report.html`` and ``report.json`` into ``run_dir``.

    Args:
        run_dir: the run folder (see the module docstring for what it may hold).
        baseline: the baseline run folder (default: ``run.json``'s ``"baseline"``).

    Returns:
        The path of ``report.html``.

    Raises:
        ProbeMismatchError: the baseline was probed with a different probe contract.
        ContractError: missing run folder or unreadable files.
    """
    data = collect(run_dir, baseline=baseline)
    run_dir = Path(run_dir)
    (run_dir / "report.json").write_text(
        json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8"
    )
    path = run_dir / "report.html"
    path.write_text(render(data), encoding="utf-8")
    return path
