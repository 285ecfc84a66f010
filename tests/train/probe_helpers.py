"""Hand-built probe cases and generators with known behaviour, shared by the probe/report tests."""

from __future__ import annotations

import itertools
from typing import Any

from dslkit.train.probe import SPLITS, ProbeCase

import scene_dsl

POSTER = """[scene]
[canvas:tall] [layout:poster_stack] [theme:infra_dark] [tone:green] [density:compact]
[header_band:@header.kicker|@header.headline|@header.subtitle]
[section_card:@cards.0.title|@cards.0.value|@cards.0.caption|variant=hero|accent=amber]
[section_card:@cards.1.title|@cards.1.value|@cards.1.caption]
[/scene]"""
POSTER_CONTENT = {
    "header": {"kicker": "K", "headline": "Headline", "subtitle": "Sub"},
    "cards": [
        {"title": "A", "value": "1", "caption": "c"},
        {"title": "B", "value": "2", "caption": "d"},
    ],
}
TREE = """[scene]
[canvas:wide] [layout:decision_tree] [theme:infra_dark] [tone:amber] [density:balanced]
[header_band:@header.kicker|@header.headline|@header.subtitle]
[decision_node:hot|@nodes.hot]
[outcome_panel:keep|@outcomes.keep]
[outcome_panel:evict|@outcomes.evict]
[decision_edge:hot->keep|@edges.yes]
[decision_edge:hot->evict|@edges.no]
[/scene]"""
TREE_CONTENT = {
    "header": {"kicker": "K", "headline": "Cache", "subtitle": "Sub"},
    "nodes": {"hot": {"title": "Hot?", "body": "recent"}},
    "outcomes": {"keep": {"title": "Keep", "body": "b"}, "evict": {"title": "Evict", "body": "b"}},
    "edges": {"yes": "yes", "no": "no"},
}
SCENES = {"poster_stack": (POSTER, POSTER_CONTENT), "decision_tree": (TREE, TREE_CONTENT)}


def block_text(text: str) -> str:
    """The canonical one-line block form, as training rows hold it."""
    return scene_dsl.to_text(
        scene_dsl.canonicalize(scene_dsl.parse(text)), form="block", inline=True
    )


def scene_cases() -> list[ProbeCase]:
    """Eight cases: two families x four splits, prompts unique per case."""
    cases = []
    for i, ((family, (text, content)), split) in enumerate(
        itertools.product(SCENES.items(), SPLITS)
    ):
        cases.append(
            ProbeCase(
                id=f"{family}-{split}",
                prompt=f"[task:draw] [goal:{family}] #{i}",
                expected=block_text(text),
                split=split,
                family=family,
                content=content,
            )
        )
    return cases


def fake_compile(scene: Any, content: Any) -> str:
    """A deterministic stand-in for the scene compiler: equal scenes give equal 'SVG'."""
    return "<svg>" + scene_dsl.to_text(scene, form="row") + "</svg>"


# --- behaviours: expected text -> generated output -----------------------------------------


def echo(expected: str) -> str:
    return expected


def truncate(expected: str) -> tuple[str, bool]:
    toks = expected.split()
    return " ".join(toks[: len(toks) // 2]), True


def leak_eos(expected: str) -> str:
    return expected + " <|eos|>"


def duplicate_attr(expected: str) -> str:
    return expected.replace("[density:", "[theme:infra_dark] [density:", 1)


def bad_nesting(expected: str) -> str:
    # close the header band with the wrong tag
    return expected.replace("[/header_band]", "[/section_card]", 1)


def drop_start(expected: str) -> str:
    return expected.replace("[scene] ", "", 1)


def drift_tone(expected: str) -> str:
    for a, b in (("[tone:green]", "[tone:blue]"), ("[tone:amber]", "[tone:green]")):
        expected = expected.replace(a, b)
    return expected


BEHAVIOURS = {
    "echo": echo,
    "truncate": truncate,
    "leak_eos": leak_eos,
    "duplicate_attr": duplicate_attr,
    "bad_nesting": bad_nesting,
    "drop_start": drop_start,
    "drift_tone": drift_tone,
}


def generator(cases: list[ProbeCase], plan: dict[str, str]):  # type: ignore[no-untyped-def]
    """A generator that answers case ``id`` with behaviour ``plan[id]``."""
    by_prompt = {c.prompt: (c.expected, BEHAVIOURS[plan[c.id]]) for c in cases}

    def generate(prompt: str) -> Any:
        expected, behave = by_prompt[prompt]
        return behave(expected)

    return generate
