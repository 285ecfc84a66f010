"""What each token id of a tokenizer writes, as bytes: the view constrained decoding needs.

A token's *piece* (``tokenizer.id_to_token(i)``) is not its text. Byte-level BPE (GPT-2,
Llama 3, dslkit's own tokenizers) spells bytes with a printable stand-in alphabet (``Ġ`` for a
space); SentencePiece-style vocabularies (Llama 2, Mistral, T5) write ``▁`` for a space and
``<0x0A>`` for a byte they fall back to. :func:`read_vocabulary` reads the tokenizer's own
decoder settings to undo each of these, and says which ids are special (never text) and whether
the decoder drops the space that starts a decoded text (SentencePiece's dummy prefix).

Supported: ``tokenizers.Tokenizer`` objects, ``transformers`` fast tokenizers (through their
``backend_tokenizer``) and :class:`dslkit.tokenizer.DslTokenizer`. Decoders it does not know
raise :class:`ValueError` rather than guess.
"""

from __future__ import annotations

import codecs
import functools
import itertools
import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["Vocabulary", "byte_alphabet", "read_vocabulary"]

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
# decoders that change no token's text (they join, clean or strip the whole output)
_NEUTRAL = {"Fuse", "Strip", "CTC", "BPEDecoder"}


@dataclass(frozen=True)
class Vocabulary:
    """The text side of a tokenizer's ids."""

    # id -> the exact bytes the token adds to a decoded text (a special id: its content, which
    # decoding with skip_special_tokens drops; consumers exclude ``special_ids``)
    pieces: tuple[bytes, ...]
    special_ids: frozenset[int]  # ids that are never text (bos, eos, pad, added specials)
    eos_id: int | None  # the end-of-sequence id, when the tokenizer names one
    # the decoder drops a space that starts the decoded text (SentencePiece's dummy prefix):
    # a first token "▁[" decodes to "["
    strips_leading_space: bool

    def texts(self) -> list[str]:
        """Id -> text; a partial UTF-8 sequence (a byte token) decodes with
        ``surrogateescape``, so joining texts and encoding with it restores the exact bytes."""
        return [b.decode("utf-8", "surrogateescape") for b in self.pieces]


def byte_alphabet() -> list[str]:
    """The GPT-2 byte -> printable character table that ``ByteLevel`` uses (index = byte)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(0xA1, 0xAC + 1))
        + list(range(0xAE, 0xFF + 1))
    )
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    table = dict(zip(bs, cs, strict=True))
    return [chr(table[b]) for b in range(256)]


def _decoder_kinds(decoder: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The decoder and, for a ``Sequence``, its parts, flattened."""
    if not decoder:
        return []
    if decoder.get("type") == "Sequence":
        return [d for part in decoder.get("decoders", []) for d in _decoder_kinds(part)]
    return [decoder]


def read_vocabulary(tokenizer: Any) -> Vocabulary:
    """Read what every id of ``tokenizer`` writes.

    Args:
        tokenizer: a ``tokenizers.Tokenizer``, a ``transformers`` fast tokenizer or a
            :class:`dslkit.tokenizer.DslTokenizer`.

    Returns:
        The :class:`Vocabulary`; its length is the tokenizer's size with added tokens.

    Raises:
        ValueError: a slow (Python) ``transformers`` tokenizer, or a decoder whose per-token
            text cannot be read off the pieces (WordPiece's ``##`` joins, say).
    """
    eos: int | None = None
    extra_special: set[int] = set()
    backend = tokenizer
    if hasattr(tokenizer, "special_ids") and hasattr(tokenizer, "tokenizer"):  # DslTokenizer
        backend = tokenizer.tokenizer
        eos = tokenizer.special_ids.get("<|eos|>")
        extra_special = set(tokenizer.special_ids.values())
    elif hasattr(tokenizer, "all_special_ids"):  # transformers
        backend = getattr(tokenizer, "backend_tokenizer", None)
        if backend is None:
            raise ValueError(
                f"{type(tokenizer).__name__} is a slow tokenizer; load the fast one "
                "(AutoTokenizer.from_pretrained(..., use_fast=True))"
            )
        eos = tokenizer.eos_token_id
        extra_special = set(tokenizer.all_special_ids)
    decoder = _decoder_json(backend)
    kinds = _decoder_kinds(decoder)
    names = {d.get("type") for d in kinds}
    space: str | None = None  # the stand-in for a space in pieces
    strips = False
    for d in kinds:
        kind = d.get("type")
        if kind == "Metaspace":
            space = d.get("replacement", "▁")
            strips = strips or d.get("prepend_scheme", "always") != "never"
        elif kind == "Replace" and d.get("content") == " ":
            space = d.get("pattern", {}).get("String", space)
        elif kind == "Strip":
            strips = strips or (d.get("content") == " " and int(d.get("start", 0)) > 0)
        elif kind not in _NEUTRAL | {"ByteLevel", "ByteFallback", "Replace"}:
            raise ValueError(f"cannot read token texts through a {kind} decoder")
    byte_level = "ByteLevel" in names
    byte_fallback = "ByteFallback" in names
    added = backend.get_added_tokens_decoder()
    special = {i for i, t in added.items() if t.special} | extra_special
    size = backend.get_vocab_size(with_added_tokens=True)
    # id -> piece, read in id order (a third cheaper than the piece -> id dict and its
    # inversion on a 32k vocabulary); an id with no token (a hole) writes nothing
    id_to_token = backend.id_to_token  # (bound once: 32k lookups of it cost ~0.4 ms)
    by_id = [id_to_token(i) or "" for i in range(size)]
    for i in added:
        if i < size:
            by_id[i] = ""  # an added token writes its content as it is (below)
    if byte_level:
        # every piece in the byte alphabet (a byte-level BPE's own pieces): all of them
        # read at once, one character a byte; a piece outside it sends the reading to the
        # per-id loop below
        pieces = _byte_level_pieces(by_id)
        if pieces is not None:
            for i, token in added.items():
                if i < size:
                    pieces[i] = token.content.encode("utf-8")
            return _vocabulary(pieces, special, eos, strips, added)
    # a byte-level piece -> its bytes in one C-level pass: a charmap codec whose table is the
    # byte alphabet (the stand-in of each byte), so a piece with any character outside the
    # alphabet fails to encode and is read as text
    to_byte, encode = _to_byte(), codecs.charmap_encode
    pieces = []
    for i in range(size):
        if i in added:
            pieces.append(added[i].content.encode("utf-8"))
            continue
        piece = by_id[i]
        if byte_level:
            try:
                pieces.append(encode(piece, "strict", to_byte)[0])
                continue
            except UnicodeEncodeError:
                pass
        if byte_fallback and (m := _BYTE_PIECE.fullmatch(piece)):
            pieces.append(bytes([int(m.group(1), 16)]))
            continue
        if space is not None:
            piece = piece.replace(space, " ")
        pieces.append(piece.encode("utf-8"))
    return _vocabulary(pieces, special, eos, strips, added)


def _byte_level_pieces(names: list[str]) -> list[bytes] | None:
    """The bytes of byte-level pieces, or None when one has a character outside the byte
    alphabet. The pieces are joined and mapped to bytes in one pass (through numpy when it is
    there, a code point table lookup; else the alphabet's charmap codec), then cut apart
    again: one character is one byte."""
    joined = "".join(names)
    try:
        import numpy as np
    except ImportError:  # (dslkit.tokenizer installs without numpy)
        try:
            blob = codecs.charmap_encode(joined, "strict", _to_byte())[0]
        except UnicodeEncodeError:
            return None
        ends = list(itertools.accumulate(map(len, names)))
    else:
        table = _byte_table()
        points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        if points.size and int(points.max()) >= len(table):
            return None
        found = table[points]
        if points.size and int(found.min()) < 0:
            return None
        blob = found.astype(np.uint8).tobytes()
        ends = np.cumsum(np.fromiter(map(len, names), dtype=np.int64, count=len(names))).tolist()
    starts = [0, *ends][: len(ends)]  # each piece from where the one before ends
    return [blob[a:e] for a, e in zip(starts, ends, strict=True)]


@functools.cache
def _to_byte() -> Any:
    """The byte alphabet as a charmap encoding table (stand-in character -> its byte)."""
    return codecs.charmap_build("".join(byte_alphabet()))


@functools.cache
def _byte_table() -> Any:
    """Code point -> byte of the byte alphabet (-1: a character outside it), as numpy int16."""
    import numpy as np

    alphabet = byte_alphabet()
    table = np.full(max(map(ord, alphabet)) + 1, -1, dtype=np.int16)
    for b, ch in enumerate(alphabet):
        table[ord(ch)] = b
    return table


def _vocabulary(
    pieces: list[bytes], special: set[int], eos: int | None, strips: bool, added: dict[int, Any]
) -> Vocabulary:
    if eos is None:
        found = [i for i, t in added.items() if t.special and t.content in _EOS_NAMES]
        eos = found[0] if found else None
    return Vocabulary(tuple(pieces), frozenset(special), eos, strips)


def _decoder_json(backend: Any) -> dict[str, Any] | None:
    """The tokenizer's decoder settings: its own JSON state when it gives one (serializing
    the whole tokenizer, a 32k BPE's merges included, costs tens of milliseconds)."""
    decoder = getattr(backend, "decoder", None)
    state = getattr(decoder, "__getstate__", None)
    if decoder is not None and state is not None:
        try:
            found = json.loads(state())
            if isinstance(found, dict) and "type" in found:
                return found
        except (TypeError, ValueError):
            pass
    return json.loads(backend.to_str()).get("decoder")


_EOS_NAMES = ("<|eos|>", "</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "<|im_end|>")
