"""Value checks on constrained traces: an argument names a variable already set, a query names
one a step computed, and no canonical trace the data holds is ever masked by them."""

from __future__ import annotations

import pytest
from data_decoding_helpers import assert_targets_pass, sample_constrained
from dslkit.compilers import solve
from dslkit.train.decoding import Decoder
from test_decoding_masks import trace_texts, trace_tokenizer

import trace_dsl
from trace_dsl.gsm8k import Conversion, convert_detailed

# what the checks are for: the solver's name errors
NAME_ERRORS = {"X202", "X203"}

PROBLEMS = [
    (
        "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes "
        "muffins for her friends every day with four. She sells the remainder for $2 per egg. How "
        "much does she make every day?",
        "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\n"
        "She makes 9 * 2 = $<<9*2=18>>18 every day at the farmer's market.\n#### 18",
    ),
    (
        "A robe takes 2 bolts of blue fiber and half that much white fiber. How many bolts in total?",
        "It takes 2/2=<<2/2=1>>1 bolt of white fiber\nSo the total is 2+1=<<2+1=3>>3 bolts\n#### 3",
    ),
]


def _targets() -> list[str]:
    converted = [convert_detailed(q, a) for q, a in PROBLEMS]
    texts = [trace_dsl.to_text(c.trace) for c in converted if isinstance(c, Conversion)]
    assert len(texts) == len(PROBLEMS)
    return trace_texts() + texts


def test_trace_targets_are_never_masked_by_the_value_checks() -> None:
    tok = trace_tokenizer()
    dec = Decoder(tok, "trace")
    texts = _targets()
    proc = dec.constraint(None, [None] * len(texts))
    assert_targets_pass(proc, tok, texts)


def _generate(seed: int, check_values: bool) -> tuple[str, int]:
    dec = Decoder(trace_tokenizer(), "trace")
    return sample_constrained(dec, "[task:trace] q [OUT]", 600, seed, None, check_values)


def _name_error(text: str) -> str | None:
    parsed = trace_dsl.parse(text, errors="collect")
    if not parsed.ok:  # a repeated name inside one map (T202): the mask's known limit
        return None
    result = solve(parsed.trace)
    code = result.error.code if result.error is not None else None
    return code if code in NAME_ERRORS else None


@pytest.mark.parametrize("seed", range(6))
def test_random_traces_name_only_variables_that_are_set(seed: int) -> None:
    text, aside = _generate(seed, True)
    assert _name_error(text) is None or aside, text


def test_unchecked_random_traces_do_name_unset_variables() -> None:
    # the control: the same draws without the checks
    assert sum(_name_error(_generate(seed, False)[0]) is not None for seed in range(6)) >= 3


def test_example_traces_round_trip_the_tokenizer() -> None:
    # the walk above is only meaningful if the helper tokenizer writes the targets exactly
    tok = trace_tokenizer()
    assert all(tok.decode(tok.encode(t)) == t for t in _targets())
