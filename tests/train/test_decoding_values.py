"""Value checks during constrained decoding: content refs resolve in the row's content, topology
ids are declared before use and never twice, and no target the data holds is ever masked."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from data_decoding_helpers import assert_targets_pass, sample_constrained, scene_tokenizer
from dslkit.train.decoding import Decoder
from dslkit.train.values import content_paths
from test_decoding_generate import FORMS

import scene_dsl
from scene_dsl.automaton import SceneForm
from scene_dsl.content import resolve_ref
from scene_dsl.strategies import sample_content, sample_scene

GOLD = sorted((Path(__file__).resolve().parents[2] / "examples" / "gold").glob("*/scene.dsl"))


def test_content_paths_are_exactly_what_resolves() -> None:
    content = {"a": {"b": [1, {"c": "x"}], "n": None}, "d": "y", "e": []}
    paths = content_paths(content)
    assert paths == {"a", "a.b", "a.b.0", "a.b.1", "a.b.1.c", "d", "e"}
    for p in paths:
        assert resolve_ref(content, p)[1] is None, p
    for p in ("a.n", "a.b.2", "x", "d.z"):
        assert resolve_ref(content, p)[1] is not None, p


def _cases() -> list[tuple[str, dict]]:
    return [(p.read_text(), json.loads((p.parent / "content.json").read_text())) for p in GOLD]


def _sampled(n: int, seed: int) -> list[tuple[str, dict]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        scene = sample_scene(rng)
        out.append((scene_dsl.canonical_text(scene), sample_content(scene, rng=rng)))
    return out


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("source", ["gold", "sampled"])
def test_targets_are_never_masked_by_the_value_checks(form: SceneForm, source: str) -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", form=form)
    cases = _cases() if source == "gold" else _sampled(20, 11)
    texts = [(scene_dsl.to_text(scene_dsl.parse(t), form=form, inline=True), c) for t, c in cases]
    proc = dec.constraint(None, [c for _, c in texts])
    assert_targets_pass(proc, tok, [t for t, _ in texts])


def _value_errors(text: str, content: dict) -> list[str]:
    """S601 for refs that do not resolve; S313 for an id declared twice; S314 for an id named
    before it is declared."""
    scene = scene_dsl.parse(text)
    spec = scene_dsl.load_contract("v1")
    out = [d.code for d in scene_dsl.bind(scene, content).diagnostics if d.code == "S601"]
    declared: set[str] = set()
    for comp in scene.walk():
        cspec = spec.components[comp.name]
        for f in comp.fields:
            kind = cspec.field(f.name).kind  # type: ignore[union-attr]
            if kind == "id":
                out += ["S313"] if f.value in declared else []
                declared.add(f.value)
            elif kind == "idref" and f.value not in declared:
                out.append("S314")
    return out


def _generate(seed: int, check_values: bool, form: SceneForm = "block") -> tuple[str, dict, int]:
    """A random model's constrained scene for a sampled content, and the steps aside."""
    rng = random.Random(seed)
    content = sample_content(sample_scene(rng), rng=rng)
    dec = Decoder(scene_tokenizer(), "scene", form=form)
    text, aside = sample_constrained(dec, "[task:svg] [OUT]", 1100, seed, content, check_values)
    assert scene_dsl.parse(text, errors="collect").ok, text
    return text, content, aside


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("seed", range(4))
def test_sampled_scenes_only_use_refs_and_ids_that_exist(form: SceneForm, seed: int) -> None:
    text, content, aside = _generate(seed, True, form)
    # every value error is a step where no token could keep the value good
    assert len(_value_errors(text, content)) <= aside, text


def test_the_checks_remove_most_value_errors() -> None:
    checked = [_generate(seed, True) for seed in range(4)]
    unchecked = [_generate(seed, False) for seed in range(4)]
    assert sum(len(_value_errors(t, c)) for t, c, _ in checked) * 4 <= sum(
        len(_value_errors(t, c)) for t, c, _ in unchecked
    )


@pytest.mark.parametrize(
    ("prefix", "kind"),
    [
        ("[scene] [layout:flow_graph]", None),
        ("[scene] [layout:flow_graph] [flow_arrow]", "idref"),  # from_ref comes first
        ("[scene] [layout:flow_graph] [flow_arrow] [from_ref:a", None),  # inside the value
        ("[scene] [layout:flow_graph] [flow_arrow] [from_ref:a] [to_ref:b] [", None),
        ("[scene] [layout:flow_graph] [flow_arrow] [from_ref:a] [to_ref:b] [l", "ref"),
        ("[scene] [layout:flow_graph] [graph_node] [node_", "id"),
    ],
)
def test_automaton_knows_which_value_a_prefix_commits_to(prefix: str, kind: str | None) -> None:
    auto = Decoder(scene_tokenizer(), "scene").masker.automaton
    sid = auto.advance(auto.start, prefix)
    assert auto.commits(sid) == kind


@pytest.mark.parametrize("form", FORMS)
def test_gold_targets_pass_the_checks_with_the_real_tokenizer(form: SceneForm) -> None:
    # the atomic tokenizer writes keys and values in multi-character tokens (text=, @a.b):
    # the checks must read them the same way as character by character
    tokenizer = pytest.importorskip("tokenizer")
    from dslkit.tokenizer.corpus import default_corpus

    cases = _cases()
    texts = [scene_dsl.to_text(scene_dsl.parse(t), form=form, inline=True) for t, _ in cases]
    corpus = [*default_corpus("scene", n_generated=200), *texts]
    tok = tokenizer.build("scene", corpus=corpus, vocab_size=1600)
    dec = Decoder(tok, "scene", form=form)
    logits = torch.zeros(tok.vocab_size)
    for text, (_, content) in zip(texts, cases, strict=True):
        proc = dec.constraint(None, [content])
        row: list[int] = []
        for t in tok.encode(text):
            assert proc(row, logits.clone())[t] == 0, (tok.decode(row[-8:]), tok.decode([t]))
            row.append(t)
        assert proc.stepped_aside == 0


def test_an_arrow_waits_for_a_node_to_name() -> None:
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene")
    (arrow,) = tok.encode("[flow_arrow]")
    for prefix, allowed in (
        ("[scene] [layout:flow_graph] ", False),
        ("[scene] [layout:flow_graph] [graph_node] [node_id:a] [title_ref:t] [/graph_node] ", True),
    ):
        proc = dec.constraint(None, [{"t": "x"}])
        row: list[int] = []
        for t in tok.encode(prefix):
            proc(row, torch.zeros(tok.vocab_size))
            row.append(t)
        masked = proc(row, torch.zeros(tok.vocab_size))
        assert bool(masked[arrow] == 0) is allowed, prefix
        # unchecked, the grammar alone allows it either way
        unchecked = dec.constraint(None, [None], check_values=False)(
            row, torch.zeros(tok.vocab_size)
        )
        assert unchecked[arrow] == 0


def test_a_whole_object_ref_takes_only_objects() -> None:
    from dslkit.train.token_mask import PayloadStep
    from dslkit.train.values import RowValues, ValueRules

    content = {"card": [{"title": "x", "meta": {"k": "v"}}], "note": "y"}
    row = RowValues(ValueRules(content))

    def ends(kind: str, text: str) -> bool:  # a token that writes ``text`` and ends the value
        return row.permits(PayloadStep(kind, text.index("]")), text)

    assert ends("ref_object", "card.0]")
    assert not ends("ref_object", "note]")  # a string: the component's keys would bind nothing
    assert not ends("ref_object", "card.0.title]")
    assert ends("ref", "note]") and ends("ref", "card.0.title]")  # any path that resolves
    assert row.permits(PayloadStep("ref_object", None), "card.0.m")  # on its way to card.0.meta
    assert not row.permits(PayloadStep("ref_object", None), "card.0.t")  # only to a string


def _object_ref_errors(text: str, content: dict, contract: str) -> list[str]:
    scene = scene_dsl.parse(text)
    binding = scene_dsl.bind(scene, content, contract=contract)
    return [d.code for d in binding.diagnostics if d.code in ("S601", "S604")]


@pytest.mark.parametrize("form", FORMS)
def test_object_refs_bind_objects_in_generated_and_gold_targets(form: SceneForm) -> None:
    # v2 declares whole-object `ref` fields: sampled targets pass the checks, and a random
    # model's constrained block-form scenes never bind a string where an object belongs (S604).
    # Row form checks only named `ref=` parts: a positional part may stand for fields of
    # several shapes until the row's signature is known.
    tok = scene_tokenizer()
    dec = Decoder(tok, "scene", contract="v2", form=form)
    rng = random.Random(5)
    cases = []
    for _ in range(12):
        scene = sample_scene(rng, "v2")
        cases.append(
            (scene_dsl.to_text(scene, form=form, inline=True), sample_content(scene, "v2", rng))
        )
    assert_targets_pass(dec.constraint(None, [c for _, c in cases]), tok, [t for t, _ in cases])
    if form == "row":
        return
    for seed in range(3):  # seed 2 writes 11 whole-object refs and never steps aside
        rng = random.Random(seed)
        content = sample_content(sample_scene(rng, "v2"), "v2", rng)
        text, stepped = sample_constrained(dec, "[task:svg] [OUT]", 1100, seed, content)
        assert len(_object_ref_errors(text, content, "v2")) <= stepped, (seed, text)
