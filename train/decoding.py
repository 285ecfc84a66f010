"""Decoding: greedy / temperature / top-k, structural stops, and grammar-constrained decoding.

The model (:mod:`train.model`) knows nothing about languages; this module plugs in through
``GPT.generate``'s ``stop_ids`` and ``logits_processor`` hook. Constrained decoding masks, at
every step, the tokens that would leave the language (:mod:`train.grammar_langs`): the output
is always a valid prefix and it ends only where a program may end. Budget steering (on by
default with ``constrained``) also makes it finish within ``max_new_tokens``: near the end of the
budget only tokens after which the program can still be completed in time are allowed, counted
in tokens along a shortest completion (:meth:`TokenMasker.token_dist`). That count is an upper
estimate, so in principle a target written with fewer, longer tokens than the shortest
completion could be closed early; in practice no output that fits the budget has been changed
(a test walks sampled targets with not one token to spare; the memorisation gate decodes 100%
steered), while a model that rambles is closed in time and still parses. ``steer_budget=False`` shows what the
model does alone: a generation that runs out of budget is reported as such (``hit_budget``).
Raw and constrained results are separate :class:`Generation` objects with ``constrained`` set,
so a report never mixes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import torch

from train.grammar_langs import SCENE_END, SceneForm, scene_automaton, trace_automaton
from train.grammar_mask import DEAD, Automaton, TokenMasker
from train.model import GPT
from train.model import Generation as ModelGeneration

__all__ = ["Decoder", "Generation", "GrammarConstraint", "Language"]

Language = Literal["scene", "trace"]
SPECIAL_TEXTS = ("<|bos|>", "<|eos|>", "<|pad|>", "[OUT]")


@dataclass(frozen=True)
class Generation(ModelGeneration):
    """One decoded output: the model's ids and finish reason (``stopped`` / ``hit_budget``),
    plus the decoded text and whether the grammar mask was on."""

    text: str  # decoded target text, without a trailing special token
    constrained: bool  # produced under the grammar mask (never mix with raw results)


class GrammarConstraint:
    """A ``logits_processor`` that masks every token leaving the language.

    Stateful per generated row: it advances its automaton state by the newest id instead of
    re-reading the row, so a step costs a dict lookup plus one ``masked_fill``.

    Args:
        masker: per-state allowed tokens of the language over the tokenizer's vocabulary.
        max_new_tokens: the generation budget; in the last steps only tokens after which the
            program can still be finished in time are allowed.
    """

    def __init__(self, masker: TokenMasker, max_new_tokens: int | None = None) -> None:
        self.masker = masker
        self.max_new_tokens = max_new_tokens
        self._rows: dict[int, tuple[int, int]] = {}  # id(ids list) -> (len seen, state)

    def state(self, ids: Sequence[int]) -> int:
        """The automaton state after ``ids`` (advancing the cached state of this row)."""
        key = id(ids)
        n, sid = self._rows.get(key, (0, self.masker.start))
        if len(ids) == 0 or len(ids) < n:
            n, sid = 0, self.masker.start
        for token in ids[n:]:
            sid = self.masker.advance(sid, int(token))
        self._rows[key] = (len(ids), sid)
        return sid

    def __call__(self, ids: Sequence[int], logits: torch.Tensor) -> torch.Tensor:
        sid = self.state(ids)
        if sid == DEAD:  # only reachable if the caller ignored the mask; keep the row alive
            return logits
        remaining = None if self.max_new_tokens is None else self.max_new_tokens - len(ids)
        info = self.masker.info(sid)
        if remaining is None or info.max_dist <= remaining - 1:
            key = ("blocked", logits.device)
            # this key only ever holds the tensor stored just below
            blocked = cast("torch.Tensor | None", info.cache.get(key))
            if blocked is None:
                blocked = info.cache[key] = torch.from_numpy(~info.mask).to(logits.device)
        else:
            blocked = torch.from_numpy(~self.masker.allowed(sid, remaining)).to(logits.device)
        return logits.masked_fill(blocked, float("-inf"))


class Decoder:
    """Generation for one language and tokenizer, raw or constrained.

    Args:
        tokenizer: a ``tokenizer.DslTokenizer`` (``encode_row`` / ``encode``, ``decode``,
            ``vocab_strings``, ``special_ids``).
        language: ``"scene"`` or ``"trace"``.
        contract: scene contract for the constrained automaton.
        form: scene target form the constrained automaton accepts, ``"block"`` or ``"row"``
            (the form the training rows were materialised in); ignored for traces.
    """

    def __init__(
        self,
        tokenizer: Any,
        language: Language = "scene",
        contract: str = "v1",
        form: SceneForm = "block",
    ) -> None:
        if form not in ("block", "row"):
            raise ValueError(f"form must be 'block' or 'row', not {form!r}")
        self.tokenizer = tokenizer
        self.language = language
        self.contract = contract
        self.form = form
        self.vocab: list[str] = list(tokenizer.vocab_strings())
        specials: Mapping[str, int] = tokenizer.special_ids
        self.eos_id = specials["<|eos|>"]
        self.special_ids = frozenset(specials[t] for t in SPECIAL_TEXTS if t in specials)
        # Structural end: a token that is exactly the end marker stops the row right away;
        # with split tags the row stops on the eos that follows.
        ends = {
            i for i, t in enumerate(self.vocab) if language == "scene" and t.strip() == SCENE_END
        }
        self.stop_ids = frozenset(self.special_ids | ends)
        self._masker: TokenMasker | None = None

    @property
    def masker(self) -> TokenMasker:
        """The per-state token masks (built on first use, shared by every generation)."""
        if self._masker is None:
            auto: Automaton = (
                scene_automaton(self.contract, self.form)
                if self.language == "scene"
                else trace_automaton()
            )
            self._masker = TokenMasker(auto, self.vocab, self.special_ids, self.eos_id)
        return self._masker

    def prompt_ids(self, prompt: str) -> list[int]:
        """Prompt ids framed as in training (``<|bos|> prompt [OUT]``)."""
        if hasattr(self.tokenizer, "encode_row"):
            return list(self.tokenizer.encode_row(prompt, "")[0])
        return list(self.tokenizer.encode(prompt))

    def generate(
        self,
        model: GPT,
        prompt: str | Sequence[int],
        *,
        constrained: bool = False,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        steer_budget: bool = True,
    ) -> Generation:
        """Decode one prompt.

        Args:
            model: the model (put in eval mode for the call).
            prompt: prompt text, or ids already framed.
            constrained: mask tokens that leave the language.
            max_new_tokens: token budget (also capped by the model's context).
            temperature: 0 is greedy; otherwise sample from softmax(logits / temperature).
            top_k: sample among the k most likely (allowed) tokens.
            generator: random generator for reproducible sampling.
            steer_budget: with ``constrained``, near the end of the budget allow only tokens
                after which the program can still be finished in time (a parseable output
                whenever the budget can hold the shortest program; see the module notes).

        Returns:
            The :class:`Generation`.
        """
        ids = self.prompt_ids(prompt) if isinstance(prompt, str) else list(prompt)
        return self.generate_batch(
            model,
            [ids],
            constrained=constrained,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            generator=generator,
            steer_budget=steer_budget,
        )[0]

    def generate_batch(
        self,
        model: GPT,
        prompts: Sequence[Sequence[int]],
        *,
        constrained: bool = False,
        max_new_tokens: int = 512,
        temperature: float = 0.0,
        top_k: int | None = None,
        generator: torch.Generator | None = None,
        steer_budget: bool = True,
    ) -> list[Generation]:
        """Decode several framed prompts (grouped by length internally, order kept).

        Args:
            model: the model.
            prompts: prompt ids per row.
            constrained, max_new_tokens, temperature, top_k, generator, steer_budget: as in
                :meth:`generate`.

        Returns:
            One :class:`Generation` per prompt, in order.
        """
        out: list[Generation | None] = [None] * len(prompts)
        groups: dict[int, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(len(p), []).append(i)
        for length, rows in groups.items():
            budget = max(1, min(max_new_tokens, model.config.block_size - length + 1))
            processor = (
                GrammarConstraint(self.masker, budget if steer_budget else None)
                if constrained
                else None
            )
            batch = torch.tensor([list(prompts[i]) for i in rows], dtype=torch.long)
            gens = model.generate_batch(
                batch,
                budget,
                temperature=temperature,
                top_k=top_k,
                stop_ids=self.stop_ids,
                logits_processor=processor,
                generator=generator,
            )
            for i, g in zip(rows, gens, strict=True):
                body = g.ids[:-1] if g.ids and g.ids[-1] in self.special_ids else g.ids
                out[i] = Generation(
                    text=self.tokenizer.decode(list(body)),
                    ids=g.ids,
                    constrained=constrained,
                    finish_reason=g.finish_reason,
                )
        return [g for g in out if g is not None]
