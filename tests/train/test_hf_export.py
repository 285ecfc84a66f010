"""``export-hf``: a dslkit run loads as a transformers GPT-2 (learned positions) or GPT-NeoX
(rotary positions) with the same logits and outputs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
from dslkit.tokenizer.corpus import gold_traces
from dslkit.train import hf_export
from dslkit.train.checkpoint import MODEL_FILE, save_model
from dslkit.train.cli import main
from dslkit.train.hf_export import gpt2_state_dict, neox_state_dict
from dslkit.train.model import GPT, GPTConfig

from dslkit import tokenizer
from dslkit.errors import ArtifactError

transformers = pytest.importorskip("transformers", reason="the [hf] extra is not installed")

PROMPTS = ["[task:trace] How many eggs are left? [OUT]", "[task:trace] Total cost? [OUT]"]
# rows of different lengths for the padded-batch logits check
BATCH_PROMPTS = [*PROMPTS, "[task:trace] Ann has 3 apples. How many? [OUT]"]


@pytest.fixture(scope="module")
def tok() -> tokenizer.DslTokenizer:
    return tokenizer.build("trace", corpus=gold_traces() + PROMPTS, vocab_size=400)


def make_run(root: Path, tok: tokenizer.DslTokenizer, **shape) -> tuple[Path, GPT]:
    torch.manual_seed(3)
    config = GPTConfig(
        vocab_size=tok.vocab_size, block_size=64, n_layer=2, n_head=2, n_embd=32, **shape
    )
    model = GPT(config).eval()
    with torch.no_grad():  # GPT-2 init repeats the last prompt token; louder weights vary
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.2)
    save_model(model, root / MODEL_FILE)
    tok.save(root / "tokenizer")
    return root, model


@pytest.mark.parametrize(
    "shape", [{"tie_weights": True, "bias": False}, {"tie_weights": False, "bias": True}]
)
def test_exported_model_matches_logits_and_greedy_outputs(tmp_path, tok, shape, capsys) -> None:
    run, model = make_run(tmp_path / "run", tok, **shape)
    out = tmp_path / "hf"
    assert main(["export-hf", str(run), str(out)]) == 0
    assert "wrote" in capsys.readouterr().out
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"} <= {
        p.name for p in out.iterdir()
    }
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(out)).eval()
    hf_tok = transformers.AutoTokenizer.from_pretrained(str(out))
    assert type(hf).__name__ == "GPT2LMHeadModel"
    assert hf.config.tie_word_embeddings is shape["tie_weights"]
    for prompt in PROMPTS:
        ids = tok.encode_row(prompt, "")[0]
        assert hf_tok(prompt.removesuffix("[OUT]")).input_ids == ids
        x = torch.tensor([ids])
        with torch.no_grad():
            diff = (model(x)[0] - hf(input_ids=x).logits).abs().max().item()
        assert diff <= 1e-5, diff
        ours = model.generate(ids, 24, temperature=0.0, stop_ids={tok.eos_id})
        theirs = hf.generate(
            x,
            attention_mask=torch.ones_like(x),
            max_new_tokens=24,
            do_sample=False,
            eos_token_id=tok.eos_id,
            pad_token_id=tok.pad_id,
        )[0, len(ids) :].tolist()
        assert list(ours.ids) == theirs[: len(ours.ids)]
        assert len(set(ours.ids)) > 1  # a constant output would match trivially


def test_a_weight_without_a_gpt2_place_refuses(tok) -> None:
    model = GPT(GPTConfig(vocab_size=tok.vocab_size, block_size=8, n_layer=1, n_head=1, n_embd=8))
    model.register_parameter("rotary_scale", torch.nn.Parameter(torch.ones(1)))
    with pytest.raises(ArtifactError, match=r"no GPT-2 place for weight.*rotary_scale"):
        gpt2_state_dict(model)


def test_export_errors_exit_2_with_a_message(tmp_path, tok, capsys, monkeypatch) -> None:
    run, _ = make_run(tmp_path / "run", tok)
    lone = tmp_path / "lone"
    lone.mkdir()
    (lone / MODEL_FILE).write_bytes((run / MODEL_FILE).read_bytes())
    assert main(["export-hf", str(lone), str(tmp_path / "o")]) == 2
    assert "no tokenizer folder" in capsys.readouterr().err
    (run / MODEL_FILE).write_bytes(b"garbage")
    assert main(["export-hf", str(run), str(tmp_path / "o")]) == 2
    assert f"cannot load checkpoint {run / MODEL_FILE}" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "transformers", None)  # as if [hf] were not installed
    assert main(["export-hf", str(run), str(tmp_path / "o")]) == 2
    assert "pip install 'dslkit[hf]'" in capsys.readouterr().err


@pytest.mark.parametrize("bias", [False, True])
@pytest.mark.parametrize("tie_weights", [True, False])
def test_rotary_model_exports_as_gpt_neox_with_the_same_logits_and_greedy_outputs(
    tmp_path, tok, bias, tie_weights, capsys
) -> None:
    run, model = make_run(tmp_path / "run", tok, rope=True, bias=bias, tie_weights=tie_weights)
    out = tmp_path / "hf"
    assert main(["export-hf", str(run), str(out)]) == 0
    assert "GPTNeoXForCausalLM" in capsys.readouterr().out
    assert {"config.json", "model.safetensors", "generation_config.json", "tokenizer.json"} <= {
        p.name for p in out.iterdir()
    }
    hf = transformers.AutoModelForCausalLM.from_pretrained(str(out)).eval()
    hf_tok = transformers.AutoTokenizer.from_pretrained(str(out))
    assert type(hf).__name__ == "GPTNeoXForCausalLM"
    assert hf.config.tie_word_embeddings is tie_weights
    assert not hf.config.use_parallel_residual
    assert (hf.config.bos_token_id, hf.config.eos_token_id) == (tok.bos_id, tok.eos_id)

    # one right-padded batch of rows of several lengths: each row's real positions must match
    # dslkit on that row alone (causal attention never looks at the padding after it)
    rows = [tok.encode_row(prompt, "")[0] for prompt in BATCH_PROMPTS]
    assert len({len(r) for r in rows}) == len(rows)
    width = max(len(r) for r in rows)
    batch = torch.tensor([r + [tok.pad_id] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.no_grad():
        theirs_logits = hf(input_ids=batch, attention_mask=mask).logits
        for i, ids in enumerate(rows):
            ours_logits = model(torch.tensor([ids]))[0][0]
            diff = (ours_logits - theirs_logits[i, : len(ids)]).abs().max().item()
            assert diff <= 1e-5, (i, diff)

    for prompt, ids in zip(BATCH_PROMPTS, rows, strict=True):
        assert hf_tok(prompt.removesuffix("[OUT]")).input_ids == ids
        x = torch.tensor([ids])
        ours = model.generate(ids, 24, temperature=0.0, stop_ids={tok.eos_id})
        theirs = hf.generate(  # greedy with transformers' KV cache
            x,
            attention_mask=torch.ones_like(x),
            max_new_tokens=24,
            do_sample=False,
            use_cache=True,
            eos_token_id=tok.eos_id,
            pad_token_id=tok.pad_id,
        )[0, len(ids) :].tolist()
        assert list(ours.ids) == theirs[: len(ours.ids)]
        assert len(set(ours.ids)) > 1  # a constant output would match trivially


def test_neox_qkv_puts_each_heads_q_k_v_rows_together() -> None:
    # rows numbered by (part, head, row in head) as dslkit lays them out: [q | k | v]
    n_head, head_size = 3, 2
    rows = torch.arange(3 * n_head * head_size)
    fused = hf_export.neox_qkv(rows, n_head)
    expected = [
        part * n_head * head_size + head * head_size + r
        for head in range(n_head)
        for part in range(3)
        for r in range(head_size)
    ]
    assert fused.tolist() == expected
    weight = torch.randn(3 * n_head * head_size, 5)
    assert torch.equal(hf_export.neox_qkv(weight, n_head), weight[torch.tensor(expected)])


def test_rotary_export_refuses_logits_that_differ_and_writes_nothing(
    tmp_path, tok, monkeypatch
) -> None:
    run, _ = make_run(tmp_path / "run", tok, rope=True)
    monkeypatch.setattr(hf_export, "ROPE_BASE", 500.0)  # a rotary table dslkit does not use
    out = tmp_path / "hf"
    with pytest.raises(ArtifactError, match=r"cannot export to GPT-NeoX: converted logits differ"):
        hf_export.export_hf(run, out)
    assert not out.exists()


def test_each_mapping_refuses_the_other_position_kind_and_unplaced_weights(tok) -> None:
    shape = {"vocab_size": tok.vocab_size, "block_size": 8, "n_layer": 1, "n_head": 1}
    learned = GPT(GPTConfig(**shape, n_embd=8))
    rotary = GPT(GPTConfig(**shape, n_embd=8, rope=True))
    with pytest.raises(ArtifactError, match=r"GPT-NeoX: GPTConfig field\(s\) rope"):
        neox_state_dict(learned)
    with pytest.raises(ArtifactError, match=r"GPT-2: GPTConfig field\(s\) rope"):
        gpt2_state_dict(rotary)
    rotary.register_parameter("rotary_scale", torch.nn.Parameter(torch.ones(1)))
    with pytest.raises(ArtifactError, match=r"no GPT-NeoX place for weight.*rotary_scale"):
        neox_state_dict(rotary)
