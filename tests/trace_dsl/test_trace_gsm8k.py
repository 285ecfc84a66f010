"""GSM8K: the converter on hand-written problems and on the whole training split."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from dslkit.compilers import Status, verify

from trace_dsl import Compute, Init, Query, parse, preprocess_numbers, to_text
from trace_dsl.gsm8k import Conversion, Failure, convert, convert_detailed, grounding, parse_gold

JANET_Q = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
    "muffins for her friends every day with four. She sells the remainder at the farmers' market "
    "daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?"
)
JANET_A = (
    "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
    "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer's market.\n#### 18"
)


def test_janet_converts_to_a_named_trace_that_solves_to_18() -> None:
    conv = convert_detailed(JANET_Q, JANET_A)
    assert isinstance(conv, Conversion)
    steps = conv.trace.steps
    assert isinstance(steps[-1], Query) and steps[-1].var == "result"
    inits = [s for s in steps if isinstance(s, Init)]
    assert [i.value for i in inits] == [16, 3, 4, 2]
    assert inits[0].var == "eggs" and all(g.kind == "grounded" for g in conv.inits)
    computes = [s for s in steps if isinstance(s, Compute)]
    assert computes[-1].var == "result" and computes[0].var == "step1"
    # 9 is the result of the first annotation: a reference, not a new init
    assert "step" in computes[-1].args[0] or computes[-1].args[0] == "step2"
    assert verify(to_text(conv.trace), 18).status is Status.CORRECT


def test_plain_text_final_equation_is_used() -> None:
    q = "Wallace needs 60 bags of jerky and has 20. He makes 10 bags per day. How many days?"
    a = "He needs 60 - 20 = <<60-20=40>>40 bags more.\nHe needs 40 / 10 = 4 days.\n#### 4"
    trace = convert(q, a)
    assert not isinstance(trace, Failure)
    assert verify(trace, 4).status is Status.CORRECT


def test_linear_equation_is_solved() -> None:
    q = "Three brothers' ages are consecutive and add up to 96. How old is the youngest?"
    a = "Let x be the youngest.\nx+x+1+x+2=96\n3x+3=96\n3x=93\nx=<<31=31>>31\n#### 31"
    trace = convert(q, a)
    assert not isinstance(trace, Failure) and verify(trace, 31).status is Status.CORRECT


def test_failures_have_categories() -> None:
    assert convert("q", "no gold here") == Failure("bad_gold", "no '#### N' gold answer")
    fail = convert("How many?", "It is obvious.\n#### 7")
    assert isinstance(fail, Failure) and fail.category == "no_annotations"
    fail = convert("How many?", "2 + 2 = <<2+2=4>>4\n#### 5")
    assert isinstance(fail, Failure) and fail.category == "no_equation_for_answer"


def test_parse_gold_reads_commas_and_negatives() -> None:
    assert parse_gold("...\n#### 1,200") == 1200
    assert (
        parse_gold("#### -3.5")
        == parse(
            "expert: arithmetic\ntrace:\n- {op: init, var: x, value: -3.5}\n- {op: query, var: x}\n",
            validate=False,
        )
        .steps[0]
        .value
    )  # type: ignore[union-attr]


def test_preprocess_numbers_rewrites_and_reports() -> None:
    text, rewrites = preprocess_numbers(
        "He paid 80,000 for a dozen cows, twenty-five pigs and half a goat."
    )
    assert text == "He paid 80000 for 12 cows, 25 pigs and 1/2 a goat."
    assert {r.original for r in rewrites} == {"80,000", "a dozen", "twenty-five", "half"}


def test_grounding_labels_inits() -> None:
    trace = parse(
        "expert: arithmetic\ntrace:\n- {op: init, var: eggs, value: 16}\n- {op: init, var: hour, value: 60}\n"
        "- {op: init, var: odd, value: 17.5}\n- {op: init, var: pct, value: 0.2}\n"
        "- {op: init, var: people, value: 3}\n"
        "- {op: compute, compute_op: add, args: [eggs, hour, odd, pct, people], var: result}\n"
        "- {op: query, var: result}\n"
    )
    question = "Ann, Bob and Cy have sixteen eggs; 20% are brown. They sell 4 eggs every 5 minutes."
    kinds = {g.var: g.kind for g in grounding(question, trace)}
    assert kinds == {
        "eggs": "grounded",
        "hour": "ungrounded",  # minutes alone do not call for 60 minutes per hour
        "odd": "ungrounded",
        "pct": "grounded",
        "people": "counted",
    }
    kinds = {g.var: g.kind for g in grounding(question + " How many per hour?", trace)}
    assert kinds["hour"] == "constant"


def test_whole_training_split_meets_targets(gsm8k_train: Path) -> None:
    rows = [json.loads(line) for line in gsm8k_train.read_text(encoding="utf-8").splitlines()]
    correct = 0
    kinds: Counter[str] = Counter()
    for row in rows:
        conv = convert_detailed(row["question"], row["answer"])
        if isinstance(conv, Failure):
            continue
        if (
            verify(to_text(conv.trace), row["answer"].rpartition("####")[2]).status
            is Status.CORRECT
        ):
            correct += 1
        kinds.update(g.kind for g in conv.inits)
    assert len(rows) > 7000
    assert correct / len(rows) >= 0.98
    inits = sum(kinds.values())
    # grounded in the question: the value written there (92.7%), counted from a list there
    # (0.5%), or a unit constant between units the question names (2.7%): 95.95% measured
    # against the 95%. The rest is knowledge no question states (2 wheels, 4 legs,
    # 1 for "a bag"). These floors guard what the converter reaches now.
    assert (kinds["grounded"] + kinds["counted"] + kinds["constant"]) / inits >= 0.955
    assert (kinds["grounded"] + kinds["counted"]) / inits >= 0.93
    assert kinds["ungrounded"] / inits <= 0.045
