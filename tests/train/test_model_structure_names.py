"""Per-name counts (GPTConfig.structure_per_name): two unshuffled label levels numbering an
element among the earlier elements of its name, checked against a token-by-token oracle, on
every path (full forward, packed rows, cached steps), through the tokenizer and the loop."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest
import torch
from dslkit.train.model import GPT, GPTConfig
from dslkit.train.packing import PackedRows

torch.set_num_threads(1)

# ids 0-3 are plain tokens; 4, 5, 8 open an element (4 and 8 are twins of one name, as a
# component open and its space-led twin are), 6, 7 close one; 1 and 2 restart the counts
OPENS, CLOSES, RESETS, NAMES = (4, 5, 8), (6, 7), (1, 2), (1, 2, 1)
NAME_OF = dict(zip(OPENS, NAMES, strict=True))
CFG = GPTConfig(
    vocab_size=12,
    block_size=48,
    n_layer=2,
    n_head=2,
    n_embd=16,
    structure_size=4,
    structure_per_name=True,
    structure_shuffle=True,
    structure_opens=OPENS,
    structure_closes=CLOSES,
    structure_resets=RESETS,
    structure_names=NAMES,
)


def reference(ids: list[int], size: int, segments: list[int] | None = None) -> list[list[int]]:
    """Token by token: the two counts of GPTConfig.structure_size, then the per-name counts
    of the current top-level element and of the current child (an oracle with dictionaries,
    independent of the tensor code)."""
    out: list[list[int]] = []
    depth = top = child = top_k = child_k = 0
    top_seen: dict[int, int] = {}
    child_seen: dict[int, int] = {}
    for t, i in enumerate(ids):
        if i in RESETS or (segments is not None and t and segments[t] != segments[t - 1]):
            depth = top = child = top_k = child_k = 0
            top_seen, child_seen = {}, {}
        if i in OPENS:
            name = NAME_OF[i]
            if depth == 0:
                top, child, child_k = top + 1, 0, 0
                top_seen[name] = top_k = top_seen.get(name, 0) + 1
                child_seen = {}
            elif depth == 1:
                child += 1
                child_seen[name] = child_k = child_seen.get(name, 0) + 1
            depth += 1
        elif i in CLOSES:
            depth -= 1
        cap = size - 1
        out.append(
            [
                min(top, cap),
                size + min(child, cap),
                2 * size + min(top_k, cap),
                3 * size + min(child_k, cap),
            ]
        )
    return out


def test_a_program_numbers_each_element_among_its_name() -> None:
    model = GPT(CFG)
    # a 4-element, a 5-element holding two 4-children, the 4-element's twin (8) with a
    # 5-child; [OUT] (2); then one more 4-element
    ids = [1, 4, 6, 5, 4, 6, 8, 6, 7, 8, 5, 7, 6, 2, 4, 0, 6]
    got = model.structure_index(torch.tensor([ids]))[0].tolist()
    top_k = [row[2] - 2 * CFG.structure_size for row in got]
    child_k = [row[3] - 3 * CFG.structure_size for row in got]
    assert top_k == [0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 0, 1, 1, 1]
    assert child_k == [0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 1, 1, 1, 0, 0, 0, 0]
    assert got == reference(ids, CFG.structure_size)


@pytest.mark.parametrize("seed", range(6))
def test_counts_match_the_token_by_token_definition(seed: int) -> None:
    rng = random.Random(seed)
    model = GPT(CFG)
    batch = [[rng.randrange(12) for _ in range(48)] for _ in range(3)]  # unbalanced closes too
    segments = [sorted(rng.randrange(4) for _ in range(48)) for _ in range(3)]
    got = model.structure_index(torch.tensor(batch)).tolist()
    assert got == [reference(row, CFG.structure_size) for row in batch]
    packed = model.structure_index(torch.tensor(batch), torch.tensor(segments)).tolist()
    want = [reference(r, CFG.structure_size, s) for r, s in zip(batch, segments, strict=True)]
    assert packed == want


def test_shuffling_renames_the_positions_but_keeps_the_per_name_counts() -> None:
    torch.manual_seed(0)
    model = GPT(CFG)
    ids = torch.tensor([[1, 4, 6, 5, 4, 6, 8, 6, 7, 8, 5, 7, 6, 2, 4, 0, 6]])
    counted = model.structure_index(ids)
    renamed = [model._shuffle_labels(counted, None) for _ in range(20)]
    assert all(torch.equal(r[..., 2:], counted[..., 2:]) for r in renamed)
    assert any(not torch.equal(r[..., :2], counted[..., :2]) for r in renamed)


def test_cached_steps_and_generation_see_the_same_counts_as_a_full_forward() -> None:
    torch.manual_seed(0)
    model = GPT(CFG).eval()
    idx = torch.tensor(
        [[1, 4, 0, 5, 4, 7, 8, 6, 7, 2, 4, 5, 7, 8], [1, 8, 4, 6, 6, 2, 8, 0, 6, 4, 5, 0, 7, 6]]
    )
    full, _ = model(idx)
    cache = model.init_cache(2)
    parts = [model.forward_step(idx[:, :6], cache), model.forward_step(idx[:, 6:10], cache)]
    parts += [model.forward_step(idx[:, t : t + 1], cache) for t in range(10, 14)]
    torch.testing.assert_close(torch.cat(parts, dim=1), full, atol=1e-5, rtol=1e-5)


def test_the_counts_change_what_the_model_computes_and_cost_two_tables() -> None:
    torch.manual_seed(0)
    model = GPT(dataclasses.replace(CFG, structure_shuffle=False)).eval()
    without = GPT(dataclasses.replace(CFG, structure_per_name=False, structure_shuffle=False))
    assert model.num_params() - without.num_params() == 2 * CFG.structure_size * CFG.n_embd
    # the same weights, and the per-name rows set to zero: only the counts differ
    state = model.state_dict()
    state["wse.weight"] = state["wse.weight"].clone()
    state["wse.weight"][2 * CFG.structure_size :] = 0
    zeroed = GPT(dataclasses.replace(CFG, structure_shuffle=False)).eval()
    zeroed.load_state_dict(state)
    idx = torch.tensor([[1, 4, 6, 4, 6, 2, 4, 6, 4, 6]])
    assert not torch.allclose(model(idx)[0], zeroed(idx)[0])


def test_a_model_needs_one_name_per_open() -> None:
    with pytest.raises(ValueError, match="structure_names"):
        GPT(dataclasses.replace(CFG, structure_names=(1, 2)))
    with pytest.raises(ValueError, match="structure_size"):
        GPTConfig(vocab_size=12, structure_per_name=True)


def test_packs_carry_the_names_and_older_packs_still_load(tmp_path) -> None:
    ids = {
        "structure_opens": OPENS,
        "structure_closes": CLOSES,
        "structure_resets": RESETS,
        "structure_names": NAMES,
    }
    rows = PackedRows.from_rows([([1, 4], [6, 3])], vocab_size=12, structure=ids)
    assert PackedRows.load(rows.save(tmp_path / "rows")).structure == ids
    older = {k: v for k, v in ids.items() if k != "structure_names"}
    rows = PackedRows.from_rows([([1, 4], [6, 3])], vocab_size=12, structure=older)
    assert PackedRows.load(rows.save(tmp_path / "older")).structure == older


def test_the_tokenizer_numbers_an_open_and_its_space_led_twin_alike() -> None:
    from dslkit.tokenizer import build

    tok = build(corpus=["[scene] [graph_node] [/graph_node] [/scene]"], space_led=True)
    st = tok.structure()
    names = dict(zip(st["structure_opens"], st["structure_names"], strict=True))
    plain, twin = tok.encode("[graph_node]"), tok.encode(" [graph_node]")
    other = tok.encode("[stage_card]")
    assert len(plain) == len(twin) == len(other) == 1
    assert names[plain[0]] == names[twin[0]] != names[other[0]]
    assert sorted(set(names.values())) == list(range(1, len(set(names.values())) + 1))


def test_the_loop_passes_the_names_to_the_model(tmp_path) -> None:
    from dslkit.train.config import load_config
    from dslkit.train.loop import fit

    ids = {
        "structure_opens": OPENS,
        "structure_closes": CLOSES,
        "structure_resets": RESETS,
        "structure_names": NAMES,
    }
    rng = np.random.default_rng(0)
    rows = [
        ([1, *rng.integers(3, 12, 5).tolist(), 2], rng.integers(3, 12, 6).tolist())
        for _ in range(12)
    ]
    train = PackedRows.from_rows(rows, vocab_size=12, structure=ids)
    config = load_config(
        None,
        [
            f"--out_dir={tmp_path}",
            "--max_steps=2",
            "--warmup_steps=1",
            "--batch_size=4",
            "--eval_every=0",
            "--device=cpu",
            "--model.block_size=16",
            "--model.n_layer=1",
            "--model.n_head=2",
            "--model.n_embd=16",
            "--model.structure_size=4",
            "--model.structure_per_name=true",
        ],
    )
    result = fit(config, train)
    assert result.model.config.structure_names == NAMES
    assert result.model.structure_levels == 4
