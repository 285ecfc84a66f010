"""Well-posed scene prompts: the style tags plus a compact skeleton of the content.

A training row is only learnable to exact match when its prompt determines its target. The
skeleton prompt states everything a canonical scene depends on except what a fixed, documented
policy derives from it:

``[task:svg] [form:block] <attributes> <skeleton> [OUT]``

(tokens separated by single spaces, as the inline target writes them: a tokenizer with the
scene's space-led twins, ``dslkit.tokenizer.build(space_led=True)``, encodes a prompt token and
the target token copied from it to the same id, one id each; the reader accepts any spacing)

- ``[form:block]`` / ``[form:row]``: the target's surface.
- attributes: every attribute of the canonical scene, as the same ``[name:value]`` tokens, in
  canonical order (an attribute the prompt leaves out is absent from the target).
- skeleton: each component in order as ``[name] ... [/name]`` with its fields in the order the
  target writes them (block form: contract order; row form: the row token's positional parts,
  then its ``key=value`` fields);
  enum, int and topology-id fields keep their value (``[accent:amber]``, ``[node_id:start]``,
  ``[from_ref:start]``), content-ref fields keep only their role (``[title_ref:]``), once per
  occurrence; nested children sit inside their parent.

The policy (:data:`REF_POLICY`, implemented by :func:`scene_from_skeleton`): every content ref is
derived from the component's position, as :mod:`scene_dsl.strategies` names content. The ``k``-th
component called ``name`` under one parent owns ``<parent path>.<name>.<k>`` (top level:
``<name>.<k>``); a ``ref`` field is that whole object, a field ``<key>_ref`` is ``<path>.<key>``,
and a repeatable one is ``<path>.<key>s.<i>`` for its ``i``-th occurrence.

Every token of a skeleton prompt is a reserved token of the scene tokenizer (component opens and
closes, attribute and enum pairs, field prefixes, ``]``) except the topic and id payloads, which
are learned BPE; :data:`PROMPT_TAGS` holds the only prompt-only tokens. Like all of scene_dsl it
needs nothing beyond ``lark``.
"""

from __future__ import annotations

import re
from pathlib import Path

from dslkit.errors import DslkitError
from scene_dsl.ast import Attr, Component, Field, Scene
from scene_dsl.canonical import canonical_text, canonicalize
from scene_dsl.contract import Contract, load_contract
from scene_dsl.printer import row_layout

__all__ = [
    "FORMS",
    "PROMPT_TAGS",
    "REF_POLICY",
    "TASK_TAG",
    "SkeletonError",
    "follows_ref_policy",
    "policy_refs",
    "scene_from_skeleton",
    "skeleton_prompt",
    "skeleton_shape",
    "skeleton_target",
]

TASK_TAG = "[task:svg]"
FORMS = ("block", "row")
# The prompt-only reserved tokens (the tokenizer builder adds them to the scene vocabulary).
PROMPT_TAGS: tuple[str, ...] = (TASK_TAG, *(f"[form:{f}]" for f in FORMS))
OUT_TAG = "[OUT]"
REF_POLICY = (
    "content refs follow the component's position: the k-th <name> under a parent owns "
    "<parent>.<name>.<k>; ref = that object, <key>_ref = <path>.<key>, a repeatable field's "
    "i-th occurrence = <path>.<key>s.<i>"
)

ContractLike = str | Path | Contract


_TOKEN = re.compile(r"\[[^\[\]\s]*\]|\S+")


class SkeletonError(DslkitError, ValueError):
    """A skeleton prompt that does not follow the notation (bad token, unclosed component), or
    a form that does not exist."""


def _field_token(spec: Contract, comp: Component, f: Field) -> str:
    cspec = spec.components.get(comp.name)
    fspec = cspec.field(f.name) if cspec else None
    if fspec is not None and fspec.kind == "ref":
        return f"[{f.name}:]"
    return f"[{f.name}:{f.value}]"


def _target_order(spec: Contract, comp: Component, form: str) -> tuple[Field, ...]:
    """The component's fields in the order the target writes them.

    Block form keeps the canonical (contract) order; a row-form token writes its positional
    parts first, in signature order, then the ``key=value`` fields. Listing the skeleton in that
    order lets a model copy fields monotonically instead of learning each signature's shuffle.
    """
    cspec = spec.components.get(comp.name)
    if form != "row" or comp.children or cspec is None:
        return comp.fields
    positional, named = row_layout(comp, cspec)
    return (*(f for part in positional for f in part), *named)


def _skeleton_tokens(spec: Contract, comp: Component, out: list[str], form: str) -> None:
    out.append(f"[{comp.name}]")
    out.extend(_field_token(spec, comp, f) for f in _target_order(spec, comp, form))
    for child in comp.children:
        _skeleton_tokens(spec, child, out, form)
    out.append(f"[/{comp.name}]")


def skeleton_prompt(scene: Scene, *, form: str = "block", contract: ContractLike = "v1") -> str:
    """The well-posed prompt of a scene.

    Args:
        scene: the target scene (canonicalised here first).
        form: the target form, ``"block"`` or ``"row"``.
        contract: the contract that fixes attribute and field order.

    Returns:
        ``[task:svg] [form:..] <attributes> <skeleton> [OUT]`` on one line, single spaces.
    """
    if form not in FORMS:
        raise SkeletonError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    spec = load_contract(contract)
    scene = canonicalize(scene, spec)
    out = [TASK_TAG, f"[form:{form}]"]
    out.extend(f"[{a.key}:{a.value}]" for a in scene.attrs)
    for comp in scene.components:
        _skeleton_tokens(spec, comp, out, form)
    return " ".join([*out, OUT_TAG])


def _policy_component(
    spec: Contract, comp: Component, prefix: str, counts: dict[str, int]
) -> Component:
    k = counts.get(prefix, 0)
    counts[prefix] = k + 1
    base = f"{prefix}.{k}"
    cspec = spec.components.get(comp.name)
    seen: dict[str, int] = {}
    fields = []
    for f in comp.fields:
        fspec = cspec.field(f.name) if cspec else None
        if fspec is None or fspec.kind != "ref":
            fields.append(f)
            continue
        if fspec.name == "ref":
            value = base
        elif fspec.repeatable:
            i = seen.get(f.name, 0)
            seen[f.name] = i + 1
            value = f"{base}.{fspec.row_key}s.{i}"
        else:
            value = f"{base}.{fspec.row_key}"
        fields.append(Field(f.name, value))
    children = tuple(_policy_component(spec, c, f"{base}.{c.name}", counts) for c in comp.children)
    return Component(comp.name, tuple(fields), children)


def policy_refs(scene: Scene, contract: ContractLike = "v1") -> Scene:
    """The scene with every content ref replaced by the one :data:`REF_POLICY` assigns.

    Args:
        scene: any scene.
        contract: tells which fields are content refs.

    Returns:
        A scene of the same structure whose refs follow the policy.
    """
    spec = load_contract(contract)
    counts: dict[str, int] = {}
    comps = tuple(_policy_component(spec, c, c.name, counts) for c in scene.components)
    return Scene(scene.attrs, comps)


def follows_ref_policy(scene: Scene, contract: ContractLike = "v1") -> bool:
    """True when the scene's content refs are exactly the policy's (its prompt is well-posed)."""
    spec = load_contract(contract)
    return canonicalize(policy_refs(scene, spec), spec) == canonicalize(scene, spec)


def _split_token(token: str) -> tuple[str, str | None]:
    if not (token.startswith("[") and token.endswith("]")) or len(token) < 3:
        raise SkeletonError(f"not a skeleton token: {token!r}")
    body = token[1:-1]
    name, sep, value = body.partition(":")
    return name, (value if sep else None)


def scene_from_skeleton(prompt: str, contract: ContractLike = "v1") -> tuple[Scene, str]:
    """Read a skeleton prompt back and apply the ref policy: the one scene it asks for.

    Args:
        prompt: a prompt written by :func:`skeleton_prompt`.
        contract: the contract it was written against.

    Returns:
        ``(scene, form)``: the canonical scene with policy refs and the target form.

    Raises:
        SkeletonError: the prompt is not in the skeleton notation.
    """
    spec = load_contract(contract)
    tokens = _TOKEN.findall(prompt)
    if "".join(tokens) != "".join(prompt.split()):
        raise SkeletonError("a skeleton prompt is bracketed tokens only")
    if len(tokens) < 3 or tokens[0] != TASK_TAG or tokens[-1] != OUT_TAG:
        raise SkeletonError(f"a skeleton prompt starts with {TASK_TAG} and ends with {OUT_TAG}")
    name, form = _split_token(tokens[1])
    if name != "form" or form not in FORMS:
        raise SkeletonError(f"the second token must be one of {[f'[form:{f}]' for f in FORMS]}")
    attrs: list[Attr] = []
    # stack of (name, fields, children) for open components; the bottom is the scene itself
    stack: list[tuple[str, list[Field], list[Component]]] = [("", [], [])]
    for tok in tokens[2:-1]:
        key, value = _split_token(tok)
        if key.startswith("/"):
            if len(stack) < 2 or stack[-1][0] != key[1:]:
                raise SkeletonError(f"unexpected close {tok}")
            cname, fields, children = stack.pop()
            stack[-1][2].append(Component(cname, tuple(fields), tuple(children)))
        elif value is None:
            if key not in spec.components:
                raise SkeletonError(f"unknown component {tok}")
            stack.append((key, [], []))
        elif len(stack) == 1:
            attrs.append(Attr(key, value))
        else:
            # a ref field's value is filled by the policy below; keep a placeholder path
            stack[-1][1].append(Field(key, value or "_"))
    if len(stack) != 1:
        raise SkeletonError(f"component [{stack[-1][0]}] is never closed")
    scene = Scene(tuple(attrs), tuple(stack[0][2]))
    return canonicalize(policy_refs(scene, spec), spec), str(form)


def skeleton_target(prompt: str, contract: ContractLike = "v1") -> str:
    """The canonical target text a skeleton prompt asks for (inline, in the prompt's form)."""
    scene, form = scene_from_skeleton(prompt, contract)
    return canonical_text(scene, form=form, inline=True, contract=contract)


def skeleton_shape(scene: Scene) -> tuple[object, ...]:
    """The content shape of a scene: components, their field roles and nesting, no values.

    Two scenes with equal shapes differ only in attribute values, ids and enum values; splits
    hold shapes out (a hidden shape never appears in training).
    """

    def shape(comp: Component) -> tuple[object, ...]:
        return (
            comp.name,
            tuple(f.name for f in comp.fields),
            tuple(shape(c) for c in comp.children),
        )

    return tuple(shape(c) for c in scene.components)
