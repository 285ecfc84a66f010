"""Reserved tokens, derived from the language contracts and grammars (never from a corpus).

Scene side: the contract (``scene_dsl.load_contract``) gives attributes with their values,
components, fields with kinds and enum values, and row-form keys; the grammar (``scene.lark``)
gives the frame (``[scene]``/``[/scene]``), the ``[field:role]`` + ``[@path]`` pair and the
payload punctuation (``|``, ``=``, ``->``, ``@``, ``.``). Trace side: ``trace_dsl.experts``
gives the expert names, step ops and compute ops, ``trace_dsl.schema`` the step keys,
``trace.lark`` the fixed punctuation of a step line.

Granularities:

``atomic``
    every structural unit is one token: ``[scene]``, ``[section_card]``, ``[/section_card]``,
    ``[section_card:`` (row opener), ``[theme:infra_dark]``, ``[accent:amber]``,
    ``[title_ref:`` (field-role prefix), ``accent=amber`` and ``note=`` (row-form named parts),
    ``[divider:dash`` (row-form positional enum), ``|``, ``->``, ``@``, ``.``, ``]``; for traces
    ``expert: arithmetic``, ``trace:``, ``- {``, ``op: init``, ``compute_op: add``, ``var: ``,
    ``, ``, ``}``.
``split``
    brackets, names, colons and values are separate tokens: ``[``, ``[/``, ``]``, ``:``, ``|``,
    ``=``, ``->``, ``@``, ``.`` plus every contract name and enum value as a whole word
    (matched only at word boundaries, so ``top`` never splits ``stop_1``).
``bpe``
    nothing reserved; the baseline.

Space-led twins (``space_led=True``, scene ``atomic`` only): every reserved text that opens with
``[`` gets a twin with the single leading space the inline surface writes before it
(``" [layout:timeline]"``, ``" [title_ref:"``, ``" [/scene]"``). The scene automaton's pieces
are exactly these (:mod:`scene_dsl.automaton`), so an inline scene costs one id per piece
instead of two (half its ids were separator spaces), and a spaced skeleton prompt
(:mod:`scene_dsl.skeleton`) encodes to the very ids its target copies. The twins come after
the other scene tokens, so the ids of a scene tokenizer without them stay where they were.

Path names (``path_names=True``, scene ``atomic`` only): the content keys a content path is made
of, as whole-word tokens: component names and the keys of content-ref fields (``title``, and
``items`` for a repeatable ``item_ref``). ``graph_node.0.title`` is then five ids, not seven, and
``table_block.0.table_row.1.cells.2`` eleven, not fifteen. They match only as whole words
(``single_word``): ``title`` never splits ``title_ref`` or a topic ``title_budget``.

Every reserved text of ``atomic`` starts at a grammar delimiter or is a complete row key, so
in a valid program the reserved matches line up with grammar units; payload characters
(``[A-Za-z0-9_.]`` in refs and ids) never contain ``[``, ``]``, ``:``, ``=`` or ``|``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from scene_dsl.contract import Contract, load_contract
from scene_dsl.skeleton import PROMPT_TAGS

__all__ = [
    "GRANULARITIES",
    "LANGUAGES",
    "OUT_TEXT",
    "SPECIAL_TOKENS",
    "ReservedToken",
    "reserved_hash",
    "reserved_tokens",
    "scene_reserved",
    "trace_reserved",
]

LANGUAGES = ("scene", "trace", "both")
GRANULARITIES = ("atomic", "split", "bpe")

# Declared once for the whole toolkit: training rows are ``<|bos|> prompt [OUT] target <|eos|>``.
# They are special tokens: kept out of targets (DslTokenizer.encode never emits them from text).
OUT_TEXT = "[OUT]"  # the marker a prompt ends with (DslTokenizer.encode_row frames it)
SPECIAL_TOKENS: tuple[str, ...] = ("<|bos|>", "<|eos|>", "<|pad|>", OUT_TEXT)

_SCENE_PUNCT_ATOMIC = ("[", "]", "|", "@", "->", ".", "[@")
_SCENE_PUNCT_SPLIT = ("[", "[/", "]", ":", "|", "=", "->", "@", ".")
_TRACE_PUNCT_ATOMIC = ("- {", "- ", "}", "{", ", ", ": ", "[", "]", '"', ".")
_TRACE_PUNCT_SPLIT = ("-", "{", "}", "[", "]", ",", ":", '"', ".")


@dataclass(frozen=True, slots=True)
class ReservedToken:
    """One reserved vocabulary entry."""

    text: str  # exact text the token stands for
    kind: str  # frame | open | close | pair | prefix | punct | name | keyword | prompt
    single_word: bool = False  # match only at word boundaries (split-mode names)


def _enum_values(kind: str, values: tuple[str, ...], lo: int, hi: int) -> tuple[str, ...]:
    if kind == "enum":
        return values
    if kind == "int":
        return tuple(str(i) for i in range(lo, hi + 1))
    return ()


def scene_reserved(
    contract: Contract, granularity: str, *, space_led: bool = False, path_names: bool = False
) -> tuple[ReservedToken, ...]:
    """Reserved tokens of the scene language for one granularity.

    Args:
        contract: the loaded scene contract.
        granularity: ``atomic``, ``split`` or ``bpe``.
        space_led: add the space-led twin of every ``[``-led token (``atomic`` only).
        path_names: add the content keys of content paths as whole words (``atomic`` only).

    Returns:
        Tokens in a stable order (frame, attributes, components, fields, row keys, punctuation,
        then the twins, then the path names), without duplicates.

    Raises:
        ValueError: an unknown granularity, or an option with one other than ``atomic``.
    """
    if (space_led or path_names) and granularity != "atomic":
        raise ValueError(
            f"space-led twins and path names exist for the atomic granularity, not {granularity!r}"
        )
    if granularity == "bpe":
        return ()
    if granularity == "split":
        return _dedupe(_scene_split(contract))
    if granularity != "atomic":
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    out = list(_scene_atomic(contract))
    if space_led:
        out.extend(ReservedToken(" " + t.text, t.kind) for t in tuple(out) if t.text[0] == "[")
    if path_names:
        out.extend(ReservedToken(n, "name", single_word=True) for n in _path_names(contract))
    return _dedupe(out)


def _path_names(contract: Contract) -> list[str]:
    # the keys scene_dsl.skeleton.REF_POLICY builds paths from; content.json uses the same
    names: list[str] = []
    for comp in contract.components.values():
        names.append(comp.name)
        for f in comp.fields:
            if f.kind == "ref" and f.name != "ref":
                names.append(f.row_key + ("s" if f.repeatable else ""))
    return names


def _scene_atomic(contract: Contract) -> tuple[ReservedToken, ...]:
    out: list[ReservedToken] = [
        ReservedToken("[scene]", "frame"),
        ReservedToken("[/scene]", "frame"),
    ]
    for attr in contract.attributes:
        values = attr.all_values
        if values:
            out.extend(ReservedToken(f"[{attr.name}:{v}]", "pair") for v in values)
        else:  # free value (topic): reserve the prefix, the value is payload
            out.append(ReservedToken(f"[{attr.name}:", "prefix"))
    for comp in contract.components.values():
        out.append(ReservedToken(f"[{comp.name}]", "open"))
        out.append(ReservedToken(f"[/{comp.name}]", "close"))
        out.append(ReservedToken(f"[{comp.name}:", "prefix"))  # row-form opener
        # Row form with a leading enum part (``[divider:dash]``): the value is structure.
        for sig in comp.row:
            if sig.parts and len(sig.parts[0]) == 1:
                spec = comp.field(sig.parts[0][0])
                if spec is not None and spec.kind == "enum":
                    out.extend(ReservedToken(f"[{comp.name}:{v}", "pair") for v in spec.values)
    for comp in contract.components.values():
        for f in comp.fields:
            values = _enum_values(f.kind, f.values, f.minimum, f.maximum)
            if values:
                out.extend(ReservedToken(f"[{f.name}:{v}]", "pair") for v in values)
                out.extend(ReservedToken(f"{f.row_key}={v}", "pair") for v in values)
            else:
                out.append(ReservedToken(f"[{f.name}:", "prefix"))
                out.append(ReservedToken(f"{f.row_key}=", "prefix"))
                if f.kind == "ref":  # block form [field:label] [@path]
                    out.append(ReservedToken(f"[field:{f.row_key}]", "pair"))
    out.extend(ReservedToken(p, "punct") for p in _SCENE_PUNCT_ATOMIC)
    # Prompt-only tags of the well-posed skeleton prompt (scene_dsl.skeleton): the rest of a
    # skeleton prompt is already made of the tokens above.
    out.extend(ReservedToken(t, "prompt") for t in PROMPT_TAGS)
    return _dedupe(out)


def _scene_split(contract: Contract) -> list[ReservedToken]:
    out = [ReservedToken(p, "punct") for p in _SCENE_PUNCT_SPLIT]
    words: list[str] = ["scene", "field"]
    for tag in PROMPT_TAGS:  # [task:svg] [form:block]: the prompt tags' names and values
        words.extend(tag[1:-1].split(":"))
    for attr in contract.attributes:
        words.append(attr.name)
        words.extend(v for v in attr.values if attr.kind == "enum")
    for comp in contract.components.values():
        words.append(comp.name)
        for f in comp.fields:
            words.extend((f.name, f.row_key))
            if f.kind == "enum":
                words.extend(f.values)
    out.extend(ReservedToken(w, "name", single_word=True) for w in words)
    return out


def trace_reserved(granularity: str) -> tuple[ReservedToken, ...]:
    """Reserved tokens of the trace language for one granularity.

    Args:
        granularity: ``atomic``, ``split`` or ``bpe``.

    Returns:
        Tokens in a stable order, without duplicates. The vocabulary is imported from
        ``trace_dsl`` (experts, ops, compute ops, step keys), never listed here.
    """
    from trace_dsl.experts import ALL_OPS, COMPUTE_OPS, EXPERTS
    from trace_dsl.schema import KEY_NAMES

    keys = [k for k in KEY_NAMES if k != "compute_op"]
    ops = sorted(ALL_OPS)
    if granularity == "bpe":
        return ()
    if granularity == "split":
        out = [ReservedToken(p, "punct") for p in _TRACE_PUNCT_SPLIT]
        words = ["expert", "trace", "op", "compute_op", *keys, *EXPERTS, *ops, *COMPUTE_OPS]
        out.extend(ReservedToken(w, "name", single_word=True) for w in words)
        return _dedupe(out)
    if granularity != "atomic":
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    out = [ReservedToken(f"expert: {e}", "pair") for e in EXPERTS]
    out.append(ReservedToken("trace:", "keyword"))
    out.extend(ReservedToken(f"op: {op}", "pair") for op in ops)
    out.extend(ReservedToken(f"compute_op: {c}", "pair") for c in COMPUTE_OPS)
    out.extend(ReservedToken(f"{k}: ", "prefix") for k in ("expert", "op", "compute_op", *keys))
    out.extend(ReservedToken(p, "punct") for p in _TRACE_PUNCT_ATOMIC)
    return _dedupe(out)


def reserved_tokens(
    language: str,
    granularity: str,
    contract: str | Path | Contract = "v1",
    *,
    space_led: bool = False,
    path_names: bool = False,
) -> tuple[ReservedToken, ...]:
    """Reserved tokens for a language (``scene``, ``trace`` or ``both``) and granularity.

    Args:
        language: which grammar(s) the tokenizer serves.
        granularity: ``atomic``, ``split`` or ``bpe``.
        contract: scene contract name, path or object (ignored for ``trace``).
        space_led: add the scene's space-led twins (module docstring; ``atomic`` only).
        path_names: add the scene's content-path names (module docstring; ``atomic`` only).

    Returns:
        The reserved tokens, scene first then trace for ``both``, without duplicates.
    """
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {LANGUAGES}, not {language!r}")
    if granularity not in GRANULARITIES:
        raise ValueError(f"granularity must be one of {GRANULARITIES}, not {granularity!r}")
    if (space_led or path_names) and language == "trace":
        raise ValueError("space-led twins and path names are scene tokens: use 'scene' or 'both'")
    out: list[ReservedToken] = []
    if language in ("scene", "both"):
        spec = load_contract(contract)
        out.extend(scene_reserved(spec, granularity, space_led=space_led, path_names=path_names))
    if language in ("trace", "both"):
        out.extend(trace_reserved(granularity))
    return _dedupe(out)


def reserved_hash(texts: tuple[str, ...] | list[str]) -> str:
    """A short stable hash of a reserved list (order matters: it fixes the ids)."""
    return hashlib.sha256("\n".join(texts).encode("utf-8")).hexdigest()[:16]


def _dedupe(tokens: list[ReservedToken] | tuple[ReservedToken, ...]) -> tuple[ReservedToken, ...]:
    seen: set[str] = set()
    out: list[ReservedToken] = []
    for t in tokens:
        if t.text not in seen:
            seen.add(t.text)
            out.append(t)
    return tuple(out)
