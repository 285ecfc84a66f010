"""Scene values the grammar mask cannot check, checked per generated row during decoding.

The prefix automaton of :mod:`train.grammar_langs` forgets payload text, so it cannot know that
a content ref resolves in the case's content.json (``S601``) or that an arrow names a node
declared before it (``S314``). Decoding can: the automaton marks the characters that write a
value (:func:`train.grammar_mask.tag`), and :class:`ValueRules` keeps, per row, the value being
written and the ids declared so far, and allows only tokens after which the value can still
become a good one:

* ``ref``: a path that resolves in the content (when the row has content);
* ``idref``: an id declared earlier in the output (every gold and generated scene declares its
  nodes before the edges that name them); while none is declared, nothing may commit to naming
  one (:meth:`train.grammar_mask.Automaton.commits`; the decoder also holds back components
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

from train.grammar_mask import PayloadStep, PayloadSteps

__all__ = ["RowValues", "ValueRules", "content_paths"]


def content_paths(content: Any) -> set[str]:
    """Every dotted path that ``scene_dsl.content.resolve_ref`` resolves in ``content``.

    Dicts are walked by key and lists by index; a null value resolves to nothing.
    """
    out: set[str] = set()
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
            out.add(sub)
            stack.append((sub, value))
    return out


@dataclass(frozen=True)
class ValueRules:
    """What the values of one row may be.

    Args:
        content: the row's content.json; None leaves content refs unchecked.
        ids: check topology ids (declared before use, never twice).
    """

    content: Mapping[str, Any] | None = None
    ids: bool = True
    refs: frozenset[str] | None = field(init=False, default=None)
    ref_prefixes: frozenset[str] = field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        if self.content is not None:
            paths = content_paths(self.content)
            prefixes = {p[:i] for p in paths for i in range(len(p) + 1)}
            object.__setattr__(self, "refs", frozenset(paths))
            object.__setattr__(self, "ref_prefixes", frozenset(prefixes))

    def checks(self, kind: str) -> bool:
        """Whether values of ``kind`` are checked at all."""
        return self.refs is not None if kind == "ref" else self.ids and kind in ("id", "idref")

    def permits(self, kind: str, text: str, complete: bool, declared: set[str]) -> bool:
        """Whether a value of ``kind`` written up to ``text`` can still be (or is) a good one."""
        if kind == "ref":
            if self.refs is None:
                return True
            return text in (self.refs if complete else self.ref_prefixes)
        if not self.ids:
            return True
        if kind == "idref":
            return text in declared if complete else any(d.startswith(text) for d in declared)
        if kind == "id":
            return not (complete and text in declared)
        return True


_VALUE_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.")


def _tail(text: str) -> str:
    """The trailing run of value characters of ``text``."""
    i = len(text)
    while i and text[i - 1] in _VALUE_CHARS:
        i -= 1
    return text[i:]


@dataclass
class RowValues:
    """The value state of one generated row: the trailing value characters and the ids
    declared so far."""

    rules: ValueRules
    tail: str = ""  # trailing run of value characters of the output
    declared: set[str] = field(default_factory=set)

    def permits(self, step: PayloadStep, text: str) -> bool:
        """Whether appending ``text`` (a token doing ``step``) keeps the value good."""
        complete = step.end is not None
        value = _tail(self.tail + (text[: step.end] if complete else text))
        return self.rules.permits(step.kind, value, complete, self.declared)

    def blocked(self, steps: PayloadSteps, allowed: np.ndarray, vocab: Sequence[str]) -> list[int]:
        """The ids, among ``allowed``, after which the value cannot become a good one."""
        out = [
            t
            for t, st in steps.other.items()
            if allowed[t] and self.rules.checks(st.kind) and not self.permits(st, vocab[t])
        ]
        if self.rules.ids and not self.declared:  # no id to name yet: do not start naming one
            out += [t for t, k in steps.opens.items() if k == "idref" and allowed[t]]
        kind = steps.kind
        if not len(steps.plain_ids) or kind is None or kind == "id" or not self.rules.checks(kind):
            return out  # an id is only checked once complete
        # the plain tokens continue the value: good iff they stay on the way to a good value
        goods = self.rules.refs if kind == "ref" else self.declared
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
        if step is not None and step.end is not None and step.kind == "id":
            self.declared.add(_tail(self.tail + text[: step.end]))
        self.tail = _tail(self.tail + text)
