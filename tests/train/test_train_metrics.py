"""Teacher-forced exact match must agree with token-by-token greedy decoding."""

from __future__ import annotations

import torch
from dslkit.train.metrics import exact_match, teacher_forced_exact
from dslkit.train.model import GPT, GPTConfig
from dslkit.train.packing import make_batch, synthetic_rows


def _train(model: GPT, data, steps: int) -> None:
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    for _ in range(steps):
        x, y = make_batch(data, range(len(data)))
        _, loss = model(x, y)
        opt.zero_grad()
        loss.backward()
        opt.step()


def test_teacher_forced_exact_equals_greedy_exact_through_training() -> None:
    torch.manual_seed(0)
    data = synthetic_rows(12, vocab_size=32, end_id=1, seed=3)
    model = GPT(GPTConfig(vocab_size=32, block_size=32, n_layer=2, n_head=2, n_embd=32))
    seen = set()
    for _ in range(8):  # partially trained models exercise both matching and mismatching rows
        tf = teacher_forced_exact(model, data)
        greedy = exact_match(model, data, stop_ids=(1,))
        assert tf["exact"] == greedy["exact"]
        seen.add(tf["exact"])
        _train(model, data, 15)
    assert len(seen) > 2  # the comparison covered several different exact rates
    assert 0.0 in seen and max(seen) > 0.5
