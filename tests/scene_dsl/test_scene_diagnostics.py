"""One test per scene diagnostic code: code, failure class, severity and line:column.

Each case is a small program with a ``@@`` marker where the diagnostic must point; the marker
is removed before parsing and its offset gives the expected 1-based line:column.
"""

from __future__ import annotations

import pickle

import pytest
from lark import Token
from lark.exceptions import UnexpectedToken

import scene_dsl
from dslkit.errors import Diagnostic, LimitExceededError, SceneSyntaxError, Severity, line_col
from scene_dsl.diagnostics import SCENE_CODES
from scene_dsl.parser import _describe_unexpected

HEAD = "[scene]\n[layout:poster_stack] [theme:infra_dark]\n"
CARD = "[section_card:@cards.0.title|@cards.0.value]\n"
TAIL = "[/scene]\n"


def _split(marked: str) -> tuple[str, tuple[int, int]]:
    offset = marked.index("@@")
    text = marked[:offset] + marked[offset + 2 :]
    return text, line_col(text, offset)


# code -> program with "@@" at the expected position (syntax codes: parse raises).
SYNTAX: dict[str, str] = {
    "S001": "@@[layout:poster_stack]\n" + CARD + TAIL,
    "S001/text": "@@Here is the scene:\n[scene]\n[layout:poster_stack]\n" + CARD + TAIL,
    "S002": HEAD + CARD + "@@",
    "S003": HEAD + CARD + "[/scene]\n@@[header_band:@h]\n",
    "S003/text": HEAD + CARD + "[/scene]\n@@Hope this helps!\n",
    "S100": HEAD + "@@hello world\n" + CARD + TAIL,
    "S101": HEAD + "@@[section card]\n" + CARD + TAIL,
    "S102": HEAD + "[canvas:@@]\n" + CARD + TAIL,
    "S103": HEAD + "[section_card] [ref:cards.0] @@[tone:amber] [/section_card]\n" + TAIL,
    "S104": HEAD + "[section_card] [ref:cards.0] @@[field:title] [/section_card]\n" + TAIL,
    "S105": HEAD + "[section_card] [ref:cards.0] @@[@cards.0.title] [/section_card]\n" + TAIL,
    "S106": HEAD + "@@[section_card:@a|@b|@c|@d|@e]\n" + TAIL,
    "S107": "[scene]\n[layout:decision_tree]\n[decision_node:n1|@nodes.n1]\n[decision_edge:@@n1_n2]\n"
    + TAIL,
    "S108": HEAD + CARD + "@@]\n" + TAIL,
    "S201": HEAD + CARD + "@@[/section_card]\n" + TAIL,
    "S202": HEAD + "[section_card] [ref:cards.0] @@[/info_card]\n" + TAIL,
    "S203": HEAD + "[section_card] [ref:cards.0]\n@@[/scene]\n",
    "S204": HEAD + CARD + "@@[scene]\n" + TAIL,
    "S401": HEAD + CARD + "@@<|eos|>\n" + TAIL,
}

# code -> program with "@@" (contract codes: parse succeeds, validate reports).
CONTRACT: dict[str, str] = {
    "S004": "@@[scene]\n[theme:infra_dark]\n" + CARD + TAIL,
    "S205": HEAD + CARD + "@@[table_row:@rows.0.0|@rows.0.1]\n" + TAIL,
    "S301": HEAD + "@@[theme:signal_glow]\n" + CARD + TAIL,
    "S302": HEAD + "@@[colour:red]\n" + CARD + TAIL,
    "S303": HEAD + "@@[canvas:huge]\n" + CARD + TAIL,
    "S304": HEAD + CARD + "@@[widget] [ref:w] [/widget]\n" + TAIL,
    "S305": HEAD + "[section_card] [ref:cards.0] @@[colour:red] [/section_card]\n" + TAIL,
    "S306": "[scene]\n[layout:pipeline_lane]\n@@[stage_card:title=@stages.0.title]\n" + TAIL,
    "S307": HEAD + CARD + "@@[decision_node:n1|@nodes.n1]\n" + TAIL,
    "S308": HEAD
    + "[section_card] [ref:a] [variant:hero] @@[variant:note] [/section_card]\n"
    + TAIL,
    "S309": HEAD + CARD + "[header_band:@h.0]\n@@[header_band:@h.1]\n" + TAIL,
    "S310": "@@[scene]\n[layout:poster_stack]\n[header_band:@h]\n" + TAIL,
    "S311": "[scene]\n[layout:poster_stack] [theme:paper_editorial] @@[tone:purple]\n"
    + CARD
    + TAIL,
    "S312": "[scene]\n[layout:poster_stack] [theme:signal_glow] @@[tone:amber]\n" + CARD + TAIL,
    "S313": "[scene]\n[layout:decision_tree]\n[decision_node:n1|@a]\n[decision_node] @@[node_id:n1] [ref:b] [/decision_node]\n"
    + TAIL,
    "S314": "[scene]\n[layout:decision_tree]\n[decision_node:n1|@a]\n[decision_edge] [from_ref:n1] @@[to_ref:n9] [/decision_edge]\n"
    + TAIL,
    "S315": HEAD + "[section_card] @@[ref:cards..0] [/section_card]\n" + TAIL,
}


# code -> (CKE dialect program with "@@", content or None): dialect readers report these.
CKE_HEAD = "[scene]\n[layout:{layout}]\n[theme:infra_dark]\n[tone:blue]\n[topic:t]\n"
DIALECT: dict[str, tuple[str, dict[str, object] | None]] = {
    # a D3 row file (@ parts) with a bare D1/D2 path in a ref slot
    "S111": (
        CKE_HEAD.format(layout="comparison_span_chart")
        + "[compare_bar:@bars.a.label|@bars.a.value|@@bars.a.caption]\n[/scene]\n",
        None,
    ),
    # a D4 (literal slug) file with a component that needs a content ref
    "S316": (
        CKE_HEAD.format(layout="dashboard_cards")
        + "[section_card:fast|path|why]\n[info_card:@@latency_budget]\n[/scene]\n",
        None,
    ),
    # a whole-object binding that resolves to a string
    "S604": (
        CKE_HEAD.format(layout="memory_map")
        + "[memory_segment:seg_a|segments.seg_a]\n[info_card:card_a|@@cards.card_a]\n[/scene]\n",
        {"segments": {"seg_a": {"title": "A"}}, "cards": {"card_a": "just a string"}},
    ),
}


@pytest.mark.parametrize("code", sorted(DIALECT))
def test_scene_dialect_code(code: str) -> None:
    marked, content = DIALECT[code]
    text, where = _split(marked)
    d = _check_one(scene_dsl.check(text, dialect="cke", content=content), code, where)
    assert d.source_line and d.caret.endswith("^")
    if code != "S604":  # reading itself fails for the syntax-level dialect codes
        with pytest.raises(SceneSyntaxError) as info:
            scene_dsl.parse(text, dialect="cke")
        assert info.value.code == code


def _check_one(diags: list[Diagnostic], code: str, where: tuple[int, int]) -> Diagnostic:
    matching = [d for d in diags if d.code == code]
    assert matching, f"{code} not reported; got {[d.headline() for d in diags]}"
    d = matching[0]
    entry = SCENE_CODES[code]
    assert (d.failure_class, d.name, d.severity) == (
        entry.failure_class,
        entry.name,
        entry.severity,
    )
    assert (d.line, d.column) == where, d.headline()
    return d


@pytest.mark.parametrize("code", sorted(SYNTAX))
def test_scene_syntax_code(code: str) -> None:
    text, where = _split(SYNTAX[code])
    code = code.split("/")[0]  # "S001/text": a second case for the same code
    with pytest.raises(SceneSyntaxError) as info:
        scene_dsl.parse(text)
    assert info.value.code == code  # the primary diagnostic is the one the case is about
    d = _check_one(list(info.value.diagnostics), code, where)
    assert d.caret.endswith("^")
    assert f"{code} {d.name} @ {where[0]}:{where[1]}" in str(info.value)
    # collect mode reports the same problem at the same place and still returns a scene
    result = scene_dsl.parse(text, errors="collect")
    assert not result.ok and result.scene is not None
    _check_one(list(result.diagnostics), code, where)


@pytest.mark.parametrize("code", sorted(CONTRACT))
def test_scene_contract_code(code: str) -> None:
    text, where = _split(CONTRACT[code])
    scene = scene_dsl.parse(text)  # parses: the problem is meaning, not syntax
    diags = scene_dsl.validate(scene)
    _check_one(diags, code, where)
    assert _check_one(scene_dsl.check(text), code, where).caret.endswith("^")


def test_scene_S109_unexpected_token_fallback() -> None:
    # No input reaches S109 under scene.lark (every token kind a parser state can reject has a
    # more specific code); it is the mapping's fallback for a grammar change, tested directly.
    text = HEAD + "[a:b]" + TAIL
    offset = text.index("[a:b]")
    tok = Token("PAIR", "[a:b]", offset, 3, 1)
    d = _describe_unexpected(UnexpectedToken(tok, {"CLOSE"}), text, True)
    assert (d.code, d.failure_class, d.line, d.column) == (
        "S109",
        SCENE_CODES["S109"].failure_class,
        3,
        1,
    )


def test_scene_S110_not_utf8() -> None:
    data = HEAD.encode() + b"[topic:caf\xe9]\n" + CARD.encode() + TAIL.encode()
    with pytest.raises(SceneSyntaxError) as info:
        scene_dsl.parse(data)
    d = info.value.diagnostic
    assert d is not None and d.code == "S110" and d.failure_class == "syntax_error"
    assert (d.line, d.column) == (3, 11)  # the column of the bad byte's character


def test_scene_S501_input_too_long() -> None:
    text = HEAD + CARD * 50 + TAIL
    with pytest.raises(LimitExceededError) as info:
        scene_dsl.parse(text, max_chars=100)
    d = info.value.diagnostic
    assert d is not None and d.code == "S501" and d.failure_class == "limit_exceeded"
    assert (d.line, d.column) == line_col(text, 100)
    assert "max_chars" in d.message
    # collect mode cannot recover from a limit either
    with pytest.raises(LimitExceededError):
        scene_dsl.parse(text, errors="collect", max_chars=100)
    assert "S501" not in {d.code for d in scene_dsl.check(text.encode())}  # default limit is fine


def test_scene_S502_nesting_too_deep() -> None:
    depth = 6
    text = HEAD + "[a] " * depth + "[/a] " * depth + "\n" + TAIL
    with pytest.raises(LimitExceededError) as info:
        scene_dsl.parse(text, max_depth=depth - 1)
    d = info.value.diagnostic
    assert d is not None and d.code == "S502" and d.failure_class == "limit_exceeded"
    assert d.line == 3
    scene_dsl.parse(text, max_depth=depth, errors="collect")  # at the limit: fine


CONTENT_SCENE = HEAD + "[section_card:@cards.0.title|@cards.1.value]\n" + TAIL


def test_scene_S601_unresolved_ref() -> None:
    scene = scene_dsl.parse(CONTENT_SCENE)
    diags = scene_dsl.validate(scene, content={"cards": [{"title": "T"}]})
    d = _check_one(diags, "S601", line_col(CONTENT_SCENE, CONTENT_SCENE.index("@cards.1")))
    assert "list of 1" in d.message


def test_scene_S602_unused_content_is_a_warning() -> None:
    scene = scene_dsl.parse(CONTENT_SCENE)
    content = {"cards": [{"title": "T"}, {"value": "1"}], "spare": {"note": "n"}}
    diags = scene_dsl.validate(scene, content=content)
    assert [d.code for d in diags] == ["S602"]
    assert diags[0].severity is Severity.WARNING and not diags[0].is_error
    assert "spare.note" in diags[0].message
    assert scene_dsl.bind(scene, content).ok


def test_scene_S603_bad_content() -> None:
    scene = scene_dsl.parse(CONTENT_SCENE)
    diags = scene_dsl.validate(scene, content=["not", "an", "object"])  # type: ignore[arg-type]
    assert [(d.code, d.failure_class) for d in diags] == [
        ("S603", SCENE_CODES["S603"].failure_class)
    ]


def test_scene_every_code_has_a_test() -> None:
    tested = (
        {c.split("/")[0] for c in SYNTAX}
        | set(CONTRACT)
        | set(DIALECT)
        | {"S109", "S110", "S501", "S502", "S601", "S602", "S603"}
    )
    assert set(SCENE_CODES) == tested  # the compiler's S7xx codes live in dslkit.compilers.codes


def test_scene_errors_pickle_with_their_diagnostics() -> None:
    text, _ = _split(SYNTAX["S202"])
    with pytest.raises(SceneSyntaxError) as info:
        scene_dsl.parse(text)
    err = pickle.loads(pickle.dumps(info.value))
    assert type(err) is SceneSyntaxError
    assert err.diagnostics == info.value.diagnostics and str(err) == str(info.value)
    d = pickle.loads(pickle.dumps(info.value.diagnostic))
    assert d == info.value.diagnostic and d.to_dict() == info.value.diagnostic.to_dict()  # type: ignore[union-attr]
