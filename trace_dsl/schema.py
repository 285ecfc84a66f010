"""The trace step schema as data: per op, its keys in canonical order and what each key holds.

A step is a flow map ``{op: OP, key: value, ...}``. This table says, per op, which keys may
follow ``op`` (in the order the printer writes them), the kind of value each takes, which are
required, which are alternatives, and what a name in the value does to the program's
variables. The parser (key checks and value conversion), the printer (key order and value
syntax), the tokenizer (reserved ``key: `` tokens) and the prefix automaton of constrained
decoding all read it; no other module lists step keys.
"""

from __future__ import annotations

from dataclasses import dataclass

from .experts import ALL_OPS

__all__ = ["KEY_NAMES", "KINDS", "ROLES", "SCHEMAS", "Key", "StepSchema"]

# value kinds: what a key's value must be
KINDS: dict[str, str] = {
    "name": "a variable or entity name",
    "number": "a plain decimal number",
    "arg": "a variable name or a number",
    "args": "a list of args like [a, 3]; its length follows experts.ARITY of the compute_op",
    "compute_op": "one of experts.COMPUTE_OPS",
    "source": "prev.result or subN.result (an earlier block's answer)",
    "text": "a double-quoted string",
    "num_map": "a map of names to numbers like {a: 3, b: 4}",
}

# roles: what the names in a value do to the variables of the block. "def" computes or changes
# a variable, "def_init" sets one from a literal (the solver refuses to answer with a variable
# that was only ever set: the anti-short-circuit rule), "use" reads one already set,
# "use_computed" reads one a step computed or changed (the query).
ROLES: tuple[str, ...] = ("def", "def_init", "use", "use_computed")


@dataclass(frozen=True, slots=True)
class Key:
    """One key of a step."""

    name: str  # the key as written, e.g. "compute_op"
    kind: str  # one of KINDS
    required: bool = True  # the step is invalid without it (unless it is in a one_of group)
    role: str | None = None  # one of ROLES for the names in the value; None: no names


@dataclass(frozen=True, slots=True)
class StepSchema:
    """The keys of one op, in canonical order."""

    op: str  # the op, e.g. "init"
    keys: tuple[Key, ...]  # every key but ``op``, in the order the printer writes them
    one_of: tuple[tuple[str, ...], ...] = ()  # groups of which exactly one key is present

    @property
    def names(self) -> tuple[str, ...]:
        """The key names in canonical order."""
        return tuple(k.name for k in self.keys)

    def key(self, name: str) -> Key | None:
        """The key called ``name`` (None: not a key of this op)."""
        return next((k for k in self.keys if k.name == name), None)


def _compute(op: str) -> StepSchema:
    return StepSchema(
        op,
        (
            Key("compute_op", "compute_op"),
            Key("args", "args", role="use"),
            Key("var", "name", role="def"),
        ),
    )


def _entity(op: str) -> StepSchema:
    # a domain op changes its entity
    return StepSchema(op, (Key("entity", "name", role="def"), Key("amount", "arg", role="use")))


def _percent(op: str) -> StepSchema:
    return StepSchema(
        op,
        (
            Key("base", "arg", role="use"),
            Key("rate", "arg", role="use"),
            Key("var", "name", role="def"),
        ),
    )


SCHEMAS: dict[str, StepSchema] = {
    s.op: s
    for s in (
        StepSchema(
            "init",
            (
                Key("var", "name", role="def_init"),
                Key("value", "number", required=False),
                Key("source", "source", required=False),
            ),
            one_of=(("value", "source"),),
        ),
        StepSchema("given", (Key("values", "num_map", role="def_init"),)),
        _compute("compute"),
        _compute("compare"),
        StepSchema("query", (Key("var", "name", role="use_computed"),)),
        StepSchema("state", (Key("assertions", "num_map", role="use"),)),  # checks, never sets
        StepSchema("formula", (Key("expression", "text"),)),
        StepSchema(
            "transfer",
            (
                Key("from_entity", "name", role="def"),
                Key("to_entity", "name", role="def"),
                Key("amount", "arg", role="use"),
            ),
        ),
        _entity("consume"),
        _entity("add_entity"),
        _percent("percent_off"),
        _percent("percent_increase"),
        _percent("percent_of"),
    )
}

# every step key but "op", sorted (the tokenizer reserves them in this order)
KEY_NAMES: tuple[str, ...] = tuple(sorted({k.name for s in SCHEMAS.values() for k in s.keys}))


def _check() -> None:
    # the table is data: check it once at import so a bad edit fails loudly, not in a parser
    if set(SCHEMAS) != ALL_OPS:
        raise AssertionError(f"step schemas {sorted(SCHEMAS)} != expert ops {sorted(ALL_OPS)}")
    for s in SCHEMAS.values():
        for k in s.keys:
            if k.kind not in KINDS or (k.role is not None and k.role not in ROLES):
                raise AssertionError(f"{s.op}.{k.name}: unknown kind or role")
        for group in s.one_of:
            at = [s.names.index(n) for n in group]
            if at != list(range(at[0], at[0] + len(at))) or any(s.keys[i].required for i in at):
                raise AssertionError(f"{s.op}: one_of {group} must be adjacent optional keys")


_check()
