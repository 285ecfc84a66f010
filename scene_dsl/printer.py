"""Print a scene AST as text, in block form or row form.

Printing never reorders: call :func:`scene_dsl.canonicalize` first for the canonical text.
Row form maps fields to positional parts through the contract's row signatures
(:meth:`~scene_dsl.contract.ComponentSpec.row_signature`); fields left over print as
``key=value``.
Components with nested sub-blocks print as blocks in both forms (a row has no room for
children), with their children in the chosen form.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from dslkit.errors import ArgumentError, expect_type
from scene_dsl.ast import Component, Field, Scene
from scene_dsl.contract import DEFAULT_CONTRACT, ComponentSpec, Contract, load_contract

__all__ = ["to_text"]


def to_text(
    scene: Scene,
    *,
    form: str = "block",
    inline: bool = False,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
) -> str:
    """Render ``scene`` as DSL text.

    Args:
        scene: the AST to print.
        form: ``"block"`` (one token per field) or ``"row"`` (one token per component).
        inline: one line with single spaces between tokens (the training-row surface) instead
            of one component per line with a trailing newline (the file surface).
        contract: contract used to map row-form positional parts.

    Returns:
        The program text. ``parse(to_text(s)) == s`` for canonical scenes in either form.
    """
    expect_type(scene, Scene, "to_text(scene)")
    if form not in ("block", "row"):
        raise ArgumentError(f"form must be 'block' or 'row', not {form!r}")
    spec = load_contract(contract)
    lines: list[tuple[int, str]] = [(0, "[scene]")]
    if scene.attrs:
        lines.append((0, " ".join(f"[{a.key}:{a.value}]" for a in scene.attrs)))
    for comp in scene.components:
        _component(comp, form, spec, 0, lines)
    lines.append((0, "[/scene]"))
    if inline:
        return " ".join(text for _, text in lines)
    return "".join("  " * depth + text + "\n" for depth, text in lines)


def _component(
    comp: Component, form: str, contract: Contract, depth: int, out: list[tuple[int, str]]
) -> None:
    spec = contract.components.get(comp.name)
    if form == "row" and not comp.children and spec is not None:
        out.append((depth, _row(comp, spec)))
        return
    head = " ".join([f"[{comp.name}]", *(f"[{f.name}:{f.value}]" for f in comp.fields)])
    if not comp.children:
        out.append((depth, f"{head} [/{comp.name}]"))
        return
    out.append((depth, head))
    for child in comp.children:
        _component(child, form, contract, depth + 1, out)
    out.append((depth, f"[/{comp.name}]"))


def row_layout(
    comp: Component, spec: ComponentSpec
) -> tuple[tuple[tuple[Field, ...], ...], tuple[Field, ...]]:
    """How row form writes a component's fields: positional parts, then ``key=value`` ones.

    Args:
        comp: a component without children.
        spec: its contract entry.

    Returns:
        ``(parts, named)``: each positional part's fields (two for an ``a->b`` part), in
        order, and the fields left over, in their order.
    """
    sig = spec.row_signature(Counter(f.name for f in comp.fields))
    remaining = list(comp.fields)
    parts: list[tuple[Field, ...]] = []
    if sig is not None:
        for i, names in enumerate(sig.parts):
            variadic = sig.variadic and i == len(sig.parts) - 1
            parts.append(tuple(_take(remaining, n) for n in names))
            while variadic and any(f.name == names[0] for f in remaining):
                parts.append((_take(remaining, names[0]),))
    return tuple(parts), tuple(remaining)


def _row(comp: Component, spec: ComponentSpec) -> str:
    positional, named = row_layout(comp, spec)
    parts = ["->".join(_show(f, spec) for f in fields) for fields in positional]
    for f in named:
        fspec = spec.field(f.name)
        key = fspec.row_key if fspec else f.name
        parts.append(f"{key}={_show(f, spec)}")
    return f"[{comp.name}:{'|'.join(parts)}]"


def _take(fields: list[Field], name: str) -> Field:
    for i, f in enumerate(fields):
        if f.name == name:
            return fields.pop(i)
    raise KeyError(name)  # row_signature guarantees presence


def _show(f: Field, spec: ComponentSpec) -> str:
    fspec = spec.field(f.name)
    # '@' marks content refs in row form, where refs and ids otherwise look alike.
    return "@" + f.value if fspec is not None and fspec.kind == "ref" else f.value
