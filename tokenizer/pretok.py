"""The pre-tokenizer: where learned (BPE) tokens may never cross.

The split pattern isolates every grammar terminal boundary of both DSLs, so a learned token
lies inside one payload segment:

- whitespace runs (the space or newline between tags, indentation) are one segment each;
- a run of letters and ``_`` (names, ref path segments, prose words) is one segment; with
  ``words=True`` a run of letters is, and every ``_`` stands alone, so a learned piece never
  spans two words of a snake_case name (an unseen pair of known words, like a held-out topic
  ``monitor_budget``, is then written with pieces training already wrote);
- every digit is its own segment (list indices, numbers: the same digit is always the same id);
- ``->`` and each of ``[ ] { } ( ) : | = @ . , " # / -`` and NUL is a segment by itself
  (``.`` splits ref paths, so each path segment is one content.json key or list index);
- any other run of symbols (prose punctuation, emoji) is one segment.

Reserved tokens are matched before this split (HF "added tokens"), so structure never reaches
the BPE model. The same pattern in Python (:data:`SEGMENT_RE`) lets tests and lint check the
boundary property without the Rust side.
"""

from __future__ import annotations

import re

from tokenizers import Regex, pre_tokenizers

__all__ = ["PATTERN", "SEGMENT_RE", "WORD_PATTERN", "pre_tokenizer", "segments"]

_SINGLES = r"\[\]{}():|=@.,\"#/\x00-"
PATTERN = rf"\s+|[^\W\d]+|\d|->|[{_SINGLES}]|[^\s\w{_SINGLES}]+"
# The same split with ``_`` isolated: every segment of it lies inside one PATTERN segment.
WORD_PATTERN = rf"\s+|[^\W\d_]+|\d|_|->|[{_SINGLES}]|[^\s\w{_SINGLES}]+"
SEGMENT_RE = re.compile(PATTERN)


def pre_tokenizer(words: bool = False) -> pre_tokenizers.PreTokenizer:
    """The HF pre-tokenizer: structural split, then byte-level mapping (no regex, no prefix).

    Args:
        words: isolate ``_`` too (:data:`WORD_PATTERN`): pieces stay inside one word.
    """
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(WORD_PATTERN if words else PATTERN), behavior="isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )


def segments(text: str) -> list[tuple[int, int]]:
    """Character spans of the pre-tokenizer segments of ``text`` (they tile the text)."""
    return [m.span() for m in SEGMENT_RE.finditer(text)]
