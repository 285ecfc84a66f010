"""Contract validation: does a parsed scene mean something under the contract?

All invariants live here, in one pass that returns positioned diagnostics (never raises on
a bad scene): attributes and their values, combination rules, components the family admits
and requires, fields and their kinds, repeatable and singleton rules, topology ids, nesting,
and, when content is given, that every content ref resolves.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from dslkit.errors import Diagnostic, LineIndex, expect_type
from scene_dsl.ast import Component, Scene
from scene_dsl.content import bind
from scene_dsl.contract import DEFAULT_CONTRACT, Contract, load_contract
from scene_dsl.diagnostics import diag

__all__ = ["validate"]


def validate(
    scene: Scene,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    content: Mapping[str, Any] | None = None,
    *,
    source: str | None = None,
) -> list[Diagnostic]:
    """Check ``scene`` against the contract (and its content, when given).

    Args:
        scene: a parsed or constructed scene.
        contract: contract name, path or object.
        content: the scene's content.json as a mapping; when given, every content ref must
            resolve and unused content is reported as a warning.
        source: the program text, to attach source lines and carets to diagnostics.

    Returns:
        Diagnostics sorted by position (errors and warnings); empty when the scene is valid.
    """
    expect_type(scene, Scene, "validate(scene)")
    spec = load_contract(contract)
    out: list[Diagnostic] = []
    _check_attrs(scene, spec, out)
    _check_components(scene, spec, out)
    if content is not None:
        out.extend(bind(scene, content, contract=spec).diagnostics)
    if source is not None:
        out = _with_sources(out, source)
    return sorted(out, key=lambda d: (d.line, d.column, d.code))


def _with_sources(diags: list[Diagnostic], source: str) -> list[Diagnostic]:
    # Diagnostic.with_source scans the text per call: quadratic for a large scene with many
    # problems (even on one line). Index the line starts once; each caret is then O(width).
    index = LineIndex(source)
    out = []
    for d in diags:
        if d.line >= 1:
            src, caret = index.caret_context(d.line, d.column)
            d = replace(d, source_line=src, caret=caret)
        out.append(d)
    return out


def _check_attrs(scene: Scene, contract: Contract, out: list[Diagnostic]) -> None:
    seen: dict[str, str] = {}
    for a in scene.attrs:
        spec = contract.attribute(a.key)
        if spec is None:
            out.append(diag("S302", f"unknown scene attribute {a.key!r}", span=a.span))
            continue
        if a.key in seen:
            out.append(
                diag(
                    "S301",
                    f"attribute {a.key} given twice ({seen[a.key]!r} then {a.value!r})",
                    span=a.span,
                )
            )
            continue
        seen[a.key] = a.value
        why = spec.check(a.value)
        if why:
            out.append(diag("S303", f"{a.key}:{a.value} is not allowed: {why}", span=a.span))
    for spec in contract.attributes:
        if spec.required and spec.name not in seen:
            out.append(
                diag("S004", f"the scene has no [{spec.name}:...] attribute", span=scene.span)
            )
    for rule in contract.rules:
        if rule.violated(seen):
            span = next((a.span for a in scene.attrs if a.key == rule.attribute), None)
            out.append(
                diag(
                    rule.code,
                    f"{rule.attribute}:{seen[rule.attribute]} is not allowed here: {rule.why}",
                    span=span,
                )
            )


def _check_components(scene: Scene, contract: Contract, out: list[Diagnostic]) -> None:
    layout = scene.attr("layout")
    family = contract.families.get(layout or "")
    declared: dict[str, Component] = {}  # topology id -> declaring component
    counts: dict[str, int] = {}
    # Walk iteratively with the parent name, so nesting rules need no recursion.
    stack: list[tuple[Component, str | None]] = [(c, None) for c in reversed(scene.components)]
    order: list[Component] = []
    while stack:
        comp, parent = stack.pop()
        order.append(comp)
        stack.extend((child, comp.name) for child in reversed(comp.children))
        cspec = contract.components.get(comp.name)
        if cspec is None:
            out.append(diag("S304", f"unknown component {comp.name!r}", span=comp.span))
            continue
        if parent is None:
            counts[comp.name] = counts.get(comp.name, 0) + 1
            if cspec.child_only:
                out.append(
                    diag(
                        "S205",
                        f"[{comp.name}] belongs inside a parent block, not at the top level",
                        span=comp.span,
                    )
                )
            elif family is not None and comp.name not in family.admits:
                out.append(
                    diag(
                        "S307",
                        f"{comp.name} is not part of the {family.name} family",
                        span=comp.span,
                    )
                )
            if cspec.singleton and counts[comp.name] == 2:
                out.append(diag("S309", f"{comp.name} may appear once per scene", span=comp.span))
        else:
            pspec = contract.components.get(parent)
            if pspec is not None and comp.name not in pspec.children:
                out.append(
                    diag("S205", f"[{comp.name}] cannot be nested in [{parent}]", span=comp.span)
                )
        if comp.children and not cspec.children:
            out.append(diag("S205", f"[{comp.name}] takes no nested blocks", span=comp.span))
        _check_fields(comp, contract, declared, out)
    if (
        family is not None
        and family.requires_any
        and not any(counts.get(n) for n in family.requires_any)
    ):
        names = ", ".join(family.requires_any)
        out.append(
            diag("S310", f"a {family.name} scene needs at least one of: {names}", span=scene.span)
        )
    for comp in order:  # id references are checked after every id is declared
        cspec = contract.components.get(comp.name)
        if cspec is None:
            continue
        for f in comp.fields:
            fspec = cspec.field(f.name)
            if fspec is not None and fspec.kind == "idref" and f.value not in declared:
                known = ", ".join(sorted(declared)) or "none declared"
                out.append(
                    diag(
                        "S314",
                        f"{comp.name}.{f.name} names {f.value!r}, which no component declares (ids: {known})",
                        span=f.span or comp.span,
                    )
                )


def _check_fields(
    comp: Component, contract: Contract, declared: dict[str, Component], out: list[Diagnostic]
) -> None:
    cspec = contract.components[comp.name]
    seen: set[str] = set()
    for f in comp.fields:
        fspec = cspec.field(f.name)
        where = f.span or comp.span
        if fspec is None:
            known = ", ".join(x.name for x in cspec.fields)
            out.append(
                diag("S305", f"{comp.name} has no field {f.name!r} (fields: {known})", span=where)
            )
            continue
        if f.name in seen and not fspec.repeatable:
            out.append(diag("S308", f"{comp.name}.{f.name} given more than once", span=where))
        seen.add(f.name)
        why = fspec.check(f.value)
        if why:
            code = "S303" if fspec.kind == "enum" else "S315"
            out.append(diag(code, f"{comp.name}.{f.name}={f.value!r}: {why}", span=where))
        elif fspec.kind == "id":
            if f.value in declared:
                out.append(diag("S313", f"id {f.value!r} is declared twice", span=where))
            else:
                declared[f.value] = comp
    for fspec in cspec.fields:
        if fspec.required and fspec.name not in seen:
            out.append(diag("S306", f"{comp.name} needs [{fspec.name}:...]", span=comp.span))
    if cspec.requires_any and not seen.intersection(cspec.requires_any):
        names = " or ".join(cspec.requires_any)
        out.append(diag("S306", f"{comp.name} needs {names}", span=comp.span))
