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

import array
import codecs
import functools
import hashlib
import itertools
import json
import re
import sys
import weakref
from dataclasses import dataclass
from typing import Any

__all__ = ["Vocabulary", "byte_alphabet", "forget_vocabularies", "read_vocabulary"]

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")
# backend tokenizer -> (what its texts were read from, the Vocabulary read): a processor made
# per generate call (its prompts' content changes) reads the vocabulary once, not each time
_READ: weakref.WeakKeyDictionary[Any, tuple[tuple[object, ...], Vocabulary]] = (
    weakref.WeakKeyDictionary()
)
# decoders that change no token's text (they join, clean or strip the whole output)
_NEUTRAL = {"Fuse", "Strip", "CTC", "BPEDecoder"}


@dataclass(frozen=True)
class Vocabulary:
    """The text side of a tokenizer's ids."""

    # id -> the text the token adds to a decoded text: its bytes read as UTF-8, where a
    # partial sequence (a byte token) reads with ``surrogateescape``, so that encoding texts
    # joined the same way restores the exact bytes (a special id: its content, which decoding
    # with skip_special_tokens drops; consumers exclude ``special_ids``)
    token_texts: tuple[str, ...]
    special_ids: frozenset[int]  # ids that are never text (bos, eos, pad, added specials)
    eos_id: int | None  # the end-of-sequence id, when the tokenizer names one
    # the decoder drops a space that starts the decoded text (SentencePiece's dummy prefix):
    # a first token "▁[" decodes to "["
    strips_leading_space: bool

    @functools.cached_property
    def fingerprint(self) -> bytes:
        """A SHA-256 of the token texts, the special ids and the eos id (what a token masker
        is built from), the same in every process; found once per vocabulary (a processor
        made per generate call asks again)."""
        h = hashlib.sha256()
        # every token's text with its length (in characters) in front, the texts as the bytes
        # they write (one buffer: a hash update per token costs more than the hashing)
        lengths = array.array("I", map(len, self.token_texts))
        if sys.byteorder == "big":
            lengths.byteswap()
        h.update(lengths.tobytes())
        h.update("".join(self.token_texts).encode("utf-8", "surrogateescape"))
        h.update(repr(sorted(self.special_ids)).encode())
        h.update(repr(self.eos_id).encode())
        return h.digest()

    @functools.cached_property
    def pieces(self) -> tuple[bytes, ...]:
        """Id -> the exact bytes the token adds to a decoded text (made when first asked:
        constrained decoding reads the texts)."""
        return tuple(t.encode("utf-8", "surrogateescape") for t in self.token_texts)

    def texts(self) -> list[str]:
        """Id -> text (:attr:`token_texts` as a list)."""
        return list(self.token_texts)


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
    # What the texts are read from, checked at every call (a few dozen microseconds, where the
    # reading takes ~14 ms on 32k ids): a tokenizer that gained tokens, or whose decoder, eos
    # or specials changed, is read anew; a few pieces across the ids stand for the model's.
    read_from = (
        size,
        tuple(sorted((i, t.content, t.special) for i, t in added.items())),
        json.dumps(decoder, sort_keys=True),
        eos,
        tuple(sorted(special)),
        tuple(map(backend.id_to_token, range(0, size, max(1, size // 16)))),
    )
    try:
        found = _READ.get(backend)
        kept = True
    except TypeError:  # (a backend no weak reference can name: read every time)
        found, kept = None, False
    if found is not None and found[0] == read_from:
        return found[1]
    vocabulary = _read_texts(
        backend, size, added, special, eos, strips, space, byte_level, byte_fallback
    )
    if kept:
        _READ[backend] = (read_from, vocabulary)
    return vocabulary


def forget_vocabularies() -> None:
    """Forget the vocabularies :func:`read_vocabulary` kept (each is read anew when asked)."""
    _READ.clear()


def _read_texts(
    backend: Any,
    size: int,
    added: dict[int, Any],
    special: set[int],
    eos: int | None,
    strips: bool,
    space: str | None,
    byte_level: bool,
    byte_fallback: bool,
) -> Vocabulary:
    """:func:`read_vocabulary`'s reading of every id's text, once it knows how."""
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
        texts = _byte_level_texts(by_id)
        if texts is not None:
            for i, token in added.items():
                if i < size:
                    texts[i] = token.content
            return _vocabulary(texts, special, eos, strips, added)
    # a byte-level piece -> its bytes in one C-level pass: a charmap codec whose table is the
    # byte alphabet (the stand-in of each byte), so a piece with any character outside the
    # alphabet fails to encode and is read as text
    to_byte, encode = _to_byte(), codecs.charmap_encode
    texts = []
    for i in range(size):
        if i in added:
            texts.append(added[i].content)
            continue
        piece = by_id[i]
        if byte_level:
            try:
                texts.append(encode(piece, "strict", to_byte)[0].decode("utf-8", "surrogateescape"))
                continue
            except UnicodeEncodeError:
                pass
        if byte_fallback and (m := _BYTE_PIECE.fullmatch(piece)):
            texts.append(bytes([int(m.group(1), 16)]).decode("utf-8", "surrogateescape"))
            continue
        texts.append(piece if space is None else piece.replace(space, " "))
    return _vocabulary(texts, special, eos, strips, added)


# From this many pieces on, numpy's fixed cost (~0.1 ms) is worth it (measured: 1k pieces
# take the same either way, 32k half the time)
_NUMPY_FROM = 1000


def _byte_level_texts(names: list[str]) -> list[str] | None:
    """The texts of byte-level pieces, or None when one has a character outside the byte
    alphabet. The pieces are joined and mapped to bytes in one pass (through numpy when it is
    there and the vocabulary is large, a code point table lookup; else the alphabet's charmap
    codec). With numpy, the texts are then cut apart in C as well: the bytes as characters
    with a separator after each piece (U+0100, which no byte is), split at once, and only the
    pieces that hold a byte outside ASCII (a few hundred of 32k) are read as UTF-8 one by
    one."""
    if not names:
        return []
    joined = "".join(names)
    np = _numpy() if len(names) >= _NUMPY_FROM else None
    if np is None:
        try:
            blob = codecs.charmap_encode(joined, "strict", _to_byte())[0]
        except UnicodeEncodeError:
            return None
        ends = list(itertools.accumulate(map(len, names)))
        starts = [0, *ends][: len(ends)]  # each piece from where the one before ends
        return [
            blob[a:e].decode("utf-8", "surrogateescape") for a, e in zip(starts, ends, strict=True)
        ]
    table = _byte_table()
    points = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    if points.size and int(points.max()) >= len(table):
        return None
    found = table[points]
    if points.size and int(found.min()) < 0:
        return None
    lengths = np.fromiter(map(len, names), dtype=np.int64, count=len(names))
    stop = np.cumsum(lengths)  # where each piece's bytes end
    chars = np.insert(found.astype(np.uint32), stop[:-1], 0x100)
    texts = chars.tobytes().decode("utf-32-le").split("\u0100")
    # a piece with a byte past ASCII: its characters above are Latin-1, not its UTF-8 text
    high = np.concatenate([[0], np.cumsum(found >= 0x80)])
    begin = stop - lengths
    for i in np.flatnonzero(high[stop] > high[begin]).tolist():
        raw = found[begin[i] : stop[i]].astype(np.uint8).tobytes()
        texts[i] = raw.decode("utf-8", "surrogateescape")
    return texts


def _numpy() -> Any:
    """The numpy module, or None (dslkit.tokenizer installs without it)."""
    try:
        import numpy
    except ImportError:
        return None
    return numpy


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
    texts: list[str], special: set[int], eos: int | None, strips: bool, added: dict[int, Any]
) -> Vocabulary:
    if eos is None:
        found = [i for i, t in added.items() if t.special and t.content in _EOS_NAMES]
        eos = found[0] if found else None
    return Vocabulary(tuple(texts), frozenset(special), eos, strips)


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
