"""Scoring one scene output against its probe case, on top of the one scene verdict.

Whether an output parses, is valid, renderable, canonical and exact is decided by
:func:`dslkit.compilers.verify_scene` alone (data QC and the critic ask it too). This module adds
what only a probe needs: budget truncation, the frame/nesting/duplicate/leak flags, the one
primary failure class of a case and the list of mismatched fields.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dslkit.compilers.scene_verdict import (
    SceneCompiler,
    SceneVerdict,
    default_compiler,
    verify_scene,
)

from dslkit.errors import Diagnostic
from scene_dsl.ast import Component, Scene

__all__ = ["FAILURE_PRIORITY", "SceneScore", "default_compiler", "score_scene", "score_verdict"]

# One primary failure class per case. Structural failures come first: they hide everything
# behind them. Drifts (the model drew the wrong thing) come before contract and binding
# diagnostics because a wrong layout is usually *why* components stop fitting the family.
FAILURE_PRIORITY: tuple[str, ...] = (
    "no_output",
    "special_token_leak",
    "budget_truncation",
    "scene_prefix_failure",
    "scene_suffix_failure",
    "block_nesting_failure",
    "duplicate_attr",
    "syntax_error",
    "limit_exceeded",
    "layout_drift",
    "theme_tone_drift",
    # any other diagnostic failure class (unknown_value, unresolved_ref, ...) goes here
    "render_failure",
    "renderable_but_not_exact",
    "exact_but_not_materialized",
)

_SPECIAL_RE = re.compile(r"<\|[^|<>\s]{0,32}\|>|</s>|<s>|\[(?:OUT|IN)\]")
_PROMPT_TAG_RE = re.compile(r"\[(?:task|goal|audience|bos|eos|pad):[^\]\s]*\]")


@dataclass(frozen=True)
class SceneScore:
    """How one scene output fares (raw or repaired)."""

    text: str  # the scored text
    parses: bool  # the verdict's parses: the parser reported no error
    renderable: bool  # the verdict's renderable: valid against contract + content, compiles
    exact: bool  # the verdict's exact: one of the expected scene's canonical texts
    materialized_exact: bool | None  # compiled SVG equals the expected SVG (None: no compiler)
    truncated: bool  # a correct prefix of the target, cut at the token budget
    hit_budget: bool | None
    missing_scene_start: bool
    missing_scene_end: bool
    duplicate_attr: bool
    block_nesting_error: bool
    special_token_leak: bool
    failure_class: str  # "" when exact (and materialized-exact where measurable)
    mismatched: tuple[str, ...]  # fields that differ from the expected scene
    diagnostics: tuple[dict[str, Any], ...]  # every diagnostic, as dicts
    svg: str | None = None  # the compiled SVG of this output, when it compiles


def _tokens(text: str) -> list[str]:
    return text.split()


def _is_truncated(actual: str, expected: str, hit_budget: bool | None) -> bool:
    """A strict, correct prefix of the target (the last token may be cut mid-way)."""
    if hit_budget is False:
        return False  # the generator stopped on its own: whatever it is, it is not a cut
    got, want = _tokens(actual), _tokens(expected)
    if not got or len(got) > len(want):
        return False
    if got[:-1] != want[: len(got) - 1] or not want[len(got) - 1].startswith(got[-1]):
        return False
    return got != want


def _scene_diff(expected: Scene, actual: Scene | None) -> tuple[str, ...]:
    """Human-readable list of what differs, attributes first, then components in order."""
    if actual is None:
        return ("scene: nothing parsed",)
    out: list[str] = []
    exp_attrs = {a.key: a.value for a in expected.attrs}
    act_attrs = {a.key: a.value for a in actual.attrs}
    for key in list(exp_attrs) + [k for k in act_attrs if k not in exp_attrs]:
        if exp_attrs.get(key) != act_attrs.get(key):
            out.append(f"attr {key}: expected {exp_attrs.get(key)!r}, got {act_attrs.get(key)!r}")
    for key, count in Counter(a.key for a in actual.attrs).items():
        if count > 1:
            out.append(f"attr {key}: written {count} times")
    exp_c, act_c = expected.components, actual.components
    if len(exp_c) != len(act_c):
        out.append(f"components: expected {len(exp_c)}, got {len(act_c)}")
    for i, (e, a) in enumerate(zip(exp_c, act_c, strict=False)):
        out.extend(_component_diff(f"component {i}", e, a))
    for i in range(len(act_c), len(exp_c)):
        out.append(f"component {i}: missing {exp_c[i].name}")
    for i in range(len(exp_c), len(act_c)):
        out.append(f"component {i}: extra {act_c[i].name}")
    return tuple(out[:40])


def _component_diff(where: str, e: Component, a: Component) -> list[str]:
    if e.name != a.name:
        return [f"{where}: expected {e.name}, got {a.name}"]
    out = []
    ef = [(f.name, f.value) for f in e.fields]
    af = [(f.name, f.value) for f in a.fields]
    if ef != af:
        exp_d, act_d = dict(ef), dict(af)
        for key in list(exp_d) + [k for k in act_d if k not in exp_d]:
            if exp_d.get(key) != act_d.get(key):
                out.append(
                    f"{where} {e.name}.{key}: expected {exp_d.get(key)!r}, got {act_d.get(key)!r}"
                )
        if not out:
            out.append(f"{where} {e.name}: repeated fields differ in order or count")
    if len(e.children) != len(a.children):
        out.append(f"{where} {e.name}: expected {len(e.children)} children, got {len(a.children)}")
    for j, (ec, ac) in enumerate(zip(e.children, a.children, strict=False)):
        out.extend(_component_diff(f"{where}.{j}", ec, ac))
    return out


def _mismatched(verdict: SceneVerdict, expected: Scene) -> tuple[str, ...]:
    diff = _scene_diff(expected, verdict.scene)
    if not diff and not verdict.canonical:
        # the right scene, written another way (order, spacing, @): exact is about the text
        return ("text: the expected scene, but not in canonical form",)
    return diff


def _primary_class(
    diags: Sequence[Diagnostic],
    truncated: bool,
    leak: bool,
    expected: Scene,
    actual: Scene | None,
    renderable: bool,
    exact: bool,
    materialized: bool | None,
    render_class: str,
    empty: bool,
) -> str:
    if exact and materialized is not False:
        return ""
    errors = [d for d in diags if d.is_error]
    classes = {d.failure_class for d in errors}
    if actual is not None and not errors and renderable is False and not render_class:
        classes.add("scene_suffix_failure")  # only the end marker is missing
    if empty:
        return "no_output"
    if leak:
        return "special_token_leak"
    if truncated:
        return "budget_truncation"
    for cls in FAILURE_PRIORITY[3:9]:
        if cls in classes:
            return cls
    if actual is not None and actual.layout != expected.layout:
        return "layout_drift"
    if actual is not None and any(actual.attr(k) != expected.attr(k) for k in ("theme", "tone")):
        return "theme_tone_drift"
    if errors:  # contract and binding classes, first by position
        return sorted(errors, key=lambda d: (d.line, d.column))[0].failure_class
    if not renderable:
        return render_class or "render_failure"
    if not exact:
        return "renderable_but_not_exact"
    return "exact_but_not_materialized"


def score_scene(
    text: str,
    expected: Scene,
    *,
    expected_text: str,
    content: Mapping[str, Any] | None,
    hit_budget: bool | None = None,
    compile: SceneCompiler | None = None,
    expected_svg: str | None = None,
    contract: str = "v1",
) -> SceneScore:
    """Score one scene output against the expected scene.

    Args:
        text: the generated (or repaired) text.
        expected: the expected scene.
        expected_text: the target text as trained (for the truncation prefix test).
        content: the case's content.json (refs are then checked and the scene compiled).
        hit_budget: whether generation ran out of budget (None: unknown).
        compile: ``(scene, content) -> Svg | str``; None skips compiling (materialized is None).
        expected_svg: the expected scene's compiled SVG text.
        contract: contract name.

    Returns:
        A :class:`SceneScore`.
    """
    verdict = verify_scene(text, content, expected, contract=contract, compile=compile)
    return score_verdict(
        verdict,
        expected,
        expected_text=expected_text,
        hit_budget=hit_budget,
        expected_svg=expected_svg,
    )


def score_verdict(
    verdict: SceneVerdict,
    expected: Scene,
    *,
    expected_text: str,
    hit_budget: bool | None = None,
    expected_svg: str | None = None,
) -> SceneScore:
    """The probe's score of one output from its :class:`SceneVerdict`.

    Args:
        verdict: ``verify_scene(text, content, expected, ...)`` of the output.
        expected: the expected scene (for drifts and the list of mismatched fields).
        expected_text: the target text as trained (for the truncation prefix test).
        hit_budget: whether generation ran out of budget (None: unknown).
        expected_svg: the expected scene's compiled SVG; materialized-exact is None without it.

    Returns:
        A :class:`SceneScore`.
    """
    text = verdict.text
    errors = list(verdict.errors)
    codes = {d.code for d in errors}
    missing_end = "S002" in codes or "[/scene]" not in text.split()
    if missing_end:
        # A block left open because the output stops (S203 at the end of input) is the missing
        # end showing through, not a nesting mistake: count it once, as a missing end.
        errors = [d for d in errors if d.code != "S203"]
    classes = {d.failure_class for d in errors}
    leak = "S401" in codes or bool(_SPECIAL_RE.search(text) or _PROMPT_TAG_RE.search(text))
    exact = bool(verdict.exact)
    materialized: bool | None = None
    if expected_svg is not None:
        materialized = verdict.svg is not None and verdict.svg == expected_svg
    truncated = _is_truncated(text, expected_text, hit_budget)
    fail = _primary_class(
        errors,
        truncated,
        leak,
        expected,
        verdict.scene,
        verdict.renderable,
        exact,
        materialized,
        verdict.render_class,
        not text.strip(),
    )
    return SceneScore(
        text=text,
        parses=verdict.parses,
        renderable=verdict.renderable,
        exact=exact,
        materialized_exact=materialized,
        truncated=truncated,
        hit_budget=hit_budget,
        missing_scene_start="S001" in codes,
        missing_scene_end=missing_end,
        duplicate_attr="duplicate_attr" in classes,
        block_nesting_error="block_nesting_failure" in classes,
        special_token_leak=leak,
        failure_class=fail,
        mismatched=() if exact else _mismatched(verdict, expected),
        diagnostics=tuple(d.to_dict() for d in verdict.diagnostics),
        svg=verdict.svg,
    )
