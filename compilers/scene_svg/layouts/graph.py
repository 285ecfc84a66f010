"""Graph families: decision_tree, flow_graph, architecture_map, technical_diagram.

Layered (Sugiyama-style) layout from the topology refs:

1. cycles are broken by a depth-first search in source order (back edges are drawn, but
   do not constrain layers);
2. longest-path layering: a node sits one layer after its deepest predecessor;
3. edges spanning several layers get dummy waypoints in the layers between, so they route
   around the nodes there;
4. four barycenter sweeps (down, up) order each layer to reduce crossings (stable sorts:
   deterministic);
5. layers run top to bottom (decision trees, tall canvases) or left to right; connectors are
   orthogonal through the channels between layers, labelled just before their target.
"""

from __future__ import annotations

import itertools
from collections import Counter

from dslkit.compilers.scene_svg.canvas import Ctx, Item, Rect
from dslkit.compilers.scene_svg.draw import card, connector, pill, pill_width
from dslkit.compilers.scene_svg.layouts.common import card_height
from dslkit.compilers.scene_svg.layouts.lanes import _edge_label, terminal, terminal_height
from dslkit.compilers.scene_svg.layouts.notes import with_notes
from dslkit.compilers.scene_svg.text import measure_text

from scene_dsl.ast import Component

__all__ = [
    "layered",
    "layout_architecture",
    "layout_decision",
    "layout_flow",
    "layout_technical",
]

NODE_FIELDS = ("node_id", "stage_id")
STATE_TONE = {"success": "green", "warning": "amber", "danger": "purple", "highlight": "blue"}
# top to bottom, a card fills at least this share of its layer's band: the rows of a tree read
# as even bands down the page (as the CKE trees draw them), not as short cards floating in them
ROW_FILL = 0.9


def _layers(
    ids: list[str], edges: list[tuple[str, str]]
) -> tuple[dict[str, int], set[tuple[str, str]]]:
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        succ[a].append(b)
    # iterative DFS in source order: edges to a node still on the stack are back edges
    state: dict[str, int] = {}
    back: set[tuple[str, str]] = set()
    for root in ids:
        if root in state:
            continue
        stack = [(root, 0)]
        state[root] = 1
        while stack:
            v, k = stack.pop()
            if k < len(succ[v]):
                stack.append((v, k + 1))
                w = succ[v][k]
                if state.get(w) == 1:
                    back.add((v, w))
                elif w not in state:
                    state[w] = 1
                    stack.append((w, 0))
            else:
                state[v] = 2
    forward = [(a, b) for a, b in edges if (a, b) not in back and a != b]
    indeg = {i: 0 for i in ids}
    for _, b in forward:
        indeg[b] += 1
    layer = {i: 0 for i in ids}
    queue = [i for i in ids if indeg[i] == 0]
    fsucc: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in forward:
        fsucc[a].append(b)
    head = 0
    while head < len(queue):
        v = queue[head]
        head += 1
        for w in fsucc[v]:
            layer[w] = max(layer[w], layer[v] + 1)
            indeg[w] -= 1
            if indeg[w] == 0:
                queue.append(w)
    return layer, back


def layered(
    ctx: Ctx,
    r: Rect,
    nodes: list[tuple[str, Item]],
    edges: list[tuple[str, str, Item | None, bool]],
    parent: str,
    *,
    vertical: bool,
    node_style: dict[str, str] | None = None,
    stack_leaves: bool = False,
) -> dict[str, Rect]:
    """Lay out ``nodes`` in layers and draw ``edges`` (from, to, label item, dashed).

    ``stack_leaves`` (top to bottom only): a leaf reached from exactly one node, whose
    children are all such leaves, sits in that node's column, the first on the row below
    it and each further one a row deeper (see :func:`_leaf_stacks`).

    Returns node id -> card rectangle.
    """
    st = ctx.style
    pal = st.palette
    ids = [i for i, _ in nodes]
    known = set(ids)
    pairs = [(a, b) for a, b, _, _ in edges if a in known and b in known]
    layer, back = _layers(ids, pairs)
    # leaf -> (its question, its place in the question's column); the edges to the second
    # and later leaves of a column are routed beside it instead of through dummy waypoints
    stacked = _leaf_stacks(ids, pairs, back) if vertical and stack_leaves else {}
    beside: set[tuple[str, str]] = set()
    for leaf, (q, j) in stacked.items():
        layer[leaf] = layer[q] + 1 + j
        if j:
            beside.add((q, leaf))
    nlayers = max(layer.values(), default=0) + 1
    order: list[list[str]] = [[] for _ in range(nlayers)]
    for i in ids:
        order[layer[i]].append(i)
    # dummy chains for long forward edges
    chains: dict[int, list[str]] = {}
    preds: dict[str, list[str]] = {}
    succs: dict[str, list[str]] = {}
    for k, (a, b, _, _) in enumerate(edges):
        if a not in known or b not in known or (a, b) in back or a == b or (a, b) in beside:
            continue
        la, lb = layer[a], layer[b]
        chain = [a]
        for lv in range(la + 1, lb):
            d = f"\x00d{k}_{lv}"
            order[lv].append(d)
            layer[d] = lv
            chain.append(d)
        chain.append(b)
        chains[k] = chain
        for u, v in itertools.pairwise(chain):
            succs.setdefault(u, []).append(v)
            preds.setdefault(v, []).append(u)
    pos = {v: i for lay in order for i, v in enumerate(lay)}
    for _ in range(4):
        for lv in range(1, nlayers):
            order[lv].sort(key=lambda v: _bary(preds.get(v), pos, pos[v]))
            pos.update({v: i for i, v in enumerate(order[lv])})
        for lv in range(nlayers - 2, -1, -1):
            order[lv].sort(key=lambda v: _bary(succs.get(v), pos, pos[v]))
            pos.update({v: i for i, v in enumerate(order[lv])})
    items = dict(nodes)
    labelled = any(it is not None and it.has("label", "_primary") for _, _, it, _ in edges)
    lgap = max(
        st.gap * 2.5, (64.0 if labelled else 44.0) if vertical else (110.0 if labelled else 56.0)
    )
    if labelled and not vertical:
        # left to right, the channel between layers only needs its widest label chip (plus
        # the arrow's run): short labels leave the width to the cards
        widest = max(
            (
                _two_line_width(t, st.font * 0.76) + 34.0
                for _, _, it, _ in edges
                if it is not None and (t := it.text("label")) is not None
            ),
            default=0.0,
        )
        lgap = max(st.gap * 2.5, 56.0, min(lgap, widest))
    cross_gap = st.gap * 1.2
    dummy = 14.0
    main_len = r.h if vertical else r.w
    cross_len = r.w if vertical else r.h
    if nlayers > 1:  # many layers: channels shrink before nodes vanish
        lgap = min(lgap, main_len * (0.3 if vertical else 0.4) / (nlayers - 1))
    widest = max(len(lay) for lay in order)
    if widest > 1:
        cross_gap = min(cross_gap, cross_len * 0.3 / (widest - 1))
    band = max(0.0, (main_len - lgap * (nlayers - 1)) / nlayers)
    # left to right, many layers make narrow cards: their text is set up to 15% smaller so
    # short titles keep one line instead of breaking word by word
    text_scale = 1.0 if vertical else max(0.85, min(1.0, band / 200.0))
    if vertical:
        # top to bottom, layers whose cards do not fit their natural height set their text
        # smaller (down to 80%) before the cards start cutting lines
        def need(k: float) -> float:
            total = lgap * (nlayers - 1)
            for lay in order:
                real = [v for v in lay if v in items]
                ndum = len(lay) - len(real)
                avail = (
                    cross_len
                    - cross_gap * (len(lay) - 1)
                    - ndum * min(14.0, cross_len * 0.2 / max(1, ndum))
                )
                w = min(max(0.0, avail) / max(1, len(real)), 300.0)
                total += max(
                    (card_height(ctx, items[v], w, scale=k) * 1.05 for v in real), default=0.0
                )
            return total

        if need(1.0) > main_len:
            text_scale = next((k for k in (0.92, 0.85) if need(k) <= main_len), 0.8)
    rects: dict[str, Rect] = {}
    points: dict[str, tuple[float, float]] = {}
    uniform = 0.0
    if not vertical:
        thick0 = min(band, 320.0)
        uniform = max(
            (card_height(ctx, items[v], thick0, scale=text_scale) for v in items), default=0.0
        )
    for lv, lay in enumerate(order):
        real = [v for v in lay if v in items]
        ndum = len(lay) - len(real)
        dummy = min(14.0, cross_len * 0.2 / max(1, ndum))
        avail = max(0.0, cross_len - cross_gap * (len(lay) - 1) - ndum * dummy)
        size = avail / max(1, len(real))
        if vertical:
            size = min(size, 300.0)
            nat = max(
                (card_height(ctx, items[v], size, scale=text_scale) for v in real), default=band
            )
            thick = min(band, max(nat * 1.05, band * ROW_FILL))
        else:
            thick = min(band, 320.0)
            nat = max(
                (card_height(ctx, items[v], thick, scale=text_scale) for v in real), default=size
            )
            size = min(size, max(max(nat, uniform) * 1.05, 70.0))
        m0 = (r.y if vertical else r.x) + lv * (band + lgap)
        cols = _columns(lay, stacked, rects) if vertical else None
        if cols is not None:
            # a row of stacked leaves: each card takes its question's column (x and width)
            nat = max(card_height(ctx, items[v], w, scale=text_scale) for v, (_, w) in cols.items())
            thick = min(band, max(nat * 1.05, band * ROW_FILL))
            for v, (x, w) in cols.items():
                rect = Rect(x, m0 + (band - thick) / 2, w, thick)
                rects[v] = rect
                ctx.anchors[v] = rect
                points[v] = (rect.cx, rect.cy)
            continue
        used = len(real) * size + ndum * dummy + cross_gap * (len(lay) - 1)
        c = (r.x + (cross_len - used) / 2) if vertical else r.y
        m = m0 + (band - thick) / 2
        for v in lay:
            extent = size if v in items else dummy
            rect = Rect(c, m, extent, thick) if vertical else Rect(m, c, thick, extent)
            if v in items:
                rects[v] = rect
                ctx.anchors[v] = rect
            points[v] = (rect.cx, rect.cy)
            c += extent + cross_gap
    # edges first, so cards sit on top of connector ends
    index = {v: i for i, v in enumerate(ids)}
    ports = _ports(chains, rects, points, vertical)
    obstacles = list(rects.values())
    into = Counter(chain[-1] for chain in chains.values())  # chained edges entering each node
    for k, (a, b, it, dashed) in enumerate(edges):
        if a not in rects or b not in rects:
            continue
        ra, rb = rects[a], rects[b]
        color = st.accent(index[a], items[a].tone())
        conn_style: str | None = None
        entry = None
        if k in chains:
            exit_at, entry = ports[k]
            pts = _route(chains[k], rects, points, vertical, lgap, exit_at, entry)
        elif (a, b) in beside:
            entry = rb.x + rb.w * 0.82
            pts = _beside_route(ra, rb, ra.x + ra.w * 0.82, entry, lgap, cross_gap)
            # elbows even in curve style: one cubic would cut through the cards between
            conn_style = "arrow" if st.connector == "curve" else None
        else:
            # back edges keep their elbow route even in curve style: one cubic from end to
            # end would cut across the layers
            pts = _back_route(ra, rb, vertical)
            conn_style = "arrow" if st.connector == "curve" else None
        connector(
            ctx, pts, color=color if not dashed else pal.muted, vertical=vertical, style=conn_style
        )
        label = it.text("label") if it is not None else None
        if label:
            # on the last leg, just before the target's own entry port: two edges into one
            # node enter at different ports, so their labels never stack on each other
            fan = max(1, into[b])
            if vertical:  # above the target, at its entry port
                lx, ly = entry if entry is not None else rb.cx, rb.y - 6
                lw = min(rb.w / fan, 200.0)
            else:  # in the gap before the target, at its entry port
                lx, ly = rb.x - lgap / 2, (entry if entry is not None else rb.cy) - 3
                lw = lgap - 10
            _edge_label(
                ctx, lx, ly, lw, label, color,
                parent=parent, obstacles=obstacles, slide=(0.0, -1.0), region=r,
            )  # fmt: skip
    kinds = node_style or {}
    panel_fill = f"url(#{ctx.gradient(pal.surface2, pal.surface, vertical=True)})"
    for pos_i, (v, it) in enumerate(nodes):
        tone = STATE_TONE.get(it.state()) if kinds.get(v) == "outcome" else None
        # outcome states keep their wash; every other card takes the CKE panel gradient,
        # the surface at the top to the raised surface at the bottom
        fill = pal.soft(tone) if tone else panel_fill
        card(
            ctx,
            rects[v],
            it,
            parent=parent,
            index=pos_i,
            valign="middle",
            fill=fill,
            tone=tone,
            title_roles=("title", "label", "name", "question"),
            scale=text_scale,
            outline=True,
        )
    return rects


def _two_line_width(text: str, size: float) -> float:
    """Width a label needs when it may wrap onto two lines (as a channel chip does): the
    narrowest split of its words into two lines, never less than its longest word."""
    words = text.split()
    if len(words) < 2:
        return measure_text(text, size)
    return min(
        max(measure_text(" ".join(words[:k]), size), measure_text(" ".join(words[k:]), size))
        for k in range(1, len(words))
    )


def _leaf_stacks(
    ids: list[str], pairs: list[tuple[str, str]], back: set[tuple[str, str]]
) -> dict[str, tuple[str, int]]:
    """Leaves that stack in their question's column: leaf -> (question, place).

    A leaf has no outgoing edge and exactly one incoming one; a question qualifies when every
    child it has is such a leaf (a question with a child question keeps the layered order,
    its column is needed below it). Places follow the leaves' source order.
    """
    forward = [(a, b) for a, b in pairs if (a, b) not in back and a != b]
    outs: dict[str, list[str]] = {}
    ins: Counter[str] = Counter()
    for a, b in forward:
        outs.setdefault(a, []).append(b)
        ins[b] += 1
    loops = {a for a, b in pairs if (a, b) in back or a == b}
    leaves = {v for v in ids if ins[v] == 1 and v not in outs and v not in loops}
    index = {v: i for i, v in enumerate(ids)}
    out: dict[str, tuple[str, int]] = {}
    for q, kids in outs.items():
        if q in loops or not all(k in leaves for k in kids):
            continue
        for j, leaf in enumerate(sorted(set(kids), key=index.__getitem__)):
            out[leaf] = (q, j)
    return out


def _columns(
    lay: list[str], stacked: dict[str, tuple[str, int]], rects: dict[str, Rect]
) -> dict[str, tuple[float, float]] | None:
    """x and width of every card of a row made only of stacked leaves, under their
    questions; None when the row holds anything else or two columns would overlap."""
    if not lay or any(v not in stacked for v in lay):
        return None
    cols = {v: (rects[stacked[v][0]].x, rects[stacked[v][0]].w) for v in lay}
    spans = sorted(cols.values())
    if any(x0 + w0 > x1 for (x0, w0), (x1, _) in itertools.pairwise(spans)):
        return None
    return cols


def _beside_route(
    ra: Rect, rb: Rect, x: float, xb: float, lgap: float, gap: float
) -> list[tuple[float, float]]:
    """From the question down the gap right of its column, into a leaf stacked below
    another leaf of that column (the connector never crosses the cards between)."""
    side = max(ra.r, rb.r) + gap / 2
    top = ra.b + min(lgap / 2, 18.0)
    low = rb.y - min(lgap / 2, 18.0)
    return [(x, ra.b + 1), (x, top), (side, top), (side, low), (xb, low), (xb, rb.y - 3)]


def _bary(neigh: list[str] | None, pos: dict[str, int], cur: int) -> tuple[float, int]:
    if not neigh:
        return (float(cur), cur)
    return (sum(pos[n] for n in neigh) / len(neigh), cur)


def _ports(
    chains: dict[int, list[str]],
    rects: dict[str, Rect],
    points: dict[str, tuple[float, float]],
    vertical: bool,
) -> dict[int, tuple[float, float]]:
    """Exit and entry coordinate (x when vertical, else y) of every chained edge.

    A node with several outgoing (incoming) edges spreads them over its bottom (top) edge in
    the order of their next (previous) waypoint, so no two connectors share a leg or a
    label spot.
    """
    axis = 0 if vertical else 1
    outs: dict[str, list[int]] = {}
    ins: dict[str, list[int]] = {}
    for k, chain in chains.items():
        outs.setdefault(chain[0], []).append(k)
        ins.setdefault(chain[-1], []).append(k)

    def spread(node: str, ks: list[int], nxt: int) -> dict[int, float]:
        rect = rects[node]
        lo, span = (rect.x, rect.w) if vertical else (rect.y, rect.h)
        ks = sorted(ks, key=lambda k: (points[chains[k][nxt]][axis], k))
        if len(ks) == 1:
            return {ks[0]: lo + span / 2}
        return {k: lo + span * (j + 1) / (len(ks) + 1) for j, k in enumerate(ks)}

    exits: dict[int, float] = {}
    entries: dict[int, float] = {}
    for node, ks in outs.items():
        exits.update(spread(node, ks, 1))
    for node, ks in ins.items():
        entries.update(spread(node, ks, -2))
    return {k: (exits[k], entries[k]) for k in chains}


def _route(
    chain: list[str],
    rects: dict[str, Rect],
    points: dict[str, tuple[float, float]],
    vertical: bool,
    lgap: float,
    exit_at: float | None = None,
    entry: float | None = None,
) -> list[tuple[float, float]]:
    a, b = chain[0], chain[-1]
    ra, rb = rects[a], rects[b]
    points = dict(points)
    if entry is not None:  # the last leg ends at the target's own port
        points[b] = (entry, rb.cy) if vertical else (rb.cx, entry)
    pts: list[tuple[float, float]] = []
    if vertical:
        sx = ra.cx if exit_at is None else exit_at
        pts.append((sx, ra.b + 1))
        x, y = sx, ra.b
        for v in chain[1:]:
            nx = points[v][0]
            top = rb.y if v == b else points[v][1] - 7
            mid = y + (lgap / 2 if v != b else (top - y) / 2)
            mid = min(mid, top - 8)
            pts += [(x, mid), (nx, mid)]
            x, y = nx, (points[v][1] + 7 if v != b else rb.y)
            if v != b:
                pts.append((x, y))
        pts.append((points[b][0], rb.y - 3))
    else:
        sy = ra.cy if exit_at is None else exit_at
        pts.append((ra.r + 1, sy))
        x, y = ra.r, sy
        for v in chain[1:]:
            ny = points[v][1]
            left = rb.x if v == b else points[v][0] - 7
            mid = x + (left - x) / 2
            pts += [(mid, y), (mid, ny)]
            x, y = (points[v][0] + 7 if v != b else rb.x), ny
            if v != b:
                pts.append((x, y))
        pts.append((rb.x - 3, points[b][1]))
    return _dedupe(pts)


def _back_route(ra: Rect, rb: Rect, vertical: bool) -> list[tuple[float, float]]:
    if vertical:  # leave on the right, come back into the target's right side
        x = max(ra.r, rb.r) + 12
        return [(ra.r + 1, ra.cy), (x, ra.cy), (x, rb.cy), (rb.r + 3, rb.cy)]
    y = max(ra.b, rb.b) + 12
    return [(ra.cx, ra.b + 1), (ra.cx, y), (rb.cx, y), (rb.cx, rb.b + 3)]


def _dedupe(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for p in pts:
        if not out or abs(out[-1][0] - p[0]) > 0.01 or abs(out[-1][1] - p[1]) > 0.01:
            out.append(p)
    return out


def _node_id(c: Component) -> str:
    return next((c.get(f) for f in NODE_FIELDS if c.get(f)), "") or ""


def _graph(
    ctx: Ctx,
    r: Rect,
    comps: list[Component],
    parent: str,
    *,
    vertical: bool,
    implicit: bool = False,
    stack: bool = False,
) -> dict[str, Rect]:
    node_comps = [c for c in comps if c.name in ("decision_node", "outcome_panel", "graph_node")]
    edge_comps = [c for c in comps if c.name in ("decision_edge", "flow_arrow", "system_link")]
    nodes = [(_node_id(c) or ctx.comp_id(c), ctx.item(c)) for c in node_comps]
    edges: list[tuple[str, str, Item | None, bool]] = [
        (*ctx.ends(e), ctx.item(e), e.name == "system_link") for e in edge_comps
    ]
    if not edges and implicit and len(nodes) > 1:
        # nodes with no edges at all (CKE technical diagrams): a chain in source order
        edges = [(a, b, None, False) for (a, _), (b, _) in itertools.pairwise(nodes)]
    edges += _orphan_outcomes(node_comps, [n for n, _ in nodes], edges)
    style = {_node_id(c): "outcome" for c in node_comps if c.name == "outcome_panel"}
    return layered(
        ctx, r, nodes, edges, parent, vertical=vertical, node_style=style, stack_leaves=stack
    )


def _orphan_outcomes(
    comps: list[Component], ids: list[str], edges: list[tuple[str, str, Item | None, bool]]
) -> list[tuple[str, str, Item | None, bool]]:
    """Unlabelled edges for outcome panels that no edge reaches.

    A decision tree may write its outcomes without edges (CKE's trees name the branch an
    outcome belongs to by its place): the k-th such outcome, in source order, hangs under the
    k-th question of the deepest row of questions, so it lands under its branch instead of
    floating up to the first row as a root.
    """
    reached = {b for _, b, _, _ in edges}
    orphans = [
        i
        for c, i in zip(comps, ids, strict=True)
        if c.name == "outcome_panel" and i and i not in reached
    ]
    questions = [i for c, i in zip(comps, ids, strict=True) if c.name != "outcome_panel" and i]
    if not orphans or not questions:
        return []
    qset = set(questions)
    layer, _ = _layers(questions, [(a, b) for a, b, _, _ in edges if a in qset and b in qset])
    deepest = max(layer.values())
    row = [q for q in questions if layer[q] == deepest]
    return [(row[k % len(row)], o, None, False) for k, o in enumerate(orphans)]


def layout_decision(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """decision_tree: questions top to bottom, outcome panels tinted by their row_state.

    Entry badges (hosted by this family, see ``layouts.HOSTED``) are the pills the tree hangs
    from: one row centred over the root question, as the CKE trees draw their entry.
    """
    st = ctx.style
    entries = [c for c in comps if c.name == "entry_badge"]
    comps = [c for c in comps if c.name != "entry_badge"]
    if not entries:
        _graph(ctx, r, comps, parent, vertical=True, stack=True)
        return
    size = st.font * 0.85
    row, body = r.take_top(size * 1.7, st.gap * 0.6)
    rects = _graph(ctx, body, comps, parent, vertical=True, stack=True)
    labels = []
    for c in entries:
        it = ctx.item(c)
        label, value = it.text("label", "title"), it.text("value", primary=False)
        text = f"{label}: {value}" if label and value else (label or value or "")
        if text:
            labels.append((text, it))
    if not labels:
        return
    gap = 10.0
    widths = [min(pill_width(t, size), row.w) for t, _ in labels]
    total = sum(widths) + gap * (len(widths) - 1)
    # the root is the first card of the top row, in source order
    root = min(rects.values(), key=lambda q: q.y) if rects else row
    x = min(max(row.x, root.cx - total / 2), max(row.x, row.r - total))
    for (text, it), w in zip(labels, widths, strict=True):
        if x + w > row.r + 0.5:
            ctx.warn("S702", it.comp, "label", "no room left in the entry row; badge left out")
            continue
        pill(ctx, x, row.y, text, size, tone=st.tone_at(0, it.tone()), parent=parent, max_w=w)
        x += w + gap


def layout_flow(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """flow_graph: left to right (top to bottom on a tall canvas), the row of stages right
    under the header; the scene's footer note (hosted by this family, see
    ``layouts.HOSTED``) is a note panel filling the page under the flow."""
    vertical = ctx.style.canvas == "tall"
    with_notes(
        ctx,
        r,
        comps,
        parent,
        lambda rr, cs: list(_graph(ctx, rr, cs, parent, vertical=vertical).values()),
    )


def _side(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> Rect:
    """Info cards and terminal panels in a side column (wide) or a bottom row (tall/square),
    sized to their content."""
    st = ctx.style
    side = [c for c in comps if c.name in ("info_card", "terminal_panel")]
    if not side:
        return r
    items = [ctx.item(c) for c in side]
    if st.canvas == "wide":
        w = r.w * 0.28
        nat = [
            terminal_height(ctx, c) if c.name == "terminal_panel" else card_height(ctx, it, w)
            for c, it in zip(side, items, strict=True)
        ]
        col, rest = r.take_right(w, st.gap * 1.5)
        need = sum(nat) + st.gap * (len(nat) - 1)
        top = col.y + max(0.0, (col.h - need) / 2)
        cells = Rect(col.x, top, col.w, min(col.h, need)).rows_weighted(nat, st.gap)
    else:
        w = (r.w - st.gap * (len(side) - 1)) / len(side)
        nat = [
            terminal_height(ctx, c) if c.name == "terminal_panel" else card_height(ctx, it, w)
            for c, it in zip(side, items, strict=True)
        ]
        col, rest = r.take_bottom(min(r.h * 0.3, max(nat)), st.gap * 1.5)
        cells = col.columns(len(side), st.gap)
    for cell, c, it in zip(cells, side, items, strict=True):
        if c.name == "terminal_panel":
            terminal(ctx, cell, it, parent)
        else:
            card(ctx, cell, it, parent=parent, index=it.index)
    return rest


def layout_architecture(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """architecture_map: the node graph; system links are dashed; side cards on the right."""
    rest = _side(ctx, r, comps, parent)
    _graph(
        ctx,
        rest,
        [c for c in comps if c.name not in ("info_card", "terminal_panel")],
        parent,
        vertical=ctx.style.canvas == "tall",
    )


def layout_technical(ctx: Ctx, r: Rect, comps: list[Component], parent: str) -> None:
    """technical_diagram: bands in source order, as the CKE renderer reads the family: the
    node graph (a chain in source order when no edges are written) across the page, formula
    and terminal strips full width, artifact panels side by side."""
    from dslkit.compilers.scene_svg.layouts.stack import Band, make_bands, run_bands

    st = ctx.style
    groups: list[tuple[str, list[Component]]] = []
    for c in comps:
        kind = (
            "graph"
            if c.name in ("graph_node", "flow_arrow")
            else ("arts" if c.name == "artifact_panel" else c.name)
        )
        if groups and groups[-1][0] == kind and kind in ("graph", "arts"):
            groups[-1][1].append(c)
        else:
            groups.append((kind, [c]))
    bands: list[Band] = []
    for kind, group in groups:
        if kind == "graph" and any(c.name == "graph_node" for c in group):
            nodes = sum(1 for c in group if c.name == "graph_node")
            vertical = st.canvas == "tall" and nodes > 3

            def draw(rr: Rect, g: list[Component] = group, v: bool = vertical) -> None:
                _graph(ctx, rr, g, parent, vertical=v, implicit=True)

            bands.append(Band(lambda w: st.font * 14, draw))
        elif kind == "arts":
            bands.extend(make_bands(ctx, group, parent, max(1, len(group))))
        elif kind != "graph":
            bands.extend(make_bands(ctx, group, parent, 1))
    run_bands(ctx, r, bands)
