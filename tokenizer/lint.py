"""Lint a built tokenizer against the contracts: reserve structure, not payload.

Findings (each names the token and why):

- K101 error: a reserved token carries payload: a content ref or path, several fields, digits
  outside the contract enums, a word that is no contract or grammar name (a topology id or
  prose), or more than ``max_chars`` characters;
- K102 warning: a reserved token that carries no payload but is not derived from the contracts;
- K201 error: a contract structure token of the tokenizer's language and granularity is missing;
- K301 error: a structural unit found in gold programs encodes to more ids than the granularity
  promises (``atomic``: one; ``split``: one per bracket, name, colon and digit). Units are
  found with the atomic reserved list and encoded on their own: the pre-tokenizer splits at
  their edges, so in context they encode the same;
- K401 warning: more than 40% of the vocabulary is single bytes (the corpus was too small or the
  vocabulary too large to learn payload pieces).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dslkit.tokenizer.build import reserved_matcher
from dslkit.tokenizer.codes import diag
from dslkit.tokenizer.corpus import gold_scenes, gold_traces, sample_scene_texts, sample_trace_texts
from dslkit.tokenizer.model import DslTokenizer
from dslkit.tokenizer.reserved import GRANULARITIES, LANGUAGES, reserved_tokens

from dslkit.errors import Diagnostic
from scene_dsl.contract import Contract, load_contract

__all__ = ["DEFAULT_MAX_CHARS", "SINGLE_BYTE_SHARE", "LintReport", "lint", "promised_ids"]

DEFAULT_MAX_CHARS = 40  # the longest contract token is ~35 chars ([layout:utility_micrographic])
SINGLE_BYTE_SHARE = 0.40
_PATH_RE = re.compile(r"[A-Za-z0-9_]+\.[A-Za-z0-9_]+")
_WORD_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS_RE = re.compile(r"\d+")
_FREE_RE = re.compile(r"\[?([A-Za-z_][A-Za-z0-9_]*)[:=]\s*([^\]\s|]+)\]?\Z")
_SPLIT_PIECE_RE = re.compile(r"\[/|->|[^\W\d]+|\d|\s+|.", re.S)


@dataclass(frozen=True, slots=True)
class LintReport:
    """Lint findings for one tokenizer."""

    diagnostics: tuple[Diagnostic, ...]
    checked_reserved: int  # reserved tokens examined
    checked_units: int  # distinct structural units from gold programs examined

    @property
    def ok(self) -> bool:
        """True when no finding is an error."""
        return not any(d.is_error for d in self.diagnostics)

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    def to_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "checked_reserved": self.checked_reserved,
            "checked_units": self.checked_units,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    def format(self) -> str:
        """One headline per finding, then a summary line."""
        lines = [d.headline() for d in self.diagnostics]
        n_err = len(self.errors)
        lines.append(
            f"{'ok' if self.ok else 'FAILED'}: {n_err} error(s), {len(self.diagnostics) - n_err} "
            f"warning(s); {self.checked_reserved} reserved tokens, {self.checked_units} gold units"
        )
        return "\n".join(lines)


def promised_ids(unit: str, granularity: str) -> int | None:
    """How many ids a structural unit may take under a granularity (None: no promise)."""
    if granularity == "atomic":
        return 1
    if granularity == "split":
        return len(_SPLIT_PIECE_RE.findall(unit))
    return None


def lint(
    tok: DslTokenizer,
    contract: str | Path | Contract = "v1",
    *,
    gold: Iterable[str] | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
) -> LintReport:
    """Check a tokenizer's reserved list and structure encoding against the contracts.

    Args:
        tok: the tokenizer.
        contract: scene contract the reserved tokens must come from.
        gold: programs whose structure is checked; default: the gold pack and example traces
            (generated programs when the pack is absent) for the tokenizer's language.
        max_chars: longest reserved token accepted.

    Returns:
        The report; ``report.ok`` is False when any finding is an error.
    """
    spec = load_contract(contract)
    language, granularity = tok.meta.language, tok.meta.granularity
    derived = {
        t.text for lang in LANGUAGES for g in GRANULARITIES for t in reserved_tokens(lang, g, spec)
    }
    options = {"space_led": True, "path_names": True}
    derived.update(t.text for t in reserved_tokens("scene", "atomic", spec, **options))
    known_words = {w for text in derived for w in _WORD_RE.findall(text)}
    diags: list[Diagnostic] = []
    for text in tok.meta.reserved:
        if text in derived:
            continue
        why = _payload_reasons(text, known_words, derived, max_chars)
        if why:
            diags.append(diag("K101", f"reserved token {text!r} carries payload: {'; '.join(why)}"))
        else:
            diags.append(
                diag("K102", f"reserved token {text!r} is not derived from the contract or grammar")
            )
    expected = (
        reserved_tokens(
            language,
            granularity,
            spec,
            space_led=tok.meta.space_led,
            path_names=tok.meta.path_names,
        )
        if language in LANGUAGES
        else ()
    )
    have = tok.reserved_ids
    for t in expected:
        if t.text not in have:
            diags.append(
                diag(
                    "K201",
                    f"contract structure token {t.text!r} ({t.kind}) is missing from the vocabulary",
                )
            )
    units = _gold_units(tok, spec, gold)
    for unit, count in sorted(units.items()):
        want = promised_ids(unit, granularity)
        got = len(tok.encode(unit))
        if want is not None and got > want:
            diags.append(
                diag(
                    "K301",
                    f"gold structure {unit!r} ({count}x) encodes to {got} ids; "
                    f"{granularity} promises {want}",
                )
            )
    singles = sum(1 for b in tok.vocab_bytes() if len(b) == 1)
    share = singles / max(1, tok.vocab_size)
    if share > SINGLE_BYTE_SHARE:
        diags.append(
            diag(
                "K401",
                f"{singles} of {tok.vocab_size} tokens ({share:.0%}) are single bytes: train on a "
                f"larger corpus or lower the vocabulary size",
            )
        )
    return LintReport(tuple(diags), len(tok.meta.reserved), len(units))


def _payload_reasons(text: str, known: set[str], derived: set[str], max_chars: int) -> list[str]:
    why: list[str] = []
    free = _FREE_RE.match(text)
    if free and (f"[{free.group(1)}:" in derived or f"{free.group(1)}=" in derived):
        why.append(
            f"holds {free.group(2)!r}, the value of free field {free.group(1)!r} (a topology id or content ref)"
        )
    path = _PATH_RE.search(text)
    if path:
        why.append(f"holds the content ref or path {path.group()!r}")
    fields = text.count("|") + max(0, len(re.findall(r"[:=](?!\s*$)", text)) - 1)
    if fields >= 1 and len(text) > 1:
        why.append("holds several fields")
    digits = [d for d in _DIGITS_RE.findall(text) if not any(d in t and t in text for t in derived)]
    if digits:
        why.append(f"holds digits {digits[0]!r} outside the contract enums")
    unknown = [w for w in _WORD_RE.findall(text) if w not in known]
    if unknown:
        why.append(
            f"holds {unknown[0]!r}, which is no contract or grammar name (a topology id or prose)"
        )
    if len(text) > max_chars:
        why.append(f"is {len(text)} characters long (more than {max_chars})")
    return why


def _gold_units(tok: DslTokenizer, spec: Contract, gold: Iterable[str] | None) -> Counter[str]:
    language = tok.meta.language
    if language not in LANGUAGES or tok.meta.granularity == "bpe":
        return Counter()
    if gold is None:
        texts: list[str] = []
        if language in ("scene", "both"):
            texts += gold_scenes() or sample_scene_texts(40, seed=0)
        if language in ("trace", "both"):
            texts += gold_traces() + sample_trace_texts(20, seed=0)
    else:
        texts = list(gold)
    matcher = reserved_matcher(reserved_tokens(language, "atomic", spec))
    units: Counter[str] = Counter()
    for text, enc in zip(texts, matcher.encode_batch(texts, add_special_tokens=False), strict=True):
        units.update(text[a:b] for i, (a, b) in zip(enc.ids, enc.offsets, strict=True) if i != 0)
    return units
