"""dslkit: teach small models structured languages the compiler-first way.

The distribution installs two language packages at top level, because ``import scene_dsl`` in
a notebook is how people use them, and everything else under this namespace so that generic
names never collide with a user's files::

    scene_dsl            the scene language (depends on lark only)
    trace_dsl            the trace language (depends on lark only)
    dslkit.compilers     scene + content.json -> SVG/PNG; trace -> exact answer and reward
    dslkit.tokenizer     reserved-structure tokenizers on HuggingFace ``tokenizers``
    dslkit.train         data, a small model, constrained decoding, probes, run reports

This module itself is the small shared kernel: the version and the one error hierarchy every
package raises (:mod:`dslkit.errors`). Importing it imports nothing else.

Beside it: :mod:`dslkit.codes`, the one shape of every package's diagnostic code table, and
:mod:`dslkit.cli`, the one way every command line is assembled (``register(subparsers)``).
"""

from dslkit.errors import (
    ArgumentError,
    ArtifactError,
    CheckpointError,
    CompileError,
    ContractError,
    Diagnostic,
    DslkitError,
    DslSyntaxError,
    InputError,
    LimitExceededError,
    MissingExtraError,
    SceneSyntaxError,
    SceneValidationError,
    Severity,
    SolverError,
    TokenizerError,
    TraceSyntaxError,
    TraceValidationError,
    ValidationError,
)

__version__ = "0.1.0"

__all__ = [
    "ArgumentError",
    "ArtifactError",
    "CheckpointError",
    "CompileError",
    "ContractError",
    "Diagnostic",
    "DslSyntaxError",
    "DslkitError",
    "InputError",
    "LimitExceededError",
    "MissingExtraError",
    "SceneSyntaxError",
    "SceneValidationError",
    "Severity",
    "SolverError",
    "TokenizerError",
    "TraceSyntaxError",
    "TraceValidationError",
    "ValidationError",
    "__version__",
]
