"""Build a :class:`DslTokenizer`: reserved structure from the contracts, payload learned by BPE.

Steps: (1) derive the reserved list (:mod:`dslkit.tokenizer.reserved`); (2) cut every corpus text at
reserved matches, so the BPE trainer sees payload only (refs, ids, numbers, prose) and never
learns merges over structure; (3) train a byte-level BPE on that payload with the structural
pre-tokenizer (:mod:`dslkit.tokenizer.pretok`); (4) assemble the final vocabulary with specials first,
reserved next, then the byte alphabet and merges, and register specials and reserved as HF added
tokens so they are matched (leftmost-longest) before pre-tokenization.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path

from dslkit.tokenizer.codes import fail
from dslkit.tokenizer.model import DslTokenizer, TokenizerMeta
from dslkit.tokenizer.pretok import pre_tokenizer
from dslkit.tokenizer.reserved import (
    GRANULARITIES,
    LANGUAGES,
    SPECIAL_TOKENS,
    ReservedToken,
    reserved_hash,
    reserved_tokens,
)
from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from scene_dsl.contract import Contract, load_contract

__all__ = ["DEFAULT_VOCAB_SIZE", "build", "reserved_matcher"]

DEFAULT_VOCAB_SIZE = 2048
_JOIN = "\x00"  # the pre-tokenizer isolates NUL, so joined payload pieces never merge
_BATCH = 2048


def build(
    language: str = "scene",
    *,
    contract: str | Path | Contract = "v1",
    corpus: Iterable[str],
    vocab_size: int = DEFAULT_VOCAB_SIZE,
    granularity: str = "atomic",
    reserved: Sequence[str] | None = None,
    min_frequency: int = 2,
    words: bool = False,
    space_led: bool = False,
    path_names: bool = False,
) -> DslTokenizer:
    """Train a tokenizer for a DSL.

    Args:
        language: ``scene``, ``trace`` or ``both``.
        contract: scene contract (name, path or object) the reserved tokens come from.
        corpus: training texts (scene or trace programs, prompts); only their payload is learned.
        vocab_size: total ids wanted, specials and reserved included; the BPE gets what is left
            (at least the 256 byte tokens). A small corpus may yield fewer.
        granularity: ``atomic``, ``split`` or ``bpe`` (see :mod:`dslkit.tokenizer.reserved`).
        reserved: replace the contract-derived reserved list (experiments; ``lint`` checks it).
        min_frequency: a merge must be seen this many times.
        words: learned pieces stay inside one word of a snake_case payload (``_`` is its own
            segment, :data:`dslkit.tokenizer.pretok.WORD_PATTERN`): a free value made of known
            words (a topic ``monitor_budget`` no training row has) is written with pieces the
            corpus already used, never with pieces only an unseen pair would need. Costs a
            token per ``_`` in refs and names.
        space_led: also reserve the space-led twin of every ``[``-led scene token
            (``" [layout:timeline]"``): an inline scene then costs one id per grammar piece
            instead of two. Scene or both languages, ``atomic`` granularity only.
        path_names: also reserve the content keys paths are made of (component names, ref
            keys) as whole words: ``graph_node.0.title`` is five ids, not seven. Scene or both
            languages, ``atomic`` granularity only.

    Returns:
        The built tokenizer.

    Raises:
        TokenizerError: K001 for a bad argument, K002 when the corpus has no text.
    """
    if language not in LANGUAGES:
        raise fail("K001", f"language must be one of {', '.join(LANGUAGES)}, not {language!r}")
    if granularity not in GRANULARITIES:
        raise fail(
            "K001", f"granularity must be one of {', '.join(GRANULARITIES)}, not {granularity!r}"
        )
    if (space_led or path_names) and (granularity != "atomic" or language == "trace"):
        raise fail(
            "K001",
            "space_led twins and path_names are scene tokens of the atomic granularity, not "
            f"{language}/{granularity}",
        )
    spec = load_contract(contract)
    if reserved is None:
        res = reserved_tokens(
            language, granularity, spec, space_led=space_led, path_names=path_names
        )
    else:
        res = tuple(ReservedToken(t, "custom") for t in dict.fromkeys(reserved) if t)
    res = tuple(t for t in res if t.text not in SPECIAL_TOKENS)
    texts = [t for t in corpus if t]
    if not texts:
        raise fail("K002", "the corpus is empty: give at least one non-empty text")
    bpe_budget = vocab_size - len(SPECIAL_TOKENS) - len(res)
    if bpe_budget < 256:
        raise fail(
            "K001",
            f"vocab_size {vocab_size} leaves {bpe_budget} ids for BPE after {len(SPECIAL_TOKENS)} "
            f"specials and {len(res)} reserved tokens; need at least 256 (the byte alphabet)",
        )
    payload = _payload(texts, res)
    vocab, merges = _train_bpe(payload, bpe_budget, min_frequency, words)
    tok = _assemble(res, vocab, merges, words)
    meta = TokenizerMeta(
        language=language,
        granularity=granularity,
        contract_version=spec.version if language != "trace" else "",
        reserved=tuple(t.text for t in res),
        reserved_hash=reserved_hash(tuple(t.text for t in res)),
        vocab_size=tok.get_vocab_size(with_added_tokens=True),
        space_led=space_led and reserved is None,
        path_names=path_names and reserved is None,
    )
    return DslTokenizer(tok, meta)


def reserved_matcher(res: Sequence[ReservedToken]) -> Tokenizer:
    """A tokenizer that finds reserved texts exactly as a built tokenizer does (the same HF
    added-token matcher, leftmost-longest); everything between matches is one id-0 span.

    Args:
        res: the reserved tokens.

    Returns:
        A ``tokenizers.Tokenizer``; read matches from ``encode(text).offsets``.
    """
    tok = Tokenizer(models.WordLevel({"<unk>": 0}, unk_token="<unk>"))
    tok.add_tokens([AddedToken(t.text, normalized=False, single_word=t.single_word) for t in res])
    return tok


def _payload(texts: list[str], res: tuple[ReservedToken, ...]) -> list[str]:
    if not res:
        return texts
    ext = reserved_matcher(res)
    out: list[str] = []
    for start in range(0, len(texts), _BATCH):
        chunk = texts[start : start + _BATCH]
        for text, enc in zip(chunk, ext.encode_batch(chunk, add_special_tokens=False), strict=True):
            pieces = [text[a:b] for i, (a, b) in zip(enc.ids, enc.offsets, strict=True) if i == 0]
            if pieces:
                out.append(_JOIN.join(pieces))
    return out


def _pre_tokenizer(words: bool) -> pre_tokenizers.PreTokenizer:
    # called without an argument for the default split (a test swaps pre_tokenizer for the stock
    # GPT-2 one with a no-argument stand-in)
    return pre_tokenizer(words=True) if words else pre_tokenizer()


def _train_bpe(
    payload: list[str], budget: int, min_frequency: int, words: bool = False
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    scratch = Tokenizer(models.BPE())
    scratch.pre_tokenizer = _pre_tokenizer(words)
    trainer = trainers.BpeTrainer(
        vocab_size=budget,
        min_frequency=min_frequency,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
        special_tokens=[],
    )
    scratch.train_from_iterator(payload or [" "], trainer, length=len(payload))
    model = json.loads(scratch.to_str())["model"]
    vocab: dict[str, int] = model["vocab"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ", 1)) for m in model["merges"]]
    return vocab, merges


def _assemble(
    res: tuple[ReservedToken, ...],
    bpe_vocab: dict[str, int],
    merges: list[tuple[str, str]],
    words: bool = False,
) -> Tokenizer:
    vocab: dict[str, int] = {}
    for text in (*SPECIAL_TOKENS, *(t.text for t in res)):
        vocab[text] = len(vocab)
    for piece, _ in sorted(bpe_vocab.items(), key=lambda kv: kv[1]):
        # A reserved text equal to a byte-level piece (``]``, ``.``) keeps its reserved id:
        # the added-token matcher catches it before the model ever sees it.
        vocab.setdefault(piece, len(vocab))
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges))
    tok.pre_tokenizer = _pre_tokenizer(words)
    tok.decoder = decoders.ByteLevel()
    tok.add_special_tokens([AddedToken(t, normalized=False, special=True) for t in SPECIAL_TOKENS])
    tok.add_tokens([AddedToken(t.text, normalized=False, single_word=t.single_word) for t in res])
    return tok
