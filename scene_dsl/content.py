"""Content binding: resolve a scene's content refs against its content.json.

A ref such as ``section_card.0.title`` (optionally written ``@section_card.0.title``) is a
dotted path through dicts (by key) and lists (by index). An unresolved ref is an error
diagnostic, never placeholder text. Content that no ref reaches is reported as a warning so
dead content does not rot unnoticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dslkit.errors import Diagnostic
from scene_dsl.ast import Scene
from scene_dsl.contract import DEFAULT_CONTRACT, Contract, load_contract
from scene_dsl.diagnostics import diag

__all__ = ["Binding", "bind", "resolve_ref"]

_MISSING = object()


@dataclass(frozen=True, slots=True)
class Binding:
    """Resolved refs of one scene."""

    values: dict[str, Any] = field(default_factory=dict)  # ref path -> resolved value
    diagnostics: tuple[Diagnostic, ...] = ()  # unresolved refs (errors), unused content

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def __getitem__(self, ref: str) -> Any:
        return self.values[ref.lstrip("@")]

    def get(self, ref: str | None, default: Any = None) -> Any:
        return default if ref is None else self.values.get(ref.lstrip("@"), default)


def resolve_ref(content: Any, ref: str) -> tuple[Any, str | None]:
    """Follow a dotted ref through ``content``.

    Returns:
        ``(value, None)`` on success, or ``(None, reason)`` naming the step that failed.
    """
    node = content
    walked: list[str] = []
    for step in ref.lstrip("@").split("."):
        if isinstance(node, Mapping):
            if step not in node:
                keys = ", ".join(sorted(map(str, node))[:8])
                return (
                    None,
                    f"no key {step!r} under {'.'.join(walked) or 'the top level'} (keys: {keys})",
                )
            node = node[step]
        elif isinstance(node, list):
            if not step.isdigit() or int(step) >= len(node):
                return (
                    None,
                    f"{'.'.join(walked)} is a list of {len(node)}; {step!r} is not an index in it",
                )
            node = node[int(step)]
        else:
            return None, f"{'.'.join(walked)} is a {type(node).__name__}, not an object or list"
        walked.append(step)
    if node is None:
        return None, "the value is null"
    return node, None


def _json_type(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return "list" if isinstance(value, list) else type(value).__name__


# str() refuses ints over 4,300 digits (CPython's conversion limit); content is text to draw
_MAX_INT_BITS = 14_000  # ~4,200 decimal digits


def _leaf_paths(content: Any, out: list[str]) -> list[Diagnostic]:
    """Collect the dotted path of every leaf of ``content`` into ``out``.

    Iterative (content may nest deeper than the recursion limit). Returns S603 errors for what
    no content.json can hold but a Python mapping can: a container that contains itself (which
    would make the walk endless) and an int too long to ever be shown as text.
    """
    problems: list[Diagnostic] = []
    on_path: set[int] = set()  # ids of the containers between the root and the current node
    stack: list[tuple[str, Any, bool]] = [("", content, False)]
    while stack:
        path, node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(node))
            continue
        if isinstance(node, Mapping | list) and node:
            if id(node) in on_path:
                where = path or "the top level"
                problems.append(diag("S603", f"content {where} contains itself (a cycle)"))
                continue
            on_path.add(id(node))
            stack.append((path, node, True))
            pairs = node.items() if isinstance(node, Mapping) else enumerate(node)
            stack.extend((f"{path}.{k}" if path else str(k), v, False) for k, v in pairs)
        else:
            if isinstance(node, int) and node.bit_length() > _MAX_INT_BITS:
                problems.append(
                    diag("S603", f"content {path} is an integer too long to show as text")
                )
            out.append(path)
    return problems


def _reached(path: str, used: set[str]) -> bool:
    if path in used:
        return True
    dot = path.rfind(".")
    while dot > 0:
        if path[:dot] in used:
            return True
        dot = path.rfind(".", 0, dot)
    return False


def bind(
    scene: Scene,
    content: Mapping[str, Any],
    *,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    report_unused: bool = True,
) -> Binding:
    """Resolve every content ref of ``scene`` in ``content``.

    Args:
        scene: the scene whose ``ref``-kind fields are looked up.
        content: the parsed content.json.
        contract: tells which fields are content refs (as opposed to ids and enums).
        report_unused: add a warning for content no ref reaches.

    Returns:
        A :class:`Binding` with resolved values and diagnostics.
    """
    spec = load_contract(contract)
    values: dict[str, Any] = {}
    out: list[Diagnostic] = []
    if not isinstance(content, Mapping):
        return Binding(
            {}, (diag("S603", f"content must be a JSON object, not {type(content).__name__}"),)
        )
    for comp in scene.walk():
        cspec = spec.components.get(comp.name)
        if cspec is None:
            continue
        for f in comp.fields:
            fspec = cspec.field(f.name)
            if fspec is None or fspec.kind != "ref" or f.value in values:
                continue
            value, why = resolve_ref(content, f.value)
            if why is not None:
                out.append(diag("S601", f"{comp.name}.{f.name} -> {f.value}: {why}", span=f.span))
            elif fspec.shape == "object" and not isinstance(value, Mapping):
                # A whole-object binding whose keys fill the component: a string there would
                # draw nothing (or the wrong thing) silently.
                out.append(
                    diag(
                        "S604",
                        f"{comp.name}.{f.name} -> {f.value} is a {_json_type(value)}; "
                        f"{comp.name} binds a whole object here (its keys fill the fields)",
                        span=f.span,
                    )
                )
            else:
                values[f.value] = value
    leaves: list[str] = []
    out.extend(_leaf_paths(content, leaves))  # always: a cycle must fail before any renderer
    if report_unused:
        used = set(values)
        # A leaf is used when it or one of its ancestors is a ref: test the leaf's prefixes
        # (O(depth)) instead of every ref (O(refs)), which was quadratic on big content.
        unused = [p for p in leaves if p and not _reached(p, used)]  # "": content is {}
        for path in sorted(unused)[:20]:
            out.append(diag("S602", f"content {path} is not referenced by the scene"))
        if len(unused) > 20:
            out.append(diag("S602", f"... and {len(unused) - 20} more unreferenced content paths"))
    return Binding(values, tuple(out))
