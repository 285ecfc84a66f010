"""Packed rows: layout, persistence, batches with the loss only on target tokens."""

from __future__ import annotations

import numpy as np
import pytest
from dslkit.train.packing import PackedRows, make_batch, synthetic_rows

from dslkit.errors import ArtifactError

ROWS = [([5, 6, 7], [8, 9, 1]), ([4], [2, 1]), ([3, 3, 3, 3], [1])]


def test_rows_round_trip_through_npz(tmp_path) -> None:
    data = PackedRows.from_rows(ROWS, vocab_size=12)
    path = data.save(tmp_path / "rows")
    assert path.name == "rows.npz"
    back = PackedRows.load(path)
    assert len(back) == 3 and back.vocab_size == 12
    for i, (p, t) in enumerate(ROWS):
        assert back.prompt(i).tolist() == p and back.target(i).tolist() == t
    assert back.row_lengths().tolist() == [6, 3, 5]
    assert back.max_positions() == 5


def test_batch_scores_targets_only_and_pads_right() -> None:
    data = PackedRows.from_rows(ROWS)
    x, y = make_batch(data, [0, 1, 2], pad_id=0)
    assert x.tolist() == [[5, 6, 7, 8, 9], [4, 2, 0, 0, 0], [3, 3, 3, 3, 0]]
    assert y.tolist() == [
        [-100, -100, 8, 9, 1],  # position 2 (last prompt id) predicts the first target id
        [2, 1, -100, -100, -100],
        [-100, -100, -100, 1, -100],
    ]


def test_invalid_rows_are_rejected() -> None:
    with pytest.raises(ValueError, match="target"):
        PackedRows.from_rows([([1], [])])
    with pytest.raises(ValueError, match="prompt"):
        PackedRows.from_rows([([], [1])])
    with pytest.raises(ValueError, match=r"\[0, 4\)"):
        PackedRows.from_rows([([1], [9])], vocab_size=4)


def test_load_never_unpickles(tmp_path) -> None:
    path = tmp_path / "evil.npz"
    np.savez(path, format_version=np.array([object()], dtype=object))
    with pytest.raises(ArtifactError, match=r"evil\.npz"):
        PackedRows.load(path)


@pytest.mark.parametrize(
    "damage",
    ["truncated", "empty", "garbage", "folder", "missing array", "bad offsets", "missing"],
)
def test_damaged_rows_file_is_one_clear_error(tmp_path, damage) -> None:
    path = PackedRows.from_rows(ROWS, vocab_size=12).save(tmp_path / "rows")
    good = path.read_bytes()
    if damage == "truncated":
        path.write_bytes(good[: len(good) // 2])  # numpy raised zipfile.BadZipFile here
    elif damage == "empty":
        path.write_bytes(b"")
    elif damage == "garbage":
        path.write_bytes(b"not a zip at all" * 10)
    elif damage == "folder":
        path.unlink()
        path.mkdir()
    elif damage == "missing array":
        np.savez(path, format_version=np.int64(1), vocab_size=np.int64(12))
    elif damage == "bad offsets":
        np.savez(
            path,
            format_version=np.int64(1),
            vocab_size=np.int64(12),
            prompt_tokens=np.array([1, 2], dtype=np.int32),
            prompt_offsets=np.array([0, 5]),
            target_tokens=np.array([1], dtype=np.int32),
            target_offsets=np.array([0, 1]),
        )
    else:
        path.unlink()
    with pytest.raises(ArtifactError, match=r"cannot load packed rows .*rows\.npz"):
        PackedRows.load(path)


def test_synthetic_rows_are_seeded_and_have_distinct_prompts() -> None:
    a, b = synthetic_rows(50, 16, seed=3), synthetic_rows(50, 16, seed=3)
    assert np.array_equal(a.target_tokens, b.target_tokens)
    prompts = {tuple(a.prompt(i)) for i in range(50)}
    assert len(prompts) == 50
    assert all(a.target(i)[-1] == 1 for i in range(50))
    assert not np.array_equal(synthetic_rows(50, 16, seed=4).target_tokens, a.target_tokens)


@pytest.mark.parametrize("rope", [False, True])
def test_packed_rows_give_the_padded_loss_and_gradient(rope: bool) -> None:
    import torch
    from dslkit.train.model import GPT, GPTConfig
    from dslkit.train.packing import make_packed_batch

    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=64, block_size=64, n_layer=2, n_head=2, n_embd=32, rope=rope))
    data = synthetic_rows(40, 64, prompt_len=(3, 9), target_len=(4, 20), seed=2)
    rows = list(range(3, 19))
    x, y = make_batch(data, rows)
    packed = make_packed_batch(data, rows, 48)
    assert packed.x.numel() < x.numel()  # fewer positions: the padding is gone
    # every row lands once, whole, its positions restarting at 0
    assert int((packed.y != -100).sum()) == int((y != -100).sum())
    assert sorted(packed.y[packed.y != -100].tolist()) == sorted(y[y != -100].tolist())
    real = packed.segments < len(rows)  # padding has a segment of its own
    assert int(((packed.positions == 0) & real).sum()) == len(rows)

    _, padded_loss = model(x, y)
    padded_loss.backward()
    padded_grad = model.wte.weight.grad.clone()
    model.zero_grad()
    _, packed_loss = model(packed.x, packed.y, positions=packed.positions, segments=packed.segments)
    packed_loss.backward()
    torch.testing.assert_close(packed_loss, padded_loss)
    torch.testing.assert_close(model.wte.weight.grad, padded_grad)
    with pytest.raises(ValueError, match="both positions and segments"):
        model(packed.x, packed.y, positions=packed.positions)


def test_a_row_longer_than_the_width_widens_the_batch() -> None:
    from dslkit.train.packing import WIDEN_STEP, make_packed_batch

    data = synthetic_rows(4, 64, prompt_len=(10, 10), target_len=(30, 30))
    packed = make_packed_batch(data, [0, 1, 2, 3], 16)
    # 39 input positions a row, one row a sequence; widened to a whole step of positions (a
    # few batch shapes, not one per long row), the rest padding that is never scored
    assert WIDEN_STEP >= 39 and packed.x.shape == (4, WIDEN_STEP)
    assert (packed.y[:, 39:] == -100).all() and (packed.y[:, :39] != -100).any()
    wider = synthetic_rows(2, 128, prompt_len=(40, 40), target_len=(40, 40))
    assert make_packed_batch(wider, [0, 1], 16).x.shape == (2, 2 * WIDEN_STEP)
