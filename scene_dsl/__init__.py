"""scene_dsl: the scene language of dslkit.

Parse row-form or block-form scene text into a typed AST, print it back in either form,
canonicalize it, validate it against a versioned contract, bind it to its content.json and
repair model output deterministically::

    import scene_dsl
    scene = scene_dsl.parse(open("scene.dsl").read())
    print(scene_dsl.to_text(scene_dsl.canonicalize(scene), form="row"))
    for d in scene_dsl.validate(scene, content=content):
        print(d)

Every surface the language is written in reads into the same AST (``dialect="auto"``,
``"dslkit"``, ``"cke"``, ``"d1"``...``"d6"``; see :mod:`scene_dsl.dialects`)::

    scene = scene_dsl.parse(cke_text, dialect="cke")
    print(scene_dsl.to_text(scene, dialect="cke"))

Depends on ``lark`` only.
"""

from typing import TYPE_CHECKING, Any

from dslkit import __version__ as __version__
from dslkit.errors import (
    ContractError,
    Diagnostic,
    DslkitError,
    LimitExceededError,
    SceneSyntaxError,
    SceneValidationError,
    Severity,
)
from scene_dsl.ast import Attr, Component, Field, Scene, Span
from scene_dsl.canonical import canonical_text, canonicalize
from scene_dsl.check import check
from scene_dsl.content import Binding, bind
from scene_dsl.contract import Contract, load_contract
from scene_dsl.dialects import parse, recognize, to_text
from scene_dsl.parser import ParseResult
from scene_dsl.repair import Fix, repair
from scene_dsl.validate import validate

__all__ = [
    "Attr",
    "Binding",
    "Component",
    "Contract",
    "ContractError",
    "Diagnostic",
    "DslkitError",
    "Field",
    "Fix",
    "LimitExceededError",
    "ParseResult",
    "Scene",
    "SceneSyntaxError",
    "SceneValidationError",
    "Severity",
    "Span",
    "bind",
    "canonical_text",
    "canonicalize",
    "check",
    "load_contract",
    "parse",
    "prefix_automaton",
    "recognize",
    "repair",
    "to_text",
    "validate",
]


if TYPE_CHECKING:
    from scene_dsl.automaton import prefix_automaton
else:

    def __getattr__(name: str) -> Any:
        # The prefix automaton (decoding masks) builds regex fragments when its module loads;
        # loading it on first use keeps `import scene_dsl` to the parser and its tables.
        if name == "prefix_automaton":
            from scene_dsl.automaton import prefix_automaton

            globals()[name] = prefix_automaton
            return prefix_automaton
        raise AttributeError(f"module 'scene_dsl' has no attribute {name!r}")
