"""Canonicalisation: one AST -> one text.

Passes are small ``Scene -> Scene`` functions run in order (sqlglot's optimizer RULES idea).
Canonical form fixes the attribute order and the field order from the contract, keeps the
order of components (it is drawing order, and so meaning) and of repeated fields, and
optionally drops attributes that equal their default. ``canonicalize`` is idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from dslkit.errors import expect_type
from scene_dsl.ast import Component, Scene
from scene_dsl.contract import DEFAULT_CONTRACT, Contract, load_contract
from scene_dsl.parser import parse
from scene_dsl.printer import to_text

__all__ = ["RULES", "canonical_text", "canonicalize", "drop_defaults", "sort_attrs", "sort_fields"]

Pass = Callable[[Scene, Contract], Scene]


def sort_attrs(scene: Scene, contract: Contract) -> Scene:
    """Attributes in the contract's canonical order (stable for duplicates and unknowns)."""
    attrs = tuple(sorted(scene.attrs, key=lambda a: contract.attribute_rank(a.key)))
    return scene if attrs == scene.attrs else replace(scene, attrs=attrs)


def _sort_component(comp: Component, contract: Contract) -> Component:
    spec = contract.components.get(comp.name)
    fields = comp.fields
    if spec is not None:
        last = len(spec.fields)
        fields = tuple(sorted(fields, key=lambda f: spec.field_index.get(f.name, last)))
    children = tuple(_sort_component(c, contract) for c in comp.children)
    return replace(comp, fields=fields, children=children)


def sort_fields(scene: Scene, contract: Contract) -> Scene:
    """Fields of every component in the contract's field order (repeated fields keep order)."""
    return replace(scene, components=tuple(_sort_component(c, contract) for c in scene.components))


def drop_defaults(scene: Scene, contract: Contract) -> Scene:
    """Remove attributes whose value equals the contract default."""
    keep = []
    for a in scene.attrs:
        spec = contract.attribute(a.key)
        if spec is None or spec.default is None or spec.default != a.value:
            keep.append(a)
    return replace(scene, attrs=tuple(keep))


RULES: tuple[Pass, ...] = (sort_attrs, sort_fields)


def canonicalize(
    scene: Scene,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    *,
    omit_defaults: bool = False,
) -> Scene:
    """Return the canonical form of ``scene``.

    Args:
        scene: any parsed or constructed scene.
        contract: the contract that fixes attribute and field order.
        omit_defaults: also drop attributes equal to their default value.

    Returns:
        The canonical scene; ``canonicalize(canonicalize(s)) == canonicalize(s)``.
    """
    expect_type(scene, Scene, "canonicalize(scene)")
    spec = load_contract(contract)
    passes: tuple[Pass, ...] = (*RULES, drop_defaults) if omit_defaults else RULES
    for rule in passes:
        scene = rule(scene, spec)
    return scene


def canonical_text(
    source: str | bytes | Scene,
    *,
    form: str = "block",
    inline: bool = False,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    omit_defaults: bool = False,
) -> str:
    """Parse (if needed), canonicalize and print: the exact-match target text.

    Args:
        source: DSL text (``str`` or UTF-8 bytes) or a scene.
        form: ``"block"`` or ``"row"``.
        inline: single-line training surface instead of the file surface.
        contract: contract name, path or object.
        omit_defaults: drop default-valued attributes.

    Returns:
        Canonical text.

    Raises:
        SceneSyntaxError: ``source`` is text that does not parse.
        ArgumentError: ``source`` is neither text, bytes nor a scene.
    """
    scene = source if isinstance(source, Scene) else parse(source, contract=contract)
    scene = canonicalize(scene, contract, omit_defaults=omit_defaults)
    return to_text(scene, form=form, inline=inline, contract=contract)
