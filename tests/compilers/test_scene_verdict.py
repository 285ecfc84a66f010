"""compilers.verify_scene: one test per verdict field, with the real scene compiler.

Each test holds everything but one field fixed, so a field computed wrong (or from the wrong
input) turns exactly that test red.
"""

from __future__ import annotations

from typing import Any

import pytest
from dslkit.compilers import SceneVerdict, verify_scene
from dslkit.compilers.codes import diag  # S704 is a render code
from dslkit.compilers.scene_verdict import canonical_texts, form_of

import scene_dsl
from dslkit.errors import CompileError, SceneSyntaxError

POSTER_ROW = """[scene]
[canvas:tall] [layout:poster_stack] [theme:infra_dark] [tone:green] [density:compact]
[header_band:@header.kicker|@header.headline|@header.subtitle]
[section_card:@cards.0.title|@cards.0.value|@cards.0.caption|variant=hero|accent=amber]
[section_card:@cards.1.title|@cards.1.value|@cards.1.caption]
[/scene]"""
CONTENT = {
    "header": {"kicker": "K", "headline": "Headline", "subtitle": "Sub"},
    "cards": [
        {"title": "A", "value": "1", "caption": "c"},
        {"title": "B", "value": "2", "caption": "d"},
    ],
}


def edit(text: str, old: str, new: str) -> str:
    """``text`` with its first ``old`` replaced: a test edit that finds nothing is a bug."""
    assert old in text, old
    return text.replace(old, new, 1)


SCENE = scene_dsl.canonicalize(scene_dsl.parse(POSTER_ROW))
BLOCK = scene_dsl.canonical_text(SCENE, form="block", inline=True)  # the training surface
ROW = scene_dsl.canonical_text(SCENE, form="row", inline=True)
SWAPPED = edit(BLOCK, "[canvas:tall] [layout:poster_stack]", "[layout:poster_stack] [canvas:tall]")
OTHER = edit(BLOCK, "[tone:green]", "[tone:blue]")  # valid, canonical, another scene


def verdict(text: str, **kw: Any) -> SceneVerdict:
    kw.setdefault("content", CONTENT)
    return verify_scene(text, **kw)


def test_a_canonical_target_passes_every_check_with_the_real_compiler() -> None:
    v = verdict(BLOCK, expected=POSTER_ROW)
    assert (v.parses, v.valid, v.renderable, v.canonical, v.exact) == (True,) * 5
    assert v.compiled and v.svg is not None and v.svg.startswith("<svg")
    assert v.ok and v.scene == SCENE


def test_parses() -> None:
    # a wrong close tag is a parser error; the same text closed right parses
    broken = edit(BLOCK, "[/header_band]", "[/section_card]")
    assert not verdict(broken).parses
    assert verdict(broken).syntax_errors
    # a row with too many positional parts is a parser error too (not a contract one)
    arity = edit(ROW, "[section_card:@cards.1.title|", "[section_card:@cards.1.title|x|y|z|")
    assert not verdict(arity).parses
    assert verdict(BLOCK).parses and verdict(BLOCK).syntax_errors == ()
    # a contract error is not a parse error
    assert verdict(edit(BLOCK, "cards.1.value", "cards.9.value")).parses


def test_valid() -> None:
    dangling = edit(BLOCK, "cards.1.value", "cards.9.value")
    assert not verdict(dangling).valid  # the ref resolves nowhere in content.json
    assert verdict(dangling, content=None).valid  # without content, refs are not checked
    bad_value = edit(BLOCK, "[tone:green]", "[tone:chartreuse]")
    assert verdict(bad_value).parses and not verdict(bad_value).valid
    assert verdict(BLOCK).valid


def test_renderable() -> None:
    def refuses(scene: Any, content: Any) -> str:
        raise CompileError.from_diagnostics([diag("S704", "the SVG is not well formed")])

    v = verdict(BLOCK, compile=refuses)
    assert v.valid and not v.renderable and v.compiled
    assert v.render_class == "render_failure" and v.render_error
    # without a compiler (or without content) nothing is compiled: renderable means valid
    assert verdict(BLOCK, compile=None).renderable and not verdict(BLOCK, compile=None).compiled
    assert verdict(BLOCK, content=None).renderable and not verdict(BLOCK, content=None).compiled
    # an invalid scene is never handed to the compiler
    assert not verdict(edit(BLOCK, "cards.1.value", "cards.9.value")).compiled


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        (BLOCK, True),
        (ROW, True),
        (scene_dsl.canonical_text(SCENE, form="block"), True),  # file surface
        (scene_dsl.canonical_text(SCENE, form="row").rstrip("\n"), True),  # ... newline optional
        (SWAPPED, False),  # attribute order
        (edit(BLOCK, " ", "  "), False),  # spacing
        (BLOCK + " ", False),  # trailing space on the training surface
        (
            edit(BLOCK, "[kicker_ref:header.kicker]", "[kicker_ref:@header.kicker]"),
            False,
        ),  # '@' spelling
        (edit(BLOCK, " [/scene]", ""), False),  # does not parse: never canonical
    ],
)
def test_canonical(text: str, canonical: bool) -> None:
    assert verdict(text).canonical is canonical


def test_exact() -> None:
    assert verdict(BLOCK).exact is None  # nothing expected, nothing to say
    assert verdict(BLOCK, expected=POSTER_ROW).exact is True
    assert verdict(ROW, expected=BLOCK).exact is True  # either form of the expected scene
    assert verdict(BLOCK, expected=SCENE).exact is True  # expected as a scene
    assert verdict(SWAPPED, expected=BLOCK).exact is False  # right scene, not canonical text
    assert verdict(SWAPPED, expected=BLOCK).valid  # ... although it is a good scene
    assert verdict(OTHER, expected=BLOCK).exact is False  # canonical, another scene
    with pytest.raises(SceneSyntaxError):
        verdict(BLOCK, expected="[scene] [layout:poster_stack]")  # a broken target is an error


def test_canonical_texts_are_the_exact_texts() -> None:
    for text in canonical_texts(SCENE):
        assert verdict(text, expected=SCENE).exact


def test_repair_judges_the_repaired_text() -> None:
    leaked = BLOCK + " <|eos|> junk"
    v = verdict(leaked, expected=BLOCK, repair=True)
    assert not v.parses and not v.exact
    assert v.repaired is not None and v.fixes
    assert v.repaired.text == BLOCK  # printed canonically, in the form it was written in
    assert v.repaired.parses and v.repaired.renderable and v.repaired.exact
    row = verdict(ROW + " <|eos|>", repair=True).repaired
    assert row is not None and row.text == ROW and form_of(ROW) == "row"
    assert verdict(BLOCK).repaired is None  # not asked
    nothing = verdict("no scene here at all", repair=True)
    assert nothing.unrepairable and nothing.repaired is None


def test_over_the_size_limit_is_a_verdict_not_an_exception() -> None:
    v = verdict("[scene] " + "x" * 2_000_000)
    assert not v.parses and v.diagnostics[0].code == "S501"
