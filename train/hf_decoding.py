"""Grammar-constrained decoding for any Hugging Face model: a ``transformers`` LogitsProcessor.

::

    from dslkit.train.hf_decoding import GrammarLogitsProcessor
    proc = GrammarLogitsProcessor(tok, language="scene", form="block", max_new_tokens=256)
    out = model.generate(**batch, max_new_tokens=256, logits_processor=[proc])

At every step each row may only take tokens after which its generated text is still a prefix
of a program of the language (the prefix automata of ``scene_dsl`` / ``trace_dsl`` over the
model's own vocabulary, :class:`dslkit.train.token_mask.TokenMasker`), and end-of-sequence only
where a program is complete. Per row it also keeps the value checks (:mod:`dslkit.train.values`:
content refs that resolve in the row's content.json, topology ids / trace variables declared
before use) and, given ``max_new_tokens``, budget steering (near the end of the budget only
tokens after which the program can still be finished in time).

What is checked and what is not:

* The text a row writes is the bytes its tokens decode to (:func:`dslkit.tokenizer.read_vocabulary`:
  byte-level BPE, SentencePiece ``▁``/``<0xNN>`` pieces, dslkit tokenizers). A token may cross
  any boundary of the grammar (``"]\\n["``, ``"ref|@"``): it is walked character by character
  through the automaton, never skipped.
* A token that writes part of a multi-byte character (a lone byte piece) is read as one
  surrogate character per byte: allowed where the grammar admits any character (quoted text in
  a trace), refused where it needs particular characters (names, refs, numbers). The output is
  then still a valid program, but such a text may only be written with whole-character tokens.
* Value checks follow the values a token writes; a token that writes parts of two values is
  not value-checked (the grammar still is), and when no allowed token keeps a value good the
  check steps aside for that token rather than leave the row with nothing to write
  (:attr:`GrammarLogitsProcessor.stepped_aside` counts those per row). The first token of a tokenizer whose decoder drops a
  leading space (SentencePiece) is read without it and not value-checked.
* Rows are tracked by their generated ids (the ids after the prompt), never by the identity of
  the tensors ``generate`` passes, so left padding, any prompt length, sampling, greedy and
  ``num_return_sequences`` work. A row that ended (end-of-sequence) is left alone.

The compiled masker of a (grammar, vocabulary) pair is shared in the process and can be saved
(:meth:`GrammarLogitsProcessor.save_cache`) to a file named by a hash of both, which the next
process loads instead of rebuilding (a pickle: only load cache folders you wrote).
"""

from __future__ import annotations

import dataclasses
import functools
import gc
import hashlib
import os
import pickle
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from dslkit.tokenizer.vocab import Vocabulary, forget_vocabularies, read_vocabulary
from dslkit.train.languages import Language, check_language
from dslkit.train.token_mask import TokenMasker, shared_masks
from dslkit.train.values import RowValues, ValueRules

from dslkit._extras import require
from dslkit.automaton import DEAD

require("transformers", extra="hf", feature="dslkit.train.hf_decoding", load=False)

from transformers import LogitsProcessor  # noqa: E402

__all__ = [
    "GrammarLogitsProcessor",
    "cache_file",
    "cache_key",
    "clear_caches",
    "compiled_masker",
    "save_masker",
]

_MASKERS: dict[str, TokenMasker] = {}  # cache key -> masker, shared in the process
# masker -> its first tokens (see GrammarLogitsProcessor._first_tokens), as long as it lives
_FIRSTS: weakref.WeakKeyDictionary[TokenMasker, dict[int, int]] = weakref.WeakKeyDictionary()

# the sources whose code decides the masks: a change in any of them is a new cache key
_ENGINE = ("dslkit/automaton.py", "train/token_mask.py")
_LANG_SOURCES = {
    "scene": ("scene_dsl/automaton.py", "scene_dsl/contract.py"),
    "trace": ("trace_dsl/automaton.py", "trace_dsl/schema.py", "trace_dsl/experts.py"),
}


@functools.cache
def _source_hash(language: Language) -> bytes:
    """A hash of the sources that decide a language's masks, read once a process (the code
    it runs is the code loaded then)."""
    import dslkit.train.token_mask

    import dslkit.automaton
    import scene_dsl
    import trace_dsl

    roots = {
        "dslkit": Path(dslkit.automaton.__file__).parent,
        "train": Path(dslkit.train.token_mask.__file__).parent,
        "scene_dsl": Path(scene_dsl.__file__).parent,
        "trace_dsl": Path(trace_dsl.__file__).parent,
    }
    h = hashlib.sha256()
    for rel in (*_ENGINE, *_LANG_SOURCES[language]):
        top, name = rel.split("/")
        h.update((roots[top] / name).read_bytes())
    return h.digest()


# id(contract) -> (the contract, kept alive so the id is not reused; its text): a contract is
# frozen, and writing it out costs a few milliseconds, once per processor built otherwise
_CONTRACT_TEXTS: dict[int, tuple[object, bytes]] = {}


def _contract_text(contract: object) -> bytes:
    """The contract written out the same way in every process (its repr lists the members of
    a frozenset in the order of their string hashes, which differ per process: a saved
    masker was never found again by a second process)."""
    found = _CONTRACT_TEXTS.get(id(contract))
    if found is None or found[0] is not contract:
        found = _CONTRACT_TEXTS[id(contract)] = (contract, repr(_canonical(contract)).encode())
    return found[1]


def _canonical(value: object) -> object:
    """``value`` as nested tuples with every set and mapping in sorted order."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if isinstance(value, (set, frozenset)):
        if all(type(v) is str for v in value):
            return ("set", *sorted(value))
        return ("set", *sorted((_canonical(v) for v in value), key=repr))
    if isinstance(value, Mapping):
        return ("map", *sorted(((repr(k), _canonical(v)) for k, v in value.items()), key=repr))
    if isinstance(value, (tuple, list)):
        return tuple(map(_canonical, value))
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
        return (kind.__name__, *((n, _canonical(getattr(value, n))) for n in names))
    return value


_PLAIN = {str, int, float, bool, type(None)}


def clear_caches() -> None:
    """Forget the maskers and vocabularies this process built or read (the next processor
    starts cold: what a benchmark of the first visits needs, or to free their memory)."""
    _MASKERS.clear()
    forget_vocabularies()


def cache_key(
    language: Language, vocabulary: Vocabulary, form: str = "block", contract: Any = "v1"
) -> str:
    """The hash naming a compiled masker: language, form, contract, vocabulary, engine code."""
    check_language(language)
    h = hashlib.sha256()
    h.update(language.encode())
    if language == "scene":
        import scene_dsl

        h.update(form.encode())
        h.update(_contract_text(scene_dsl.load_contract(contract)))
    h.update(_source_hash(language))
    h.update(vocabulary.fingerprint)
    return h.hexdigest()[:32]


def _default_cache_dir() -> Path:
    env = os.environ.get("DSLKIT_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "dslkit" / "masks"


def compiled_masker(
    language: Language,
    vocabulary: Vocabulary,
    *,
    form: str = "block",
    contract: Any = "v1",
    cache_dir: str | Path | None = None,
    key: str | None = None,
) -> TokenMasker:
    """The token masker of a language over a vocabulary, from the process cache, a cache file
    in ``cache_dir`` (default ``$DSLKIT_CACHE`` or ``~/.cache/dslkit/masks``) or built.

    Args:
        language: ``"scene"`` or ``"trace"``.
        vocabulary: what each id writes (:func:`dslkit.tokenizer.read_vocabulary`).
        form: scene form, ``"block"`` or ``"row"``.
        contract: scene contract name, path or object.
        cache_dir: folder of saved maskers.
        key: the pair's :func:`cache_key`, when the caller has it already.

    Returns:
        The :class:`TokenMasker` (shared: every processor of the same pair uses it).
    """
    check_language(language)
    if vocabulary.eos_id is None:
        raise ValueError("the tokenizer names no end-of-sequence token (eos_token_id is None)")
    if key is None:
        key = cache_key(language, vocabulary, form, contract)
    masker = _MASKERS.get(key)
    if masker is not None:
        return masker
    path = cache_file(language, key, cache_dir)
    if path.is_file():
        # The collector is held off while the masker is read: unpickling creates every state
        # and table at once, which would set off full passes of the cyclic collector (each
        # 0.1-0.2 s with torch loaded) that find nothing to free.
        enabled = gc.isenabled()
        gc.disable()
        try:
            with path.open("rb") as f:
                loaded = pickle.load(f)
            if isinstance(loaded, TokenMasker):
                masker = loaded
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            masker = None  # a stale or broken file: rebuild (and overwrite on save)
        finally:
            if enabled:
                gc.enable()
    if masker is None:
        import scene_dsl
        import trace_dsl

        auto = (
            scene_dsl.prefix_automaton(contract, form)  # type: ignore[arg-type]
            if language == "scene"
            else trace_dsl.prefix_automaton()
        )
        masker = TokenMasker(
            auto, vocabulary.token_texts, vocabulary.special_ids, vocabulary.eos_id
        )
    _MASKERS[key] = masker
    return masker


def cache_file(language: str, key: str, cache_dir: str | Path | None = None) -> Path:
    """Where the masker of ``key`` (:func:`cache_key`) is saved in ``cache_dir``."""
    return Path(cache_dir or _default_cache_dir()) / f"{language}-{key}.pkl"


def save_masker(masker: TokenMasker, path: str | Path) -> Path:
    """Write a masker with every state it has met (atomically: a reader never sees half)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    with tmp.open("wb") as f, shared_masks():
        pickle.dump(masker, f, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(out)
    return out


@dataclass(slots=True)
class _Row:
    """One generated row: automaton state and value checks after its generated ids."""

    sid: int
    values: RowValues | None
    aside: int = 0  # steps where this row's value check gave way

    def child(self) -> _Row:
        v = self.values
        if v is not None:  # a parent may have several children (beams): copy, never share
            v = RowValues(v.rules, v.tail, set(v.declared), set(v.computed))
        return _Row(self.sid, v, self.aside)


class GrammarLogitsProcessor(LogitsProcessor):
    """Masks every token that would take a row out of the language (see the module notes).

    Args:
        tokenizer: the model's tokenizer (a ``transformers`` fast tokenizer, a
            ``tokenizers.Tokenizer`` or a :class:`dslkit.tokenizer.DslTokenizer`).
        language: ``"scene"`` or ``"trace"``.
        form: scene form the outputs must take, ``"block"`` or ``"row"`` (ignored for traces).
        contract: scene contract name, path or object. The default, ``"v1"``, is the one
            dslkit's sampler and training data write; scenes with the CKE vocabulary (its
            components, whole-object refs, display slugs) need ``"v2"``, which also takes
            every v1 scene, written the same way.
        content: per prompt of the batch, its content.json (or None): content refs must then
            resolve in it. With ``num_return_sequences`` the rows of one prompt share its entry.
        max_new_tokens: the budget ``generate`` runs with; near its end only tokens after which
            the program can still be finished in time are allowed (None: no steering).
        check_values: check values the grammar cannot (ids, variables, content refs).
        cache_dir: folder of saved maskers (see :func:`compiled_masker`).
    """

    def __init__(
        self,
        tokenizer: Any,
        language: Language = "scene",
        form: str = "block",
        contract: Any = "v1",
        content: Sequence[Mapping[str, Any] | None] | None = None,
        max_new_tokens: int | None = None,
        *,
        check_values: bool = True,
        cache_dir: str | Path | None = None,
    ) -> None:
        if form not in ("block", "row"):
            raise ValueError(f"form must be 'block' or 'row', not {form!r}")
        if content is not None and isinstance(content, Mapping):
            raise TypeError("content is one content.json per prompt: pass a list")
        self.tokenizer = tokenizer
        self.vocabulary = read_vocabulary(tokenizer)
        key = cache_key(language, self.vocabulary, form, contract)
        self.masker = compiled_masker(
            language, self.vocabulary, form=form, contract=contract, cache_dir=cache_dir, key=key
        )
        self.cache_path = cache_file(language, key, cache_dir)
        self.vocab = self.masker.vocab
        self.max_new_tokens = max_new_tokens
        self.rules = None if not check_values else [ValueRules(c) for c in (content or [None])]
        self._first = self._first_tokens()
        self._prompt_len = 0
        self._last_len = -1
        self._last_ids: torch.Tensor | None = None  # the batch of the last step
        self._last_rows: list[_Row] = []
        self._reserves: dict[int, int] = {}  # id(rules) -> steering reserve (rules live here)

    def _first_tokens(self) -> dict[int, int]:
        """Tokens allowed first only because the decoder drops their leading space -> state
        (found once per masker: a processor made per generate call asks again)."""
        if not self.vocabulary.strips_leading_space:
            return {}
        found = _FIRSTS.get(self.masker)
        if found is None:
            found = _FIRSTS[self.masker] = self._find_first_tokens()
        return found

    def _find_first_tokens(self) -> dict[int, int]:
        auto, start = self.masker.automaton, self.masker.start
        specials = self.vocabulary.special_ids
        out = {}
        for i, text in enumerate(self.vocab):
            if text.startswith(" ") and i not in specials and i != self.masker.eos_id:
                sid = auto.advance(start, text[1:])
                if sid != DEAD:
                    out[i] = sid
        return out

    # -- per-row state ------------------------------------------------------------------------
    def _root(self, prompt: int) -> _Row:
        rules = None
        if self.rules is not None:
            rules = self.rules[prompt] if prompt < len(self.rules) else self.rules[0]
        return _Row(self.masker.start, RowValues(rules) if rules is not None else None)

    def _advance(self, row: _Row, token: int, first: bool) -> _Row:
        if row.values is None and not first:  # the common step: no values to copy
            sid = row.sid
            if sid != DEAD:
                info = self.masker._info.get(sid)  # a state met before: its next states
                nxt = None if info is None else info.next.get(token)
                sid = self.masker.advance(sid, token) if nxt is None else nxt
            return _Row(sid, None, row.aside)
        out = row.child()
        if out.sid == DEAD:
            return out
        text = self.vocab[token] if token < len(self.vocab) else ""
        if first and token in self._first:
            if out.values is not None:
                out.values.advance(None, text[1:])
            out.sid = self._first[token]
            return out
        if out.values is not None:
            out.values.advance(self.masker.payload_steps(out.sid).get(token), text)
        out.sid = self.masker.advance(out.sid, token)
        return out

    def _rows(self, input_ids: torch.Tensor) -> list[_Row]:
        """The rows of a step, each advanced by its newest id from the row it continues.

        The common step (every row continues the row at its position: greedy, sampling) is
        recognised by comparing the batch with the last one in one tensor operation, so a row
        costs one advance, whatever its length. Otherwise (beams reordered, rows dropped) a row
        is matched to the one whose ids are its own less the newest, by the bytes of those ids.
        Never by the identity of the tensors ``generate`` passes."""
        n, length = input_ids.shape
        last = self._last_ids
        if length != self._last_len + 1 or last is None:
            return self._restart(input_ids)  # a new generate call
        ids = input_ids.detach()
        newest = ids[:, -1].tolist()
        first = length - self._prompt_len == 1
        if n == len(self._last_rows) and torch.equal(ids[:, :-1], last):
            rows = [
                self._advance(row, token, first)
                for row, token in zip(self._last_rows, newest, strict=True)
            ]
        else:
            found = self._continued(ids, newest, first)
            if found is None:  # not a continuation of the last step: start over
                return self._restart(input_ids)
            rows = found
        self._last_ids, self._last_len, self._last_rows = ids, length, rows
        return rows

    def _prompt_of(self, b: int, n: int) -> int:
        """The prompt (index into the content list) of batch row ``b`` of ``n``."""
        if self.rules is None or len(self.rules) <= 1:
            return 0
        return b // max(1, n // len(self.rules))

    def _restart(self, input_ids: torch.Tensor) -> list[_Row]:
        n, length = input_ids.shape
        self._prompt_len = length
        rows = [self._root(self._prompt_of(b, n)) for b in range(n)]
        self._last_ids, self._last_len, self._last_rows = input_ids.detach(), length, rows
        return rows

    def _continued(self, ids: torch.Tensor, newest: list[int], first: bool) -> list[_Row] | None:
        """Rows matched to the last step's by their generated ids (None: a row continues none)."""
        assert self._last_ids is not None
        prev = self._last_ids[:, self._prompt_len :].cpu().numpy()
        now = ids[:, self._prompt_len : -1].cpu().numpy()
        n_prev, n = len(prev), len(now)
        parents = {
            (self._prompt_of(b, n_prev), prev[b].tobytes()): row
            for b, row in enumerate(self._last_rows)
        }
        rows: list[_Row] = []
        made: dict[tuple[int, bytes, int], _Row] = {}
        for b in range(n):
            prompt = self._prompt_of(b, n)
            key = (prompt, now[b].tobytes())
            parent = parents.get(key)
            if parent is None:
                return None
            ckey = (prompt, key[1], newest[b])
            child = made.get(ckey)
            if child is None:  # rows with the same ids share one advance (beams)
                child = made[ckey] = self._advance(parent, newest[b], first)
            rows.append(child)
        return rows

    @property
    def stepped_aside(self) -> list[int]:
        """Per row of the last step, how often its value checks gave way (no allowed token kept
        a value good, or none did and still finished within the budget): a value error in an
        output (a ref that does not resolve) always comes with a count here."""
        return [row.aside for row in self._last_rows]

    # -- masks --------------------------------------------------------------------------------
    def _allowed(self, row: _Row, generated: int) -> np.ndarray | None:
        """The allowed ids of a row over the tokenizer's vocabulary (None: leave it alone)."""
        sid, masker = row.sid, self.masker
        if sid == DEAD:  # ended (or the caller ignored the mask): nothing to constrain
            return None
        info = masker._info.get(sid) or masker.info(sid)
        if row.values is None and generated and self.max_new_tokens is None:
            return info.mask  # no value checks, no budget: the state's own mask
        allowed = info.mask
        if generated == 0 and self._first:
            allowed = allowed.copy()
            allowed[list(self._first)] = True
        if row.values is not None:
            steps = masker.payload_steps(sid)
            if steps:
                bad = row.values.blocked(steps, allowed, self.vocab)
                if bad and len(bad) < int(allowed.sum()):
                    allowed = allowed.copy()
                    allowed[bad] = False
                elif bad:  # no token keeps the value good: write on rather than stop
                    row.aside += 1
        remaining = None if self.max_new_tokens is None else self.max_new_tokens - generated
        if remaining is None:
            return allowed
        # Steering counts a shortest completion, whose content refs are one character long;
        # a ref that must resolve can take as many tokens as the longest path of the content.
        # So steer with that reserve first, and spend it only to finish a good value.
        reserve = self._reserve(row)
        for budget in (remaining - reserve, remaining) if reserve else (remaining,):
            if info.max_dist <= budget - 1:
                return allowed
            steered = masker.allowed(sid, budget)
            both = allowed & steered
            if both.any():
                return both
        row.aside += 1  # finishing in time beats a good value
        return steered

    def _reserve(self, row: _Row) -> int:
        """Tokens, beyond the first, of the longest content path of the row (0 without)."""
        rules = row.values.rules if row.values is not None else None
        if rules is None or not rules.refs:
            return 0
        found = self._reserves.get(id(rules))
        if found is None:
            found = max(len(_encode(self.tokenizer, "." + ref)) - 1 for ref in rules.refs)
            self._reserves[id(rules)] = found
        return found

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        """Mask ``scores`` (batch x model vocabulary) row by row."""
        rows = self._rows(input_ids)
        generated = input_ids.shape[1] - self._prompt_len
        width = scores.shape[-1]
        n = min(width, self.masker.vocab_size)
        keep = np.zeros((len(rows), width), dtype=bool)
        for b, row in enumerate(rows):
            allowed = self._allowed(row, generated)
            if allowed is None:
                keep[b] = True
            else:
                keep[b, :n] = allowed[:n]
        blocked = torch.from_numpy(~keep).to(scores.device)
        return scores.masked_fill(blocked, float("-inf"))  # type: ignore[return-value]

    # -- cache --------------------------------------------------------------------------------
    def warm(self, texts: Iterable[str]) -> int:
        """Visit every state the token sequences of ``texts`` pass through (e.g. training
        targets), so their masks are ready (and saved by :meth:`save_cache`).

        Returns:
            States whose mask is cached afterwards.
        """
        for text in texts:
            row = _Row(self.masker.start, None)
            for k, t in enumerate(_encode(self.tokenizer, text)):
                if row.sid == DEAD:
                    break
                self.masker.info(row.sid)
                row = self._advance(row, t, first=k == 0)
            if row.sid != DEAD:
                self.masker.info(row.sid)
        return self.masker.n_cached

    def save_cache(self, path: str | Path | None = None) -> Path:
        """Save the masker with every state met so far (default: its cache file, which the
        next process with the same grammar and vocabulary loads)."""
        return save_masker(self.masker, path or self.cache_path)


def _encode(tokenizer: Any, text: str) -> list[int]:
    if hasattr(tokenizer, "special_ids") and hasattr(tokenizer, "tokenizer"):  # DslTokenizer
        return list(tokenizer.encode(text))
    if hasattr(tokenizer, "all_special_ids"):  # transformers
        return list(tokenizer.encode(text, add_special_tokens=False))
    return list(tokenizer.encode(text, add_special_tokens=False).ids)
