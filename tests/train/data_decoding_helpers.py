"""Shared helpers for the data and decoding tests: a character-level tokenizer and a tiny gold pack.

The tokenizer package is exercised by its own tests; these tests only need *some* tokenizer with
the DslTokenizer surface (encode, decode, vocab_strings, special_ids), whose multi-character
pieces stay inside one grammar terminal, as the real pre-tokenizer guarantees.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import scene_dsl
from scene_dsl.strategies import sample_content, sample_scene

SPECIALS = ("<|pad|>", "<|bos|>", "<|eos|>", "[OUT]")


class CharTokenizer:
    """Specials, a few whole reserved tokens, then single characters (nothing is unknown)."""

    def __init__(self, pieces: Sequence[str] = (), alphabet: str | None = None) -> None:
        chars = alphabet or "".join(chr(c) for c in range(32, 127)) + "\n"
        self._vocab = [*SPECIALS, *pieces, *sorted(set(chars))]
        self._ids = {s: i for i, s in enumerate(self._vocab)}
        self.special_ids = {s: self._ids[s] for s in SPECIALS}
        self.reserved_ids = frozenset(self._ids[p] for p in pieces)
        self._pieces = sorted(pieces, key=len, reverse=True)
        self.vocab_size = len(self._vocab)

    def vocab_strings(self) -> list[str]:
        return list(self._vocab)

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        i = 0
        while i < len(text):
            for p in (*SPECIALS, *self._pieces):
                if text.startswith(p, i):
                    out.append(self._ids[p])
                    i += len(p)
                    break
            else:
                out.append(self._ids.get(text[i], self._ids["?"]))
                i += 1
        return out

    def encode_row(self, prompt: str, target: str) -> tuple[list[int], list[int]]:
        """Same framing as ``dslkit.tokenizer.DslTokenizer.encode_row``."""
        p = [self.special_ids["<|bos|>"], *self.encode(prompt)]
        if p[-1] != self.special_ids["[OUT]"]:
            p.append(self.special_ids["[OUT]"])
        return p, [*self.encode(target), self.special_ids["<|eos|>"]]

    def decode(self, ids: Sequence[int]) -> str:
        return "".join(self._vocab[i] for i in ids)


def scene_tokenizer() -> CharTokenizer:
    """Reserved scene structure (tag opens/closes, attr=value tokens) plus characters."""
    c = scene_dsl.load_contract("v1")
    pieces = ["[scene]", "[/scene]", " "]
    for a in c.attributes:
        pieces += [f"[{a.name}:{v}]" for v in a.all_values] or [f"[{a.name}:"]
    for name, comp in c.components.items():
        pieces += [f"[{name}]", f"[/{name}]", f"[{name}:"]
        pieces += [f"[{f.name}:" for f in comp.fields]
    return CharTokenizer(sorted(set(pieces)))


def write_gold_pack(root: Path, n: int = 4, seed: int = 7) -> Path:
    """A gold-pack-shaped folder of ``n`` sampled cases (scene.dsl + content.json)."""
    rng = random.Random(seed)
    for i in range(n):
        scene = sample_scene(rng)
        case = root / f"case_{i:02d}"
        case.mkdir(parents=True, exist_ok=True)
        (case / "scene.dsl").write_text(scene_dsl.canonical_text(scene), encoding="utf-8")
        (case / "content.json").write_text(
            json.dumps(sample_content(scene, rng=rng)), encoding="utf-8"
        )
    return root


def assert_targets_pass(proc: Any, tok: Any, texts: Sequence[str]) -> None:
    """Feed ``texts`` through a ``GrammarConstraint`` as one batch, row by row in batch order
    as ``GPT.generate_batch`` does, and check no target token is ever masked."""
    import torch

    logits = torch.zeros(tok.vocab_size)
    rows: list[list[int]] = [[] for _ in texts]
    targets = [tok.encode(t) for t in texts]
    for step in range(max(map(len, targets))):
        for row, target in zip(rows, targets, strict=True):
            if step < len(target):
                masked = proc(row, logits.clone())
                assert masked[target[step]] == 0, (tok.decode(row), tok.decode([target[step]]))
                row.append(target[step])


def sample_constrained(
    dec: Any, prompt: str, budget: int, seed: int, content: Any = None, check_values: bool = True
) -> tuple[str, int]:
    """A random-init model's constrained sample (temperature 1) for ``prompt``, and how often
    the value checks stepped aside (``GrammarConstraint.stepped_aside``)."""
    import torch
    from dslkit.train.model import GPT, GPTConfig

    torch.manual_seed(seed)
    # a context longer than the budget: the budget, not the context, ends a rambling row
    cfg = GPTConfig(
        vocab_size=dec.tokenizer.vocab_size, block_size=budget + 100, n_layer=1, n_head=2, n_embd=32
    )
    proc = dec.constraint(budget, [content], check_values=check_values)
    (gen,) = GPT(cfg).generate_batch(
        torch.tensor([dec.prompt_ids(prompt)]),
        budget,
        temperature=1.0,
        stop_ids=dec.stop_ids,
        logits_processor=proc,
        generator=torch.Generator().manual_seed(seed),
    )
    text = dec.tokenizer.decode([t for t in gen.ids if t not in dec.special_ids])
    return text, proc.stepped_aside
