"""A small decoder-only transformer, in one file, in the spirit of nanoGPT.

The model knows nothing about scenes or traces: it maps token ids to next-token logits. Everything
language-specific (which ids end a program, which ids are legal next) comes in from outside through
``stop_ids`` and ``logits_processor`` at generation time, so a grammar-constrained decoder can be
plugged in without touching this file.

Generation uses a key/value cache. The cache is exposed as a step API (:meth:`GPT.init_cache`,
:meth:`GPT.forward_step`) so an external decoder can drive the model one token at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn as nn
from torch.nn import functional as F

__all__ = [
    "GPT",
    "FinishReason",
    "GPTConfig",
    "Generation",
    "KVCache",
    "LogitsProcessor",
    "RowIds",
    "resolve_device",
]

IGNORE_INDEX = -100  # target value for positions that carry no loss (prompt, padding)
_SCORED_ROWS = 64  # CPU bfloat16: the output projection's rows are padded to a multiple of this
# the GPTConfig fields holding the tokenizer's element ids (DslTokenizer.structure() keys)
STRUCTURE_IDS = ("structure_opens", "structure_closes", "structure_resets", "structure_fields")

FinishReason = Literal["stop", "budget", "context"]

# (ids generated so far for this row, logits for the next token of this row) -> logits.
# The ids list is the decoder's own list: it grows by exactly one id between two calls for the
# same row, so a stateful processor can advance its parser by ``ids[-1]`` instead of re-reading.
LogitsProcessor = Callable[[Sequence[int], torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class GPTConfig:
    """Shape of the model. Frozen: a checkpoint's config must describe its weights forever."""

    # Ids are whatever the tokenizer emits; 0 means "take it from the training data" (the loop
    # fills it in before building the model), a GPT itself needs a positive value.
    vocab_size: int = 0
    # Longest sequence the model sees (prompt + target - 1). Positions are learned, so a model
    # cannot read past this; generation stops with finish_reason="context" when it gets there.
    block_size: int = 256
    n_layer: int = 4
    n_head: int = 4
    # Width of the residual stream; must divide by n_head. Parameters grow ~ 12 * n_layer * n_embd^2.
    n_embd: int = 128
    # Memorisation runs want 0.0; generalisation runs on small data usually want 0.1-0.2.
    dropout: float = 0.0
    # Biases in Linear/LayerNorm: off is slightly faster and no worse at this scale (nanoGPT).
    bias: bool = False
    # Share the input embedding with the output projection: fewer parameters for a small model,
    # and rare tokens (payload BPE pieces) get gradient from both ends.
    tie_weights: bool = True
    # Rotary positions (RoFormer) instead of learned ones: attention scores see relative offsets,
    # so "the token after the one I copied" is one pattern wherever the copy starts (a number's
    # digits copied from a question). Off by default; a rotary model has no ``wpe`` and does not
    # export to GPT-2.
    rope: bool = False
    # Structure indices (0: off): each token also gets an embedding of where it sits in the
    # program's element tree: the 1-based count of top-level elements opened so far (level 0)
    # and of children opened in the current top-level element (level 1), both counted afresh
    # from every reset token (``<|bos|>``, ``[OUT]``), clamped to ``structure_size - 1``.
    # The k-th component of a skeleton prompt and the k-th component its target writes share
    # one index, so attention can find "the prompt's component k" by content, not by
    # counting repeated close tags: repeated components are where copying went wrong. The ids
    # come from the tokenizer (``dslkit.tokenizer.DslTokenizer.structure``); such a model
    # exports to neither GPT-2 nor NeoX. Measured on the demo's rows (2x128, 5000 steps, one
    # run each): training rows are fitted faster (train loss 0.002 against 0.006, test 100%
    # against 95%), but the hidden split's unseen two-component scenes come out worse (75-80%
    # against 85-90%): an index that says "second component" makes "a second component is
    # followed by a third", true of every training row there, the easiest rule to learn.
    # Plain counts suit data whose held-out rows keep training's element counts; otherwise
    # shuffle them (next field), as the demo does.
    structure_size: int = 0
    # Shuffled structure labels (with ``structure_size``): while training, each packed row's
    # level-0 and level-1 counts are renamed through a random permutation of 1..size-1, drawn
    # afresh every step and shared by the row's prompt and target. The k-th component of the
    # target still carries the label of the prompt's k-th, so attention can pair them, but a
    # label no longer says "second": "a second component is followed by a third" (what made
    # plain counts fail on held-out counts) cannot be learnt, only "copy the prompt's element
    # with my label". Decoding and evaluation use the counts themselves, one labelling among
    # those training saw. Without ``structure_size`` there is nothing to shuffle: no effect.
    # Demo, 3 seeds: hidden exact 98.3% of 40 cases (95.5% of 200 more) against 90.0% without.
    structure_shuffle: bool = False
    # 3: a third level counts the fields (``[title_ref:``, ``[accent:blue]``) opened so far in
    # the innermost element, so the j-th field of a target element can find the prompt's j-th
    # (a dropped or repeated ``[cell_ref:`` was the commonest miss once elements were paired).
    # Fields outside every element (the scene's header) stay 0. Never shuffled: only a count
    # says whether the prompt's element has a field after the j-th.
    structure_levels: int = 2
    structure_opens: tuple[int, ...] = ()  # ids that open an element (``[graph_node]``)
    structure_closes: tuple[int, ...] = ()  # ids that close one (``[/graph_node]``)
    structure_resets: tuple[int, ...] = ()  # ids after which counting starts again
    structure_fields: tuple[int, ...] = ()  # ids that open a field (``[title_ref:``), level 2

    def __post_init__(self) -> None:
        for name in STRUCTURE_IDS:
            # checkpoints store JSON lists; the config must stay hashable and compare equal
            object.__setattr__(self, name, tuple(int(i) for i in getattr(self, name)))
        if self.structure_size < 0:
            raise ValueError(f"structure_size must be >= 0, got {self.structure_size}")
        if self.structure_levels not in (2, 3):
            raise ValueError(f"structure_levels must be 2 or 3, got {self.structure_levels}")
        if self.n_embd % self.n_head != 0:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head ({self.n_head})")
        if min(self.block_size, self.n_layer, self.n_head, self.n_embd) <= 0:
            raise ValueError("block_size, n_layer, n_head and n_embd must be positive")
        if self.rope and (self.n_embd // self.n_head) % 2:
            raise ValueError("rope needs an even head size (n_embd / n_head)")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")


def resolve_device(name: str) -> torch.device:
    """Turn a config device name into a ``torch.device``.

    Args:
        name: ``"auto"`` (CUDA when available, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    Returns:
        The device. Asking for CUDA on a machine without it raises ``RuntimeError`` rather than
        silently training on CPU.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"device {name!r} requested but CUDA is not available")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"unsupported device {name!r}: use 'auto', 'cpu' or 'cuda'")
    return device


def resolve_dtype(name: str, device: torch.device) -> str:
    """Turn a config dtype name into ``"float32"`` or ``"bfloat16"`` (autocast) for ``device``.

    Args:
        name: ``"float32"``, ``"bfloat16"``, or ``"auto"``: bfloat16 where the hardware
            multiplies it natively (a CUDA device that supports it; a CPU with AMX or
            AVX512-BF16, where oneDNN's bfloat16 matmuls run several times faster than float32
            ones), else float32. Elsewhere bfloat16 is emulated and slower than float32.
        device: the device the run trains on.

    Returns:
        The dtype name the training loop autocasts to.
    """
    if name != "auto":
        return name
    if device.type == "cuda":
        return "bfloat16" if torch.cuda.is_bf16_supported() else "float32"
    native = any(
        getattr(torch.cpu, probe, lambda: False)()
        for probe in ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    )
    return "bfloat16" if native else "float32"


@dataclass
class KVCache:
    """Keys and values of every layer for the positions fed so far.

    Preallocated to ``block_size`` so a step writes in place instead of concatenating.
    """

    keys: list[torch.Tensor]  # per layer: (batch, n_head, block_size, head_dim)
    values: list[torch.Tensor]  # same shape as keys
    pos: int = 0  # number of positions already written (the next token goes here)
    # (batch, block_size) ids fed so far, kept only by models with structure indices (a new
    # token's index depends on every earlier token of its row)
    ids: torch.Tensor | None = None

    @property
    def batch_size(self) -> int:
        return self.keys[0].shape[0]


class RowIds(list[int]):
    """The ids a row has generated so far, as ``generate_batch`` passes them to a logits
    processor, with the row's position in the batch: a processor that keeps per-row state
    follows the row by ``row``, not by the list's identity."""

    __slots__ = ("row",)

    def __init__(self, row: int) -> None:
        super().__init__()
        self.row = row  # position in the batch


@dataclass(frozen=True)
class Generation:
    """What one generated row ended up as."""

    ids: tuple[int, ...]  # new tokens only; includes the stop id when it ended on one
    finish_reason: FinishReason  # "stop": emitted a stop id; "budget"/"context": ran out

    @property
    def stopped(self) -> bool:
        """True when generation ended on a stop id (the structural end marker, EOS, ...)."""
        return self.finish_reason == "stop"

    @property
    def hit_budget(self) -> bool:
        """True when generation was cut off: max_new_tokens or the context window ran out."""
        return self.finish_reason != "stop"


class CausalSelfAttention(nn.Module):
    rope_cos: torch.Tensor  # (block_size, head_dim / 2), registered when config.rope
    rope_sin: torch.Tensor

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.n_head = config.n_head
        self.n_embd = config.n_embd
        self.dropout = config.dropout
        # One matmul for q, k and v together.
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias)
        self.resid_dropout = nn.Dropout(config.dropout)
        self.rope = config.rope
        if config.rope:
            # cos/sin per (position, frequency); buffers, not weights: checkpoints never hold them
            half = config.n_embd // config.n_head // 2
            freq = 10000.0 ** (-torch.arange(half, dtype=torch.float32) / half)
            angle = torch.outer(torch.arange(config.block_size, dtype=torch.float32), freq)
            self.register_buffer("rope_cos", angle.cos(), persistent=False)
            self.register_buffer("rope_sin", angle.sin(), persistent=False)

    def _rotate(
        self, x: torch.Tensor, start: int, positions: torch.Tensor | None = None
    ) -> torch.Tensor:
        # rotate each (x1, x2) pair of a head by its position's angle
        if positions is None:
            T = x.shape[2]
            cos = self.rope_cos[start : start + T].to(x.dtype)
            sin = self.rope_sin[start : start + T].to(x.dtype)
        else:  # (B, T) positions of packed rows -> (B, 1, T, half), broadcast over heads
            cos = self.rope_cos[positions].unsqueeze(1).to(x.dtype)
            sin = self.rope_sin[positions].unsqueeze(1).to(x.dtype)
        x1, x2 = x.chunk(2, dim=-1)
        return torch.cat((x1 * cos - x2 * sin, x1 * sin + x2 * cos), dim=-1)

    def forward(
        self,
        x: torch.Tensor,
        cache: KVCache | None = None,
        layer: int = 0,
        packed: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        B, T, C = x.shape
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        # (B, T, C) -> (B, n_head, T, head_dim)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        if self.rope:
            start = 0 if cache is None else cache.pos
            positions = None if packed is None else packed[0]
            q, k = self._rotate(q, start, positions), self._rotate(k, start, positions)
        dropout_p = self.dropout if self.training else 0.0
        if packed is not None:  # (positions, mask): rows packed side by side see only themselves
            y = _attention(q, k, v, attn_mask=packed[1], dropout_p=dropout_p)
        elif cache is None:
            y = _attention(q, k, v, dropout_p=dropout_p, is_causal=True)
        else:
            pos = cache.pos
            cache.keys[layer][:, :, pos : pos + T] = k
            cache.values[layer][:, :, pos : pos + T] = v
            k = cache.keys[layer][:, :, : pos + T]
            v = cache.values[layer][:, :, : pos + T]
            if pos == 0:
                # Prefill: exactly the uncached computation.
                y = _attention(q, k, v, dropout_p=dropout_p, is_causal=True)
            elif T == 1:
                # One new token sees every cached position: no mask needed.
                y = _attention(q, k, v, dropout_p=dropout_p)
            else:
                # Several new tokens after a prefix: query i (absolute pos + i) sees keys <= pos + i.
                mask = torch.ones(T, pos + T, dtype=torch.bool, device=x.device).tril(diagonal=pos)
                y = _attention(q, k, v, attn_mask=mask, dropout_p=dropout_p)
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


def _attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, **kwargs: Any) -> torch.Tensor:
    """``F.scaled_dot_product_attention``, in float32 on CPU under bfloat16 autocast.

    CPU autocast runs attention in bfloat16, and its backward pass there is several times
    slower than float32's (torch 2.13: ~40 ms against ~4 ms per call on the demo's batches),
    which ate the whole gain of bfloat16 matmuls. The projections around it keep bfloat16.
    """
    if q.device.type == "cpu" and q.dtype != torch.float32:
        with torch.autocast("cpu", enabled=False):
            y = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), **kwargs)
        return y.to(q.dtype)
    return F.scaled_dot_product_attention(q, k, v, **kwargs)


class MLP(nn.Module):
    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class Block(nn.Module):
    """Pre-norm transformer block: x + attn(ln(x)), then x + mlp(ln(x))."""

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.attn = CausalSelfAttention(config)
        self.ln_2 = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.mlp = MLP(config)

    def forward(
        self,
        x: torch.Tensor,
        cache: KVCache | None = None,
        layer: int = 0,
        packed: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        x = x + self.attn(self.ln_1(x), cache, layer, packed)
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    """Decoder-only transformer over token ids.

    Args:
        config: the model shape; ``config.vocab_size`` must be positive.
    """

    # vocab_size bool tables, registered when config.structure_size (see structure_index)
    struct_open: torch.Tensor
    struct_close: torch.Tensor
    struct_reset: torch.Tensor
    struct_field: torch.Tensor

    def __init__(self, config: GPTConfig) -> None:
        super().__init__()
        if config.vocab_size <= 0:
            raise ValueError("GPTConfig.vocab_size must be set (> 0) before building a GPT")
        self.config = config
        self.wte = nn.Embedding(config.vocab_size, config.n_embd)  # token embedding
        # learned positions (None with rope: positions enter through the attention rotation)
        self.wpe = None if config.rope else nn.Embedding(config.block_size, config.n_embd)
        self.drop = nn.Dropout(config.dropout)
        # structure indices: two levels in one table (level 1 rows follow level 0 rows)
        self.wse = (
            nn.Embedding(config.structure_levels * config.structure_size, config.n_embd)
            if config.structure_size
            else None
        )
        if config.structure_size:
            if not (config.structure_opens and config.structure_closes) or (
                config.structure_levels == 3 and not config.structure_fields
            ):
                raise ValueError(
                    "GPTConfig.structure_size > 0 needs structure_opens and structure_closes "
                    "(and structure_fields for structure_levels = 3; "
                    "dslkit.tokenizer.DslTokenizer.structure() gives them; the training loop "
                    "takes them from the packed rows)"
                )
            for name, ids in (
                ("struct_open", config.structure_opens),
                ("struct_close", config.structure_closes),
                ("struct_reset", config.structure_resets),
                ("struct_field", config.structure_fields),
            ):
                if any(not 0 <= i < config.vocab_size for i in ids):
                    field = name.replace("struct_", "structure_") + "s"
                    raise ValueError(f"GPTConfig.{field} holds an id outside the vocabulary")
                table = torch.zeros(config.vocab_size, dtype=torch.bool)
                table[list(ids)] = True
                # derived from the config: never stored in a checkpoint
                self.register_buffer(name, table, persistent=False)
        self.blocks = nn.ModuleList([Block(config) for _ in range(config.n_layer)])
        self.ln_f = nn.LayerNorm(config.n_embd, bias=config.bias)
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False)
        if config.tie_weights:
            self.wte.weight = self.lm_head.weight
        self.apply(self._init_weights)
        # GPT-2: scale the residual projections by 1/sqrt(2 * n_layer) so the residual stream's
        # variance does not grow with depth at initialisation.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)

    def num_params(self, non_embedding: bool = False) -> int:
        """Count parameters (shared tied weights once).

        Args:
            non_embedding: leave out the position and structure embeddings (and the token
                embedding when it is not tied to the output head), the usual way to quote
                model size.

        Returns:
            The number of scalar parameters.
        """
        n = sum(p.numel() for p in self.parameters())
        if non_embedding:
            n -= 0 if self.wpe is None else self.wpe.weight.numel()
            n -= 0 if self.wse is None else self.wse.weight.numel()
            if not self.config.tie_weights:
                n -= self.wte.weight.numel()
        return n

    @property
    def device(self) -> torch.device:
        return self.lm_head.weight.device

    def _embed(
        self,
        idx: torch.Tensor,
        start: int,
        positions: torch.Tensor | None = None,
        structure: torch.Tensor | None = None,
    ) -> torch.Tensor:
        T = idx.shape[1]
        if positions is None and start + T > self.config.block_size:
            raise ValueError(
                f"sequence of {start + T} positions exceeds block_size {self.config.block_size}"
            )
        if positions is not None and int(positions.max()) >= self.config.block_size:
            raise ValueError(
                f"a packed row reaches position {int(positions.max())}, past block_size "
                f"{self.config.block_size}"
            )
        x = self.wte(idx)
        if self.wse is not None:
            assert structure is not None  # forward / forward_step compute it when wse exists
            x = x + self.wse(structure).sum(dim=2)
        if self.wpe is None:
            return self.drop(x)
        if positions is None:
            positions = torch.arange(start, start + T, dtype=torch.long, device=idx.device)
        return self.drop(x + self.wpe(positions))

    def structure_index(
        self, idx: torch.Tensor, segments: torch.Tensor | None = None
    ) -> torch.Tensor:
        """The structure indices of every token (see ``GPTConfig.structure_size``).

        Args:
            idx: (batch, time) ids, each row read from its start.
            segments: (batch, time) packed-row numbers; a new segment restarts the counts
                like a reset token.

        Returns:
            (batch, time, levels) embedding rows: level 0, level 1 offset by ``structure_size``
            and, with ``structure_levels = 3``, level 2 offset by twice that.
        """
        size = self.config.structure_size
        if not size:
            raise ValueError("this model has no structure indices (GPTConfig.structure_size = 0)")
        T = idx.shape[1]
        opens, closes = self.struct_open[idx], self.struct_close[idx]
        resets = self.struct_reset[idx]
        if segments is not None:
            resets = resets.clone()
            resets[:, 1:] |= segments[:, 1:] != segments[:, :-1]
        t = torch.arange(T, device=idx.device).expand_as(idx)
        none = torch.full_like(t, -1)

        def since(marks: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
            # running sum of values that restarts at every mark (the mark's own value counts),
            # without a Python loop: the sum so far minus the sum before the last mark
            total = values.cumsum(1)
            last = torch.where(marks, t, none).cummax(dim=1).values
            before = (total - values).gather(1, last.clamp(min=0))
            return total - torch.where(last >= 0, before, torch.zeros_like(before))

        delta = opens.long() - closes.long()
        depth_before = since(resets, delta) - delta
        top = opens & (depth_before == 0)
        child = opens & (depth_before == 1)
        level0 = since(resets, top.long())
        level1 = since(resets | top, child.long())
        levels = [level0.clamp(max=size - 1), size + level1.clamp(max=size - 1)]
        if self.config.structure_levels == 3:
            # fields since the innermost open; closes do not restart it, so a parent's fields
            # after a child go on from the child's count instead of repeating its labels
            fields = since(resets | opens, self.struct_field[idx].long())
            inside = (depth_before + delta.clamp(min=0)) > 0
            levels.append(2 * size + torch.where(inside, fields, 0).clamp(max=size - 1))
        return torch.stack(levels, dim=2)

    def _shuffle_labels(
        self, structure: torch.Tensor, segments: torch.Tensor | None
    ) -> torch.Tensor:
        """Rename each packed row's structure labels (``GPTConfig.structure_shuffle``).

        Every (batch row, packed row, level) gets its own random permutation of the labels
        ``1 .. structure_size - 1``; label 0 (outside any element) stays 0. One packed row's
        prompt and target share its permutations, so matching labels still pair the k-th
        element of both; the labels' order carries nothing.
        """
        size = self.config.structure_size
        B, T, _ = structure.shape
        device = structure.device
        rows = (
            segments.long()
            if segments is not None
            else torch.zeros(B, T, dtype=torch.long, device=device)
        )
        n_rows, levels = int(rows.max()) + 1, structure.shape[2]
        perm = torch.rand(B, n_rows, levels, size - 1, device=device).argsort(dim=-1) + 1
        perm = torch.cat((perm.new_zeros(B, n_rows, levels, 1), perm), dim=-1)
        batch = torch.arange(B, device=device)[:, None]
        # The field level (structure_levels = 3) keeps its counts: its order is what tells
        # a target element whether the prompt's element has a next field (another
        # ``[cell_ref:``); a renamed field label could only pair fields, not end a run of them.
        renamed = [
            perm[batch, rows, level, structure[..., level] - level * size] + level * size
            if level < 2
            else structure[..., level]
            for level in range(levels)
        ]
        return torch.stack(renamed, dim=2)

    def forward(
        self,
        idx: torch.Tensor,
        targets: torch.Tensor | None = None,
        *,
        positions: torch.Tensor | None = None,
        segments: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Next-token logits for every position, and the loss when targets are given.

        Args:
            idx: (batch, time) token ids, time <= block_size.
            targets: (batch, time) next-token ids; ``-100`` marks positions without loss
                (prompt tokens, padding).
            positions: (batch, time) position of each token within its row, for several rows
                packed into one sequence (:func:`dslkit.train.packing.make_packed_batch`);
                given together with ``segments``.
            segments: (batch, time) which row of the sequence each token belongs to; a token
                attends only to earlier tokens of its own segment.

        Returns:
            ``(logits, loss)``. Without targets: logits (batch, time, vocab) and ``None``. With
            targets: the logits of the scored positions only, (n_scored, vocab) in row-major
            order, and the mean cross-entropy over them. The output head is the largest matmul
            of a small model and prompt and padding positions (half a training batch) need
            none of it.
        """
        if (positions is None) != (segments is None):
            raise ValueError("packed rows need both positions and segments")
        packed = None
        if positions is not None and segments is not None:
            T = idx.shape[1]
            causal = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
            mask = (segments[:, :, None] == segments[:, None, :]) & causal
            packed = (positions, mask.unsqueeze(1))  # (B, 1, T, T): the same for every head
        structure = None if self.wse is None else self.structure_index(idx, segments)
        if structure is not None and self.training and self.config.structure_shuffle:
            structure = self._shuffle_labels(structure, segments)
        x = self._embed(idx, 0, positions, structure)
        for block in self.blocks:
            x = block(x, packed=packed)
        if targets is None:
            return self.lm_head(self.ln_f(x)), None
        scored = targets != IGNORE_INDEX
        h = self.ln_f(x[scored])
        n = h.shape[0]
        if h.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN builds a bfloat16 matmul kernel per shape, and the scored count differs
            # every step: padded to a multiple of 64 rows, a run meets a few dozen shapes, not
            # hundreds (the demo's model on fresh batches, 2 threads: 17.6 -> 21.0 steps/s).
            h = F.pad(h, (0, 0, 0, -n % _SCORED_ROWS))
        logits = self.lm_head(h)[:n]
        loss = F.cross_entropy(logits.float(), targets[scored])
        return logits, loss

    # --- step API for decoders -------------------------------------------------------------

    @torch.no_grad()
    def init_cache(self, batch: int) -> KVCache:
        """An empty key/value cache for ``batch`` rows, on the model's device and dtype.

        Args:
            batch: number of rows that will be decoded together.

        Returns:
            A cache to pass to :meth:`forward_step`.
        """
        c = self.config
        shape = (batch, c.n_head, c.block_size, c.n_embd // c.n_head)
        dtype = self.lm_head.weight.dtype
        return KVCache(
            keys=[torch.zeros(shape, dtype=dtype, device=self.device) for _ in range(c.n_layer)],
            values=[torch.zeros(shape, dtype=dtype, device=self.device) for _ in range(c.n_layer)],
            ids=(
                torch.zeros(batch, c.block_size, dtype=torch.long, device=self.device)
                if self.wse is not None
                else None
            ),
        )

    @torch.no_grad()
    def forward_step(self, idx_new: torch.Tensor, cache: KVCache) -> torch.Tensor:
        """Feed new tokens after the cached ones and return their logits.

        The first call is the prefill (the whole prompt); later calls usually feed one token.
        Call ``model.eval()`` first so dropout is off.

        Args:
            idx_new: (batch, t) ids at positions ``cache.pos .. cache.pos + t - 1``.
            cache: from :meth:`init_cache`; advanced by ``t`` positions in place.

        Returns:
            (batch, t, vocab) logits; ``[:, -1]`` predicts the next token.
        """
        if idx_new.shape[0] != cache.batch_size:
            raise ValueError(f"batch {idx_new.shape[0]} does not match cache {cache.batch_size}")
        structure = None
        if self.wse is not None:
            if cache.ids is None:
                raise ValueError("this cache keeps no ids: make it with this model's init_cache")
            end = cache.pos + idx_new.shape[1]
            if end > self.config.block_size:
                raise ValueError(f"sequence of {end} positions exceeds block_size")
            cache.ids[:, cache.pos : end] = idx_new
            # O(sequence) per step: negligible beside attention over the same positions
            structure = self.structure_index(cache.ids[:, :end])[:, cache.pos :]
        x = self._embed(idx_new, cache.pos, None, structure)
        for layer, block in enumerate(self.blocks):
            x = block(x, cache, layer)
        cache.pos += idx_new.shape[1]
        return self.lm_head(self.ln_f(x))

    # --- generation ------------------------------------------------------------------------

    @torch.no_grad()
    def generate(
        self,
        idx: Sequence[int] | torch.Tensor,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        stop_ids: Collection[int] = (),
        logits_processor: LogitsProcessor | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> Generation:
        """Continue one prompt. See :meth:`generate_batch` for the arguments.

        Args:
            idx: the prompt ids, a list or a 1-D (or (1, t)) tensor.

        Returns:
            The :class:`Generation` of the row.
        """
        prompt = torch.as_tensor(idx, dtype=torch.long, device=self.device).reshape(1, -1)
        return self.generate_batch(
            prompt,
            max_new_tokens,
            temperature=temperature,
            top_k=top_k,
            stop_ids=stop_ids,
            logits_processor=logits_processor,
            generator=generator,
            use_cache=use_cache,
        )[0]

    @torch.no_grad()
    def generate_batch(
        self,
        idx: torch.Tensor,
        max_new_tokens: int,
        *,
        temperature: float = 1.0,
        top_k: int | None = None,
        stop_ids: Collection[int] = (),
        logits_processor: LogitsProcessor | None = None,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> list[Generation]:
        """Continue a batch of equal-length prompts until each stops or runs out.

        Args:
            idx: (batch, t) prompt ids (group prompts by length; there is no padding here).
            max_new_tokens: token budget per row.
            temperature: 0 means greedy (argmax); otherwise logits are divided by it and sampled.
            top_k: keep only the k most likely tokens before sampling.
            stop_ids: a row ends (``finish_reason="stop"``) right after emitting one of these.
            logits_processor: ``(ids_so_far, logits) -> logits`` called per unfinished row and
                step, before temperature and top-k; set disallowed ids to ``-inf`` to constrain.
            generator: the random generator for sampling (reproducible decoding).
            use_cache: False recomputes the whole sequence every step (a reference for tests).

        Returns:
            One :class:`Generation` per row.
        """
        if idx.dim() != 2 or idx.shape[1] == 0:
            raise ValueError("idx must be a non-empty (batch, time) tensor")
        B, prompt_len = idx.shape
        block_size = self.config.block_size
        if prompt_len > block_size:
            raise ValueError(f"prompt of {prompt_len} tokens exceeds block_size {block_size}")
        stops = frozenset(stop_ids)
        was_training = self.training
        self.eval()
        try:
            rows = [RowIds(b) for b in range(B)]
            reasons: list[FinishReason | None] = [None] * B
            cache = self.init_cache(B) if use_cache else None
            seq = idx.to(self.device)
            if cache is not None:
                logits = self.forward_step(seq, cache)[:, -1, :]
            else:
                logits = self(seq)[0][:, -1, :]
            for step in range(max_new_tokens):
                logits = logits.float()
                if logits_processor is not None:
                    for b in range(B):
                        if reasons[b] is None:
                            logits[b] = logits_processor(rows[b], logits[b])
                next_ids = _choose(logits, temperature, top_k, generator)
                for b, token in enumerate(next_ids.tolist()):
                    if reasons[b] is None:
                        rows[b].append(token)
                        if token in stops:
                            reasons[b] = "stop"
                if all(r is not None for r in reasons) or step + 1 == max_new_tokens:
                    break
                if (
                    prompt_len + step + 1 > block_size
                ):  # no position left to feed the new token into
                    reasons = [r if r is not None else "context" for r in reasons]
                    break
                new = next_ids.view(B, 1)
                if cache is not None:
                    logits = self.forward_step(new, cache)[:, -1, :]
                else:
                    seq = torch.cat([seq, new], dim=1)
                    logits = self(seq)[0][:, -1, :]
        finally:
            self.train(was_training)
        return [
            Generation(tuple(r), reason or "budget")
            for r, reason in zip(rows, reasons, strict=True)
        ]


def _choose(
    logits: torch.Tensor,
    temperature: float,
    top_k: int | None,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Pick one id per row from (batch, vocab) logits: argmax, or sample with temperature/top-k."""
    if temperature <= 0.0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, num_samples=1, generator=generator).view(-1)
