"""TRL-shaped reward functions: traces in any wrapping, golds in any form, scenes by outcome."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
from dslkit.compilers import RewardWarning, SceneLadder, scene_reward, trace_reward
from dslkit.compilers.rewards import read_gold
from dslkit.compilers.trace_solver import RewardLadder, solve, verify

import scene_dsl
import trace_dsl
from trace_dsl.interop import to_obj

REPO = Path(__file__).resolve().parents[2]
TRACES = sorted((REPO / "examples" / "traces").glob("*.trace"))
GOLD = REPO / "examples" / "gold" / "optimizer_board"


def answer_of(text: str) -> int | Fraction:
    result = solve(text)
    assert result.ok, result.error
    assert result.answer is not None
    return result.answer


def wrappings(text: str) -> list[object]:
    """The ways a model (or TRL) hands over the same trace."""
    return [
        text,
        f"Let me work it out.\n\n```yaml\n{text}```\nSo that is the answer.",
        f"Sure! Here is the trace:\n{text}\nDone.<|eos|>",
        [{"role": "assistant", "content": f"```trace\n{text}```"}],
        [{"role": "assistant", "content": [{"type": "text", "text": text}]}],
        json.dumps(to_obj(trace_dsl.parse(text))),
        f"```json\n{json.dumps(to_obj(trace_dsl.parse(text)), indent=2)}\n```",
    ]


@pytest.mark.parametrize("path", TRACES, ids=lambda p: p.stem)
def test_a_correct_trace_scores_1_in_every_wrapping_and_gold_form(path) -> None:
    text = path.read_text(encoding="utf-8")
    value = answer_of(text)
    shown = str(value) if isinstance(value, int) else f"{value.numerator}/{value.denominator}"
    golds: list[object] = [value, shown, f"Reasoning...\n#### {shown}"]
    if isinstance(value, int):
        golds += [float(value), f"{value:,}", f"${value}"]
    for gold in golds:
        completions = wrappings(text)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # nothing here may warn
            assert trace_reward(completions, [gold] * len(completions)) == [1.0] * len(
                completions
            ), gold


def test_rewards_follow_the_solver_ladder() -> None:
    text = (REPO / "examples" / "traces" / "janet_eggs.trace").read_text(encoding="utf-8")
    value = answer_of(text)
    broken = text.replace("op: query", "op: frobnicate", 1)
    shortcut = "expert: arithmetic\ntrace:\n- {op: init, var: a, value: 3}\n- {op: query, var: a}\n"
    completions = [text, text, "no trace here", broken, shortcut]
    golds = [value, value + 1, value, value, 3]
    expected = [
        verify(trace_dsl.extract(c) or c, g).reward for c, g in zip(completions, golds, strict=True)
    ]
    assert trace_reward(completions, golds) == expected == [1.0, 0.7, 0.0, expected[3], 0.5]
    ladder = RewardLadder(wrong_answer=0.2)
    assert trace_reward([text], value + 1, ladder=ladder) == [0.2]  # one gold for all
    assert trace_reward([text], value, expected_expert="percentage") == [0.3]


@pytest.mark.parametrize(
    "gold", [None, "seventy-two", "", "#### many", float("nan"), float("inf"), True, {"a": 1}]
)
def test_a_gold_that_cannot_be_read_scores_0_with_a_warning(gold) -> None:
    text = TRACES[0].read_text(encoding="utf-8")
    with pytest.warns(RewardWarning, match="cannot read gold answer"):
        assert trace_reward([text, text], [gold, answer_of(text)]) == [0.0, 1.0]


def test_read_gold_forms() -> None:
    assert read_gold("#### 1,234") == 1234 and read_gold("$18") == 18
    assert read_gold("2.5") == Fraction(5, 2) and read_gold(0.1) == Fraction(1, 10)
    assert read_gold("7/3") == Fraction(7, 3) and read_gold(4.0) == 4
    assert read_gold("1" * 200_000) is None  # not a gold answer; no slow big-int parse


def test_wiring_mistakes_raise() -> None:
    with pytest.raises(ValueError, match="2 entries for 3 completions"):
        trace_reward(["a", "b", "c"], [1, 2])


def test_hostile_completions_never_raise() -> None:
    junk = [
        "{" * 5000,
        "[" * 100_000,
        "expert: arithmetic\ntrace:\n- {op: init, var: x, value: 1e999}",
    ]
    junk += [None, 42, [{"role": "assistant", "content": None}], "```yaml\n", "\ud800"]
    assert trace_reward(junk, 1) == [0.0] * len(junk)


# ------------------------------------------------------------------------------------ scenes
def gold_case() -> tuple[str, str, dict]:
    block = (GOLD / "scene.dsl").read_text(encoding="utf-8")
    row = (GOLD / "scene.row.dsl").read_text(encoding="utf-8")
    return block, row, json.loads((GOLD / "content.json").read_text(encoding="utf-8"))


def test_scene_ladder() -> None:
    block, row, content = gold_case()
    inline = " ".join(block.split())
    different = inline.replace("[theme:paper_editorial]", "[theme:infra_dark]")
    assert different != inline
    unbound = inline.replace("[/scene]", "[footer_note] [ref:no.such.ref] [/footer_note] [/scene]")
    completions = [
        f"Here you go: {inline}<|eos|> trailing",  # exact, inline, wrapped in prose
        [{"role": "assistant", "content": row}],  # exact, row form, chat
        different,  # renders, but another scene
        unbound,  # parses, content ref does not resolve
        "[scene] [canvas:wide",  # does not parse
        "no scene at all",
    ]
    rewards = scene_reward(completions, content, expected=block)
    assert rewards == [1.0, 1.0, 0.7, 0.3, 0.0, 0.0]
    assert scene_dsl.parse(_cut(unbound))  # it really parses
    # Without an expected scene, rendering is the most a scene earns.
    assert scene_reward([block], json.dumps(content)) == [SceneLadder().renders]
    assert scene_reward([block], [content], [row], ladder=SceneLadder(exact=2.0)) == [2.0]


def _cut(text: str) -> str:
    return text[text.index("[scene]") :]


def test_unreadable_content_scores_0_with_a_warning() -> None:
    block, _, content = gold_case()
    with pytest.warns(RewardWarning, match="cannot read content"):
        assert scene_reward([block, block], ["{not json", content], block) == [0.0, 1.0]


def test_importing_the_rewards_does_not_import_the_render_stack() -> None:
    code = (
        "import sys; from dslkit.compilers import trace_reward, scene_reward; "
        "bad = {'cairosvg', 'PIL', 'skimage', 'torch'} & set(sys.modules); assert not bad, bad"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
