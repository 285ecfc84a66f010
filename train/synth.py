"""Scene rows at scale: well-posed skeleton prompts, realistic content, splits that hold out shapes.

:func:`synth_scenes` draws scenes over all 19 families from the plain-random sampler
(:func:`scene_dsl.strategies.sample_scene`: varied component counts, optional components and
fields, repeated fields, nested rows), sets theme, tone and density uniformly, names topics and
topology ids from this module's word lists, fills content.json with phrases, numbers and dates
from them, and writes each scene in the requested forms with the skeleton prompt of
:mod:`scene_dsl.skeleton` (the prompt determines the target; the content refs follow
``scene_dsl.skeleton.REF_POLICY``).

Splits are by content, never by row:

- ``hidden``: every scene whose top-level component count is held out (``hidden_counts``) and
  every scene whose component *mix* (the set of top-level component names) hashes into the
  hidden share. Training never sees those counts nor those mixes.
- ``dev`` / ``test``: scenes whose exact shape (components, field roles, nesting) hashes there;
  training never sees those shapes.
- topics: held-out splits draw their topic from word pairs training never uses (the words
  themselves are known, the combinations are new).

:func:`leakage` proves it on any row set: it re-derives shape, mix, count and topic from each
target and reports every held-out row whose key also occurs in training.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dslkit.train.data import Row, _row_id

import scene_dsl
from scene_dsl.skeleton import skeleton_prompt, skeleton_shape

__all__ = [
    "SynthSettings",
    "leakage",
    "relabel",
    "scene_keys",
    "split_counts",
    "synth_scenes",
]

# -- word lists (written for this module) ------------------------------------------------------
# Topic = subject + aspect; held-out splits use pairs training never sees.
TOPIC_SUBJECTS = (
    "cache",
    "scheduler",
    "tokenizer",
    "checkpoint",
    "gradient",
    "optimizer",
    "dataloader",
    "attention",
    "kernel",
    "shard",
    "replica",
    "router",
    "queue",
    "index",
    "embedding",
    "allocator",
    "compiler",
    "profiler",
    "pipeline",
    "cluster",
    "storage",
    "network",
    "decoder",
    "encoder",
    "batch",
    "warmup",
    "quantizer",
    "sampler",
    "retriever",
    "ranker",
    "monitor",
    "billing",
    "release",
    "incident",
    "rollout",
    "budget",
    "latency",
    "memory",
    "dataset",
    "vendor",
)
TOPIC_ASPECTS = (
    "overview",
    "budget",
    "latency",
    "failures",
    "tradeoffs",
    "roadmap",
    "migration",
    "costs",
    "capacity",
    "limits",
    "review",
    "layout",
    "lifecycle",
    "tuning",
    "audit",
    "baseline",
    "growth",
    "risks",
    "plan",
    "timeline",
    "health",
    "options",
    "design",
    "recovery",
)
# Topology ids: short verbs and nouns a diagram's nodes are named by.
ID_WORDS = (
    "start",
    "ingest",
    "parse",
    "validate",
    "cache",
    "retry",
    "deploy",
    "review",
    "approve",
    "reject",
    "fallback",
    "shard",
    "merge",
    "encode",
    "decode",
    "route",
    "store",
    "notify",
    "score",
    "rank",
    "fetch",
    "batch",
    "train",
    "evaluate",
    "export",
    "serve",
    "queue",
    "split",
    "filter",
    "embed",
    "index",
    "search",
    "compact",
    "flush",
    "load",
    "commit",
    "rollback",
    "warmup",
    "prefill",
    "sample",
    "gather",
    "reduce",
    "stream",
    "archive",
    "audit",
    "alert",
    "host",
    "device",
    "disk",
    "gpu",
    "cpu",
    "client",
    "server",
    "worker",
    "leader",
    "replica",
)
_WORDS = (
    "cache",
    "hit",
    "rate",
    "eviction",
    "policy",
    "request",
    "queue",
    "depth",
    "token",
    "budget",
    "memory",
    "pressure",
    "throughput",
    "latency",
    "tail",
    "warm",
    "cold",
    "start",
    "shard",
    "replica",
    "batch",
    "size",
    "gradient",
    "norm",
    "learning",
    "schedule",
    "checkpoint",
    "restore",
    "upload",
    "window",
    "context",
    "prefill",
    "decode",
    "step",
    "kernel",
    "fusion",
    "bandwidth",
    "host",
    "device",
    "copy",
    "stall",
    "retry",
    "backoff",
    "error",
    "budget",
    "release",
    "train",
    "eval",
    "score",
    "drift",
    "alert",
    "owner",
    "review",
    "cost",
    "region",
)
_UNITS = ("ms", "s", "GB", "MB", "%", "req/s", "tok/s", "GPUs", "x", "k")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_STYLE = ("theme", "tone", "density")
_SPLITS = ("train", "dev", "test", "hidden")


@dataclass(frozen=True)
class SynthSettings:
    """What :func:`synth_scenes` draws (the defaults are the ``synth-scenes`` command's)."""

    n_scenes: int = 20000  # scenes drawn (rows = scenes x forms, less duplicates)
    seed: int = 0
    forms: tuple[str, ...] = ("block", "row")  # target forms; each scene is written in each
    max_components: int = 7  # top-level components per scene (smaller = shorter rows)
    hidden_counts: tuple[int, ...] = (3,)  # top-level counts only the hidden split has
    hidden_mix_share: float = 0.08  # share of component mixes only the hidden split has
    dev_share: float = 0.06  # share of shapes held out for dev
    test_share: float = 0.04  # share of shapes held out for test
    heldout_topic_share: float = 0.25  # share of topic pairs reserved for held-out splits
    other_attr_p: float = 0.15  # chance to keep each sampled non-style attribute
    max_rows_per_split: tuple[tuple[str, int], ...] = ()  # e.g. (("hidden", 400),) caps a split
    contract: str = "v1"


def _unit(*parts: object) -> float:
    h = hashlib.blake2b("\x00".join(map(str, parts)).encode("utf-8"), digest_size=8)
    return int.from_bytes(h.digest(), "big") / 2**64


def scene_keys(scene: scene_dsl.Scene) -> dict[str, Any]:
    """The content keys splits are made by: shape, mix, top-level count and topic."""
    return {
        "shape": skeleton_shape(scene),
        "mix": tuple(sorted({c.name for c in scene.components})),
        "count": len(scene.components),
        "topic": scene.attr("topic"),
    }


def _split_of(keys: dict[str, Any], s: SynthSettings) -> str:
    if keys["count"] in s.hidden_counts or _unit("mix", s.seed, keys["mix"]) < s.hidden_mix_share:
        return "hidden"
    u = _unit("shape", s.seed, keys["shape"])
    if u < s.dev_share:
        return "dev"
    if u < s.dev_share + s.test_share:
        return "test"
    return "train"


def _topic_pools(s: SynthSettings) -> tuple[list[str], list[str]]:
    pairs = [f"{a}_{b}" for a in TOPIC_SUBJECTS for b in TOPIC_ASPECTS]
    held = [p for p in pairs if _unit("topic", s.seed, p) < s.heldout_topic_share]
    seen = [p for p in pairs if _unit("topic", s.seed, p) >= s.heldout_topic_share]
    return seen, held


def _style(rng: random.Random, spec: scene_dsl.Contract, layout: str) -> dict[str, str]:
    """Theme, tone and density drawn uniformly, redrawn until the contract's rules hold."""
    while True:
        values = {"layout": layout}
        for name in _STYLE:
            attr = spec.attribute(name)
            assert attr is not None, name
            values[name] = rng.choice(attr.all_values)
        if not any(rule.violated(values) for rule in spec.rules):
            return values


def _rename_ids(
    scene: scene_dsl.Scene, spec: scene_dsl.Contract, rng: random.Random
) -> scene_dsl.Scene:
    """Topology ids from :data:`ID_WORDS`, one consistent mapping per scene."""
    old: list[str] = []
    for comp in scene.walk():
        cspec = spec.components.get(comp.name)
        for f in comp.fields:
            fspec = cspec.field(f.name) if cspec else None
            if fspec is not None and fspec.kind == "id" and f.value not in old:
                old.append(f.value)
    mapping = dict(zip(old, rng.sample(ID_WORDS, len(old)), strict=True))

    def fix(comp: scene_dsl.Component) -> scene_dsl.Component:
        cspec = spec.components.get(comp.name)
        fields = []
        for f in comp.fields:
            fspec = cspec.field(f.name) if cspec else None
            if fspec is not None and fspec.kind in ("id", "idref") and f.value in mapping:
                f = scene_dsl.Field(f.name, mapping[f.value])
            fields.append(f)
        return scene_dsl.Component(comp.name, tuple(fields), tuple(fix(c) for c in comp.children))

    return scene_dsl.Scene(scene.attrs, tuple(fix(c) for c in scene.components))


def _phrase(rng: random.Random, key: str) -> str:
    if key in ("value", "size", "amount", "metric"):
        return f"{rng.choice((rng.randint(1, 999), round(rng.uniform(0.1, 99.9), 1)))} {rng.choice(_UNITS)}"
    if key == "date":
        return f"{rng.choice(_MONTHS)} {rng.randint(2019, 2027)}"
    words = rng.sample(_WORDS, rng.randint(2, 5 if key in ("body", "detail", "subtitle") else 3))
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _fill(node: Any, rng: random.Random, key: str = "") -> Any:
    """Replace every string leaf of a content tree by a phrase that fits its key."""
    if isinstance(node, dict):
        return {k: _fill(v, rng, k) for k, v in node.items()}
    if isinstance(node, list):
        singular = key[:-1] if key.endswith("s") else key
        return [_fill(v, rng, singular) for v in node]
    return _phrase(rng, key)


def synth_scenes(settings: SynthSettings = SynthSettings()) -> list[Row]:
    """Draw scene rows with skeleton prompts and content-held-out splits.

    Args:
        settings: counts, forms, split shares (see :class:`SynthSettings`).

    Returns:
        Rows (``surface="skeleton"``, ``source="synth:<seed>:<i>"``) with their split set, in
        draw order; a prompt drawn twice is kept once.
    """
    from scene_dsl.strategies import sample_content, sample_scene

    s = settings
    spec = scene_dsl.load_contract(s.contract)
    families = sorted(spec.families)
    seen_topics, held_topics = _topic_pools(s)
    caps = dict(s.max_rows_per_split)
    per_split: dict[str, int] = dict.fromkeys(_SPLITS, 0)
    rng = random.Random(s.seed)
    rows: list[Row] = []
    prompts: set[str] = set()
    for i in range(s.n_scenes):
        family = families[i % len(families)]
        scene = sample_scene(rng, spec, family=family)
        if len(scene.components) > s.max_components:
            # cut, not redraw: keeps every family's share even; drop edges to cut ids
            scene = _truncate(scene, spec, s.max_components)
        keys = scene_keys(scene)
        split = _split_of(keys, s)
        if split in caps and per_split[split] >= caps[split]:
            continue
        style = _style(rng, spec, family)
        topic = rng.choice(held_topics if split != "train" else seen_topics)
        others = {
            a.key: a.value
            for a in scene.attrs
            if a.key not in style and a.key != "topic" and rng.random() < s.other_attr_p
        }
        values = {**others, **style, "topic": topic}
        attrs = tuple(
            scene_dsl.Attr(a.name, values[a.name]) for a in spec.attributes if a.name in values
        )
        scene = _rename_ids(scene_dsl.Scene(attrs, scene.components), spec, rng)
        scene = scene_dsl.canonicalize(scene, spec)
        content = _fill(sample_content(scene, spec, rng), rng)
        for form in s.forms:
            prompt = skeleton_prompt(scene, form=form, contract=spec)
            if prompt in prompts:
                continue
            prompts.add(prompt)
            target = scene_dsl.canonical_text(scene, form=form, inline=True, contract=spec)
            rows.append(
                Row(
                    id=_row_id("scene", prompt, target),
                    prompt=prompt,
                    target=target,
                    split=split,
                    family=family,
                    language="scene",
                    content=content,
                    source=f"synth:{s.seed}:{i}",
                    surface="skeleton",
                )
            )
            per_split[split] += 1
    return rows


def _truncate(scene: scene_dsl.Scene, spec: scene_dsl.Contract, n: int) -> scene_dsl.Scene:
    """Keep the first ``n`` top-level components whose idrefs still resolve."""
    kept: list[scene_dsl.Component] = []
    ids: set[str] = set()
    for comp in scene.components:
        if len(kept) >= n:
            break
        cspec = spec.components[comp.name]
        refs = [f.value for f in comp.fields if (fs := cspec.field(f.name)) and fs.kind == "idref"]
        if any(r not in ids for r in refs):
            continue
        ids.update(f.value for f in comp.fields if (fs := cspec.field(f.name)) and fs.kind == "id")
        kept.append(comp)
    return scene_dsl.Scene(scene.attrs, tuple(kept))


def leakage(rows: Iterable[Row], contract: str = "v1") -> list[str]:
    """Every way a held-out row's content also occurs in training (empty: no leak).

    Checks, from the targets themselves: no dev/test/hidden shape and no held-out topic occurs in
    train; every hidden row has a top-level count or a component mix that train never has; no
    held-out prompt occurs in train.

    Args:
        rows: rows of all splits.
        contract: scene contract of the targets.

    Returns:
        One message per leaking row (row id, split, what leaks).
    """
    keyed = []
    for r in rows:
        if r.language != "scene":
            continue
        scene = scene_dsl.parse(r.target, contract=contract)
        keyed.append((r, scene_keys(scene)))
    train = {
        k: {keys[k] for r, keys in keyed if r.split == "train"}
        for k in ("shape", "mix", "count", "topic")
    }
    train_prompts = {r.prompt for r, _ in keyed if r.split == "train"}
    out: list[str] = []
    for r, keys in keyed:
        if r.split == "train":
            continue
        why = []
        if r.prompt in train_prompts:
            why.append("prompt")
        if keys["shape"] in train["shape"]:
            why.append("shape")
        if keys["topic"] in train["topic"]:
            why.append(f"topic {keys['topic']}")
        if r.split == "hidden" and keys["count"] in train["count"] and keys["mix"] in train["mix"]:
            why.append(f"count {keys['count']} and mix {'+'.join(keys['mix'])}")
        if why:
            out.append(f"{r.id} ({r.split}): also in train: {', '.join(why)}")
    return out


def split_counts(rows: Sequence[Row]) -> dict[str, int]:
    """Rows per split, in split order."""
    return {
        name: sum(r.split == name for r in rows)
        for name in _SPLITS
        if any(r.split == name for r in rows)
    }


def relabel(rows: Sequence[Row], split: str, ids: set[str]) -> list[Row]:
    """Rows with the given ids moved to ``split`` (tests plant leaks with it)."""
    return [replace(r, split=split) if r.id in ids else r for r in rows]
