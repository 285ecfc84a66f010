"""Expert vocabularies: which step ops and compute ops each expert owns.

Experts share the common steps and add disjoint domain ops on top, so an op names the expert
that may use it. This table is data: the validator, the solver, the tokenizer (reserved op
names) and constrained decoding all read it.
"""

from __future__ import annotations

# steps every expert may use
COMMON_OPS: frozenset[str] = frozenset({"init", "given", "compute", "formula", "query", "state"})

# domain ops each expert adds (disjoint across experts)
DOMAIN_OPS: dict[str, frozenset[str]] = {
    "arithmetic": frozenset(),
    "rate_equation": frozenset(),
    "entity_track": frozenset({"transfer", "consume", "add_entity"}),
    "percentage": frozenset({"percent_off", "percent_increase", "percent_of"}),
    "comparison": frozenset({"compare"}),
}

EXPERTS: tuple[str, ...] = tuple(DOMAIN_OPS)

# every step op of the language
ALL_OPS: frozenset[str] = COMMON_OPS.union(*DOMAIN_OPS.values())

COMPUTE_OPS: tuple[str, ...] = (
    "add", "sub", "mul", "div", "mod", "pow", "min", "max", "abs", "sqrt",
)  # fmt: skip

# (min, max) number of args per compute op; None = unbounded
ARITY: dict[str, tuple[int, int | None]] = {
    "add": (2, None),
    "mul": (2, None),
    "min": (2, None),
    "max": (2, None),
    "sub": (2, 2),
    "div": (2, 2),
    "mod": (2, 2),
    "pow": (2, 2),
    "abs": (1, 1),
    "sqrt": (1, 1),
}


def ops_for(expert: str) -> frozenset[str]:
    """Return the step ops an expert may use.

    Args:
        expert: an expert name from :data:`EXPERTS`.

    Returns:
        The common ops plus the expert's own domain ops (empty set for an unknown expert).
    """
    domain = DOMAIN_OPS.get(expert)
    if domain is None:
        return frozenset()
    return COMMON_OPS | domain


def owner_of(op: str) -> str | None:
    """Return the expert owning a domain op, or None for a common or unknown op."""
    for expert, ops in DOMAIN_OPS.items():
        if op in ops:
            return expert
    return None
