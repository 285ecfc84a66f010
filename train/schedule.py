"""Learning-rate schedule and early-stop gates: small pure pieces the loop consults each step."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EarlyStop", "lr_at"]


def lr_at(step: int, *, lr: float, min_lr: float, warmup_steps: int, max_steps: int) -> float:
    """Learning rate for optimizer step ``step`` (0-based): linear warmup, then cosine decay.

    Args:
        step: the step about to be taken.
        lr: peak rate, reached at ``step == warmup_steps``.
        min_lr: floor, reached at ``step == max_steps`` and kept after it.
        warmup_steps: length of the linear ramp (0 starts at the peak).
        max_steps: where the cosine ends.

    Returns:
        The learning rate.
    """
    if step < warmup_steps:
        # (step + 1): the very first step already moves the weights a little.
        return lr * (step + 1) / (warmup_steps + 1)
    if step >= max_steps:
        return min_lr
    progress = (step - warmup_steps) / max(1, max_steps - warmup_steps)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * progress)) * (lr - min_lr)


@dataclass
class EarlyStop:
    """The two early-stop gates of a run, fed one eval's metrics at a time.

    * patience: stop when ``metric`` has not improved by more than ``min_delta`` for
      ``patience`` consecutive evals (0 disables); ``goal`` stops as soon as it is reached.
    * parse drop: stop when ``parse_metric`` dropped on two consecutive evals (a model that
      starts emitting unparseable output is getting worse whatever the loss says).

    The state is plain data (:meth:`state_dict`) so a resumed run takes the same decisions.
    """

    metric: str = "dev_loss"
    mode: str = "min"  # "min" | "max"
    patience: int = 0
    min_delta: float = 0.0
    goal: float | None = None
    stop_on_parse_drop: bool = False
    parse_metric: str = "renderable_rate"
    best: float | None = None
    best_step: int = -1
    evals_since_best: int = 0
    parse_history: list[float] = field(default_factory=list)

    def _better(self, value: float, than: float) -> bool:
        if self.mode == "min":
            return value < than - self.min_delta
        return value > than + self.min_delta

    def update(self, step: int, metrics: dict[str, float]) -> tuple[bool, str | None]:
        """Record one eval.

        Args:
            step: the step the metrics were measured at.
            metrics: this eval's metrics (``dev_loss`` and whatever ``evaluate`` returned).

        Returns:
            ``(improved, stop_reason)``: whether the primary metric reached a new best, and
            ``"goal"``, ``"patience"``, ``"parse_drop"`` or ``None`` to keep training.
        """
        improved = False
        reason: str | None = None
        value = metrics.get(self.metric)
        if value is not None and not math.isnan(value):
            if self.best is None or self._better(value, self.best):
                self.best, self.best_step, self.evals_since_best = float(value), step, 0
                improved = True
            else:
                self.evals_since_best += 1
            if self.goal is not None and (
                value <= self.goal if self.mode == "min" else value >= self.goal
            ):
                reason = "goal"
            elif self.patience and self.evals_since_best >= self.patience:
                reason = "patience"
        if self.stop_on_parse_drop and self.parse_metric in metrics:
            self.parse_history.append(float(metrics[self.parse_metric]))
            h = self.parse_history
            if reason is None and len(h) >= 3 and h[-1] < h[-2] < h[-3]:
                reason = "parse_drop"
        return improved, reason

    def state_dict(self) -> dict[str, Any]:
        """The mutable part, for checkpoints."""
        return {
            "best": self.best,
            "best_step": self.best_step,
            "evals_since_best": self.evals_since_best,
            "parse_history": list(self.parse_history),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.best = state["best"]
        self.best_step = state["best_step"]
        self.evals_since_best = state["evals_since_best"]
        self.parse_history = list(state["parse_history"])
