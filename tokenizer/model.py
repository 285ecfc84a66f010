"""``DslTokenizer``: a ``tokenizers.Tokenizer`` plus what the toolkit needs to know about it.

Id layout (stable for a given reserved list): special tokens first (``<|bos|>`` 0, ``<|eos|>``
1, ``<|pad|>`` 2, ``[OUT]`` 3), then the reserved structure tokens in contract order, then the
256 byte-level tokens, then learned merges. Text never encodes to a special id: a leaked
``<|eos|>`` or ``[OUT]`` inside a target encodes as its characters, so specials appear only
where training code puts them (:meth:`DslTokenizer.encode_row`).

A saved tokenizer folder is also a Hugging Face tokenizer: ``AutoTokenizer.from_pretrained(dir)``
reads ``tokenizer_config.json`` and ``special_tokens_map.json`` (bos/eos/pad, ``[OUT]`` as an
additional special token, ``split_special_tokens=True`` so leaked specials stay characters as in
:meth:`DslTokenizer.encode`) and the post-processor in ``tokenizer.json`` frames like
:meth:`DslTokenizer.encode_row`::

    hf(prompt_body, target).input_ids == sum(tok.encode_row(prompt_body, target), [])
    hf(text, add_special_tokens=False).input_ids == tok.encode(text)

where ``prompt_body`` is a prompt without its trailing ``[OUT]`` marker (the post-processor adds
it). To read the markers written in prompt text instead (generation, e.g. TRL prompts), load
with ``split_special_tokens=False`` and pass ``"<|bos|>" + prompt`` with
``add_special_tokens=False``.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dslkit.tokenizer.codes import fail
from dslkit.tokenizer.reserved import OUT_TEXT, SPECIAL_TOKENS, reserved_hash
from dslkit.tokenizer.vocab import read_vocabulary
from tokenizers import Tokenizer, processors

__all__ = [
    "HF_CONFIG_FILE",
    "HF_SPECIAL_TOKENS_FILE",
    "META_FILE",
    "TOKENIZER_FILE",
    "DslTokenizer",
    "TokenizerMeta",
    "load",
]

TOKENIZER_FILE = "tokenizer.json"
META_FILE = "dslkit_tokenizer.json"
HF_CONFIG_FILE = "tokenizer_config.json"  # what transformers' AutoTokenizer reads first
HF_SPECIAL_TOKENS_FILE = "special_tokens_map.json"
META_FORMAT = 1


@dataclass(frozen=True, slots=True)
class TokenizerMeta:
    """What a saved tokenizer was built from (written beside ``tokenizer.json``)."""

    language: str  # scene | trace | both
    granularity: str  # atomic | split | bpe
    contract_version: str  # scene contract version ("" for trace-only)
    reserved: tuple[str, ...]  # reserved texts in id order (after the specials)
    reserved_hash: str  # reserved_hash(reserved): changes when ids would change
    vocab_size: int  # total ids, specials and reserved included
    special_tokens: tuple[str, ...] = SPECIAL_TOKENS
    space_led: bool = False  # the scene's space-led twins are reserved (tokenizer.reserved)
    path_names: bool = False  # the scene's content-path names are reserved (tokenizer.reserved)

    def to_dict(self) -> dict[str, object]:
        return {
            "format": META_FORMAT,
            "language": self.language,
            "granularity": self.granularity,
            "contract_version": self.contract_version,
            "reserved_hash": self.reserved_hash,
            "vocab_size": self.vocab_size,
            "special_tokens": list(self.special_tokens),
            "space_led": self.space_led,
            "path_names": self.path_names,
            "reserved": list(self.reserved),
        }


# a component's open or close tag as a whole reserved text: ``[name]`` / ``[/name]``
_ELEMENT_TAG = re.compile(r"\[(/?)([a-z][a-z0-9_]*)\]")
_FIELD_OPEN = re.compile(r"\[[a-z][a-z0-9_]*:")  # "[title_ref:", "[accent:blue]"


@dataclass(eq=False)
class DslTokenizer:
    """A built tokenizer. Wraps (does not subclass) a ``tokenizers.Tokenizer``."""

    tokenizer: Tokenizer  # the HF tokenizer; specials are matched in text only by encode_special
    meta: TokenizerMeta
    _text_tok: Tokenizer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        # encode_row's framing as the HF post-processor, so transformers users get the same
        # ids from tok(prompt, target). Every dslkit encode passes add_special_tokens=False,
        # which leaves the post-processor out: nothing changes for dslkit itself.
        if self.tokenizer.post_processor is None:
            self.tokenizer.post_processor = _framing(self.tokenizer)
        # A copy whose special tokens are *not* matched in text, so user text (targets
        # included) can never produce a special id. encode_special_tokens is not saved in
        # tokenizer.json, hence a dedicated instance rather than a flag flipped per call.
        self._text_tok = Tokenizer.from_str(self.tokenizer.to_str())
        self._text_tok.encode_special_tokens = True
        self._vocab_bytes: list[bytes] | None = None

    # -- ids -----------------------------------------------------------------------------
    @property
    def vocab_size(self) -> int:
        """Number of ids (every id is in ``range(vocab_size)``)."""
        return self.tokenizer.get_vocab_size(with_added_tokens=True)

    @property
    def special_ids(self) -> dict[str, int]:
        """Special token text -> id (``<|bos|>``, ``<|eos|>``, ``<|pad|>``, ``[OUT]``)."""
        return {t: self._id(t) for t in self.meta.special_tokens}

    @property
    def bos_id(self) -> int:
        return self._id("<|bos|>")

    @property
    def eos_id(self) -> int:
        return self._id("<|eos|>")

    @property
    def pad_id(self) -> int:
        return self._id("<|pad|>")

    @property
    def out_id(self) -> int:
        return self._id(OUT_TEXT)

    @property
    def reserved_ids(self) -> dict[str, int]:
        """Reserved structure text -> id, in id order."""
        return {t: self._id(t) for t in self.meta.reserved}

    def structure(self) -> dict[str, tuple[int, ...]]:
        """The ids a model's structure indices count (``dslkit.train.model.GPTConfig``).

        ``structure_opens``: every component open (``[graph_node]`` and its space-led twin),
        ``structure_closes``: every component close, ``structure_resets``: ``<|bos|>`` and
        ``[OUT]`` (a prompt and its target are counted separately), ``structure_fields``:
        every reserved token that opens a field (``[title_ref:``, ``[accent:blue]``). The scene frame
        (``[scene]``) is not an element: top-level components are level 0.

        Returns:
            The four id tuples, keyed by their ``GPTConfig`` field names.

        Raises:
            TokenizerError: K001 unless the tokenizer reserves scene structure atomically
                (each open and close one id).
        """
        if self.meta.language not in ("scene", "both") or self.meta.granularity != "atomic":
            raise fail(
                "K001",
                f"structure ids need an atomic scene tokenizer, this one is "
                f"{self.meta.language}/{self.meta.granularity}",
            )
        opens: list[int] = []
        closes: list[int] = []
        fields: list[int] = []
        for text in self.meta.reserved:
            if _FIELD_OPEN.match(text.lstrip(" ")):
                fields.append(self._id(text))
                continue
            tag = _ELEMENT_TAG.fullmatch(text.lstrip(" "))
            if tag is None or tag.group(2) == "scene":
                continue
            (closes if tag.group(1) else opens).append(self._id(text))
        resets = (self.bos_id, self.out_id)
        return {
            "structure_opens": tuple(opens),
            "structure_closes": tuple(closes),
            "structure_resets": resets,
            "structure_fields": tuple(fields),
        }

    def _id(self, text: str) -> int:
        i = self.tokenizer.token_to_id(text)
        if i is None:  # only a hand-edited tokenizer.json gets here
            raise fail("K004", f"token {text!r} is missing from the vocabulary")
        return i

    # -- encode / decode -----------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        """Encode text to ids (no special tokens added or matched).

        Args:
            text: any text UTF-8 can carry (every string but one holding a lone surrogate).

        Returns:
            Ids with ``decode(encode(text)) == text``.

        Raises:
            TokenizerError: K001 when ``text`` is not a str or holds a lone surrogate
                (``"\\ud800"``): no byte sequence, so no id sequence, stands for it.
        """
        return self._text_tok.encode(_encodable(text), add_special_tokens=False).ids

    def encode_batch(self, texts: Sequence[str]) -> list[list[int]]:
        """Encode many texts at once (parallel in Rust unless RAYON_NUM_THREADS=1).

        Args:
            texts: the texts.

        Returns:
            One id list per text, equal to ``[encode(t) for t in texts]``.
        """
        texts = [_encodable(t) for t in texts]
        encs = self._text_tok.encode_batch_fast(texts, add_special_tokens=False)
        return [e.ids for e in encs]

    def decode(self, ids: Iterable[int]) -> str:
        """Decode ids to text exactly (special tokens are shown as their text).

        Raises:
            TokenizerError: K001 when an id is not an int in ``0 .. vocab_size - 1`` (the
                Rust side would raise OverflowError for -1 and return "" for a too-large id).
        """
        try:  # numpy and torch integer scalars convert too; floats, str and bool do not
            ids = [operator.index(i) for i in ids if not isinstance(i, bool) or _no_bool(i)]
        except TypeError as exc:
            raise fail("K001", f"decode: ids must be integers ({exc})") from None
        if ids:
            lo, hi = min(ids), max(ids)
            if lo < 0 or hi >= self.vocab_size:
                which = lo if lo < 0 else hi
                raise fail("K001", f"decode: id {which} is outside 0..{self.vocab_size - 1}")
        return self.tokenizer.decode(ids, skip_special_tokens=False)

    def tokens(self, text: str) -> list[tuple[int, str]]:
        """``(id, exact text)`` per token of ``text``: shows where the boundaries fall."""
        strings = self.vocab_strings()
        return [(i, strings[i]) for i in self.encode(text)]

    def encode_prompt(self, text: str) -> list[int]:
        """Encode a prompt: like :meth:`encode`, but special texts (the ``[OUT]`` marker that
        ``dslkit.train.data`` prompts end with) map to their special ids."""
        return self.tokenizer.encode(_encodable(text), add_special_tokens=False).ids

    def encode_row(self, prompt: str, target: str) -> tuple[list[int], list[int]]:
        """Frame a training row: ``<|bos|> prompt [OUT]`` and ``target <|eos|>``.

        Args:
            prompt: prompt text; a trailing ``[OUT]`` marker becomes the special id (one is
                added when the prompt has none). The text before the marker is encoded on
                its own, as the Hugging Face template encodes ``prompt.removesuffix("[OUT]")``:
                encoded whole, a space-led tokenizer's `` [`` piece would take the space
                before the marker and leave ``OUT]`` as text.
            target: target text (encoded with :meth:`encode`: never holds a special id).

        Returns:
            ``(prompt_ids, target_ids)``; the loss is taken on ``target_ids`` only.
        """
        body = prompt.removesuffix(OUT_TEXT)
        p = [self.bos_id, *self.encode_prompt(body), self.out_id]
        return p, [*self.encode(target), self.eos_id]

    # -- vocabulary views for constrained decoding ------------------------------------------
    def vocab_bytes(self) -> list[bytes]:
        """Id -> exact bytes the token decodes to (partial UTF-8 for some byte tokens)."""
        if self._vocab_bytes is None:
            self._vocab_bytes = list(read_vocabulary(self.tokenizer).pieces)
        return self._vocab_bytes

    def vocab_strings(self) -> list[str]:
        """Id -> exact text of that token.

        Tokens holding a partial UTF-8 sequence (single bytes >= 0x80) decode with
        ``surrogateescape``, so ``"".join(parts).encode("utf-8", "surrogateescape")`` restores
        the exact bytes; every ASCII token (all structure) is its plain text.
        """
        return [b.decode("utf-8", "surrogateescape") for b in self.vocab_bytes()]

    # -- persistence ------------------------------------------------------------------------
    def save(self, directory: str | Path) -> Path:
        """Write ``tokenizer.json`` (loads with ``tokenizers.Tokenizer.from_file``) and metadata.

        Args:
            directory: created when missing.

        Returns:
            The directory.
        """
        out = Path(directory)
        try:
            out.mkdir(parents=True, exist_ok=True)
            self.tokenizer.save(str(out / TOKENIZER_FILE))
            (out / META_FILE).write_text(json.dumps(self.meta.to_dict(), indent=1) + "\n", "utf-8")
            for name, obj in self.hf_config().items():
                (out / name).write_text(json.dumps(obj, indent=1) + "\n", "utf-8")
        except OSError as exc:
            raise fail("K004", f"cannot write tokenizer to {out}: {exc.strerror}") from None
        return out

    def hf_config(self) -> dict[str, dict[str, object]]:
        """The ``transformers`` files :meth:`save` writes beside ``tokenizer.json``.

        Returns:
            ``{file name: JSON object}`` for ``tokenizer_config.json`` and
            ``special_tokens_map.json``: bos/eos/pad, ``[OUT]`` as an additional special token
            and ``split_special_tokens`` (a special token's text in user text is characters,
            exactly as :meth:`encode` treats it).
        """
        named = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "pad_token": "<|pad|>"}
        extra = [t for t in self.meta.special_tokens if t not in named.values()]
        special_map: dict[str, object] = {**named, "additional_special_tokens": extra}
        config: dict[str, object] = {
            "tokenizer_class": "PreTrainedTokenizerFast",
            **special_map,
            "split_special_tokens": True,
            # decode must give back the exact text (byte-level BPE round-trips by itself).
            "clean_up_tokenization_spaces": False,
            "model_input_names": ["input_ids", "attention_mask"],
        }
        return {HF_CONFIG_FILE: config, HF_SPECIAL_TOKENS_FILE: special_map}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DslTokenizer):
            return NotImplemented
        return self.meta == other.meta and self.tokenizer.to_str() == other.tokenizer.to_str()

    __hash__ = None  # type: ignore[assignment]


def _framing(tok: Tokenizer) -> processors.TemplateProcessing:
    """``<|bos|> $A [OUT]`` for a prompt, ``... $B <|eos|>`` when a target follows."""
    ids = {t: tok.token_to_id(t) for t in ("<|bos|>", "[OUT]", "<|eos|>")}
    return processors.TemplateProcessing(
        single="<|bos|> $A [OUT]",
        pair="<|bos|> $A [OUT] $B:1 <|eos|>:1",
        special_tokens=[(t, i) for t, i in ids.items() if i is not None],
    )


def _no_bool(value: bool) -> bool:
    raise TypeError(f"{value!r} is a bool, not an id")


_SURROGATE = re.compile("[\ud800-\udfff]")


def _encodable(text: str) -> str:
    """``text`` itself, checked: the Rust tokenizer takes only UTF-8-encodable str."""
    if not isinstance(text, str):
        raise fail("K001", f"encode: text must be a str, not {type(text).__name__}")
    if not text.isascii():  # the common case costs one C-level scan
        m = _SURROGATE.search(text)
        if m is not None:
            raise fail(
                "K001",
                f"encode: lone surrogate {m.group()!r} at character {m.start()}; "
                "such text has no UTF-8 bytes to tokenize",
            )
    return text


def load(directory: str | Path) -> DslTokenizer:
    """Load a tokenizer saved with :meth:`DslTokenizer.save`.

    Args:
        directory: folder holding ``tokenizer.json`` and the metadata file.

    Returns:
        The tokenizer (equal to the one saved).

    Raises:
        TokenizerError: K004 when the folder is not a saved dslkit tokenizer.
    """
    d = Path(directory)
    try:
        tok = Tokenizer.from_file(str(d / TOKENIZER_FILE))
        raw = json.loads((d / META_FILE).read_text("utf-8"))
    except FileNotFoundError as exc:
        raise fail(
            "K004", f"{d} is not a saved tokenizer: {Path(str(exc.filename)).name} is missing"
        ) from None
    except (OSError, ValueError, Exception) as exc:  # HF raises a bare Exception on bad JSON
        raise fail("K004", f"{d} is not a saved tokenizer: {exc}") from None
    try:
        reserved = tuple(raw["reserved"])
        meta = TokenizerMeta(
            language=raw["language"],
            granularity=raw["granularity"],
            contract_version=raw["contract_version"],
            reserved=reserved,
            reserved_hash=raw["reserved_hash"],
            vocab_size=int(raw["vocab_size"]),
            special_tokens=tuple(raw["special_tokens"]),
            # absent in files written before these options existed
            space_led=bool(raw.get("space_led", False)),
            path_names=bool(raw.get("path_names", False)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise fail("K004", f"{d / META_FILE} is malformed: missing or bad entry {exc}") from None
    if reserved_hash(reserved) != meta.reserved_hash:
        raise fail("K004", f"{d / META_FILE}: reserved list does not match its hash")
    return DslTokenizer(tok, meta)
