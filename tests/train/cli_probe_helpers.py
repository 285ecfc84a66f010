"""A run folder the ``python -m dslkit.train`` probe/report tests can use: a tiny trace model.

The four example traces under ``examples/traces`` get a made-up word problem each and become
training rows; a real ``dslkit.tokenizer.build("trace")`` tokenizer and a ~50k-parameter model
memorise them in a couple of seconds (the loop stops when every training prompt decodes
exactly), so a probe of those prompts has known answers.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from dslkit.compilers.trace_solver import solve
from dslkit.train import data, probe
from dslkit.train.config import load_config
from dslkit.train.loop import fit
from dslkit.train.packing import PackedRows

import trace_dsl
from dslkit import tokenizer

REPO = Path(__file__).resolve().parents[2]
TINY = REPO / "examples" / "configs" / "tiny.toml"

# Example trace file -> the word problem its prompt carries (any text works: it is memorised).
QUESTIONS = {
    "janet_eggs": "Janet's ducks lay 16 eggs a day. She eats 3 and bakes with 4, and sells the "
    "rest at $2 each. How much does she make?",
    "marbles_transfer": "Tom gives some marbles to his friend. How many marbles are left?",
    "taller": "Alice and Bob compare heights. How much taller is Alice?",
    "discount_shipping": "A discounted item is shipped. What is the total cost?",
}


def trace_rows() -> list[data.Row]:
    """One training row per example trace; the answer is what the solver computes."""
    rows = []
    for name, question in QUESTIONS.items():
        text = (REPO / "examples" / "traces" / f"{name}.trace").read_text(encoding="utf-8")
        trace = trace_dsl.parse(text)
        result = solve(trace)
        assert result.ok, (name, result.error)
        rows.append(
            data.Row(
                id=name,
                prompt=data.trace_prompt(question),
                target=text,
                split="train",
                family=trace.blocks[-1].expert,
                language="trace",
                answer=str(result.answer),
            )
        )
    return rows


def train_trace_run(run: Path) -> Path:
    """Build tokenizer, packed rows and a memorised model in ``run`` (tokenizer/, model.safetensors).

    Returns:
        ``run``.
    """
    rows = trace_rows()
    tok = tokenizer.build("trace", corpus=[r.target for r in rows] + [r.prompt for r in rows])
    tok.save(run / "tokenizer")
    data.pack(rows, tok).save(run / "train.npz")
    config = load_config(
        TINY,
        [
            f"--out_dir={run}",
            f"--data.train={run / 'train.npz'}",
            "--data.dev=",
            "--model.block_size=256",  # the longest row is ~200 tokens
            "--batch_size=4",
            f"--stop_ids=[{tok.special_ids['<|eos|>']}]",
            "--max_steps=400",
            "--quiet=true",
        ],
    )
    threads = torch.get_num_threads()
    try:
        result = fit(config, PackedRows.load(run / "train.npz"), None)
    finally:
        torch.set_num_threads(threads)  # tiny.toml sets num_threads=1
    assert result.stop_reason == "goal", result.stop_reason  # every prompt memorised
    return run


def trace_cases() -> list[probe.ProbeCase]:
    """The training prompts as probe cases, plus one whose gold answer is deliberately wrong."""
    cases = [
        probe.ProbeCase(
            id=r.id,
            prompt=r.prompt,
            expected=r.target,
            split="train",
            family=r.family,
            kind="trace",
            answer=r.answer,
        )
        for r in trace_rows()
    ]
    return [*cases, dataclasses.replace(cases[0], id="janet_eggs_wrong_gold", answer="19")]


def write_cases(path: Path, *, version: int = 1) -> probe.ProbeSet:
    """Write :func:`trace_cases` as probe contract ``tiny-traces`` (the version is in the hash)."""
    return probe.save_cases(path, trace_cases(), name="tiny-traces", version=version)
