"""Skeleton prompts: the prompt determines the target (the ref policy fills in the rest)."""

from __future__ import annotations

import random
import re

import pytest

import scene_dsl
from scene_dsl.skeleton import (
    FORMS,
    PROMPT_TAGS,
    SkeletonError,
    follows_ref_policy,
    policy_refs,
    scene_from_skeleton,
    skeleton_prompt,
    skeleton_shape,
    skeleton_target,
)
from scene_dsl.strategies import sample_scene


def _scenes(n: int, seed: int = 0) -> list[scene_dsl.Scene]:
    rng = random.Random(seed)
    return [scene_dsl.canonicalize(sample_scene(rng)) for _ in range(n)]


@pytest.mark.parametrize("form", FORMS)
def test_prompt_determines_the_target(form: str) -> None:
    for scene in _scenes(300):
        prompt = skeleton_prompt(scene, form=form)
        assert prompt.startswith(f"[task:svg] [form:{form}] [") and prompt.endswith(" [OUT]")
        # the sampler names content by the policy, so the prompt alone gives the exact target
        assert skeleton_target(prompt) == scene_dsl.canonical_text(scene, form=form, inline=True)


def test_prompt_holds_no_content_path() -> None:
    scene = scene_dsl.parse(
        "[scene] [layout:decision_tree] [decision_node] [node_id:start] "
        "[title_ref:decision_node.0.title] [/decision_node] [decision_edge] [from_ref:start] "
        "[to_ref:start] [branch_label_ref:decision_edge.0.branch_label] [/decision_edge] [/scene]"
    )
    prompt = skeleton_prompt(scene, form="row")
    assert "decision_node.0" not in prompt
    assert "[node_id:start] [title_ref:]" in prompt and "[from_ref:start] [to_ref:start]" in prompt
    target, form = scene_from_skeleton(prompt)
    assert form == "row" and target == scene


def test_ref_policy_is_positional_and_counts_repeats() -> None:
    scene = scene_dsl.parse(
        "[scene] [layout:concept_editorial] [legend_block] [title_ref:x] [item_ref:y] "
        "[item_ref:z] [/legend_block] [legend_block] [ref:w] [/legend_block] [/scene]"
    )
    assert not follows_ref_policy(scene)
    fixed = policy_refs(scene)
    values = [f.value for c in fixed.components for f in c.fields]
    assert values == [
        "legend_block.0.title",
        "legend_block.0.items.0",
        "legend_block.0.items.1",
        "legend_block.1",
    ]
    assert follows_ref_policy(fixed)
    assert skeleton_shape(fixed) == skeleton_shape(scene)


@pytest.mark.parametrize(
    "prompt",
    [
        "[layout:timeline] [OUT]",
        "[task:svg] [form:diagonal] [layout:timeline] [OUT]",
        "[task:svg] [form:row] [layout:timeline] [header_band] [OUT]",
        "[task:svg] [form:row] [layout:timeline] [/header_band] [OUT]",
        "[task:svg] [form:row] [layout:timeline] [no_such_component] [/no_such_component] [OUT]",
        "[task:svg] [form:row] [layout:timeline] headline [OUT]",
        "[task:svg][form:row][layout:timeline]headline [OUT]",
    ],
)
def test_bad_skeletons_are_refused(prompt: str) -> None:
    with pytest.raises(SkeletonError):
        scene_from_skeleton(prompt)


def test_prompt_tags_are_reserved_by_the_tokenizer() -> None:
    from dslkit.tokenizer.reserved import reserved_tokens

    texts = {t.text for t in reserved_tokens("scene", "atomic")}
    assert set(PROMPT_TAGS) <= texts
    # every other skeleton token is one reserved text, or a reserved prefix + "]" for refs
    for scene in _scenes(50, seed=1):
        prompt = skeleton_prompt(scene)
        assert prompt.endswith("] [OUT]") and "  " not in prompt and "][" not in prompt
        for tok in prompt[: -len(" [OUT]")].split(" "):
            if tok.startswith("[topic:") or (tok.split(":")[0] + ":" in texts and tok not in texts):
                continue
            assert tok in texts or tok[:-1] in texts, tok


def test_row_prompts_list_fields_in_the_order_the_row_token_writes_them() -> None:
    scene = scene_dsl.parse(
        "[scene] [layout:decision_tree] [decision_node] [node_id:replica] [ref:decision_node.0] "
        "[title_ref:decision_node.0.title] [body_ref:decision_node.0.body] [/decision_node] "
        "[/scene]",
        contract="v1",
    )
    row = skeleton_prompt(scene, form="row", contract="v1")
    block = skeleton_prompt(scene, form="block", contract="v1")
    # row target: [decision_node:replica|@decision_node.0.title|@decision_node.0.body|ref=@...]
    assert (
        "[decision_node] [node_id:replica] [title_ref:] [body_ref:] [ref:] [/decision_node]" in row
    )
    assert (
        "[decision_node] [node_id:replica] [ref:] [title_ref:] [body_ref:] [/decision_node]"
        in block
    )
    assert skeleton_target(row, "v1") == scene_dsl.canonical_text(
        scene, form="row", inline=True, contract="v1"
    )
    # every sampled scene: each value the prompt keeps (ids, enums) comes in target order
    for scene in _scenes(200, seed=4):
        prompt = skeleton_prompt(scene, form="row")
        target = skeleton_target(prompt)
        kept = re.findall(r"\[\w+:([^\]]+)\]", prompt)  # [name:value]; ref roles have none
        at, pos = [], 0
        for value in kept[2:]:  # after [task:svg] and [form:row]
            pos = target.find(value, pos)
            assert pos >= 0, (value, prompt, target)
            at.append(pos)
        assert at == sorted(at)
