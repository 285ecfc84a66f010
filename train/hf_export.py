"""Export a trained dslkit GPT as a Hugging Face ``GPT2LMHeadModel`` folder.

``python -m dslkit.train export-hf RUN_DIR OUT_DIR`` writes ``config.json``,
``model.safetensors``, ``generation_config.json`` and the tokenizer files, so the run loads with
``AutoModelForCausalLM.from_pretrained(OUT_DIR)`` and ``AutoTokenizer.from_pretrained(OUT_DIR)``
and computes the same logits.

How :mod:`dslkit.train.model` maps onto GPT-2 (checked, not assumed: :func:`export_hf` compares
the logits of both models before it writes anything):

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

__all__ = ["MAPPED_FIELDS", "export_hf", "gpt2_config", "gpt2_state_dict"]

# The GPTConfig fields the mapping above covers; any other field refuses the export.
MAPPED_FIELDS = frozenset(
    {"vocab_size", "block_size", "n_layer", "n_head", "n_embd", "dropout", "bias", "tie_weights"}
)
# Largest |logit difference| the export accepts between dslkit and transformers (float32).
TOLERANCE = 1e-4


def _check_mappable(config: GPTConfig) -> None:
    unknown = {f.name for f in dataclasses.fields(config)} - MAPPED_FIELDS
    if not config.rope:  # rotary positions off: the model has GPT-2's learned positions
        unknown.discard("rope")
    if unknown:
        raise ArtifactError(
            f"cannot export to GPT-2: GPTConfig field(s) {', '.join(sorted(unknown))} have no "
            "GPT-2 equivalent in dslkit.train.hf_export"
        )


def gpt2_config(config: GPTConfig, special_ids: dict[str, int] | None = None) -> Any:
    """The ``transformers.GPT2Config`` computing what a dslkit ``GPTConfig`` computes.

    Args:
        config: the dslkit model shape.
        special_ids: ``{"<|bos|>": id, "<|eos|>": id, "<|pad|>": id}`` for generation defaults.

    Returns:
        A ``GPT2Config``.
    """
    _check_mappable(config)
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


def gpt2_state_dict(model: GPT) -> dict[str, torch.Tensor]:
    """The dslkit weights under GPT-2 names and layouts (zeros for biases dslkit leaves out).

    Args:
        model: the dslkit model.

    Returns:
        A state dict for ``GPT2LMHeadModel.load_state_dict``.

    Raises:
        ArtifactError: the model has a weight this mapping does not place.
    """
    _check_mappable(model.config)
    sd = {k: v.detach().float().cpu() for k, v in model.state_dict().items()}
    c = model.config
    out: dict[str, torch.Tensor] = {
        "transformer.wte.weight": sd.pop("wte.weight"),
        "transformer.wpe.weight": sd.pop("wpe.weight"),
    }
    head = sd.pop("lm_head.weight")
    if not c.tie_weights:
        out["lm_head.weight"] = head

    def norm(src: str, dst: str) -> None:
        weight = sd.pop(f"{src}.weight")
        out[f"{dst}.weight"] = weight
        out[f"{dst}.bias"] = sd.pop(f"{src}.bias", torch.zeros_like(weight))

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
    if sd:
        raise ArtifactError(
            f"cannot export to GPT-2: no GPT-2 place for weight(s) {', '.join(sorted(sd))}"
        )
    return out


def export_hf(
    source: str | Path, out_dir: str | Path, *, tokenizer_dir: str | Path | None = None
) -> Path:
    """Write a ``GPT2LMHeadModel`` folder for a dslkit run.

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
            GPT-2 cannot express, or logits that differ after conversion.
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
    hf_model = transformers.GPT2LMHeadModel(gpt2_config(model.config, tok.special_ids))  # type: ignore[union-attr]
    missing, unexpected = hf_model.load_state_dict(gpt2_state_dict(model), strict=False)
    # With tied embeddings GPT-2 has no lm_head.weight of its own to load; nothing else may be
    # left out (a missing key would keep its random init).
    left = set(missing) - ({"lm_head.weight"} if model.config.tie_weights else set())
    if left or unexpected:
        raise ArtifactError(
            f"cannot export to GPT-2: missing {sorted(left)}, unexpected {sorted(unexpected)}"
        )
    hf_model.tie_weights()
    hf_model.eval()
    _check_same_logits(model, hf_model)
    out.mkdir(parents=True, exist_ok=True)
    hf_model.save_pretrained(str(out))
    tok.save(out)
    return out


def _check_same_logits(model: GPT, hf_model: Any) -> None:
    """Refuse to write a model that computes something else (an unmapped difference)."""
    n = min(model.config.block_size, 16)
    ids = torch.arange(n).remainder(model.config.vocab_size).view(1, n)
    with torch.no_grad():
        ours = model(ids)[0]
        theirs = hf_model(input_ids=ids).logits
    diff = float((ours - theirs).abs().max())
    if not diff <= TOLERANCE:
        raise ArtifactError(
            f"cannot export to GPT-2: converted logits differ by {diff:.3g} (> {TOLERANCE})"
        )
