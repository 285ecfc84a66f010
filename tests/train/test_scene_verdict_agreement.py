"""Data QC, the critic and the probe agree on every scene, because all three ask verify_scene.

The compiler here is the real one (``dslkit.compilers.compile_scene``), except that it refuses
balanced-density scenes, so "valid but not renderable" is covered too.
"""

from __future__ import annotations

from typing import Any

import pytest
from dslkit.compilers import compile_scene, verify_scene
from dslkit.compilers.codes import diag  # S704 is a render code
from dslkit.train import critic, data, probe
from probe_helpers import POSTER, POSTER_CONTENT, block_text

from dslkit.errors import CompileError

GOOD = block_text(POSTER)


def compiler(scene: Any, content: Any) -> Any:
    """The real compiler, except that it refuses balanced-density scenes."""
    if scene.attr("density") == "balanced":
        raise CompileError.from_diagnostics([diag("S704", "refused to draw")])
    return compile_scene(scene, content)


def edit(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


# name -> (text, content, what the verdict must say: parses, valid, renderable, canonical, exact)
TEXTS: dict[str, tuple[str, dict[str, Any], tuple[bool, bool, bool, bool, bool]]] = {
    "valid": (GOOD, POSTER_CONTENT, (True, True, True, True, True)),
    "non_canonical": (
        edit("[canvas:tall] [layout:poster_stack]", "[layout:poster_stack] [canvas:tall]"),
        POSTER_CONTENT,
        (True, True, True, False, False),
    ),
    "repaired_only": (GOOD + " <|eos|>", POSTER_CONTENT, (False, False, False, False, False)),
    "wrong_content_ref": (
        edit("cards.1.value", "cards.7.value"),
        POSTER_CONTENT,
        (True, False, False, True, False),
    ),
    "not_renderable": (
        edit("[density:compact]", "[density:balanced]"),
        POSTER_CONTENT,
        (True, True, False, True, False),
    ),
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_verdict_itself(name: str) -> None:
    text, content, want = TEXTS[name]
    v = verify_scene(text, content, GOOD, compile=compiler)
    assert (v.parses, v.valid, v.renderable, v.canonical, v.exact) == want


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_data_qc_agrees(name: str) -> None:
    text, content, (parses, valid, renderable, canonical, _) = TEXTS[name]
    row = data.Row("r", "[task:svg]", text, "train", "poster_stack", "scene", content)
    problems: list[data.QcProblem] = []
    data._check_scene(row, "v1", compiler, problems)
    kinds = {p.kind for p in problems}
    assert ("parse" in kinds) == (not parses or not canonical)
    assert ("validate" in kinds) == (parses and not valid)
    assert ("compile" in kinds) == (valid and not renderable)
    assert (not problems) == (renderable and canonical)


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_critic_agrees(name: str) -> None:
    text, content, (parses, _, renderable, canonical, _) = TEXTS[name]
    labels = critic.label({"text": text, "content": content}, compile=compiler)
    assert (labels.syntax_pass, labels.tests_pass, labels.format_pass) == (
        parses,
        renderable,
        canonical,
    )


def test_probe_agrees_with_the_real_compiler() -> None:
    cases = [
        probe.ProbeCase(id=name, prompt=name, expected=GOOD, content=content)
        for name, (_, content, _) in TEXTS.items()
    ]
    outputs = {name: text for name, (text, _, _) in TEXTS.items()}
    report = probe.run(outputs.__getitem__, cases, compile=compiler)
    for case in report.cases:
        _, _, (parses, _, renderable, _, exact) = TEXTS[case.id]
        assert case.raw is not None
        assert (case.raw.parses, case.raw.renderable, case.raw.exact) == (
            parses,
            renderable,
            exact,
        ), case.id
    by_id = {c.id: c for c in report.cases}
    # the real compiler drew the expected scene and the output alike: materialized-exact holds
    assert by_id["valid"].raw is not None and by_id["valid"].raw.materialized_exact is True
    # repair fixes the leak, and the repaired output is exact
    repaired = by_id["repaired_only"].repaired
    assert repaired is not None and repaired.exact and by_id["repaired_only"].fixes
    # the right scene written out of order is not exact, and the report says why
    raw = by_id["non_canonical"].raw
    assert raw is not None and raw.failure_class == "renderable_but_not_exact"
    assert any("canonical" in m for m in raw.mismatched)


def test_probe_uses_the_real_compiler_by_default() -> None:
    case = probe.ProbeCase(id="c", prompt="p", expected=GOOD, content=POSTER_CONTENT)
    report = probe.run(lambda p: GOOD, [case])
    assert report.compiler
    raw = report.cases[0].raw
    assert raw is not None and raw.svg is not None and raw.svg.startswith("<svg")
    assert raw.svg == compile_scene(GOOD, POSTER_CONTENT).text
