"""The scene prefix automata (block and row form) against the parser: canonical samples are
accepted, and mutated texts get the same verdict from both.

"Accept" on each side, compared like with like (see ``scene_dsl.automaton``):

- automaton: ``prefix_automaton(form=form).accepts(text)``;
- parser: ``parse(text)`` succeeds, ``validate`` reports no error other than ``S313``/``S314``
  (ids declared twice or used before they are declared: payload the automaton leaves to the
  decoder's value checks), and ``text`` is the canonical inline text of its scene in ``form``.

Scene values are ASCII by the contract (ids and dotted content paths), so the non-ASCII
characters here are mutations, which both sides must refuse.
"""

from __future__ import annotations

import itertools
import random
import re
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import scene_dsl
from dslkit.automaton import DEAD
from scene_dsl.ast import Attr
from scene_dsl.automaton import SCENE_END, _Top
from scene_dsl.strategies import sample_scene, scenes

FORMS = ("block", "row")
AUTOMATA = {form: scene_dsl.prefix_automaton(form=form) for form in FORMS}
CONTRACT = scene_dsl.load_contract()
PAYLOAD_CODES = {"S313", "S314"}
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# what a mutation inserts: brackets, separators, whitespace and non-ASCII
_INSERTS = ["[", "]", ":", "|", "=", "@", "->", ".", " ", "\n", "é", "_", "0", "a"]
_WORD = re.compile(r"[A-Za-z0-9_.]+")


def parser_accepts(text: str, form: str) -> bool:
    """The parser's verdict in the automaton's terms (see the module notes)."""
    res = scene_dsl.parse(text, errors="collect")
    if res.scene is None or not res.ok:
        return False
    errors = [
        d for d in scene_dsl.validate(res.scene) if d.is_error and d.code not in PAYLOAD_CODES
    ]
    canonical = scene_dsl.canonicalize(res.scene)
    return not errors and scene_dsl.to_text(canonical, form=form, inline=True) == text


def canonical(scene: scene_dsl.Scene, form: str) -> str:
    return scene_dsl.canonical_text(scene, form=form, inline=True)


def test_the_end_marker_is_the_grammars() -> None:
    from lark import Lark

    grammar = Lark.open_from_package("scene_dsl", "scene.lark", parser="lalr")
    assert grammar.get_terminal("SCENE_CLOSE").pattern.value == SCENE_END


@pytest.mark.parametrize("form", FORMS)
@SETTINGS
@given(scene=scenes())
def test_every_canonical_sample_is_accepted(form: str, scene: scene_dsl.Scene) -> None:
    text = canonical(scene, form)
    assert AUTOMATA[form].accepts(text), text
    assert parser_accepts(text, form)


@pytest.mark.parametrize("form", FORMS)
def test_every_family_is_accepted(form: str) -> None:
    rng = random.Random(7)
    for family in sorted(CONTRACT.families):
        for _ in range(4):
            text = canonical(sample_scene(rng, CONTRACT, family=family), form)
            assert AUTOMATA[form].accepts(text), text


def _mutate(text: str, data: st.DataObject) -> str:
    how = data.draw(st.sampled_from(["delete", "insert", "swap", "word", "token"]))
    if how in ("delete", "insert", "swap"):
        i = data.draw(st.integers(0, len(text) - 2))
        if how == "delete":
            return text[:i] + text[i + 1 :]
        if how == "swap":
            return text[:i] + text[i + 1] + text[i] + text[i + 2 :]
        return text[:i] + data.draw(st.sampled_from(_INSERTS)) + text[i:]
    if how == "word":  # a name or value replaced by another word of the text
        spans = [m.span() for m in _WORD.finditer(text)]
        a, b = data.draw(st.sampled_from(spans))
        words = sorted({text[x:y] for x, y in spans})
        return text[:a] + data.draw(st.sampled_from(words)) + text[b:]
    tokens = text.split(" ")  # a bracket token deleted, duplicated or moved
    i = data.draw(st.integers(0, len(tokens) - 1))
    j = data.draw(st.integers(0, len(tokens) - 1))
    op = data.draw(st.sampled_from(["drop", "dup", "move"]))
    if op == "drop":
        del tokens[i]
    elif op == "dup":
        tokens.insert(j, tokens[i])
    else:
        tokens.insert(j, tokens.pop(i))
    return " ".join(tokens)


@pytest.mark.parametrize("form", FORMS)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene=scenes(), data=st.data())
def test_mutated_texts_get_the_parsers_verdict(
    form: str, scene: scene_dsl.Scene, data: st.DataObject
) -> None:
    mutated = _mutate(canonical(scene, form), data)
    assert AUTOMATA[form].accepts(mutated) == parser_accepts(mutated, form), mutated


@pytest.mark.parametrize("form", FORMS)
def test_every_single_edit_gets_the_parsers_verdict(form: str) -> None:
    """Exhaustive where the random test samples: in one scene per family, every bracket token
    dropped, duplicated in place or moved one place on, and every word replaced by the words of
    the scene."""
    rng = random.Random(3)
    accepted = 0
    for family in sorted(CONTRACT.families):
        text = canonical(sample_scene(rng, CONTRACT, family=family), form)
        tokens = text.split(" ")
        edits = []
        for i in range(len(tokens)):
            edits.append(" ".join(tokens[:i] + tokens[i + 1 :]))
            edits.append(" ".join(tokens[: i + 1] + tokens[i:]))
            edits.append(
                " ".join(tokens[:i] + tokens[i + 1 : i + 2] + [tokens[i]] + tokens[i + 2 :])
            )
        spans = [m.span() for m in _WORD.finditer(text)]
        words = sorted({text[a:b] for a, b in spans})
        for a, b in spans[:: max(1, len(spans) // 12)]:
            edits += [text[:a] + w + text[b:] for w in words]
        for edited in edits:
            expected = parser_accepts(edited, form)
            assert AUTOMATA[form].accepts(edited) == expected, edited
            accepted += expected
    assert accepted > 20  # the edits reach valid programs too, not only broken ones


def _value(spec: scene_dsl.contract.FieldSpec, k: int) -> str:
    if spec.kind == "enum":
        return spec.values[k % len(spec.values)]
    if spec.kind == "int":
        return str(spec.minimum)
    return f"v{k}.t" if spec.kind == "ref" else f"n{k}"


def _row_cases() -> list[tuple[str, scene_dsl.Component]]:
    """Per component, the fields of each row signature (variadic ones 1-3 times), with the
    required fields, and with one field less: the cases where the signature rule decides."""
    out = []
    for comp in CONTRACT.components.values():
        required = [f.name for f in comp.fields if f.required]
        for sig in comp.row:
            for repeat in (1, 2, 3) if sig.variadic else (1,):
                names = list(dict.fromkeys([*required, *sig.fields]))
                if repeat > 1:
                    names += [sig.parts[-1][0]] * (repeat - 1)
                for drop in (None, *range(len(names))):
                    chosen = [n for i, n in enumerate(names) if i != drop]
                    fields = tuple(
                        scene_dsl.Field(n, _value(comp.field(n), k))  # type: ignore[arg-type]
                        for k, n in enumerate(chosen)
                    )
                    out.append((comp.name, scene_dsl.Component(comp.name, fields)))
    return out


@pytest.mark.parametrize("form", FORMS)
def test_row_signature_rule_cases(form: str) -> None:
    """Every component with the field sets its row signatures are chosen by, in a scene of a
    family that admits it: the automaton and the parser agree on the canonical text."""
    accepted = 0
    for name, comp in _row_cases():
        family = next(
            (f for f in sorted(CONTRACT.families) if name in CONTRACT.families[f].admits), None
        )
        if family is None or CONTRACT.components[name].child_only:
            continue
        fam = CONTRACT.families[family]
        base = sample_scene(random.Random(0), CONTRACT, family=family)
        keep = tuple(c for c in base.components if c.name in fam.requires_any)[:1]
        extra = (
            () if CONTRACT.components[name].singleton and keep and keep[0].name == name else keep
        )
        scene = scene_dsl.Scene(base.attrs, (*extra, comp))
        text = canonical(scene, form)
        expected = parser_accepts(text, form)
        assert AUTOMATA[form].accepts(text) == expected, text
        accepted += expected
    assert accepted > 100


@pytest.mark.parametrize("form", FORMS)
def test_attribute_values_that_lead_to_one_context_are_one_piece(form: str) -> None:
    # An attribute whose value no combination rule reads (and not the layout) leads to the
    # same top-level context whatever its value: its values are one piece, so a top-level
    # context lists a few dozen pieces, not one per value. Each value still leads to the
    # context that knows it: the layout and the rule-read values are in the context after.
    auto = AUTOMATA[form]
    rule_keys = {k for r in CONTRACT.rules for k, _ in r.when}
    for layout in sorted(CONTRACT.families)[:4]:
        sid = auto.advance(auto.start, f"[scene] [layout:{layout}]")
        top = auto.context(sid)
        attrs = [a for a in CONTRACT.attributes if a.kind != "id"]
        after = attrs[CONTRACT.attribute_names.index("layout") + 1 :]
        # a piece's next context may be a function that makes it (see Piece)
        nexts = [p.next if isinstance(p.next, _Top) else p.next(top) for p in top.pieces()]
        tops = [t for t in nexts if isinstance(t, _Top)]
        n_attr_pieces = sum(1 for t in tops if not t.in_components)
        grouped = sum(1 for a in after if a.name not in rule_keys)
        assert n_attr_pieces < sum(len(a.all_values) for a in after)
        assert n_attr_pieces >= grouped
        for a in after:
            for v in a.all_values:
                nxt = auto.advance(sid, f" [{a.name}:{v}]")
                if nxt == DEAD:  # a combination rule refuses it here
                    continue
                ctx = auto.context(nxt)
                rank = CONTRACT.attribute_names.index(a.name)
                assert ctx.layout == layout and ctx.last_rank == rank
                assert dict(ctx.rule_attrs).get(a.name) == (v if a.name in rule_keys else None)


def test_the_top_level_forgets_the_attributes_once_a_component_is_written() -> None:
    # No attribute may follow a component, so the top level after one keeps only the layout
    # and the components used: scenes that differ in their other attributes are in the same
    # state from their first component on (and share every state of the blocks after it).
    auto, rng = AUTOMATA["block"], random.Random(3)
    met = 0
    for family in sorted(CONTRACT.families):
        text = canonical(sample_scene(rng, CONTRACT, family=family), "block")
        first = re.search(r" \[([a-z_]+)\]", text)
        assert first is not None, text
        close = f" [/{first.group(1)}]"
        end = text.index(close, first.start()) + len(close)
        attrs, component = text[: first.start()], text[first.start() : end]
        layout_only = f"[scene] [layout:{family}]"
        if attrs == layout_only:
            continue
        with_attrs = auto.advance(auto.start, attrs + component)
        without = auto.advance(auto.start, layout_only + component)
        assert with_attrs != DEAD and with_attrs == without, (attrs, component)
        met += 1
    assert met >= 5


@pytest.mark.parametrize("form", FORMS)
def test_combination_rules_get_the_parsers_verdict_and_are_forgotten_after(form: str) -> None:
    # Every pair of values a combination rule reads and constrains (theme then tone), with an
    # attribute after them, gets the parser's verdict; once no later rule can read a value
    # the top level forgets it: scenes that differ only in it are in the same state from the
    # next attribute on, not all the way to their first component.
    auto, rng = AUTOMATA[form], random.Random(7)
    by_name = {a.name: a for a in CONTRACT.attributes}
    for rule in CONTRACT.rules:
        scene = sample_scene(rng, CONTRACT)
        read = [k for k, _ in rule.when]
        states: dict[str, set[int]] = {}  # the constrained attribute's value -> states after
        for values in itertools.product(*(by_name[k].all_values for k in read)):
            for v in by_name[rule.attribute].all_values:
                given_ = {**dict(zip(read, values, strict=True)), rule.attribute: v}
                frame = by_name["frame"].all_values[0]
                attrs = [a for a in scene.attrs if a.key not in {*given_, "frame"}]
                attrs += [Attr(k, x) for k, x in given_.items()] + [Attr("frame", frame)]
                text = canonical(replace(scene, attrs=tuple(attrs)), form)
                verdict = parser_accepts(text, form)
                assert auto.accepts(text) == verdict, text
                if verdict:
                    upto = text.index(f" [frame:{frame}]") + len(f" [frame:{frame}]")
                    states.setdefault(v, set()).add(auto.advance(auto.start, text[:upto]))
        # each value of the constrained attribute: one state after frame, whatever was read
        assert states and all(len(s) == 1 for s in states.values()), states


def test_blocks_that_differ_only_in_optional_fields_written_are_one_state() -> None:
    # An optional field only ever comes before the next field in contract order, so once a
    # later field is written a block forgets it (it keeps its required fields and whether a
    # requires_any field is there): the same state, whichever optional fields came before.
    auto, rng = AUTOMATA["block"], random.Random(11)
    met = 0
    for _ in range(200):
        scene = sample_scene(rng, CONTRACT)
        if not scene.components:
            continue
        first = scene.components[0]
        spec = CONTRACT.components[first.name]
        names = [f.name for f in first.fields]
        # an optional field written first (not one of the requires_any ones, which decide
        # what may follow), then another field (not the same one repeated)
        if len(names) < 2 or names[1] == names[0] or names[0] in spec.requires_any:
            continue
        dropping = spec.field(names[0])
        if dropping is None or dropping.required:
            continue
        dropped = replace(
            scene, components=(first.with_fields(first.fields[1:]), *scene.components[1:])
        )
        texts = [canonical(s, "block") for s in (scene, dropped)]
        assert all(parser_accepts(t, "block") for t in texts), texts
        second = f" [{first.fields[1].name}:{first.fields[1].value}]"
        ends = [t.index(second, t.index(f" [{first.name}]")) + len(second) for t in texts]
        after = {auto.advance(auto.start, t[:end]) for t, end in zip(texts, ends, strict=True)}
        assert len(after) == 1, texts
        met += 1
    assert met >= 5
