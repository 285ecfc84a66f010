"""examples/trace_words.py: trained, probed per split, scored by the solver, GSM8K beside it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _example():
    spec = importlib.util.spec_from_file_location("trace_words", ROOT / "examples/trace_words.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["trace_words"] = module
    spec.loader.exec_module(module)
    return module


TRACE = """expert: arithmetic
trace:
- {op: init, var: eggs, value: 16}
- {op: init, var: eaten, value: 3}
- {op: compute, compute_op: sub, args: [eggs, eaten], var: result}
- {op: query, var: result}
"""


def test_correct_means_the_solver_agrees_not_the_text() -> None:
    words = _example()
    assert words._correct(TRACE, "13")
    # other names and another program for the same answer: still correct
    other = TRACE.replace("eggs", "start").replace("sub", "add").replace("3}", "-3}")
    assert other != TRACE and words._correct(other, "13")
    assert not words._correct(TRACE.replace("16", "17"), "13")  # wrong answer
    assert not words._correct(TRACE.replace("{op: query, var: result}", ""), "13")  # no query
    assert not words._correct("expert: arithmetic\ntrace: [", "13")  # does not parse
    assert words._correct(TRACE.replace("16", "16.5"), "27/2")  # exact, not float


def test_gsm8k_cases_read_the_gold_answer(tmp_path: Path) -> None:
    words = _example()
    path = tmp_path / "gsm8k.jsonl"
    lines = [
        {"question": "A has 1,200 pens. How many?", "answer": "1200 pens\n#### 1,200"},
        {"question": "B?", "answer": "so\n#### 7"},
    ]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    assert words.gsm8k_cases(path, 5) == [("A has 1,200 pens. How many?", "1200"), ("B?", "7")]
    assert words.gsm8k_cases(path, 1) == [("A has 1,200 pens. How many?", "1200")]
    assert words.gsm8k_cases(tmp_path / "missing.jsonl", 3) == []


@pytest.mark.slow
def test_trace_words_runs_small(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    words = _example()
    gsm = tmp_path / "gsm8k.jsonl"
    long_question = " ".join(["word"] * 400)  # longer than the model's context
    gsm.write_text(
        json.dumps({"question": "Ann has 3 cats and 2 dogs. Pets?", "answer": "3+2=5\n#### 5"})
        + "\n"
        + json.dumps({"question": long_question, "answer": "#### 1"})
        + "\n",
        encoding="utf-8",
    )
    out = words.run(
        rows=300,
        probe=3,
        gsm8k=2,
        beyond=4,
        gsm8k_paths=[gsm, tmp_path / "missing.jsonl"],
        overrides=[
            f"--out_dir={tmp_path / 'run'}",
            "--max_steps=2",
            "--warmup_steps=1",
            "--num_threads=1",
            "--model.n_layer=1",
            "--model.n_embd=32",
            "--model.n_head=2",
        ],
    )
    for decoding in ("greedy", "constrained"):
        assert set(out["scores"][decoding]) == {"train", "dev", "test", "hidden"}
        assert all(0.0 <= v <= 1.0 for v in out["scores"][decoding].values())
    assert sum(n for _, n in out["hidden_modes"].values()) == 3
    # every probed case gets one failure class, per split and per held-out kind
    for split in ("train", "dev", "test", "hidden"):
        assert sum(out["failures"][split].values()) == 3
        correct = out["failures"][split].get("correct", 0)
        assert correct == round(out["scores"]["constrained"][split] * 3)
    by_mode = [v for k, v in out["failures"].items() if k.startswith("hidden ")]
    assert sum(sum(v.values()) for v in by_mode) == 3
    # two probed, the long one did not fit the context; a missing file is left out
    assert {k: v[1:] for k, v in out["gsm8k"].items()} == {words.gsm8k_label(gsm): (2, 1)}
    assert out["beyond"][1] >= 2
    assert out["params"] > 0 and out["train_rows"] > 200
    # the generator's default: a quarter of the training rows carry made-up words
    assert 0.1 < out["unknown_word_rows"] / out["train_rows"] < 0.4
