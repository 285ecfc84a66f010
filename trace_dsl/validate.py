"""Vocabulary invariants of a parsed trace: known experts, ops inside their expert."""

from __future__ import annotations

from dslkit.errors import Diagnostic

from .ast import Trace
from .codes import diagnostic
from .experts import EXPERTS, ops_for, owner_of


def validate(trace: Trace) -> list[Diagnostic]:
    """Check that every block names a known expert and uses only that expert's ops.

    Args:
        trace: a parsed trace.

    Returns:
        Diagnostics (``T301 unknown-expert``, ``T302 op-not-in-expert``); empty when valid.
    """
    out: list[Diagnostic] = []
    for block in trace.blocks:
        if block.expert not in EXPERTS:
            out.append(
                diagnostic(
                    "T301",
                    f"unknown expert {block.expert!r}; expected one of {', '.join(EXPERTS)}",
                    block.line,
                    block.column,
                )
            )
            continue
        allowed = ops_for(block.expert)
        for step in block.steps:
            if step.op not in allowed:
                owner = owner_of(step.op)
                out.append(
                    diagnostic(
                        "T302",
                        f"op {step.op!r} is not in the vocabulary of expert {block.expert!r}"
                        + (f" (it belongs to {owner!r})" if owner else ""),
                        step.line,
                        step.column,
                    )
                )
    return out
