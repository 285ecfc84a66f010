"""Word problems from traces: a trace task small models can learn, scored by the solver.

Each problem *kind* is a small trace program over the ``arithmetic`` expert (its ``init`` /
``compute`` / ``query`` steps, :mod:`trace_dsl.experts`) plus several phrasings of it, written
for this module. A row draws a kind, a phrasing, a person, an item with its unit word and the
numbers, renders the question, and writes the trace by a fixed policy (numbers are ``init`` in
the kind's order under the kind's variable names, then the kind's computes, then ``query
result``), so the question determines the trace. The answer is the solver's, never computed
here.

Splits: ``hidden`` holds phrasings training never sees (the last phrasing of each kind) and
numbers from a range training never sees; ``dev`` / ``test`` are fresh draws of the training
phrasings and range. :func:`trace_leakage` proves it from the rows' sources.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass

from dslkit.train.data import Row, _row_id, trace_prompt

__all__ = ["KINDS", "TraceSynthSettings", "synth_traces", "trace_leakage"]


@dataclass(frozen=True)
class _Kind:
    """One problem shape: its numbers (trace variables), its computes and its phrasings."""

    name: str
    numbers: tuple[str, ...]  # trace variable names, in init order; phrasings use {a} {b} {c}
    computes: tuple[tuple[str, str, str, str], ...]  # (compute_op, arg, arg, result var)
    phrasings: tuple[str, ...]  # the last one is held out for the hidden split


KINDS: tuple[_Kind, ...] = (
    _Kind(
        "gain_loss",
        ("start", "gained", "lost"),
        (("add", "start", "gained", "step1"), ("sub", "step1", "lost", "result")),
        (
            "{name} has {a} {items}. {pron} gets {b} more and then gives away {c}. "
            "How many {items} does {name} have now?",
            "At first {name} owned {a} {items}. After receiving {b} {items} and losing {c}, "
            "how many {items} are left?",
            "{name} started the day with {a} {items}, picked up another {b}, and handed {c} "
            "to a friend. How many {items} remain with {name}?",
        ),
    ),
    _Kind(
        "order_cost",
        ("count", "price", "fee"),
        (("mul", "count", "price", "step1"), ("add", "step1", "fee", "result")),
        (
            "{name} buys {a} {items} at {b} dollars each and pays a {c} dollar delivery fee. "
            "What is the total cost in dollars?",
            "Each {item} costs {b} dollars. {name} orders {a} of them, plus {c} dollars for "
            "shipping. How much does {name} pay?",
            "With a flat charge of {c} dollars on top, {name} paid for {a} {items} priced at "
            "{b} dollars apiece. What did the order cost?",
        ),
    ),
    _Kind(
        "fair_share",
        ("boxes", "per_box", "friends"),
        (("mul", "boxes", "per_box", "step1"), ("div", "step1", "friends", "result")),
        (
            "{name} has {a} boxes with {b} {items} in each and shares them equally among {c} "
            "friends. How many {items} does each friend get?",
            "There are {a} crates of {items}, {b} per crate. {name} splits all of them evenly "
            "between {c} teams. How many {items} does one team receive?",
            "{c} neighbours divide {name}'s {a} bags of {items} equally; every bag holds {b}. "
            "What is each neighbour's share?",
        ),
    ),
    _Kind(
        "production",
        ("rate", "hours", "rejected"),
        (("mul", "rate", "hours", "step1"), ("sub", "step1", "rejected", "result")),
        (
            "A machine run by {name} makes {a} {items} per hour. It runs for {b} hours and {c} "
            "{items} fail inspection. How many good {items} are made?",
            "{name}'s workshop turns out {a} {items} an hour for {b} hours; {c} of them are "
            "thrown away. How many {items} are kept?",
            "Over a {b}-hour shift at {a} {items} each hour, {name} had to scrap {c}. "
            "How many usable {items} came out of the shift?",
        ),
    ),
)
NAMES = (
    ("Amara", "She"), ("Bruno", "He"), ("Chen", "He"), ("Dalia", "She"), ("Emeka", "He"),
    ("Farah", "She"), ("Goran", "He"), ("Hana", "She"), ("Ivo", "He"), ("Jia", "She"),
    ("Kofi", "He"), ("Lena", "She"), ("Mateo", "He"), ("Noor", "She"), ("Oskar", "He"),
    ("Priya", "She"), ("Quinn", "They"), ("Rosa", "She"), ("Sami", "He"), ("Tove", "She"),
)  # fmt: skip
ITEMS = (
    ("apple", "apples"), ("marble", "marbles"), ("notebook", "notebooks"), ("candle", "candles"),
    ("stamp", "stamps"), ("bolt", "bolts"), ("cookie", "cookies"), ("seedling", "seedlings"),
    ("ticket", "tickets"), ("battery", "batteries"), ("brick", "bricks"), ("mug", "mugs"),
)  # fmt: skip


@dataclass(frozen=True)
class TraceSynthSettings:
    """What :func:`synth_traces` draws."""

    n_rows: int = 4000
    seed: int = 0
    train_range: tuple[int, int] = (2, 40)  # numbers of train/dev/test rows
    hidden_range: tuple[int, int] = (41, 250)  # numbers only hidden rows use
    hidden_share: float = 0.1
    dev_share: float = 0.05
    test_share: float = 0.05


def _numbers(kind: _Kind, rng: random.Random, lo: int, hi: int) -> tuple[int, int, int]:
    # every number stays inside [lo, hi]: the hidden range is a range training never sees
    a, b, c = (rng.randint(lo, hi) for _ in range(3))
    if kind.name == "fair_share":
        a = c * rng.randint(1, hi // c)  # the share comes out whole and a stays <= hi
    elif kind.name == "gain_loss":
        c = rng.randint(lo, min(hi, a + b - 1))  # never gives away more than there is
    elif kind.name == "production":
        c = rng.randint(lo, min(hi, a * b - 1))
    return a, b, c


def _trace_text(kind: _Kind, values: tuple[int, int, int]) -> str:
    lines = ["expert: arithmetic", "trace:"]
    lines += [
        f"- {{op: init, var: {v}, value: {n}}}" for v, n in zip(kind.numbers, values, strict=True)
    ]
    lines += [
        f"- {{op: compute, compute_op: {op}, args: [{x}, {y}], var: {out}}}"
        for op, x, y, out in kind.computes
    ]
    lines.append("- {op: query, var: result}")
    return "\n".join(lines) + "\n"


def synth_traces(settings: TraceSynthSettings = TraceSynthSettings()) -> list[Row]:
    """Draw word-problem rows (question -> canonical trace, with the solver's answer).

    Args:
        settings: counts, number ranges and split shares.

    Returns:
        Rows with ``language="trace"``, ``surface="question"``, the split set and ``source``
        ``synth-trace:<seed>:<i>:<kind>:<phrasing>:<range>`` (what :func:`trace_leakage` reads).
    """
    from dslkit.compilers.trace_solver import solve

    import trace_dsl

    s = settings
    rng = random.Random(s.seed)
    rows: list[Row] = []
    prompts: set[str] = set()
    for i in range(s.n_rows):
        kind = KINDS[i % len(KINDS)]
        u = rng.random()
        split = (
            "hidden"
            if u < s.hidden_share
            else "dev"
            if u < s.hidden_share + s.dev_share
            else "test"
            if u < s.hidden_share + s.dev_share + s.test_share
            else "train"
        )
        n_train = len(kind.phrasings) - 1
        # hidden: a held-out phrasing, a held-out number range, or both
        mode = rng.randrange(3) if split == "hidden" else -1
        phrasing = n_train if mode in (0, 2) else rng.randrange(n_train)
        lo, hi = s.hidden_range if mode in (1, 2) else s.train_range
        values = _numbers(kind, rng, lo, hi)
        name, pron = rng.choice(NAMES)
        item, items = rng.choice(ITEMS)
        question = kind.phrasings[phrasing].format(
            name=name, pron=pron, item=item, items=items, a=values[0], b=values[1], c=values[2]
        )
        prompt = trace_prompt(question)
        if prompt in prompts:
            continue
        prompts.add(prompt)
        text = trace_dsl.to_text(trace_dsl.canonicalize(trace_dsl.parse(_trace_text(kind, values))))
        result = solve(trace_dsl.parse(text))
        rows.append(
            Row(
                id=_row_id("trace", prompt, text),
                prompt=prompt,
                target=text,
                split=split,
                family="arithmetic",
                language="trace",
                answer=str(result.answer),
                source=f"synth-trace:{s.seed}:{i}:{kind.name}:{phrasing}:{lo}-{hi}",
                surface="question",
            )
        )
    return rows


def trace_leakage(rows: Iterable[Row]) -> list[str]:
    """Hidden rows whose phrasing *and* number range both occur in train (empty: no leak)."""
    rows = list(rows)

    def keys(r: Row) -> tuple[str, str]:
        _, _, _, kind, phrasing, rng = r.source.split(":")
        return f"{kind}:{phrasing}", rng

    train = [keys(r) for r in rows if r.split == "train" and r.source.startswith("synth-trace:")]
    phrasings = {p for p, _ in train}
    ranges = {n for _, n in train}
    train_prompts = {r.prompt for r in rows if r.split == "train"}
    out = []
    for r in rows:
        if r.split == "train" or not r.source.startswith("synth-trace:"):
            continue
        p, n = keys(r)
        if r.prompt in train_prompts:
            out.append(f"{r.id} ({r.split}): prompt also in train")
        elif r.split == "hidden" and p in phrasings and n in ranges:
            out.append(f"{r.id} (hidden): phrasing {p} and numbers {n} both in train")
    return out
