"""Structure indices (GPTConfig.structure_size): what they count, and that every path of the
model (full forward, cached steps, packed rows, checkpoints, the loop) computes the same ones."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
import torch
from dslkit.train.model import GPT, GPTConfig
from dslkit.train.packing import PackedRows, make_batch, make_packed_batch, synthetic_rows

torch.set_num_threads(1)

# ids 0-3 are plain tokens; 4, 5 open an element, 6, 7 close one; 1 and 2 restart the counts;
# 8 and 9 open a field (level 2 of a three-level model)
OPENS, CLOSES, RESETS, FIELDS = (4, 5), (6, 7), (1, 2), (8, 9)
IDS = {
    "structure_opens": OPENS,
    "structure_closes": CLOSES,
    "structure_resets": RESETS,
    "structure_fields": FIELDS,
}
CFG = GPTConfig(
    vocab_size=12,
    block_size=40,
    n_layer=2,
    n_head=2,
    n_embd=16,
    structure_size=4,
    structure_opens=OPENS,
    structure_closes=CLOSES,
    structure_resets=RESETS,
)
THREE = dataclasses.replace(CFG, structure_levels=3, structure_fields=FIELDS)


def reference(
    ids: list[int], size: int, segments: list[int] | None = None, levels: int = 2
) -> list[list[int]]:
    """Token by token, the definition of the indices (an oracle independent of the tensor code)."""
    out, depth, top, child, field = [], 0, 0, 0, 0
    for t, i in enumerate(ids):
        if i in RESETS or (segments is not None and t and segments[t] != segments[t - 1]):
            depth = top = child = field = 0
        inside = depth > 0 or i in OPENS  # a closing tag still belongs to its element
        if i in OPENS:
            if depth == 0:
                top, child = top + 1, 0
            elif depth == 1:
                child += 1
            depth, field = depth + 1, 0
        elif i in CLOSES:
            depth -= 1
        elif i in FIELDS:
            field += 1
        row = [min(top, size - 1), size + min(child, size - 1)]
        if levels == 3:  # fields outside every element (the header) get 0
            row.append(2 * size + (min(field, size - 1) if inside else 0))
        out.append(row)
    return out


def test_a_program_counts_top_level_elements_and_their_children() -> None:
    model = GPT(CFG)
    # prompt: two elements, the first with a child; [OUT]=2; target: the same again
    ids = [1, 4, 0, 5, 0, 7, 6, 4, 6, 2, 4, 5, 7, 5, 7, 6, 4, 0, 6, 0]
    got = model.structure_index(torch.tensor([ids]))[0].tolist()
    level0 = [a for a, _ in got]
    level1 = [b - CFG.structure_size for _, b in got]
    assert level0 == [0, 1, 1, 1, 1, 1, 1, 2, 2, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2]
    assert level1 == [0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 0, 0, 0]
    assert got == reference(ids, CFG.structure_size)


@pytest.mark.parametrize("seed", range(6))
def test_indices_match_the_token_by_token_definition(seed: int) -> None:
    rng = random.Random(seed)
    model = GPT(CFG)
    batch = [[rng.randrange(12) for _ in range(40)] for _ in range(3)]  # unbalanced closes too
    segments = [sorted(rng.randrange(4) for _ in range(40)) for _ in range(3)]
    got = model.structure_index(torch.tensor(batch)).tolist()
    assert got == [reference(row, CFG.structure_size) for row in batch]
    packed = model.structure_index(torch.tensor(batch), torch.tensor(segments)).tolist()
    want = [reference(r, CFG.structure_size, s) for r, s in zip(batch, segments, strict=True)]
    assert packed == want
    three = GPT(THREE).structure_index(torch.tensor(batch), torch.tensor(segments)).tolist()
    want = [reference(r, 4, s, levels=3) for r, s in zip(batch, segments, strict=True)]
    assert three == want


def test_fields_are_counted_within_their_innermost_element() -> None:
    model = GPT(THREE)
    # header field, element with two fields, a child with one, then the parent's last field
    ids = [1, 8, 4, 8, 9, 5, 8, 7, 9, 6, 8]
    got = [
        b - 2 * THREE.structure_size for _, _, b in model.structure_index(torch.tensor([ids]))[0]
    ]
    assert got == [0, 0, 0, 1, 2, 0, 1, 1, 2, 2, 0]


def test_cached_steps_and_generation_see_the_same_indices_as_a_full_forward() -> None:
    torch.manual_seed(0)
    model = GPT(CFG).eval()
    idx = torch.tensor(
        [[1, 4, 0, 5, 0, 7, 6, 4, 6, 2, 4, 5, 7, 5], [1, 4, 4, 6, 6, 2, 4, 0, 6, 4, 5, 0, 7, 6]]
    )
    full, _ = model(idx)
    cache = model.init_cache(2)
    parts = [model.forward_step(idx[:, :6], cache), model.forward_step(idx[:, 6:10], cache)]
    parts += [model.forward_step(idx[:, t : t + 1], cache) for t in range(10, 14)]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-5, rtol=1e-5)
    prompt = idx[:, :10]
    runs = [model.generate_batch(prompt, 20, temperature=0.0, use_cache=c) for c in (True, False)]
    assert runs[0] == runs[1]


def test_the_indices_change_what_the_model_computes() -> None:
    torch.manual_seed(0)
    model = GPT(CFG).eval()
    plain = GPT(dataclasses.replace(CFG, structure_size=0)).eval()
    plain.load_state_dict(model.state_dict(), strict=False)  # the same weights but wse
    idx = torch.tensor([[1, 4, 0, 6, 4, 0, 6, 2, 4, 0]])
    assert not torch.allclose(model(idx)[0], plain(idx)[0])
    assert model.num_params() - plain.num_params() == 2 * CFG.structure_size * CFG.n_embd
    assert model.num_params(non_embedding=True) == plain.num_params(non_embedding=True)


def test_packed_rows_restart_the_counts_and_give_the_padded_loss() -> None:
    torch.manual_seed(0)
    cfg = dataclasses.replace(CFG, vocab_size=64, block_size=64)
    model = GPT(cfg)
    data = synthetic_rows(30, 64, prompt_len=(3, 9), target_len=(4, 20), seed=2)
    rows = list(range(2, 18))
    x, y = make_batch(data, rows)
    packed = make_packed_batch(data, rows, 48)
    _, padded = model(x, y)
    _, packed_loss = model(packed.x, packed.y, positions=packed.positions, segments=packed.segments)
    torch.testing.assert_close(packed_loss, padded)


def test_packed_rows_keep_the_element_ids_through_save_and_load(tmp_path) -> None:
    rows = PackedRows.from_rows([([1, 4], [6, 3]), ([2], [5, 7])], vocab_size=12, structure=IDS)
    back = PackedRows.load(rows.save(tmp_path / "rows"))
    assert back.structure == IDS
    # a pack written before field ids existed loads with none
    with np.load(tmp_path / "rows.npz") as z:
        arrays = {k: z[k] for k in z.files if k != "structure_fields"}
    np.savez(tmp_path / "old.npz", **arrays)
    assert PackedRows.load(tmp_path / "old.npz").structure == {**IDS, "structure_fields": ()}
    assert np.array_equal(back.target_tokens, rows.target_tokens)
    plain = PackedRows.load(PackedRows.from_rows([([1], [3])], vocab_size=12).save(tmp_path / "p"))
    assert plain.structure is None


def test_a_model_without_element_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="structure_opens and structure_closes"):
        GPT(dataclasses.replace(CFG, structure_opens=()))
    with pytest.raises(ValueError, match="outside the vocabulary"):
        GPT(dataclasses.replace(CFG, structure_opens=(4, 99)))
    with pytest.raises(ValueError, match="structure_fields for structure_levels = 3"):
        GPT(dataclasses.replace(THREE, structure_fields=()))
    with pytest.raises(ValueError, match="structure_levels must be 2 or 3"):
        dataclasses.replace(CFG, structure_levels=4)


def test_the_loop_takes_the_ids_from_the_rows_and_refuses_rows_without(tmp_path) -> None:
    from dslkit.train.config import ConfigError, load_config
    from dslkit.train.loop import fit

    def config(name: str):
        return load_config(
            None,
            [
                f"--out_dir={tmp_path / name}",
                "--max_steps=2",
                "--warmup_steps=1",
                "--batch_size=2",
                "--model.n_layer=1",
                "--model.n_embd=16",
                "--model.n_head=2",
                "--model.block_size=16",
                "--model.structure_size=4",
                "--quiet=true",
            ],
        )

    rows = [([1, 4, 0, 6, 2], [4, 0, 6, 3]), ([1, 5, 7, 2], [5, 7, 3])]
    with pytest.raises(ConfigError, match="structure_size"):
        fit(config("bare"), PackedRows.from_rows(rows, vocab_size=12))
    result = fit(config("ids"), PackedRows.from_rows(rows, vocab_size=12, structure=IDS))
    assert result.model.config.structure_opens == OPENS
    assert result.model.config.structure_resets == RESETS
    assert result.model.config.structure_fields == FIELDS


def test_a_checkpoint_round_trips_the_element_ids(tmp_path) -> None:
    from dslkit.train.checkpoint import load_model, save_model

    torch.manual_seed(0)
    model = GPT(CFG).eval()
    path = save_model(model, tmp_path / "model.safetensors")
    back = load_model(path).eval()
    assert back.config == CFG
    idx = torch.tensor([[1, 4, 0, 6, 4, 5, 7, 6, 2, 4]])
    torch.testing.assert_close(back(idx)[0], model(idx)[0])


def test_hf_export_refuses_a_model_with_structure_indices(tmp_path) -> None:
    from dslkit.train.hf_export import _check_mappable

    from dslkit.errors import ArtifactError

    _check_mappable(
        dataclasses.replace(
            CFG, structure_size=0, structure_opens=(), structure_closes=(), structure_resets=()
        ),
        rotary=False,
    )
    with pytest.raises(
        ArtifactError, match=r"structure_size.*train with --model\.structure_size=0"
    ):
        _check_mappable(CFG, rotary=False)


SHUFFLED = dataclasses.replace(THREE, structure_size=6, block_size=64, structure_shuffle=True)


def test_shuffled_labels_pair_prompt_and_target_elements_but_hide_their_order() -> None:
    torch.manual_seed(0)
    model = GPT(SHUFFLED)
    # two packed rows: <bos> prompt of three elements [OUT] target of the same three
    row = [1, 4, 8, 9, 6, 4, 5, 8, 7, 6, 4, 6, 2, 4, 8, 9, 6, 4, 5, 8, 7, 6, 4, 6]
    idx = torch.tensor([row + row])
    segments = torch.tensor([[0] * len(row) + [1] * len(row)])
    counts = model.structure_index(idx, segments)[0].tolist()
    seen_first: set[int] = set()
    differs_between_rows = False
    for _ in range(60):
        labels = model._shuffle_labels(model.structure_index(idx, segments), segments)[0].tolist()
        for segment in (0, 1):
            part = range(segment * len(row), (segment + 1) * len(row))
            for level in (0, 1, 2):
                rename: dict[int, int] = {}
                for t in part:
                    rename.setdefault(counts[t][level], labels[t][level])
                    # one label per count within a packed row: prompt and target share it
                    assert rename[counts[t][level]] == labels[t][level]
                base = level * SHUFFLED.structure_size
                assert rename.get(base, base) == base  # outside any element stays 0
                assert len(set(rename.values())) == len(rename)  # distinct counts stay distinct
                if level == 2:  # the field level keeps its counts: they end a run of fields
                    assert all(k == v for k, v in rename.items())
        seen_first.add(labels[1][0])
        differs_between_rows |= labels[1][0] != labels[len(row) + 1][0]
    assert seen_first == set(range(1, SHUFFLED.structure_size))  # "first" is any label
    assert differs_between_rows  # each packed row draws its own renaming


def test_shuffled_labels_only_while_training() -> None:
    torch.manual_seed(0)
    model = GPT(SHUFFLED)
    counted = GPT(dataclasses.replace(SHUFFLED, structure_shuffle=False))
    counted.load_state_dict(model.state_dict())
    idx = torch.tensor([[1, 4, 0, 6, 4, 5, 7, 6, 2, 4, 0, 6, 4]])
    model.eval()
    counted.eval()
    torch.testing.assert_close(model(idx)[0], counted(idx)[0])  # decoding reads the counts
    model.train()
    first, second = model(idx)[0], model(idx)[0]
    assert not torch.allclose(first, second)  # a fresh renaming every step


def test_shuffling_is_training_only_so_a_model_without_labels_still_exports() -> None:
    from dslkit.train.hf_export import _check_mappable

    plain = dataclasses.replace(
        CFG, structure_size=0, structure_opens=(), structure_closes=(), structure_resets=()
    )
    # the demo config turns shuffling on; turning the labels off alone gives a GPT-2 model
    _check_mappable(dataclasses.replace(plain, structure_shuffle=True), rotary=False)
