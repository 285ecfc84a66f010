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

from dslkit._extras import require

# Before the submodules, which import tokenizers at module level: a missing install reads
# "install dslkit[tokenizer]", not "No module named 'tokenizers'".
require("tokenizers", extra="tokenizer", feature="dslkit.tokenizer", load=False)

from dslkit.tokenizer.budget import BudgetReport, budget  # noqa: E402
from dslkit.tokenizer.build import DEFAULT_VOCAB_SIZE, build  # noqa: E402
from dslkit.tokenizer.lint import LintReport, lint  # noqa: E402
from dslkit.tokenizer.model import DslTokenizer, TokenizerMeta, load  # noqa: E402
from dslkit.tokenizer.reserved import (  # noqa: E402
    GRANULARITIES,
    LANGUAGES,
    SPECIAL_TOKENS,
    ReservedToken,
    reserved_tokens,
)
from dslkit.tokenizer.vocab import Vocabulary, read_vocabulary  # noqa: E402

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
    "Vocabulary",
    "budget",
    "build",
    "lint",
    "load",
    "read_vocabulary",
    "reserved_tokens",
]
