"""GPTConfig.rope: rotary positions instead of learned ones (cached = uncached, relative, no wpe)."""

from __future__ import annotations

import pytest
import torch
from dslkit.train.hf_export import gpt2_state_dict
from dslkit.train.model import GPT, GPTConfig

from dslkit.errors import ArtifactError

torch.set_num_threads(1)

CFG = GPTConfig(vocab_size=29, block_size=32, n_layer=2, n_head=2, n_embd=16, rope=True)


def make_model(seed: int = 0, **changes: object) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(**{**CFG.__dict__, **changes})).eval()


def test_cached_steps_match_the_full_forward() -> None:
    model = make_model()
    idx = torch.randint(0, 29, (3, 14))
    full, _ = model(idx)
    cache = model.init_cache(3)
    parts = [model.forward_step(idx[:, :6], cache)]  # prefill
    parts += [model.forward_step(idx[:, t : t + 1], cache) for t in range(6, 10)]  # one by one
    parts.append(model.forward_step(idx[:, 10:], cache))  # several after a prefix
    torch.testing.assert_close(torch.cat(parts, dim=1), full, rtol=1e-5, atol=1e-5)


def test_positions_are_relative_and_no_position_weights_exist() -> None:
    model = make_model()
    assert model.wpe is None
    assert not any("wpe" in k or "rope" in k for k in model.state_dict())  # buffers not saved
    assert model.num_params() == model.num_params(non_embedding=True)
    learned = make_model(rope=False)
    assert model.num_params() == learned.num_params() - learned.wpe.weight.numel()  # type: ignore[union-attr]
    # attention scores see only offsets: q at i against k at j equals q at i+s against k at j+s
    attn = model.blocks[0].attn
    q, k = torch.randn(1, 1, 1, 8), torch.randn(1, 1, 1, 8)
    score = (attn._rotate(q, 9) * attn._rotate(k, 4)).sum()
    torch.testing.assert_close(score, (attn._rotate(q, 20) * attn._rotate(k, 15)).sum())
    assert not torch.allclose(score, (attn._rotate(q, 20) * attn._rotate(k, 4)).sum())


def test_rope_needs_an_even_head_and_does_not_export_to_gpt2() -> None:
    with pytest.raises(ValueError, match="even head size"):
        GPTConfig(vocab_size=29, n_head=4, n_embd=12, rope=True)
    with pytest.raises(ArtifactError, match="rope"):
        gpt2_state_dict(make_model())
    assert "transformer.wpe.weight" in gpt2_state_dict(make_model(rope=False))
