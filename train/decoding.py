"""Decoding: greedy / temperature / top-k, structural stops, and grammar-constrained decoding.

The model (:mod:`dslkit.train.model`) knows nothing about languages; this module plugs in through
``GPT.generate``'s ``stop_ids`` and ``logits_processor`` hook. Constrained decoding masks, at
every step, the tokens that would leave the language (the prefix automata of the language packages,
``scene_dsl.prefix_automaton`` and ``trace_dsl.prefix_automaton``): the output
is always a valid prefix and it ends only where a program may end. Budget steering (on by
default with ``constrained``) also makes it finish within ``max_new_tokens``: near the end of the
budget only tokens after which the program can still be completed in time are allowed, counted
in tokens along a shortest completion (:meth:`TokenMasker.token_dist`). That count is an upper
estimate, so in principle a target written with fewer, longer tokens than the shortest
completion could be closed early; in practice no output that fits the budget has been changed
(a test walks sampled targets with not one token to spare; the memorisation gate decodes 100%
steered), while a model that rambles is closed in time and still parses. With
``steer_budget=False`` the model is on its own: a generation that runs out of budget is
reported as such (``hit_budget``).
Scene values the grammar cannot see are checked per row too (``check_values``, on by default;
:mod:`dslkit.train.values`): topology ids declared before use and never twice, and content refs that
resolve in the case's content.json when it is given (``content`` / ``contents``). On the demo's
probe that makes all 14 held-out outputs renderable (0 without), exact match unchanged.
Raw and constrained results are separate :class:`Generation` objects with ``constrained`` set,
so a report never mixes them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import torch
from dslkit.tokenizer.reserved import SPECIAL_TOKENS
from dslkit.train.languages import Language, check_language
from dslkit.train.model import GPT
from dslkit.train.model import Generation as ModelGeneration
from dslkit.train.token_mask import TokenMasker
from dslkit.train.values import RowValues, ValueRules

import scene_dsl
import trace_dsl
from dslkit.automaton import DEAD, Automaton
from scene_dsl.automaton import SCENE_END, SceneForm

__all__ = ["Decoder", "Generation", "GrammarConstraint", "Language"]


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
        values: per batch row, the value checks (:class:`dslkit.train.values.ValueRules`) or None.
    """

    def __init__(
        self,
        masker: TokenMasker,
        max_new_tokens: int | None = None,
        values: Sequence[ValueRules | None] | None = None,
    ) -> None:
        self.masker = masker
        self.max_new_tokens = max_new_tokens
        self.values = values
        # steps where the value checks gave way (no token kept the value good, or none did
        # and still finished in time): each value error in an output is one of these
        self.stepped_aside = 0
        # row key -> its state: the row's position in the batch (``ids.row``, which
        # GPT.generate_batch gives) or, for a plain list, the list itself by identity
        self._rows: dict[tuple[str, int], _Row] = {}

    def _row(self, ids: Sequence[int]) -> _Row:
        index = getattr(ids, "row", None)
        key = ("id", id(ids)) if index is None else ("row", index)
        row = self._rows.get(key)
        if row is None or len(ids) < row.seen:
            # a new row (or a new call: the row is shorter than what was read): rows without
            # a position are numbered in the order they are first met, as generate_batch
            # visits them, and take the value rules of that number
            k = index if index is not None else len(self._rows) if row is None else row.index
            rules = self.values[k] if self.values is not None and k < len(self.values) else None
            values = RowValues(rules) if rules is not None else None
            row = self._rows[key] = _Row(k, 0, self.masker.start, values)
        return row

    def _follow(self, ids: Sequence[int]) -> _Row:
        """The row of ``ids`` with its state advanced by the ids it has not read yet (the
        row's cursor ``seen``: a step reads the newest id only, never the row again)."""
        row = self._row(ids)
        for token in ids[row.seen :]:
            t = int(token)
            if row.values is not None and row.sid != DEAD:
                row.values.advance(self.masker.payload_steps(row.sid).get(t), self.masker.vocab[t])
            row.sid = self.masker.advance(row.sid, t)
        row.seen = len(ids)
        return row

    def state(self, ids: Sequence[int]) -> int:
        """The automaton state after ``ids`` (advancing the cached state of this row)."""
        return self._follow(ids).sid

    def __call__(self, ids: Sequence[int], logits: torch.Tensor) -> torch.Tensor:
        row = self._follow(ids)
        sid = row.sid
        if sid == DEAD:  # only reachable if the caller ignored the mask; keep the row alive
            return logits
        remaining = None if self.max_new_tokens is None else self.max_new_tokens - len(ids)
        info = self.masker.info(sid)
        values = row.values
        steps = self.masker.payload_steps(sid) if values is not None else None
        if not steps and (remaining is None or info.max_dist <= remaining - 1):
            key = ("blocked", logits.device)
            # this key only ever holds the tensor stored just below
            blocked = cast("torch.Tensor | None", info.cache.get(key))
            if blocked is None:
                blocked = info.cache[key] = torch.from_numpy(~info.mask).to(logits.device)
            return logits.masked_fill(blocked, float("-inf"))
        allowed = info.mask
        if steps:
            assert values is not None  # steps are only read for rows with value checks
            bad = values.blocked(steps, allowed, self.masker.vocab)
            if bad and len(bad) < len(info.ids):
                allowed = allowed.copy()
                allowed[bad] = False
            elif bad:  # no token keeps the value good: write on rather than stop
                self.stepped_aside += 1
        if remaining is not None and info.max_dist > remaining - 1:
            steered = self.masker.allowed(sid, remaining)
            both = allowed & steered
            if both.any():
                allowed = both
            else:  # finishing in time beats a good value
                allowed = steered
                self.stepped_aside += 1
        return logits.masked_fill(torch.from_numpy(~allowed).to(logits.device), float("-inf"))


@dataclass
class _Row:
    """One generated row as the constraint follows it."""

    index: int  # position in the batch
    seen: int  # ids already folded into ``sid``
    sid: int  # automaton state after them
    values: RowValues | None  # value checks of this row (None: off)


class Decoder:
    """Generation for one language and tokenizer, raw or constrained.

    Args:
        tokenizer: a ``dslkit.tokenizer.DslTokenizer`` (``encode_row`` / ``encode``, ``decode``,
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
        check_language(language)
        if form not in ("block", "row"):
            raise ValueError(f"form must be 'block' or 'row', not {form!r}")
        self.tokenizer = tokenizer
        self.language = language
        self.contract = contract
        self.form = form
        self.vocab: list[str] = list(tokenizer.vocab_strings())
        specials: Mapping[str, int] = tokenizer.special_ids
        self.eos_id = specials["<|eos|>"]
        self.special_ids = frozenset(specials[t] for t in SPECIAL_TOKENS if t in specials)
        # Structural end: a token that is exactly the end marker stops the row right away;
        # with split tags the row stops on the eos that follows.
        ends = {
            i for i, t in enumerate(self.vocab) if language == "scene" and t.strip() == SCENE_END
        }
        self.stop_ids = frozenset(self.special_ids | ends)
        self._masker: TokenMasker | None = None

    def constraint(
        self,
        max_new_tokens: int | None = None,
        contents: Sequence[Mapping[str, Any] | None] = (None,),
        *,
        check_values: bool = True,
    ) -> GrammarConstraint:
        """The ``logits_processor`` of constrained decoding for a batch of ``len(contents)`` rows.

        Args:
            max_new_tokens: the budget to steer within (None: no steering).
            contents: per row, its content.json or None.
            check_values: check scene values per row (see :meth:`generate`).
        """
        values = [ValueRules(c) for c in contents] if check_values else None
        return GrammarConstraint(self.masker, max_new_tokens, values)

    @property
    def masker(self) -> TokenMasker:
        """The per-state token masks (built on first use, shared by every generation)."""
        if self._masker is None:
            auto: Automaton = (
                scene_dsl.prefix_automaton(self.contract, self.form)
                if self.language == "scene"
                else trace_dsl.prefix_automaton()
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
        content: Mapping[str, Any] | None = None,
        check_values: bool = True,
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
            content: the case's content.json, for ``check_values``.
            check_values: with ``constrained``, also check values the grammar cannot
                (:mod:`dslkit.train.values`): scene topology ids declared before use and never twice
                and, given ``content``, content refs that resolve in it; trace arguments that
                name a variable already set, and a query of one a step computed.

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
            contents=None if content is None else [content],
            check_values=check_values,
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
        contents: Sequence[Mapping[str, Any] | None] | None = None,
        check_values: bool = True,
    ) -> list[Generation]:
        """Decode several framed prompts (grouped by length internally, order kept).

        Args:
            model: the model.
            prompts: prompt ids per row.
            constrained, max_new_tokens, temperature, top_k, generator, steer_budget,
                check_values: as in :meth:`generate`.
            contents: one content.json (or None) per prompt, as ``content`` in
                :meth:`generate`.

        Returns:
            One :class:`Generation` per prompt, in order.
        """
        out: list[Generation | None] = [None] * len(prompts)
        groups: dict[int, list[int]] = {}
        for i, p in enumerate(prompts):
            groups.setdefault(len(p), []).append(i)
        if contents is not None and len(contents) != len(prompts):
            raise ValueError(f"{len(contents)} contents for {len(prompts)} prompts")
        for length, rows in groups.items():
            budget = max(1, min(max_new_tokens, model.config.block_size - length + 1))
            processor = None
            if constrained:
                processor = self.constraint(
                    budget if steer_budget else None,
                    [None if contents is None else contents[i] for i in rows],
                    check_values=check_values,
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
