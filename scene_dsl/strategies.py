"""Generators of valid scenes, their content and fuzz texts, for property tests and benchmarks.

Two layers:

- :func:`sample_scene` and :func:`sample_content` are plain ``random.Random`` samplers: fast,
  deterministic for a seed, and usable without hypothesis (benchmarks draw thousands of scenes).
- :func:`scenes`, :func:`scenes_with_content`, :func:`scene_texts` and :func:`fuzz_texts` are
  hypothesis strategies built on them (``st.randoms`` feeds the sampler, so every example is
  reproducible and shrinks toward simpler families and fewer components).

Every generated scene is canonical and passes :func:`scene_dsl.validate` with no diagnostic;
:func:`sample_content` resolves every content ref and leaves no content unreferenced.
hypothesis is imported lazily inside the strategy functions, so importing this module (and
``import scene_dsl``) never requires it.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scene_dsl.ast import Attr, Component, Field, Scene
from scene_dsl.contract import ComponentSpec, Contract, FieldSpec, load_contract

if TYPE_CHECKING:  # pragma: no cover - typing only
    from hypothesis.strategies import SearchStrategy

__all__ = [
    "SAMPLER_CONTRACT",
    "fuzz_texts",
    "mutate_text",
    "sample_content",
    "sample_scene",
    "scene_texts",
    "scenes",
    "scenes_with_content",
]

ContractLike = str | Path | Contract
# The samplers draw v1 scenes unless told otherwise, although v2 is the default everywhere
# else: every consumer that trains on them (dslkit.train, dslkit.tokenizer) is pinned to v1, and
# a v1 scene is valid under v2. Pass contract="v2" for scenes with the CKE vocabulary.
SAMPLER_CONTRACT = "v1"

# Words for ids and topics: short, snake_case, never a keyword of the language.
_WORDS = ("alpha", "beta", "gamma", "delta", "node", "stage", "cpu", "gpu", "mem", "io", "l2", "x")
# Content keys a renderer reads from a `ref` object (see the team brief).
_COMMON_KEYS = (
    "kicker",
    "headline",
    "title",
    "subtitle",
    "body",
    "detail",
    "caption",
    "value",
    "label",
    "note",
)
_MAX_TOP = 7  # top-level components per scene: enough to exercise ids, edges and repeats
_P_OPTIONAL_ATTR = 0.45
_P_OPTIONAL_FIELD = 0.35


# -- plain random sampler ---------------------------------------------------------------------
def _ident(rng: random.Random) -> str:
    word = rng.choice(_WORDS)
    return word if rng.random() < 0.5 else f"{word}_{rng.randrange(100)}"


def _sample_attrs(rng: random.Random, contract: Contract, layout: str) -> tuple[Attr, ...]:
    values: dict[str, str] = {}
    for spec in contract.attributes:
        if spec.name == "layout":
            values["layout"] = layout
        elif spec.required or rng.random() < _P_OPTIONAL_ATTR:
            choices = spec.all_values
            values[spec.name] = rng.choice(choices) if choices else _ident(rng)
    # Combination rules (paper_editorial has no purple, ...): re-pick the restricted attribute
    # among the values that satisfy every rule, or drop it when none does.
    for rule in contract.rules:
        if rule.violated(values):
            restricted = contract.attribute(rule.attribute)
            ok = [
                v
                for v in (restricted.all_values if restricted else ())
                if not any(r.violated({**values, rule.attribute: v}) for r in contract.rules)
            ]
            if ok:
                values[rule.attribute] = rng.choice(ok)
            else:
                del values[rule.attribute]
    return tuple(
        Attr(spec.name, values[spec.name]) for spec in contract.attributes if spec.name in values
    )


class _Namer:
    """Hands out content paths and topology ids so the content tree is consistent.

    Each component instance owns the path ``<name>.<k>`` (``k`` counts instances of that name,
    so list indices are contiguous); a nested child owns ``<parent path>.<child name>.<k>``.
    Field refs live under the owner path, repeated fields in a list under ``<key>s``.
    """

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ids: list[str] = []

    def base(self, prefix: str) -> str:
        k = self.counts.get(prefix, 0)
        self.counts[prefix] = k + 1
        return f"{prefix}.{k}"

    def new_id(self, rng: random.Random) -> str:
        while True:
            ident = _ident(rng)
            if ident not in self.ids:
                self.ids.append(ident)
                return ident


def _field_values(
    rng: random.Random, fspec: FieldSpec, base: str, namer: _Namer, count: int
) -> list[str]:
    if fspec.kind == "ref":
        if fspec.name == "ref":
            return [base]  # the component's whole content object
        key = fspec.row_key
        if fspec.repeatable:
            return [f"{base}.{key}s.{i}" for i in range(count)]
        return [f"{base}.{key}"]
    if fspec.kind == "id":
        return [namer.new_id(rng)]
    if fspec.kind == "idref":
        return [rng.choice(namer.ids)]
    if fspec.kind == "text":
        return [_ident(rng)]  # a literal slug, as CKE D4 writes display text
    if fspec.kind == "enum":
        return [rng.choice(fspec.values)]
    if fspec.kind == "int":
        return [str(rng.randint(fspec.minimum, fspec.maximum))]
    raise ValueError(f"unknown field kind {fspec.kind!r}")


def _can_build(spec: ComponentSpec, namer: _Namer) -> bool:
    # A required idref needs an id declared earlier (ids are declared before they are used).
    return bool(namer.ids) or not any(f.kind == "idref" and f.required for f in spec.fields)


def _sample_component(
    rng: random.Random, contract: Contract, spec: ComponentSpec, prefix: str, namer: _Namer
) -> Component:
    base = namer.base(prefix)
    chosen: set[str] = {f.name for f in spec.fields if f.required}
    if spec.requires_any and not chosen.intersection(spec.requires_any):
        chosen.add(rng.choice(spec.requires_any))
    for f in spec.fields:
        if f.kind == "idref" and not namer.ids:
            continue
        if rng.random() < _P_OPTIONAL_FIELD:
            chosen.add(f.name)
    # `ref` (a whole object) beside a sub-key ref of the same object is fine: both resolve.
    fields: list[Field] = []
    for f in spec.fields:  # contract order = canonical field order
        if f.name in chosen:
            count = rng.randint(1, 3) if f.repeatable else 1
            fields.extend(Field(f.name, v) for v in _field_values(rng, f, base, namer, count))
    children: list[Component] = []
    if spec.children:
        for child_name in spec.children:
            cspec = contract.components[child_name]
            # The last child kind repeats (table rows); earlier ones appear at most once
            # (one table_header before the rows).
            n = rng.randint(0, 3) if child_name == spec.children[-1] else rng.randint(0, 1)
            for _ in range(n):
                children.append(
                    _sample_component(rng, contract, cspec, f"{base}.{child_name}", namer)
                )
    return Component(spec.name, tuple(fields), tuple(children))


def sample_scene(
    rng: random.Random, contract: ContractLike = SAMPLER_CONTRACT, *, family: str | None = None
) -> Scene:
    """Draw one valid, canonical scene.

    Args:
        rng: the source of randomness (seed it for reproducible corpora).
        contract: contract name, path or object.
        family: layout family to use; drawn at random when None.

    Returns:
        A scene that :func:`scene_dsl.validate` accepts with no diagnostic, equal to its own
        :func:`scene_dsl.canonicalize`, whose refs :func:`sample_content` can resolve.
    """
    spec = load_contract(contract)
    layout = family if family is not None else rng.choice(sorted(spec.families))
    if layout not in spec.families:
        raise ValueError(f"unknown family {layout!r}; families: {', '.join(sorted(spec.families))}")
    fam = spec.families[layout]
    attrs = _sample_attrs(rng, spec, layout)
    namer = _Namer()
    top = sorted(n for n in fam.admits if not spec.components[n].child_only)
    required = sorted(fam.requires_any)
    names = [rng.choice(required)] if required else []
    names += [rng.choice(top) for _ in range(rng.randint(0, _MAX_TOP - len(names)))]
    rng.shuffle(names)
    if required and not any(n in fam.requires_any for n in names[:1]):
        # Put a required component first: it usually declares the ids edges point at.
        first = next(i for i, n in enumerate(names) if n in fam.requires_any)
        names.insert(0, names.pop(first))
    comps: list[Component] = []
    singletons: set[str] = set()
    for name in names:
        cspec = spec.components[name]
        if (cspec.singleton and name in singletons) or not _can_build(cspec, namer):
            continue
        singletons.add(name)
        comps.append(_sample_component(rng, spec, cspec, name, namer))
    return Scene(attrs, tuple(comps))


def sample_content(
    scene: Scene, contract: ContractLike = SAMPLER_CONTRACT, rng: random.Random | None = None
) -> dict[str, Any]:
    """Build a content.json mapping that resolves every content ref of ``scene``.

    Dotted paths become nested objects; an all-digit step under a parent makes that parent a
    list. A ``ref`` that names an object that other refs also reach into keeps their keys; a
    leaf ``ref`` field becomes an object with common keys (headline, title, body, ...), a
    ``*_ref`` field a string.

    Args:
        scene: the scene whose refs must resolve (e.g. from :func:`sample_scene`).
        contract: tells which fields are content refs.
        rng: varies the text and the common keys; deterministic text when None.

    Returns:
        A JSON-ready dict. Raises ``ValueError`` when two refs conflict (one path is used both
        as a string leaf and as a container), which :func:`sample_scene` never produces.
    """
    spec = load_contract(contract)
    rng = rng or random.Random(0)
    tree: dict[str, Any] = {}
    leaves: dict[str, str] = {}  # path -> "object" | "string"
    for comp in scene.walk():
        cspec = spec.components.get(comp.name)
        for f in comp.fields:
            fspec = cspec.field(f.name) if cspec else None
            if fspec is None or fspec.kind != "ref":
                continue
            kind = "object" if fspec.name == "ref" else "string"
            leaves[f.value] = "object" if leaves.get(f.value) == "object" else kind
    for path in sorted(leaves, key=lambda p: (p.count("."), p)):
        _insert(tree, path.split("."), leaves[path], rng)
    return _listify(tree)


def _insert(tree: dict[str, Any], steps: list[str], kind: str, rng: random.Random) -> None:
    node = tree
    for step in steps[:-1]:
        nxt = node.setdefault(step, {})
        if not isinstance(nxt, dict):
            raise ValueError(f"content path conflict at {'.'.join(steps)}")
        node = nxt
    last = steps[-1]
    if kind == "object":
        obj = node.setdefault(last, {})
        if not isinstance(obj, dict):
            raise ValueError(f"content path conflict at {'.'.join(steps)}")
        for key in rng.sample(_COMMON_KEYS, rng.randint(1, 3)):
            obj.setdefault(key, f"{key} of {'.'.join(steps)}")
    else:
        if isinstance(node.get(last), dict):
            raise ValueError(f"content path conflict at {'.'.join(steps)}")
        node[last] = f"text {rng.randrange(1000)} for {'.'.join(steps)}"


def _listify(node: Any) -> Any:
    # Objects whose keys are exactly 0..n-1 become lists (list indices in dotted paths).
    # Iterative post-order would be overkill: generated trees are a few levels deep.
    if not isinstance(node, dict):
        return node
    out = {k: _listify(v) for k, v in node.items()}
    if (
        out
        and all(k.isdigit() for k in out)
        and sorted(int(k) for k in out) == list(range(len(out)))
    ):
        return [out[str(i)] for i in range(len(out))]
    return out


# -- text mutations for fuzzing ---------------------------------------------------------------
_NASTY = (
    "\x00",
    "\ud800",
    "\udfff",
    "][",
    "[",
    "]",
    "<|eos|>",
    "[OUT]",
    "[task:x]",
    "\r\n",
    "\ufeff",
    "|",
    "->",
    "@",
)


def mutate_text(rng: random.Random, text: str, rounds: int = 3) -> str:
    """Damage ``text`` the way a model or a bad pipeline would.

    Deletes, duplicates and swaps whitespace-separated tokens, cuts characters, and inserts
    NUL, lone surrogates, glued brackets and leaked special tokens.
    """
    for _ in range(rounds):
        tokens = text.split(" ") if " " in text else text.split("\n")
        op = rng.randrange(6)
        i = rng.randrange(len(tokens)) if tokens else 0
        if op == 0 and tokens:
            del tokens[i]
        elif op == 1 and tokens:
            tokens.insert(i, tokens[i])
        elif op == 2 and len(tokens) > 1:
            j = rng.randrange(len(tokens))
            tokens[i], tokens[j] = tokens[j], tokens[i]
        elif op == 3:
            tokens.insert(i, rng.choice(_NASTY))
        text = " ".join(tokens)
        if op == 4 and text:
            k = rng.randrange(len(text))
            text = text[:k] + text[k + 1 :]
        elif op == 5:
            k = rng.randrange(len(text) + 1)
            text = text[:k] + rng.choice(_NASTY) + text[k:]
    return text


# -- hypothesis strategies --------------------------------------------------------------------
def scenes(
    contract: ContractLike = SAMPLER_CONTRACT, *, family: str | None = None
) -> SearchStrategy[Scene]:
    """Strategy for valid canonical scenes.

    Args:
        contract: contract name, path or object.
        family: restrict to one layout family; otherwise the family is drawn (and shrinks
            toward the first family in sorted order).

    Returns:
        A strategy of :class:`Scene` that passes :func:`scene_dsl.validate` with no diagnostic.
    """
    from hypothesis import strategies as st

    spec = load_contract(contract)
    families = st.just(family) if family is not None else st.sampled_from(sorted(spec.families))
    return st.builds(
        lambda fam, rng: sample_scene(rng, spec, family=fam),
        families,
        st.randoms(use_true_random=False),
    )


def scenes_with_content(
    contract: ContractLike = SAMPLER_CONTRACT, *, family: str | None = None
) -> SearchStrategy[tuple[Scene, dict[str, Any]]]:
    """Strategy for ``(scene, content)`` where content resolves every ref of the scene.

    Returns:
        A strategy of pairs; ``validate(scene, content=content)`` reports nothing.
    """
    from hypothesis import strategies as st

    spec = load_contract(contract)
    return st.builds(
        lambda scene, rng: (scene, sample_content(scene, spec, rng)),
        scenes(spec, family=family),
        st.randoms(use_true_random=False),
    )


def scene_texts(
    form: str = "block",
    inline: bool = False,
    contract: ContractLike = SAMPLER_CONTRACT,
    *,
    family: str | None = None,
) -> SearchStrategy[str]:
    """Strategy for canonical scene texts in ``form`` (``"block"`` or ``"row"``).

    Returns:
        Texts that parse, validate cleanly and print back unchanged.
    """
    from scene_dsl.printer import to_text

    spec = load_contract(contract)
    return scenes(spec, family=family).map(
        lambda s: to_text(s, form=form, inline=inline, contract=spec)
    )


def fuzz_texts(*, mutate: bool = True) -> SearchStrategy[str]:
    """Strategy for fuzz inputs: grammar-generated texts (``hypothesis.extra.lark.from_lark``
    over ``scene.lark``), canonical texts, then (when ``mutate``) damaged by :func:`mutate_text`.

    Most outputs do not parse; that is the point. Parsing them must only ever raise
    :class:`dslkit.errors.DslkitError` subclasses.
    """
    from hypothesis import strategies as st
    from hypothesis.extra.lark import from_lark
    from lark import Lark

    grammar = Lark.open_from_package("scene_dsl", "scene.lark", parser="lalr", lexer="contextual")
    base = st.one_of(
        from_lark(grammar),
        scene_texts("block", inline=True),
        scene_texts("row"),
    )
    if not mutate:
        return base
    return st.builds(
        lambda text, rng, rounds: mutate_text(rng, text, rounds),
        base,
        st.randoms(use_true_random=False),
        st.integers(0, 6),
    )
