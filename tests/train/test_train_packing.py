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
