"""Deterministic builders of valid scenes with content, one per layout family (test helper).

``build(family, n=3, attrs=None, long=False, common=True)`` returns ``(scene_text, content)``:
block-form scene text that validates under contract v1 with its content.json. ``n`` scales
the number of repeated components; ``long`` makes every text long enough to force wrapping,
shrinking and ellipsizing; ``common`` adds the common components (header, footer, strips).
"""

from __future__ import annotations

from typing import Any

FAMILIES = (
    "poster_stack",
    "comparison_span_chart",
    "pipeline_lane",
    "dashboard_cards",
    "timeline_flow",
    "dual_panel_compare",
    "table_matrix",
    "decision_tree",
    "memory_map",
    "flow_graph",
    "comparison_board",
    "timeline",
    "system_diagram",
    "architecture_map",
    "concept_editorial",
    "spectrum_map",
    "technical_diagram",
    "memory_training_map",
    "utility_micrographic",
)

WORDS = (
    "cache",
    "tensor",
    "shard",
    "prefill",
    "decode",
    "kernel",
    "stream",
    "batch",
    "page",
    "queue",
    "latency",
    "router",
    "expert",
    "buffer",
    "weight",
    "token",
)


class _Builder:
    def __init__(self, long: bool) -> None:
        self.long = long
        self.content: dict[str, Any] = {}
        self.lines: list[str] = []
        self.k = 0

    def words(self, n: int) -> str:
        self.k += 1
        count = n * (6 if self.long else 1)
        return " ".join(WORDS[(self.k * 7 + i * 3) % len(WORDS)] for i in range(count)).capitalize()

    def put(self, key: str, value: Any) -> str:
        self.content[key] = value
        return key

    def comp(self, name: str, *fields: tuple[str, str], children: list[str] | None = None) -> None:
        body = " ".join(f"[{k}:{v}]" for k, v in fields)
        inner = (" " + " ".join(children)) if children else ""
        self.lines.append(f"[{name}] {body}{inner} [/{name}]")

    def obj(self, key: str, **roles: Any) -> str:
        return self.put(key, roles)


def _cards(b: _Builder, name: str, n: int, prefix: str, *, variant: bool = True) -> None:
    for i in range(n):
        key = b.obj(
            f"{prefix}{i}",
            title=b.words(3),
            body=b.words(8),
            value=f"{(i + 1) * 17} ms",
            caption=b.words(4),
            badge=b.words(1),
        )
        fields = [("ref", key)]
        if variant and i == 0 and name in ("section_card", "info_card", "concept_panel"):
            fields.append(("variant", "hero"))
        b.comp(name, *fields)


def _nodes(b: _Builder, name: str, n: int, prefix: str) -> list[str]:
    ids = []
    for i in range(n):
        nid = f"{prefix}{i}"
        key = b.obj(f"{prefix}_c{i}", title=b.words(2), body=b.words(5))
        field = {"memory_segment": "segment_id", "comparison_column": "column_id"}.get(name)
        field = field or (
            "stage_id" if name in ("stage_card", "timeline_stage", "system_stage") else "node_id"
        )
        b.comp(name, (field, nid), ("ref", key))
        ids.append(nid)
    return ids


def _edges(b: _Builder, name: str, ids: list[str], label_field: str = "label_ref") -> None:
    # a tree-ish DAG: each node i>0 gets an edge from (i-1)//2, plus one skip edge
    pairs = [(ids[(i - 1) // 2], ids[i]) for i in range(1, len(ids))]
    if len(ids) > 3:
        pairs.append((ids[0], ids[-1]))
    for j, (a, c) in enumerate(pairs):
        key = b.put(f"{name}_l{j}", b.words(1))
        b.comp(name, ("from_ref", a), ("to_ref", c), (label_field, key))


def build(
    family: str,
    n: int = 3,
    attrs: dict[str, str] | None = None,
    long: bool = False,
    common: bool = True,
) -> tuple[str, dict[str, Any]]:
    """Return ``(scene_text, content)`` for ``family`` (see module docstring)."""
    b = _Builder(long)
    n = max(1, n)
    if common:
        b.comp(
            "header_band",
            ("ref", b.obj("header", kicker=b.words(2), headline=b.words(5), subtitle=b.words(10))),
        )
        b.comp("thesis_box", ("ref", b.obj("thesis", title=b.words(1), body=b.words(9))))
    if family in ("poster_stack", "dashboard_cards"):
        _cards(b, "section_card", n, "card")
        _cards(b, "info_card", 1, "info", variant=False)
        if family == "poster_stack":
            ids = _nodes(b, "stage_card", 3, "st")
            _edges(b, "flow_arrow", ids)
            b.comp(
                "formula_strip",
                ("ref", b.obj("formula", formula="y = W x + b", caption=b.words(3))),
            )
        for i in range(2):
            b.comp(
                "compare_bar",
                ("ref", b.obj(f"bar{i}", label=b.words(1), value=(i + 1) * 30, caption=b.words(2))),
            )
        b.comp("micrographic_badge", ("ref", b.obj("badge", label=b.words(2), value="4.2x")))
    elif family == "comparison_span_chart":
        for i in range(n + 1):
            b.comp(
                "compare_bar",
                (
                    "ref",
                    b.obj(
                        f"bar{i}",
                        label=b.words(2),
                        value=f"{(i + 2) * 13.5} ms",
                        caption=b.words(3),
                        note=b.words(2),
                    ),
                ),
            )
        b.comp("axis", ("ref", b.obj("axis", label=b.words(2), min=0, max=100)), ("ticks", "4"))
        b.comp(
            "span_bracket", ("start", "0"), ("end", "1"), ("label_ref", b.put("span", b.words(3)))
        )
        b.comp("floor_band", ("ref", b.obj("floor", label=b.words(2), value=20)))
    elif family in ("pipeline_lane", "timeline_flow"):
        name = "stage_card"
        ids = _nodes(b, name, n + 2, "st")
        _edges(b, "flow_arrow", ids)
    elif family == "timeline":
        ids = []
        for i in range(n + 2):
            key = b.obj(f"ev{i}", title=b.words(2), date=f"20{10 + i}", body=b.words(5))
            b.comp("timeline_stage", ("stage_id", f"t{i}"), ("ref", key))
            ids.append(f"t{i}")
        b.comp(
            "timeline_arrow",
            ("from_ref", ids[0]),
            ("to_ref", ids[1]),
            ("label_ref", b.put("tl", b.words(1))),
        )
    elif family in ("dual_panel_compare", "comparison_board"):
        cols = (
            ["left", "right"]
            if family == "dual_panel_compare"
            else [f"c{i}" for i in range(min(4, n + 1))]
        )
        for c in cols:
            b.comp(
                "comparison_column",
                ("column_id", c),
                ("ref", b.obj(f"col_{c}", title=b.words(2), badge="new")),
            )
        for c in cols:
            for j in range(2):
                b.comp(
                    "comparison_metric",
                    ("column", c),
                    (
                        "ref",
                        b.obj(f"m_{c}{j}", label=f"Metric {j}", value=f"{10 + j * 5 + len(c)} GB"),
                    ),
                )
        b.comp("comparison_callout", ("ref", b.obj("callout", text=b.words(8))))
        if family == "dual_panel_compare":
            b.comp("info_card", ("ref", b.obj("info", title=b.words(2), body=b.words(6))))
    elif family == "table_matrix":
        rows = []
        for r in range(n + 1):
            key = f"rows{r}"
            b.put(key, [b.words(1), f"{r * 3 + 1}.5", b.words(2)])
            state = ("normal", "highlight", "success", "warning", "danger")[r % 5]
            rows.append(
                f"[table_row] [cell_ref:{key}.0] [cell_ref:{key}.1] [cell_ref:{key}.2] "
                f"[row_state:{state}] [/table_row]"
            )
        b.put("cols", ["Format", "Bits", "Notes"])
        header = (
            "[table_header] [cell_ref:cols.0] [cell_ref:cols.1] [cell_ref:cols.2] [/table_header]"
        )
        b.comp(
            "table_block",
            ("block_title_ref", b.put("tbl_title", b.words(2))),
            children=[header, *rows],
        )
        b.comp(
            "legend_row",
            ("green_ref", b.put("lg_green", "fits")),
            ("amber_ref", b.put("lg_amber", "tight")),
        )
    elif family == "decision_tree":
        ids = _nodes(b, "decision_node", max(2, n), "q")
        outs = []
        for i in range(2):
            key = b.obj(f"out{i}", title=b.words(2), body=b.words(4))
            b.comp(
                "outcome_panel",
                ("node_id", f"o{i}"),
                ("ref", key),
                ("row_state", ("success", "warning")[i]),
            )
            outs.append(f"o{i}")
        _edges(b, "decision_edge", ids + outs, "branch_label_ref")
    elif family in ("flow_graph", "architecture_map", "technical_diagram"):
        if family == "technical_diagram":
            _cards(b, "artifact_panel", 2, "art", variant=False)
        ids = _nodes(b, "graph_node", n + 2, "g")
        _edges(b, "flow_arrow", ids)
        if family == "architecture_map":
            b.comp(
                "system_link",
                ("from_ref", ids[1]),
                ("to_ref", ids[0]),
                ("label_ref", b.put("back", b.words(1))),
            )
            b.comp("info_card", ("ref", b.obj("info", title=b.words(2), body=b.words(6))))
        if family in ("architecture_map", "technical_diagram"):
            b.comp(
                "terminal_panel",
                ("ref", b.obj("term", title="shell", lines=["run --fast", b.words(3)])),
            )
        if family == "technical_diagram":
            b.comp(
                "formula_strip", ("ref", b.obj("formula", formula="t = n / bw", caption=b.words(3)))
            )
    elif family in ("memory_map", "memory_training_map"):
        b.comp("address_strip", ("ref", b.obj("addr", start="0x0000", end="0xFFFF")))
        ids = []
        for i in range(n + 1):
            key = b.obj(f"seg{i}", label=b.words(2), size=f"{(i + 1) * 8} GB")
            b.comp("memory_segment", ("segment_id", f"m{i}"), ("ref", key))
            ids.append(f"m{i}")
        b.comp(
            "region_bracket",
            ("from_ref", ids[0]),
            ("to_ref", ids[-1]),
            ("label_ref", b.put("reg", b.words(2))),
        )
        if family == "memory_map":
            b.comp("info_card", ("ref", b.obj("info", title=b.words(2), body=b.words(6))))
        else:
            sids = _nodes(b, "stage_card", 3, "st")
            _edges(b, "flow_arrow", sids)
            b.comp("compare_bar", ("ref", b.obj("bar", label=b.words(1), value=42)))
    elif family == "system_diagram":
        ids = _nodes(b, "system_stage", n + 1, "sy")
        _edges(b, "system_link", ids)
        b.comp(
            "terminal_panel",
            ("title_ref", b.put("term_t", "console")),
            ("line_ref", b.put("l0", "make run")),
            ("line_ref", b.put("l1", b.words(4))),
        )
    elif family == "concept_editorial":
        _cards(b, "concept_panel", n, "cp")
        b.comp("principle_pair", ("ref", b.obj("pp", left=b.words(2), right=b.words(2))))
        b.comp("formula_strip", ("ref", b.obj("formula", formula="E = m c^2", caption=b.words(3))))
        b.comp("info_card", ("ref", b.obj("info", title=b.words(2), body=b.words(6))))
    elif family == "spectrum_map":
        b.comp("spectrum_pole", ("side", "left"), ("ref", b.obj("pl", label=b.words(2))))
        b.comp("spectrum_pole", ("side", "right"), ("ref", b.obj("pr", label=b.words(2))))
        b.comp("continuum_arc", ("ref", b.obj("arc", label=b.words(3))))
        for i in range(n):
            b.comp(
                "marker_band",
                ("position", str(10 + i * 80 // max(1, n))),
                ("ref", b.obj(f"mk{i}", label=b.words(2))),
            )
    elif family == "utility_micrographic":
        for i in range(n + 1):
            b.comp(
                "micrographic_badge",
                ("ref", b.obj(f"mb{i}", label=b.words(2), value=f"{i + 1}.{i}x")),
            )
        b.comp(
            "micrographic_band",
            ("ref", b.obj("band", title=b.words(2), items=[b.words(1) for _ in range(5)])),
        )
    else:
        raise ValueError(f"unknown family {family!r}")
    if common:
        b.comp("callout_strip", ("ref", b.obj("callout_s", text=b.words(7))))
        b.comp("conclusion_strip", ("text_ref", b.put("conclusion", b.words(8))))
        b.comp("footer_note", ("text_ref", b.put("footer", b.words(6))))
    all_attrs = {"layout": family, "topic": "factory_case"}
    all_attrs.update(attrs or {})
    order = (
        "canvas",
        "layout",
        "theme",
        "tone",
        "frame",
        "density",
        "inset",
        "gap",
        "hero",
        "columns",
        "emphasis",
        "rail",
        "background",
        "connector",
        "topic",
    )
    head = " ".join(f"[{k}:{all_attrs[k]}]" for k in order if k in all_attrs)
    text = "[scene]\n" + head + "\n" + "\n".join(b.lines) + "\n[/scene]\n"
    return text, b.content


def geometry_problems(svg: Any, tol: float = 0.6) -> list[str]:
    """Geometric invariants of a compiled :class:`Svg`, as a list of violations (empty = ok).

    Every box lies inside the canvas and inside its parent; boxes that share a parent do
    not overlap; connector label chips (``edge_label``) cover no card/panel and no other
    label.
    """
    out: list[str] = []
    by_id = {b.id: b for b in svg.boxes}
    if len(by_id) != len(svg.boxes):
        out.append("duplicate box ids")
    for b in svg.boxes:
        if b.w < -tol or b.h < -tol:
            out.append(f"{b.id} has a negative size")
        if b.x < -tol or b.y < -tol or b.x + b.w > svg.width + tol or b.y + b.h > svg.height + tol:
            out.append(f"{b.id} ({b.kind}) leaves the canvas: {b}")
        if b.parent_id is not None:
            p = by_id.get(b.parent_id)
            if p is None:
                out.append(f"{b.id} names a missing parent {b.parent_id}")
            elif (
                b.x < p.x - tol
                or b.y < p.y - tol
                or b.x + b.w > p.x + p.w + tol
                or b.y + b.h > p.y + p.h + tol
            ):
                out.append(f"{b.id} ({b.kind}) is outside its parent {p.id}: {b} vs {p}")
    groups: dict[Any, list[Any]] = {}
    for b in svg.boxes:
        groups.setdefault(b.parent_id, []).append(b)
    for sibs in groups.values():
        sibs = sorted(sibs, key=lambda b: b.x)
        for i, a in enumerate(sibs):
            for c in sibs[i + 1 :]:
                if c.x >= a.x + a.w - tol:
                    break
                if (
                    min(a.y + a.h, c.y + c.h) - max(a.y, c.y) > tol
                    and min(a.x + a.w, c.x + c.w) - max(a.x, c.x) > tol
                ):
                    out.append(f"siblings overlap: {a} and {c}")
    out.extend(_edge_label_problems(svg.boxes, by_id, tol))
    out.extend(drawn_problems(svg, tol))
    return out


# elements under these are templates, not drawing (a clip rect, a marker's path)
_NOT_DRAWN = {"defs", "clipPath", "marker", "pattern", "mask", "symbol", "linearGradient"}


def _drawn(root: Any) -> tuple[list[Any], list[Any]]:
    """The drawn ``<rect>`` and ``<text>`` elements (outside defs, clip paths, markers)."""
    rects: list[Any] = []
    texts: list[Any] = []
    stack = [root]
    while stack:
        el = stack.pop()
        tag = el.tag.rsplit("}", 1)[-1]
        if tag in _NOT_DRAWN:
            continue
        if tag == "rect":
            rects.append(el)
        elif tag == "text":
            texts.append(el)
        stack.extend(el)
    return rects, texts


def drawn_problems(svg: Any, tol: float = 0.6) -> list[str]:
    """The checks above take their geometry from ``svg.boxes``, the compiler's own record of
    where it meant to draw; this reads the SVG text itself and ties the record to it:

    - every drawn ``<rect>`` and every ``<text>`` anchor lies inside the canvas (viewBox);
    - a box whose id names a drawn ``<rect>`` has exactly that rect's geometry;
    - every connector-label box is a drawn rect of the same geometry (chips carry no id);
    - every text box holds the anchor of at least one drawn ``<text>``.

    So a compiler that records one place and draws another fails here.
    """
    import xml.etree.ElementTree as ET

    out: list[str] = []
    root = ET.fromstring(svg.text)
    vb = [float(v) for v in root.get("viewBox", "0 0 0 0").split()]
    if vb[2:] != [svg.width, svg.height]:
        out.append(f"viewBox {vb} is not the declared size {svg.width}x{svg.height}")
    rects, texts = _drawn(root)

    def geom(el: Any) -> tuple[float, float, float, float]:
        return tuple(float(el.get(k, "0")) for k in ("x", "y", "width", "height"))  # type: ignore[return-value]

    drawn = [geom(el) for el in rects]
    for (x, y, w, h), el in zip(drawn, rects, strict=True):
        if x < -tol or y < -tol or x + w > vb[2] + tol or y + h > vb[3] + tol or w < 0 or h < 0:
            out.append(f"drawn rect {el.get('id') or ''} leaves the canvas: {(x, y, w, h)}")
    anchors = [(float(t.get("x", "0")), float(t.get("y", "0"))) for t in texts]
    for x, y in anchors:
        if not (-tol <= x <= vb[2] + tol and -tol <= y <= vb[3] + tol):
            out.append(f"drawn text at {(x, y)} leaves the canvas")
    by_id = {el.get("id"): geom(el) for el in rects if el.get("id")}
    unlabelled = {g for g, el in zip(drawn, rects, strict=True) if not el.get("id")}

    def same(a: tuple[float, ...], b: Any) -> bool:
        return all(abs(u - v) <= 0.01 for u, v in zip(a, (b.x, b.y, b.w, b.h), strict=True))

    for b in svg.boxes:
        if b.id in by_id and not same(by_id[b.id], b):
            out.append(f"{b.id} is recorded at {b} but drawn at {by_id[b.id]}")
        elif b.kind == "edge_label" and not any(same(g, b) for g in unlabelled):
            out.append(f"edge label {b.id} is recorded at {b} but no chip is drawn there")
        elif b.kind == "text" and not any(
            b.x - tol <= x <= b.x + b.w + tol and b.y - tol <= y <= b.y + b.h + tol
            for x, y in anchors
        ):
            out.append(f"text box {b.id} at {b} holds no drawn text")
    return out


def _overlap(a: Any, c: Any, tol: float) -> bool:
    return (
        min(a.y + a.h, c.y + c.h) - max(a.y, c.y) > tol
        and min(a.x + a.w, c.x + c.w) - max(a.x, c.x) > tol
    )


def _edge_label_problems(boxes: Any, by_id: dict[str, Any], tol: float) -> list[str]:
    """Connector label chips cover no card or panel (other than their own ancestors) and no
    other connector label, wherever those sit in the box tree."""
    out: list[str] = []
    labels = [b for b in boxes if b.kind == "edge_label"]
    for lab in labels:
        ancestors: set[str] = set()
        pid = lab.parent_id
        while pid is not None and pid not in ancestors:
            ancestors.add(pid)
            pid = by_id[pid].parent_id if pid in by_id else None
        for b in boxes:
            if b is lab or b.id in ancestors or b.kind not in ("card", "panel"):
                continue
            if _overlap(lab, b, tol):
                out.append(f"edge label {lab.id} covers {b.kind} {b.id}: {lab} vs {b}")
    for i, a in enumerate(labels):
        for c in labels[i + 1 :]:
            if _overlap(a, c, tol):
                out.append(f"edge labels overlap: {a} and {c}")
    return out
