"""Language-agnostic metrics on packed rows: greedy exact match and budget truncation.

These compare token ids only. Everything that needs the language (renderable rate, failure
classes, repaired scores) belongs to the probe, which plugs into the loop through ``evaluate``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence

import torch
from dslkit.train.model import GPT, IGNORE_INDEX
from dslkit.train.packing import PackedRows, make_batch

__all__ = ["exact_match", "teacher_forced_exact"]


@torch.no_grad()
def teacher_forced_exact(
    model: GPT,
    data: PackedRows,
    *,
    rows: Sequence[int] | None = None,
    batch_size: int = 32,
    pad_id: int = 0,
) -> dict[str, float]:
    """Greedy exact match computed in one forward pass per batch.

    Greedy decoding reproduces a target exactly iff, given the gold prefix, the argmax at every
    target position is the gold next id (by induction over positions: each greedy step sees
    exactly the gold prefix). So instead of decoding ~len(target) sequential steps per row,
    score all positions at once. The target ends with the stop id, so "stops in the right
    place" is covered too. Ties between equal logits aside (argmax takes the first either way),
    this equals :func:`exact_match`; use that for a final, decoding-based confirmation.

    Args:
        model: the model (switched to eval and back).
        data: the rows.
        rows: which rows (default all).
        batch_size: rows per forward pass (rows are right-padded; padding is never scored).
        pad_id: id used for padded input positions.

    Returns:
        ``{"exact": fraction of rows whose every target position is argmax-correct,
        "token_acc": fraction of target positions that are}``.
    """
    indices = list(range(len(data))) if rows is None else list(rows)
    if not indices:
        return {"exact": float("nan"), "token_acc": float("nan")}
    was_training = model.training
    model.eval()
    exact = correct = total = 0
    try:
        for start in range(0, len(indices), batch_size):
            x, y = make_batch(data, indices[start : start + batch_size], pad_id=pad_id)
            x, y = x.to(model.device), y.to(model.device)
            logits, _ = model(x)
            scored = y != IGNORE_INDEX
            hits = (logits.argmax(dim=-1) == y) & scored
            exact += int((hits.sum(dim=1) == scored.sum(dim=1)).sum())
            correct += int(hits.sum())
            total += int(scored.sum())
    finally:
        model.train(was_training)
    return {"exact": exact / len(indices), "token_acc": correct / max(total, 1)}


def exact_match(
    model: GPT,
    data: PackedRows,
    *,
    rows: Sequence[int] | None = None,
    stop_ids: Collection[int] = (),
    max_new_tokens: int = 0,
    batch_size: int = 64,
) -> dict[str, float]:
    """Greedy-decode each prompt and compare with its target, id for id.

    With ``stop_ids`` a row matches when the generation (which ends on its first stop id)
    equals the target. Without them there is no end marker, so the first ``len(target)``
    generated ids are compared.

    Args:
        model: the model (any mode; generation switches to eval and back).
        data: the rows.
        rows: which rows (default all).
        stop_ids: ids that end a generation.
        max_new_tokens: budget per row; 0 uses the longest target among the rows.
        batch_size: rows decoded together (prompts are grouped by length: no padding).

    Returns:
        ``{"exact": fraction matching, "budget_hit": fraction cut off by the budget}``.
    """
    indices = list(range(len(data))) if rows is None else list(rows)
    if not indices:
        return {"exact": float("nan"), "budget_hit": float("nan")}
    budget = max_new_tokens or max(len(data.target(i)) for i in indices)
    by_len: dict[int, list[int]] = defaultdict(list)
    for i in indices:
        by_len[len(data.prompt(i))].append(i)
    exact = hit = 0
    for group in by_len.values():
        for start in range(0, len(group), batch_size):
            chunk = group[start : start + batch_size]
            prompts = torch.tensor(
                [data.prompt(i).tolist() for i in chunk], dtype=torch.long, device=model.device
            )
            gens = model.generate_batch(prompts, budget, temperature=0.0, stop_ids=stop_ids)
            for i, gen in zip(chunk, gens, strict=True):
                target = tuple(data.target(i).tolist())
                got = gen.ids if stop_ids else gen.ids[: len(target)]
                exact += got == target
                hit += gen.hit_budget
    n = len(indices)
    return {"exact": exact / n, "budget_hit": hit / n}
