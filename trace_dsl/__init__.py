"""The trace DSL: a strict, grammar-defined YAML subset for computation traces.

Parse text to a frozen AST, print it back canonically, check expert vocabularies, convert to and
from plain JSON traces, extract a trace from model output. The solver lives in
``dslkit.compilers.trace_solver``; the GSM8K converter in :mod:`trace_dsl.gsm8k`.
"""

from typing import TYPE_CHECKING, Any

from dslkit.errors import LimitExceededError, TraceSyntaxError, TraceValidationError

from .ast import (
    AddEntity,
    Compare,
    Compute,
    Consume,
    Formula,
    Given,
    Init,
    Percent,
    Query,
    State,
    Step,
    SubTrace,
    Trace,
    Transfer,
)
from .canonical import canonicalize
from .extract import extract
from .interop import from_obj, to_obj
from .numbers import preprocess_numbers
from .parser import ParseResult, parse
from .printer import to_text
from .validate import validate

__all__ = [
    "AddEntity",
    "Compare",
    "Compute",
    "Consume",
    "Formula",
    "Given",
    "Init",
    "LimitExceededError",
    "ParseResult",
    "Percent",
    "Query",
    "State",
    "Step",
    "SubTrace",
    "Trace",
    "TraceSyntaxError",
    "TraceValidationError",
    "Transfer",
    "canonicalize",
    "extract",
    "from_obj",
    "parse",
    "prefix_automaton",
    "preprocess_numbers",
    "to_obj",
    "to_text",
    "validate",
]


if TYPE_CHECKING:
    from trace_dsl.automaton import prefix_automaton
else:

    def __getattr__(name: str) -> Any:
        # The prefix automaton (decoding masks) builds regex fragments when its module loads;
        # loading it on first use keeps `import trace_dsl` to the parser and its tables.
        if name == "prefix_automaton":
            from trace_dsl.automaton import prefix_automaton

            globals()[name] = prefix_automaton
            return prefix_automaton
        raise AttributeError(f"module 'trace_dsl' has no attribute {name!r}")
