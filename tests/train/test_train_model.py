"""The model: shapes, loss masking, cached generation, stop ids, budgets, the logits hook."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from dslkit.train.model import GPT, GPTConfig, resolve_device

torch.set_num_threads(1)  # tiny matrices: threads cost more than they give on 2 shared cores

CFG = GPTConfig(vocab_size=37, block_size=24, n_layer=2, n_head=2, n_embd=32)


def make_model(seed: int = 0, **changes: object) -> GPT:
    torch.manual_seed(seed)
    return GPT(GPTConfig(**{**CFG.__dict__, **changes})).eval()


def test_forward_shapes_and_loss_only_on_unmasked_targets() -> None:
    model = make_model()
    idx = torch.randint(0, 37, (3, 10))
    logits, loss = model(idx)
    assert logits.shape == (3, 10, 37) and loss is None

    targets = torch.randint(0, 37, (3, 10))
    targets[:, :4] = -100  # prompt positions
    targets[2, 7:] = -100  # padding
    scored_logits, loss = model(idx, targets)
    keep = targets != -100
    expected = F.cross_entropy(logits[keep], targets[keep])
    assert loss is not None
    torch.testing.assert_close(loss, expected)
    # with targets the head runs on the scored positions only, in row-major order
    assert scored_logits.shape == (int(keep.sum()), 37)
    torch.testing.assert_close(scored_logits, logits[keep])

    # Whatever sits at a masked position cannot move the loss.
    other = targets.clone()
    other[:, :4] = -100
    other[2, 7:] = -100
    assert torch.equal(model(idx, other)[1], loss)
    changed = targets.clone()
    changed[0, 5] = (changed[0, 5] + 1) % 37
    assert not torch.equal(model(idx, changed)[1], loss)


def test_rejects_sequences_longer_than_block_size() -> None:
    with pytest.raises(ValueError, match="block_size"):
        make_model()(torch.zeros(1, 25, dtype=torch.long))


def test_tied_weights_share_one_matrix_and_count_once() -> None:
    tied, untied = make_model(), make_model(tie_weights=False)
    assert tied.lm_head.weight is tied.wte.weight
    assert untied.num_params() - tied.num_params() == 37 * 32
    assert tied.num_params(non_embedding=True) == tied.num_params() - 24 * 32


def test_forward_step_matches_full_forward() -> None:
    model = make_model()
    idx = torch.randint(0, 37, (2, 12))
    full, _ = model(idx)
    cache = model.init_cache(2)
    parts = [model.forward_step(idx[:, :5], cache)]  # prefill
    parts.append(model.forward_step(idx[:, 5:9], cache))  # several tokens after a prefix
    parts += [model.forward_step(idx[:, t : t + 1], cache) for t in range(9, 12)]  # one by one
    assert cache.pos == 12
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_cached_and_uncached_generation_give_identical_tokens(seed: int) -> None:
    model = make_model(seed)
    prompt = torch.randint(0, 37, (3, 4), generator=torch.Generator().manual_seed(seed))
    greedy = [model.generate_batch(prompt, 18, temperature=0.0, use_cache=c) for c in (True, False)]
    assert greedy[0] == greedy[1]
    assert all(len(g.ids) == 18 for g in greedy[0])  # no stop ids: runs to the budget

    sampled = [
        model.generate_batch(
            prompt,
            18,
            temperature=0.8,
            top_k=10,
            generator=torch.Generator().manual_seed(seed),
            use_cache=c,
        )
        for c in (True, False)
    ]
    assert sampled[0] == sampled[1]


def test_stop_id_ends_a_row_and_budget_flags_the_rest() -> None:
    model = make_model()
    prompt = [3, 4, 5]
    free = model.generate(prompt, 10, temperature=0.0)
    assert free.finish_reason == "budget" and free.hit_budget and not free.stopped
    assert len(free.ids) == 10

    stop = free.ids[3]
    first = free.ids.index(stop)
    ended = model.generate(prompt, 10, temperature=0.0, stop_ids={stop})
    assert ended.stopped and not ended.hit_budget
    assert ended.ids == free.ids[: first + 1]  # the stop id is kept, nothing after it


def test_batch_rows_stop_independently() -> None:
    model = make_model()
    prompts = torch.tensor([[3, 4, 5], [9, 9, 1]])
    alone = [model.generate(p, 8, temperature=0.0) for p in prompts]
    stop = alone[0].ids[1]
    together = model.generate_batch(prompts, 8, temperature=0.0, stop_ids=[stop])
    for single, batched in zip(alone, together, strict=True):
        if stop in single.ids:
            assert batched.ids == single.ids[: single.ids.index(stop) + 1] and batched.stopped
        else:
            assert batched.ids == single.ids and batched.hit_budget


def test_context_window_ends_generation() -> None:
    model = make_model()
    gen = model.generate(list(range(20)), 50, temperature=0.0)
    # 20 prompt positions + 4 fed tokens fill block_size 24; the 5th token needs no position.
    assert gen.finish_reason == "context" and gen.hit_budget and len(gen.ids) == 5
    with pytest.raises(ValueError, match="block_size"):
        model.generate(list(range(25)), 1)


def test_logits_processor_constrains_every_step_and_sees_the_prefix() -> None:
    model = make_model()
    seen: list[tuple[int, ...]] = []

    def only_increasing(ids: list[int], logits: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(ids))
        nxt = (ids[-1] + 1) % 37 if ids else 7
        masked = torch.full_like(logits, float("-inf"))
        masked[nxt] = logits[nxt]
        return masked

    gen = model.generate([1, 2], 5, temperature=1.0, logits_processor=only_increasing)
    assert gen.ids == (7, 8, 9, 10, 11)
    assert seen == [(), (7,), (7, 8), (7, 8, 9), (7, 8, 9, 10)]


def test_generate_restores_training_mode() -> None:
    model = make_model().train()
    model.generate([1], 2)
    assert model.training


def test_device_choice() -> None:
    assert resolve_device("cpu").type == "cpu"
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            resolve_device("cuda")


def test_config_rejects_bad_shapes() -> None:
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(n_embd=30, n_head=4)
    with pytest.raises(ValueError, match="vocab_size"):
        GPT(GPTConfig())


def test_attention_runs_in_float32_under_cpu_bfloat16_autocast() -> None:
    # bfloat16 attention's backward is slow on CPU; the model computes attention in float32
    # there (and keeps bfloat16 for the matmuls around it).
    from dslkit.train.model import _attention

    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 4, 16, 8, generator=g).bfloat16() for _ in range(3))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y = _attention(q, k, v, is_causal=True)
    want = F.scaled_dot_product_attention(q.float(), k.float(), v.float(), is_causal=True)
    assert y.dtype == torch.bfloat16
    assert torch.equal(y, want.bfloat16())
    plain = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    assert not torch.equal(plain, want.bfloat16())  # bfloat16 attention really differs


def test_scored_rows_padded_under_cpu_bfloat16_autocast_keep_logits_and_loss() -> None:
    # The output projection's rows are padded for oneDNN's kernel cache; what comes back is
    # still one logits row per scored position and the loss over those alone.
    torch.manual_seed(0)
    model = GPT(CFG).eval()
    idx = torch.randint(0, CFG.vocab_size, (3, 20))
    targets = idx.clone()
    targets[:, :7] = -100  # 13 scored positions a row: 39, not a multiple of the padding
    want_logits, want_loss = model(idx, targets)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        logits, loss = model(idx, targets)
    assert logits.shape == want_logits.shape == (39, CFG.vocab_size)
    assert loss is not None and want_loss is not None
    assert abs(loss.item() - want_loss.item()) < 0.05
    assert torch.allclose(logits.float(), want_logits, atol=0.1)


def test_auto_dtype_takes_bfloat16_only_where_the_cpu_multiplies_it_natively(monkeypatch) -> None:
    from dslkit.train.model import resolve_dtype

    cpu = torch.device("cpu")
    assert resolve_dtype("float32", cpu) == "float32"
    assert resolve_dtype("bfloat16", cpu) == "bfloat16"
    for amx, avx512_bf16, want in [
        (True, False, "bfloat16"),
        (False, True, "bfloat16"),
        (False, False, "float32"),
    ]:
        monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda v=amx: v, raising=False)
        monkeypatch.setattr(
            torch.cpu, "_is_avx512_bf16_supported", lambda v=avx512_bf16: v, raising=False
        )
        assert resolve_dtype("auto", cpu) == want
