"""Scene values the grammar mask cannot check, checked per generated row during decoding.

The prefix automata of the languages (``scene_dsl.prefix_automaton``) forget payload text, so
they cannot know that a content ref resolves in the case's content.json (``S601``) or that an
arrow names a node declared before it (``S314``). Decoding can: the automaton marks the characters that write a
value (:func:`dslkit.automaton.tag`), and :class:`ValueRules` keeps, per row, the value being
written and the ids declared so far, and allows only tokens after which the value can still
become a good one:

* ``ref``: a path that resolves in the content (when the row has content); ``ref_object``, a
  field that binds a whole object (``ref``), a path that resolves to an object (``S604``). Row
  form marks only named ``ref=`` parts so: a positional part may stand for fields of several
  shapes until the row's signature is known, so it is held to resolve only;
* ``idref``: an id declared earlier in the output (every gold and generated scene declares its
  nodes before the edges that name them); while none is declared, nothing may commit to naming
  one (:meth:`dslkit.automaton.Automaton.commits`; the decoder also holds back components
  whose required fields name ids);
* ``id``: not one declared already (``S313``).

When no allowed token passes (budget steering must close the program inside a ref, say), the
rules step aside for that token rather than leave the row with nothing to write: the mask still
guarantees a parseable program, and the probe reports the value error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from dslkit.train.token_mask import VALUE_CHARS, PayloadStep, PayloadSteps

__all__ = ["RowValues", "ValueRules", "content_paths"]


def _walk(content: Any) -> list[tuple[str, Any]]:
    """Every (dotted path, value) that ``scene_dsl.content.resolve_ref`` resolves in ``content``:
    dicts walked by key, lists by index; a null value resolves to nothing."""
    out: list[tuple[str, Any]] = []
    stack: list[tuple[str, Any]] = [("", content)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            items: list[tuple[str, Any]] = [(str(k), v) for k, v in node.items()]
        elif isinstance(node, list):
            items = [(str(i), v) for i, v in enumerate(node)]
        else:
            continue
        for key, value in items:
            if value is None:
                continue
            sub = f"{path}.{key}" if path else key
            out.append((sub, value))
            stack.append((sub, value))
    return out


def content_paths(content: Any) -> set[str]:
    """Every dotted path that ``scene_dsl.content.resolve_ref`` resolves in ``content``.

    Dicts are walked by key and lists by index; a null value resolves to nothing.
    """
    return {path for path, _ in _walk(content)}


def _prefixes(paths: set[str]) -> frozenset[str]:
    return frozenset(p[:i] for p in paths for i in range(len(p) + 1))


# value kinds (the marks of the prefix automata): what a completed value does to a row, and what
# a value must be one of. Scenes: "ref" (a content path), "ref_object" (one that must resolve to
# an object: its keys fill the component, S604), "id" (declares a topology id), "idref"
# (names one). Traces (the roles of trace_dsl.schema): "def" (a variable computed or changed by
# a step), "def_init" (one set by init or given), "use" (an argument naming a variable),
# "use_computed" (the queried variable: computed or changed, never only initialised), "scope"
# (an expert header: a fresh set of variables).
DECLARES = {"id": ("declared",), "def": ("declared", "computed"), "def_init": ("declared",)}
NAMES = {"idref": "declared", "use": "declared", "use_computed": "computed"}
REF_KINDS = ("ref", "ref_object")


@dataclass(frozen=True)
class ValueRules:
    """What the values of one row may be.

    Names (scene topology ids, trace variables) are always checked: declared before use, a
    scene id never twice.

    Args:
        content: the row's content.json; None leaves content refs unchecked.
    """

    content: Mapping[str, Any] | None = None
    refs: frozenset[str] | None = field(init=False, default=None)
    object_refs: frozenset[str] = field(init=False, default=frozenset())
    ref_prefixes: frozenset[str] = field(init=False, default=frozenset())
    object_ref_prefixes: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        if self.content is not None:
            walked = _walk(self.content)
            paths = {p for p, _ in walked}
            objects = {p for p, v in walked if isinstance(v, Mapping)}
            object.__setattr__(self, "refs", frozenset(paths))
            object.__setattr__(self, "object_refs", frozenset(objects))
            object.__setattr__(self, "ref_prefixes", _prefixes(paths))
            object.__setattr__(self, "object_ref_prefixes", _prefixes(objects))

    def checks(self, kind: str) -> bool:
        """Whether values of ``kind`` are checked at all."""
        if kind in REF_KINDS:
            return self.refs is not None
        return kind == "id" or kind in NAMES

    def ref_pool(self, kind: str) -> tuple[frozenset[str], frozenset[str]]:
        """The refs a value of ``kind`` may be, and their prefixes (content must be given)."""
        if kind == "ref_object":
            return self.object_refs, self.object_ref_prefixes
        return self.refs or frozenset(), self.ref_prefixes


def _tail(text: str) -> str:
    """The trailing run of value characters of ``text``."""
    i = len(text)
    while i and text[i - 1] in VALUE_CHARS:
        i -= 1
    return text[i:]


@dataclass
class RowValues:
    """The value state of one generated row: the trailing value characters and the names
    declared so far."""

    rules: ValueRules
    tail: str = ""  # trailing run of value characters of the output
    declared: set[str] = field(default_factory=set)  # scene ids, trace variables
    computed: set[str] = field(default_factory=set)  # trace variables a step computed or changed

    def _pool(self, kind: str) -> set[str]:
        return self.computed if NAMES[kind] == "computed" else self.declared

    def permits(self, step: PayloadStep, text: str) -> bool:
        """Whether appending ``text`` (a token doing ``step``) keeps the value good."""
        complete = step.end is not None
        value = _tail(self.tail + (text[: step.end] if complete else text))
        kind, rules = step.kind, self.rules
        if kind in REF_KINDS:
            if rules.refs is None:
                return True
            refs, prefixes = rules.ref_pool(kind)
            return value in (refs if complete else prefixes)
        if kind in NAMES:
            pool = self._pool(kind)
            return value in pool if complete else any(d.startswith(value) for d in pool)
        return not (kind == "id" and complete and value in self.declared)

    def blocked(self, steps: PayloadSteps, allowed: np.ndarray, vocab: Sequence[str]) -> list[int]:
        """The ids, among ``allowed``, after which the value cannot become a good one."""
        out = [
            t
            for t, st in steps.other.items()
            if allowed[t] and self.rules.checks(st.kind) and not self.permits(st, vocab[t])
        ]
        # nothing to name yet: do not start naming it
        out += [
            t for t, k in steps.opens.items() if k in NAMES and not self._pool(k) and allowed[t]
        ]
        kind = steps.kind
        if not len(steps.plain_ids) or kind is None or kind == "id" or not self.rules.checks(kind):
            return out  # an id is only checked once complete
        # the plain tokens continue the value: good iff they stay on the way to a good value
        goods = self.rules.ref_pool(kind)[0] if kind in REF_KINDS else self._pool(kind)
        typed, ok = self.tail, set[int]()
        for value in goods or ():
            if value.startswith(typed):
                rest = value[len(typed) :]
                ok.update(
                    i
                    for k in range(1, len(rest) + 1)
                    if (i := steps.plain.get(rest[:k])) is not None
                )
        ids = steps.plain_ids[allowed[steps.plain_ids]]
        if ok:
            ids = ids[~np.isin(ids, np.fromiter(ok, dtype=np.int64, count=len(ok)))]
        return out + ids.tolist()

    def advance(self, step: PayloadStep | None, text: str) -> None:
        """Record a generated token (``step``: what it did to a value, None: nothing)."""
        if step is not None and step.end is not None:
            value = _tail(self.tail + text[: step.end])
            if step.kind == "scope":
                self.declared.clear()
                self.computed.clear()
            for pool in DECLARES.get(step.kind, ()):
                getattr(self, pool).add(value)
        self.tail = _tail(self.tail + text)
