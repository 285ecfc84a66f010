"""The non-dslkit vocabularies the decoding tests train locally (no hub download): a byte-level
BPE (GPT-2 / Llama 3 style) and a Unigram with ``▁`` spaces and ``<0xNN>`` byte pieces
(SentencePiece / Llama 2 style)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

SPECIALS = ["<s>", "</s>", "<pad>"]


def train_tokenizer(kind: str, corpus: Iterable[str], vocab_size: int) -> Tokenizer:
    """A ``"bpe"`` or ``"unigram"`` tokenizer trained on ``corpus``."""
    if kind == "bpe":
        tok = Tokenizer(models.BPE())
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        trainer: Any = trainers.BpeTrainer(
            vocab_size=vocab_size,
            show_progress=False,
            special_tokens=SPECIALS,
            initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        )
    elif kind == "unigram":
        tok = Tokenizer(models.Unigram(byte_fallback=True))
        tok.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
        tok.decoder = decoders.Sequence([decoders.ByteFallback(), decoders.Metaspace()])
        trainer = trainers.UnigramTrainer(
            vocab_size=vocab_size,
            show_progress=False,
            special_tokens=[*SPECIALS, *(f"<0x{b:02X}>" for b in range(256))],
            unk_token="<s>",
        )
    else:
        raise ValueError(f"unknown tokenizer kind {kind!r}")
    tok.train_from_iterator(corpus, trainer)
    return tok
