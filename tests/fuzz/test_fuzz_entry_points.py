"""Hypothesis fuzzing of every public entry point: a toolkit error or a result, never a crash.

Each target is a property over generated (mostly hostile) input:

- ``scene``: ``parse`` (both modes), ``check``, ``repair``, ``canonical_text`` on
  grammar-generated and mutated scene texts, raw unicode (surrogates included) and bytes;
- ``trace``: ``trace_dsl.parse`` / ``check`` on canonical, mutated and raw texts;
- ``compile``: ``compile_scene`` on sampled scenes whose content leaves are replaced by
  hostile JSON-ish values (huge ints, NaN, deep lists, surrogates): a CompileError, or an SVG
  that is well-formed XML with finite coordinates;
- ``solve``: ``solve`` / ``verify`` on arbitrary nested objects and texts: never raises;
- ``tokenizer``: ``encode`` / ``decode`` on any str and any int list: TokenizerError, or an
  exact round trip;
- ``json``: ``dslkit.jsonio.loads`` on any text or bytes: InputError or a value.

In the normal test run each target makes one short pass (a few seconds in all). ``make fuzz``
sets ``FUZZ_SECONDS`` (default 60): the time is split evenly between the targets, and each
repeats randomised passes until its share is spent. A failure prints the falsifying example
(pin it as a regular test).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import random
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import scene_dsl  # noqa: E402
import trace_dsl  # noqa: E402
from dslkit import jsonio  # noqa: E402
from dslkit.errors import DslkitError  # noqa: E402

TARGETS = ("scene", "trace", "compile", "solve", "tokenizer", "json")
BUDGET = float(os.environ.get("FUZZ_SECONDS", "0") or 0)
PER_TARGET = BUDGET / len(TARGETS)
# a short derandomised pass in the normal suite; long randomised passes under `make fuzz`
SETTINGS = settings(
    max_examples=200 if BUDGET else 15,
    derandomize=not BUDGET,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _spend(run: Callable[[], None]) -> None:
    """One hypothesis pass; under FUZZ_SECONDS, fresh random passes until the share is spent."""
    end = time.monotonic() + PER_TARGET
    run()
    while time.monotonic() < end:
        run()


# -- hostile values ---------------------------------------------------------------------------
text_any = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=60),  # any code point
    st.builds(  # and, often, a lone surrogate in the middle of ordinary text
        lambda a, s, b: a + s + b,
        st.text(max_size=12),
        st.characters(categories=["Cs"]),
        st.text(max_size=12),
    ),
)
numbers = st.one_of(
    st.integers(),
    st.sampled_from([2**64, 0, -1]),
    st.integers(300, 6000).map(lambda digits: -(10**digits)),  # past str()'s 4,300 digits too
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["9" * 400, "1e999", "nan", "-inf", "1,000", "42 ms", ""]),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, text_any)
json_like = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _deep(depth: int, leaf: Any = 1) -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


hostile_json = st.one_of(
    json_like, st.integers(200, 3000).map(_deep), st.integers(200, 3000).map(lambda d: _deep(d, {}))
)


# -- scene ------------------------------------------------------------------------------------
def test_fuzz_scene() -> None:
    from scene_dsl.strategies import fuzz_texts

    raw = st.one_of(fuzz_texts(), text_any, st.binary(max_size=80))

    @SETTINGS
    @given(text=raw)
    def run(text: str | bytes) -> None:
        for call in (
            lambda: scene_dsl.parse(text),
            lambda: scene_dsl.parse(text, errors="collect"),
            lambda: scene_dsl.canonical_text(text),
        ):
            with contextlib.suppress(DslkitError):
                call()
        assert isinstance(scene_dsl.check(text), list)
        if isinstance(text, str):
            try:
                scene, _fixes = scene_dsl.repair(text)
            except DslkitError:
                return
            scene_dsl.to_text(scene)

    _spend(run)


# -- trace ------------------------------------------------------------------------------------
def _mutate(rng: random.Random, text: str) -> str:
    chars = list(text)
    for _ in range(rng.randint(1, 4)):
        if not chars:
            break
        i = rng.randrange(len(chars))
        op = rng.randrange(3)
        if op == 0:
            del chars[i]
        elif op == 1:
            chars.insert(i, rng.choice(["{", "}", "[", ":", ",", "\n", "\t", "-", "9" * 70, "&a"]))
        else:
            chars[i] = chars[rng.randrange(len(chars))]
    return "".join(chars)


def test_fuzz_trace() -> None:
    from trace_dsl.strategies import trace_texts

    texts = st.one_of(
        trace_texts(),
        st.builds(_mutate, st.randoms(use_true_random=False), trace_texts()),
        text_any,
    )

    @SETTINGS
    @given(text=texts)
    def run(text: str) -> None:
        for call in (
            lambda: trace_dsl.parse(text),
            lambda: trace_dsl.parse(text, errors="collect"),
        ):
            with contextlib.suppress(DslkitError):
                call()

    _spend(run)


# -- compile ----------------------------------------------------------------------------------
_COORD = re.compile(
    r'\s(?:x|y|x1|x2|y1|y2|cx|cy|r|width|height|d|points|viewBox)="[^"]*(?:nan|inf)', re.I
)


def _poison(content: Any, rng: random.Random, values: list[Any]) -> Any:
    if isinstance(content, dict):
        return {k: _poison(v, rng, values) for k, v in content.items()}
    if isinstance(content, list):
        return [_poison(v, rng, values) for v in content]
    return rng.choice(values) if values and rng.random() < 0.5 else content


def test_fuzz_compile() -> None:
    from dslkit.compilers.scene_svg import compile_scene

    from scene_dsl.strategies import scenes_with_content

    @SETTINGS
    @given(
        pair=scenes_with_content(),
        rng=st.randoms(use_true_random=False),
        values=st.lists(hostile_json, max_size=4),
    )
    def run(pair: tuple[Any, dict[str, Any]], rng: random.Random, values: list[Any]) -> None:
        scene, content = pair
        try:
            svg = compile_scene(scene, _poison(content, rng, values))
        except DslkitError:
            return
        ET.fromstring(svg.text)  # well-formed
        assert _COORD.search(svg.text) is None, _COORD.search(svg.text)

    _spend(run)


# -- solve ------------------------------------------------------------------------------------
def _trace_shaped(steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"expert": "arithmetic", "trace": steps}


def test_fuzz_solve() -> None:
    from dslkit.compilers.trace_solver import solve, verify

    from trace_dsl.strategies import trace_texts

    step = st.dictionaries(
        st.sampled_from(["op", "var", "value", "args", "compute_op", "source", "expert"]),
        st.one_of(st.sampled_from(["init", "compute", "query", "add", "div", "x", "y"]), json_like),
        max_size=5,
    )
    inputs = st.one_of(
        hostile_json,
        st.lists(step, max_size=5).map(_trace_shaped),
        trace_texts(),
        text_any,
    )

    @SETTINGS
    @given(trace=inputs, expected=st.one_of(st.none(), numbers))
    def run(trace: Any, expected: Any) -> None:
        result = solve(trace)
        assert result.status is not None
        try:
            verdict = verify(trace, expected)
        except ValueError:  # an unusable expected answer is the caller's mistake, by design
            return
        out = verdict.to_dict()
        answer = out["answer"]
        if isinstance(answer, float):
            assert math.isfinite(answer)
        elif isinstance(answer, str):
            Fraction(answer)

    _spend(run)


# -- tokenizer --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tok() -> Any:
    pytest.importorskip("tokenizers")
    from dslkit.tokenizer.corpus import gold_scenes, gold_traces

    from dslkit import tokenizer

    return tokenizer.build("both", corpus=gold_scenes() + gold_traces(), vocab_size=1400)


def test_fuzz_tokenizer(tok: Any) -> None:
    from dslkit.errors import TokenizerError

    ids = st.lists(st.one_of(st.integers(-5, tok.vocab_size + 5), st.integers()), max_size=20)

    @SETTINGS
    @given(text=text_any, some_ids=ids)
    def run(text: str, some_ids: list[int]) -> None:
        try:
            encoded = tok.encode(text)
        except TokenizerError:
            assert any("\ud800" <= ch <= "\udfff" for ch in text)
        else:
            assert tok.decode(encoded) == text
        try:
            tok.decode(some_ids)
        except TokenizerError:
            assert any(not 0 <= i < tok.vocab_size for i in some_ids)

    _spend(run)


# -- json -------------------------------------------------------------------------------------
def test_fuzz_json() -> None:
    from dslkit.errors import InputError

    plain_json = st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), text_any),
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
        ),
        max_leaves=12,
    )
    docs = st.one_of(
        text_any,
        st.binary(max_size=60),
        st.integers(150, 5000).map(lambda d: "[" * d + "]" * d),
        st.builds(lambda obj, rng: _mutate(rng, json.dumps(obj)), plain_json, st.randoms()),
    )

    @SETTINGS
    @given(doc=docs)
    def run(doc: str | bytes) -> None:
        try:
            jsonio.loads(doc)
        except InputError as exc:
            assert exc.code in jsonio.JSON_CODES

    _spend(run)
