"""tokenizer: reserved-structure tokenizers for the dslkit languages.

Reserve structure, not payload: tag opens and closes, enumerated ``[key:value]`` pairs,
field-role prefixes, trace keys and op names come from the contracts (``scene_dsl`` contract,
``trace_dsl`` experts); refs, ids, numbers and prose are learned byte-level BPE, so nothing is
ever unknown and ``decode(encode(x)) == x``::

    from dslkit import tokenizer
    tok = tokenizer.build("scene", corpus=texts, granularity="atomic")
    tok.save("out/tok")
    print(tokenizer.lint(tok).format())

Depends on ``tokenizers`` (HuggingFace) besides the DSL packages.
"""

from dslkit.tokenizer.budget import BudgetReport, budget
from dslkit.tokenizer.build import DEFAULT_VOCAB_SIZE, build
from dslkit.tokenizer.lint import LintReport, lint
from dslkit.tokenizer.model import DslTokenizer, TokenizerMeta, load
from dslkit.tokenizer.reserved import (
    GRANULARITIES,
    LANGUAGES,
    SPECIAL_TOKENS,
    ReservedToken,
    reserved_tokens,
)

__all__ = [
    "DEFAULT_VOCAB_SIZE",
    "GRANULARITIES",
    "LANGUAGES",
    "SPECIAL_TOKENS",
    "BudgetReport",
    "DslTokenizer",
    "LintReport",
    "ReservedToken",
    "TokenizerMeta",
    "budget",
    "build",
    "lint",
    "load",
    "reserved_tokens",
]
