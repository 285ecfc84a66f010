"""Benchmark: parse+solve throughput on converted GSM8K traces, against Python ``eval``.

Usage: python benchmarks/trace_solve.py [PATH.jsonl] [--seconds S]

Prints (1) the time to convert and verify the whole split, (2) parse+solve traces/s, and
(3) the same-run baseline: ``eval`` of the equivalent arithmetic expression of each trace
(what the trace computes, written as one Python expression), with the ratio between them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dslkit.compilers.trace_solver import Status, solve, verify

from trace_dsl import Compute, Init, Trace, parse, to_text
from trace_dsl.gsm8k import Conversion, convert_detailed

_PY = {"add": "+", "sub": "-", "mul": "*", "div": "/"}
DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "gsm8k" / "train.jsonl"


def expression(trace: Trace) -> str:
    """The trace as one Python arithmetic expression (GSM8K traces use add/sub/mul/div/pow)."""
    env: dict[str, str] = {}
    for step in trace.steps:
        if isinstance(step, Init):
            env[step.var] = repr(float(step.value))  # type: ignore[arg-type]
        elif isinstance(step, Compute):
            args = [env[a] if isinstance(a, str) else repr(float(a)) for a in step.args]
            op = "**" if step.compute_op == "pow" else _PY[step.compute_op]
            env[step.var] = "(" + f" {op} ".join(args) + ")"
    return env["result"]


def timed(fn, items: list, min_seconds: float) -> float:  # type: ignore[no-untyped-def,type-arg]
    """Items per second of fn over items, repeated for at least min_seconds."""
    rounds, start = 0, time.perf_counter()
    while True:
        for item in items:
            fn(item)
        rounds += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return rounds * len(items) / elapsed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", nargs="?", default=str(DEFAULT))
    ap.add_argument("--seconds", type=float, default=2.0, help="minimum time per measurement")
    args = ap.parse_args()
    path = Path(args.path)
    if not path.is_file():
        print(f"GSM8K split not found at {path}", file=sys.stderr)
        return 2
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]

    start = time.perf_counter()
    texts: list[str] = []
    correct = 0
    for row in rows:
        conv = convert_detailed(row["question"], row["answer"])
        if isinstance(conv, Conversion):
            text = to_text(conv.trace)
            correct += verify(text, conv.answer).status is Status.CORRECT
            texts.append(text)
    convert_s = time.perf_counter() - start
    print(
        f"convert+verify whole split: {len(rows)} problems in {convert_s:.2f}s "
        f"({correct / len(rows):.2%} correct; target < 10 s)"
    )

    exprs = [compile(expression(parse(t)), "<trace>", "eval") for t in texts]
    src = [expression(parse(t)) for t in texts]
    solve_rate = timed(lambda t: solve(t), texts, args.seconds)
    parse_rate = timed(parse, texts, args.seconds)
    eval_rate = timed(lambda s: eval(s), src, args.seconds)
    eval_compiled = timed(lambda c: eval(c), exprs, args.seconds)
    print(f"parse only:               {parse_rate:12,.0f} traces/s")
    print(f"parse+solve (exact):      {solve_rate:12,.0f} traces/s (target >= 5,000)")
    print(f"baseline eval(str):       {eval_rate:12,.0f} expressions/s")
    print(f"baseline eval(compiled):  {eval_compiled:12,.0f} expressions/s")
    print(f"ratio parse+solve / eval(str): {solve_rate / eval_rate:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
