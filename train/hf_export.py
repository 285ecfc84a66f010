"""Export a trained dslkit GPT as a Hugging Face ``GPT2LMHeadModel`` or ``GPTNeoXForCausalLM`` folder.

``python -m dslkit.train export-hf RUN_DIR OUT_DIR`` writes ``config.json``,
``model.safetensors``, ``generation_config.json`` and the tokenizer files, so the run loads with
``AutoModelForCausalLM.from_pretrained(OUT_DIR)`` and ``AutoTokenizer.from_pretrained(OUT_DIR)``
and computes the same logits. A model with learned positions becomes a ``GPT2LMHeadModel``; a
rotary one (``GPTConfig.rope``) a ``GPTNeoXForCausalLM``.

Both mappings are checked, not assumed: :func:`export_hf` compares the logits of the dslkit model
and the transformers one on the same ids before it writes anything, and refuses beyond
:data:`TOLERANCE`. How :mod:`dslkit.train.model` maps onto GPT-2 (learned positions):

* blocks are pre-norm in both (``x + attn(ln_1(x))``, ``x + mlp(ln_2(x))``, a final ``ln_f``);
  LayerNorm eps 1e-5 in both;
* dslkit's MLP uses the exact (erf) GELU, GPT-2's default is the tanh approximation
  (``gelu_new``): the export sets ``activation_function="gelu"``, the exact one;
* ``bias=False`` models have no Linear/LayerNorm biases, GPT-2 always has them: they are
  exported as zeros, which computes the same function;
* GPT-2's ``Conv1D`` stores weights as (in, out), ``nn.Linear`` as (out, in): transposed;
* learned positions (``wpe``, ``n_positions = block_size``), attention scaled by
  1/sqrt(head_dim), no bias on the output head, in both;
* tied input/output embeddings map to ``tie_word_embeddings``; untied ones are exported as a
  separate ``lm_head.weight``.

How a rotary model maps onto GPT-NeoX (the same blocks, LayerNorms, GELU, scaling, head and
zero-for-missing biases as above, plus):

* dslkit rotates each head's first half against its second half with inverse frequencies
  ``10000^(-i/half)`` from position 0: NeoX's ``rotate_half`` with ``rope_theta=10000`` and
  ``partial_rotary_factor=1.0`` (every dimension rotated; NeoX's own default rotates a quarter);
* NeoX adds attention and MLP to the residual in parallel by default; dslkit's blocks are
  sequential: ``use_parallel_residual=False``;
* NeoX's fused ``query_key_value`` is read per head (``view(..., n_head, 3 * head_size)``: the
  q, k and v rows of head 0, then of head 1, ...) where dslkit's ``c_attn`` is ``[all q | all k |
  all v]``: the rows (and bias) are permuted, see :func:`neox_qkv`;
* ``bias=False`` maps to ``attention_bias=False`` (no q/k/v/output-projection biases); NeoX's MLP
  and LayerNorms always have biases, exported as zeros;
* ``max_position_embeddings = block_size``: dslkit cannot read past it; NeoX computes the
  rotation for any position, so a transformers ``generate`` may run on where dslkit stops.

A :class:`GPTConfig` field this module does not know (a future architecture option) makes the
export refuse with a :class:`~dslkit.errors.ArtifactError` rather than write a model that
computes something else.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import torch
from dslkit.train.checkpoint import find_model, load_model
from dslkit.train.model import GPT, GPTConfig

from dslkit._extras import require
from dslkit.errors import ArtifactError

__all__ = [
    "MAPPED_FIELDS",
    "ROPE_BASE",
    "TOLERANCE",
    "export_hf",
    "gpt2_config",
    "gpt2_state_dict",
    "neox_config",
    "neox_qkv",
    "neox_state_dict",
]

# The GPTConfig fields the mappings above cover; any other field refuses the export. ``rope``
# picks the mapping: off -> GPT-2, on -> GPT-NeoX.
MAPPED_FIELDS = frozenset(
    {
        "vocab_size",
        "block_size",
        "n_layer",
        "n_head",
        "n_embd",
        "dropout",
        "structure_shuffle",  # like dropout, a training-time draw: nothing to compute after
        "bias",
        "tie_weights",
        "rope",
    }
)
# Largest |logit difference| the export accepts between dslkit and transformers (float32).
TOLERANCE = 1e-4
# dslkit.train.model's rotary base (its inverse frequencies are ROPE_BASE^(-i/half)); the logits
# check catches a model that was built with another one.
ROPE_BASE = 10000.0


def _check_mappable(config: GPTConfig, *, rotary: bool) -> None:
    target = "GPT-NeoX" if rotary else "GPT-2"
    # a field left at its default computes nothing new (structure indices off, say)
    unknown = {
        f.name
        for f in dataclasses.fields(config)
        if f.name not in MAPPED_FIELDS and getattr(config, f.name) != f.default
    }
    if config.rope != rotary:
        unknown.add("rope")  # learned positions have no NeoX place, rotary ones no GPT-2 place
    if unknown:
        hint = (
            "; structure labels are an input no Hugging Face model reads: train with "
            "--model.structure_size=0 to export"
            if "structure_size" in unknown
            else ""
        )
        raise ArtifactError(
            f"cannot export to {target}: GPTConfig field(s) {', '.join(sorted(unknown))} have no "
            f"{target} equivalent in dslkit.train.hf_export (rope={config.rope} exports as "
            f"{'GPTNeoXForCausalLM' if config.rope else 'GPT2LMHeadModel'}){hint}"
        )


def gpt2_config(config: GPTConfig, special_ids: dict[str, int] | None = None) -> Any:
    """The ``transformers.GPT2Config`` computing what a dslkit ``GPTConfig`` computes.

    Args:
        config: the dslkit model shape.
        special_ids: ``{"<|bos|>": id, "<|eos|>": id, "<|pad|>": id}`` for generation defaults.

    Returns:
        A ``GPT2Config``.
    """
    _check_mappable(config, rotary=False)
    transformers = require("transformers", extra="hf", feature="export-hf")
    ids = special_ids or {}
    return transformers.GPT2Config(  # type: ignore[union-attr]
        vocab_size=config.vocab_size,
        n_positions=config.block_size,
        n_embd=config.n_embd,
        n_layer=config.n_layer,
        n_head=config.n_head,
        n_inner=4 * config.n_embd,
        activation_function="gelu",  # exact erf GELU, as nn.GELU(); GPT-2's own is gelu_new
        resid_pdrop=config.dropout,
        embd_pdrop=config.dropout,
        attn_pdrop=config.dropout,
        layer_norm_epsilon=1e-5,  # nn.LayerNorm's default
        scale_attn_weights=True,
        scale_attn_by_inverse_layer_idx=False,
        reorder_and_upcast_attn=False,
        tie_word_embeddings=config.tie_weights,
        bos_token_id=ids.get("<|bos|>"),
        eos_token_id=ids.get("<|eos|>"),
        pad_token_id=ids.get("<|pad|>"),
    )


class _Moved:
    """The weights of one export in flight: taken out of ``sd`` as they are placed in ``out``.

    Both mappings share the embedding, the (optionally tied) output head, LayerNorms (biases
    exported as zeros when dslkit has none) and the final check that nothing was left behind.
    """

    def __init__(self, model: GPT, embedding: str) -> None:
        self.sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
        self.out: dict[str, torch.Tensor] = {embedding: self.sd.pop("wte.weight")}
        head = self.sd.pop("lm_head.weight")
        if not model.config.tie_weights:
            self.out["lm_head.weight"] = head

    def norm(self, src: str, dst: str) -> None:
        weight = self.sd.pop(f"{src}.weight")
        self.out[f"{dst}.weight"] = weight
        self.out[f"{dst}.bias"] = self.sd.pop(f"{src}.bias", torch.zeros_like(weight))

    def done(self, arch: str) -> dict[str, torch.Tensor]:
        if self.sd:
            raise ArtifactError(
                f"cannot export to {arch}: no {arch} place for weight(s) "
                f"{', '.join(sorted(self.sd))}"
            )
        return self.out


def gpt2_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    """The dslkit weights under GPT-2 names and layouts (zeros for biases dslkit leaves out).

    Args:
        model: the dslkit model.

    Returns:
        A state dict for ``GPT2LMHeadModel.load_state_dict``.

    Raises:
        ArtifactError: the model has a weight this mapping does not place.
    """
    _check_mappable(model.config, rotary=False)
    moved = _Moved(model, "transformer.wte.weight")
    sd, out, norm, c = moved.sd, moved.out, moved.norm, model.config
    out["transformer.wpe.weight"] = sd.pop("wpe.weight")

    def linear(src: str, dst: str) -> None:
        weight = sd.pop(f"{src}.weight")  # (out, in)
        out[f"{dst}.weight"] = weight.t().contiguous()  # Conv1D: (in, out)
        out[f"{dst}.bias"] = sd.pop(f"{src}.bias", torch.zeros(weight.shape[0]))

    for i in range(c.n_layer):
        src, dst = f"blocks.{i}", f"transformer.h.{i}"
        norm(f"{src}.ln_1", f"{dst}.ln_1")
        linear(f"{src}.attn.c_attn", f"{dst}.attn.c_attn")
        linear(f"{src}.attn.c_proj", f"{dst}.attn.c_proj")
        norm(f"{src}.ln_2", f"{dst}.ln_2")
        linear(f"{src}.mlp.c_fc", f"{dst}.mlp.c_fc")
        linear(f"{src}.mlp.c_proj", f"{dst}.mlp.c_proj")
    norm("ln_f", "transformer.ln_f")
    return moved.done("GPT-2")


def neox_config(config: GPTConfig, special_ids: dict[str, int] | None = None) -> Any:
    """The ``transformers.GPTNeoXConfig`` computing what a rotary dslkit ``GPTConfig`` computes.

    Args:
        config: the dslkit model shape (``rope=True``).
        special_ids: ``{"<|bos|>": id, "<|eos|>": id, "<|pad|>": id}`` for generation defaults.

    Returns:
        A ``GPTNeoXConfig``.

    Raises:
        ArtifactError: the model is not rotary, or has a field this mapping does not know.
    """
    _check_mappable(config, rotary=True)
    transformers = require("transformers", extra="hf", feature="export-hf")
    ids = special_ids or {}
    return transformers.GPTNeoXConfig(  # type: ignore[union-attr]
        vocab_size=config.vocab_size,
        hidden_size=config.n_embd,
        num_hidden_layers=config.n_layer,
        num_attention_heads=config.n_head,
        intermediate_size=4 * config.n_embd,
        hidden_act="gelu",  # exact erf GELU, as nn.GELU()
        attention_dropout=config.dropout,
        hidden_dropout=config.dropout,
        max_position_embeddings=config.block_size,
        layer_norm_eps=1e-5,  # nn.LayerNorm's default
        use_parallel_residual=False,  # x + attn(ln_1(x)), then + mlp(ln_2(.)): sequential
        # every head dimension rotated (NeoX's default partial factor is 0.25), dslkit's base
        rope_parameters={
            "rope_type": "default",
            "rope_theta": ROPE_BASE,
            "partial_rotary_factor": 1.0,
        },
        attention_bias=config.bias,
        tie_word_embeddings=config.tie_weights,
        bos_token_id=ids.get("<|bos|>"),
        eos_token_id=ids.get("<|eos|>"),
        pad_token_id=ids.get("<|pad|>"),
    )


def neox_qkv(fused: torch.Tensor, n_head: int) -> torch.Tensor:
    """Reorder dslkit's ``c_attn`` rows (weight or bias) into NeoX's per-head ``query_key_value``.

    dslkit splits its output as ``[q | k | v]``, each ``n_head`` heads of ``head_size`` rows;
    NeoX views its output as ``(n_head, 3 * head_size)``: head h's q, k, v rows sit together.

    Args:
        fused: ``(3 * n_embd, n_embd)`` weight or ``(3 * n_embd,)`` bias.
        n_head: the number of heads.

    Returns:
        The same rows in NeoX order.
    """
    rest = fused.shape[1:]
    head_size = fused.shape[0] // (3 * n_head)
    per_part = fused.reshape(3, n_head, head_size, *rest)  # (q/k/v, head, row in head, ...)
    return per_part.transpose(0, 1).reshape(fused.shape).contiguous()


def neox_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    """The rotary dslkit weights under GPT-NeoX names and layouts (zeros for missing biases).

    Args:
        model: the dslkit model (``rope=True``).

    Returns:
        A state dict for ``GPTNeoXForCausalLM.load_state_dict``.

    Raises:
        ArtifactError: the model is not rotary, or has a weight this mapping does not place.
    """
    _check_mappable(model.config, rotary=True)
    moved = _Moved(model, "gpt_neox.embed_in.weight")
    sd, out, norm, c = moved.sd, moved.out, moved.norm, model.config

    def linear(src: str, dst: str, *, has_bias: bool = True) -> None:
        weight = sd.pop(f"{src}.weight")  # nn.Linear in both: (out, in), no transpose
        out[f"{dst}.weight"] = weight
        bias = sd.pop(f"{src}.bias", None)
        if has_bias:
            out[f"{dst}.bias"] = torch.zeros(weight.shape[0]) if bias is None else bias

    for i in range(c.n_layer):
        src, dst = f"blocks.{i}", f"gpt_neox.layers.{i}"
        norm(f"{src}.ln_1", f"{dst}.input_layernorm")
        qkv = f"{dst}.attention.query_key_value"
        out[f"{qkv}.weight"] = neox_qkv(sd.pop(f"{src}.attn.c_attn.weight"), c.n_head)
        if c.bias:  # attention_bias=c.bias: NeoX has no q/k/v bias exactly when dslkit has none
            out[f"{qkv}.bias"] = neox_qkv(sd.pop(f"{src}.attn.c_attn.bias"), c.n_head)
        linear(f"{src}.attn.c_proj", f"{dst}.attention.dense", has_bias=c.bias)
        norm(f"{src}.ln_2", f"{dst}.post_attention_layernorm")
        linear(f"{src}.mlp.c_fc", f"{dst}.mlp.dense_h_to_4h")
        linear(f"{src}.mlp.c_proj", f"{dst}.mlp.dense_4h_to_h")
    norm("ln_f", "gpt_neox.final_layer_norm")
    return moved.done("GPT-NeoX")


def export_hf(
    source: str | Path, out_dir: str | Path, *, tokenizer_dir: str | Path | None = None
) -> Path:
    """Write a ``GPT2LMHeadModel`` (learned positions) or ``GPTNeoXForCausalLM`` (rotary) folder.

    Args:
        source: a run folder (its ``model.safetensors`` and ``tokenizer/``) or a checkpoint file
            (its folder's ``tokenizer/``).
        out_dir: the folder to write (created).
        tokenizer_dir: the tokenizer folder, when it is not ``<run>/tokenizer``.

    Returns:
        ``out_dir``.

    Raises:
        MissingExtraError: transformers is not installed (``pip install 'dslkit[hf]'``).
        CheckpointError: the checkpoint does not load.
        ArtifactError: no tokenizer, a tokenizer with more ids than the model, an architecture
            GPT-2 / GPT-NeoX cannot express, or logits that differ after conversion.
        TokenizerError: the tokenizer folder does not load.
    """
    transformers = require("transformers", extra="hf", feature="export-hf")
    from dslkit import tokenizer as dsl_tokenizer

    source, out = Path(source), Path(out_dir)
    ckpt = find_model(source) if source.is_dir() else source
    tok_dir = Path(tokenizer_dir) if tokenizer_dir else ckpt.parent / "tokenizer"
    if not tok_dir.is_dir():
        raise ArtifactError(f"no tokenizer folder at {tok_dir}: pass --tokenizer")
    model = load_model(ckpt)
    tok = dsl_tokenizer.load(tok_dir)
    if tok.vocab_size > model.config.vocab_size:
        raise ArtifactError(
            f"tokenizer {tok_dir} has {tok.vocab_size} ids but the model only "
            f"{model.config.vocab_size}: they were not trained together"
        )
    if model.config.rope:
        target = "GPT-NeoX"
        hf_model = transformers.GPTNeoXForCausalLM(neox_config(model.config, tok.special_ids))  # type: ignore[union-attr]
        state = neox_state_dict(model)
    else:
        target = "GPT-2"
        hf_model = transformers.GPT2LMHeadModel(gpt2_config(model.config, tok.special_ids))  # type: ignore[union-attr]
        state = gpt2_state_dict(model)
    missing, unexpected = hf_model.load_state_dict(state, strict=False)
    # With tied embeddings the model has no lm_head.weight of its own to load; nothing else may be
    # left out (a missing key would keep its random init).
    left = set(missing) - ({"lm_head.weight"} if model.config.tie_weights else set())
    if left or unexpected:
        raise ArtifactError(
            f"cannot export to {target}: missing {sorted(left)}, unexpected {sorted(unexpected)}"
        )
    hf_model.tie_weights()
    hf_model.eval()
    _check_same_logits(model, hf_model, target)
    out.mkdir(parents=True, exist_ok=True)
    hf_model.save_pretrained(str(out))
    tok.save(out)
    return out


def _check_same_logits(model: GPT, hf_model: Any, target: str) -> None:
    """Refuse to write a model that computes something else (an unmapped difference)."""
    n = min(model.config.block_size, 16)
    ids = torch.arange(n).remainder(model.config.vocab_size).view(1, n)
    with torch.no_grad():
        ours = model(ids)[0]
        theirs = hf_model(input_ids=ids).logits
    diff = float((ours - theirs).abs().max())
    if not diff <= TOLERANCE:
        raise ArtifactError(
            f"cannot export to {target}: converted logits differ by {diff:.3g} (> {TOLERANCE})"
        )
