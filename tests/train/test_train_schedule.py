"""Learning-rate schedule and early-stop gates."""

from __future__ import annotations

import itertools
import math

import pytest
from dslkit.train.schedule import EarlyStop, lr_at

SCHED = dict(lr=1e-3, min_lr=1e-4, warmup_steps=10, max_steps=110)


def test_warmup_peak_cosine_and_floor() -> None:
    assert lr_at(0, **SCHED) == pytest.approx(1e-3 / 11)
    assert lr_at(5, **SCHED) == pytest.approx(6e-3 / 11)
    assert lr_at(10, **SCHED) == pytest.approx(1e-3)  # peak at the end of warmup
    assert lr_at(60, **SCHED) == pytest.approx((1e-3 + 1e-4) / 2)  # cosine midpoint
    assert lr_at(110, **SCHED) == pytest.approx(1e-4)
    assert lr_at(500, **SCHED) == pytest.approx(1e-4)
    values = [lr_at(s, **SCHED) for s in range(10, 111)]
    assert all(a >= b for a, b in itertools.pairwise(values))


def test_no_warmup_starts_at_peak() -> None:
    assert lr_at(0, lr=1.0, min_lr=0.0, warmup_steps=0, max_steps=4) == 1.0
    assert lr_at(2, lr=1.0, min_lr=0.0, warmup_steps=0, max_steps=4) == pytest.approx(0.5)


def test_patience_counts_evals_without_improvement() -> None:
    gate = EarlyStop(metric="dev_loss", mode="min", patience=2)
    assert gate.update(1, {"dev_loss": 3.0}) == (True, None)
    assert gate.update(2, {"dev_loss": 2.0}) == (True, None)
    assert gate.update(3, {"dev_loss": 2.5}) == (False, None)
    assert gate.update(4, {"dev_loss": 2.0}) == (False, "patience")  # equal is not better
    assert gate.best == 2.0 and gate.best_step == 2


def test_max_mode_goal_and_nan() -> None:
    gate = EarlyStop(metric="exact", mode="max", goal=1.0)
    assert gate.update(1, {"exact": 0.5}) == (True, None)
    assert gate.update(2, {"exact": math.nan}) == (False, None)
    assert gate.update(3, {"exact": 1.0}) == (True, "goal")


def test_parse_drop_needs_two_consecutive_drops() -> None:
    gate = EarlyStop(metric="dev_loss", stop_on_parse_drop=True, parse_metric="renderable_rate")
    rates = [0.5, 0.8, 0.7, 0.9, 0.85, 0.8]
    reasons = [gate.update(i, {"renderable_rate": r})[1] for i, r in enumerate(rates)]
    assert reasons == [None, None, None, None, None, "parse_drop"]


def test_state_round_trip() -> None:
    gate = EarlyStop(patience=3, stop_on_parse_drop=True)
    gate.update(1, {"dev_loss": 1.0, "renderable_rate": 0.9})
    gate.update(2, {"dev_loss": 1.5, "renderable_rate": 0.8})
    other = EarlyStop(patience=3, stop_on_parse_drop=True)
    other.load_state_dict(gate.state_dict())
    assert other == gate
