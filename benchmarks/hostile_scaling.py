"""How hostile-sized inputs scale: each size against the smallest, measured in the same run.

- ``check``: ``scene_dsl.check`` of one line holding n duplicate fields (n findings, each
  with a caret line). Linear work gives ratio ~= size ratio; the old per-finding line scan
  was quadratic (16k findings 2.0 s, 32k 7.6 s).
- ``flow_graph`` / ``decision_tree`` / ``architecture_map``: ``compile_scene`` of a generated
  graph with n nodes and n-1 labelled edges (each edge joins one of the five previous nodes).
  Target (issue 15): 1,000 nodes under 1 s, and 10x the nodes at most 20x the time; the old
  label placement tested every placed box per label (1,000 nodes 8.8 s).

Run: ``python benchmarks/hostile_scaling.py [--big]`` (``--big`` adds 10,000-node graphs,
about 10 s each on one core).
"""

from __future__ import annotations

import os
import sys

# Put the repository root first, so the checkout is benchmarked without installing.
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import argparse
import random
import time
from collections.abc import Callable
from typing import Any

GRAPHS = {
    "flow_graph": ("graph_node", "flow_arrow", "label_ref"),
    "decision_tree": ("decision_node", "decision_edge", "branch_label_ref"),
    "architecture_map": ("graph_node", "flow_arrow", "label_ref"),
}


def graph_scene(layout: str, n: int, seed: int = 0) -> tuple[str, dict[str, Any]]:
    """A scene of ``n`` nodes and ``n - 1`` labelled edges, with its content."""
    node, edge, label = GRAPHS[layout]
    rng = random.Random(seed)
    lines = ["[scene]", f"[canvas:tall] [layout:{layout}]"]
    nodes: dict[str, Any] = {}
    edges: dict[str, str] = {}
    for i in range(n):
        lines.append(f"[{node}] [node_id:n{i}] [ref:nodes.n{i}] [/{node}]")
        nodes[f"n{i}"] = {"title": f"Node {i}", "body": "step"}
    for i in range(1, n):
        j = rng.randrange(max(0, i - 5), i)
        lines.append(f"[{edge}] [from_ref:n{j}] [to_ref:n{i}] [{label}:edges.e{i}] [/{edge}]")
        edges[f"e{i}"] = f"e{i}"
    lines.append("[/scene]")
    return "\n".join(lines), {"nodes": nodes, "edges": edges}


def timed(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def report(name: str, sizes: list[int], run: Callable[[int], float]) -> None:
    prev_n, prev_t = sizes[0], run(sizes[0])
    print(f"{name:<18} n={prev_n:>7}  {prev_t:7.2f} s  (baseline)")
    for n in sizes[1:]:
        t = run(n)
        ratio = t / prev_t if prev_t else float("inf")
        step = f"{ratio:6.1f}x time for {n / prev_n:.0f}x size (vs n={prev_n})"
        print(f"{name:<18} n={n:>7}  {t:7.2f} s  {step}")
        prev_n, prev_t = n, t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--big", action="store_true", help="also 10,000-node graphs")
    args = ap.parse_args()

    from dslkit.compilers.scene_svg import compile_scene

    import scene_dsl

    def check(n: int) -> float:
        head = "[scene] [layout:poster_stack] [section_card] "
        text = head + "[title_ref:a.b] " * n + "[/section_card] [/scene]"
        return timed(lambda: scene_dsl.check(text))

    report("check findings", [8_000, 16_000, 32_000, 64_000], check)

    def strays(n: int) -> float:  # stray tokens and components through check and repair
        text = "[scene] [layout:poster_stack] " + "[section_card:@a] [@x] ]" * n + " [/scene]"
        return timed(lambda: (scene_dsl.check(text), scene_dsl.repair(text)))

    report("check+repair strays", [2_000, 8_000, 32_000], strays)
    for layout in GRAPHS:

        def graph(n: int, layout: str = layout) -> float:
            text, content = graph_scene(layout, n)
            return timed(lambda: compile_scene(text, content))

        report(layout, [100, 1_000, 10_000] if args.big else [100, 1_000, 3_000], graph)


if __name__ == "__main__":
    main()
