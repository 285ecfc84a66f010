"""One code-table shape (``dslkit.codes``) for every package, and codes where they belong.

The language tables hold the language codes only: the compiler's render (``S7xx``) and solver
(``X2xx``) codes live in ``dslkit.compilers.codes``. No code id is defined twice.
"""

from __future__ import annotations

import pickle
import re

import pytest
from dslkit.compilers.codes import RENDER_CODES, SOLVER_CODES
from dslkit.tokenizer.codes import TOKENIZER_CODES

from dslkit.codes import Code, CodeTable, check_disjoint
from dslkit.errors import (
    CompileError,
    DslkitError,
    InputError,
    SceneSyntaxError,
    Severity,
    SolverError,
    TokenizerError,
    TraceSyntaxError,
)
from dslkit.jsonio import JSON_CODES
from scene_dsl.ast import Span
from scene_dsl.diagnostics import SCENE_CODES
from trace_dsl.codes import TRACE_CODES

# table -> (pattern every code of it matches, the error class its fail() builds)
TABLES: dict[str, tuple[CodeTable, str, type[DslkitError]]] = {
    "scene": (SCENE_CODES, r"S[0-6]\d\d", SceneSyntaxError),
    "trace": (TRACE_CODES, r"T\d\d\d", TraceSyntaxError),
    "tokenizer": (TOKENIZER_CODES, r"K\d\d\d", TokenizerError),
    "render": (RENDER_CODES, r"S7\d\d", CompileError),
    "solver": (SOLVER_CODES, r"X2\d\d", SolverError),
    "json": (JSON_CODES, r"J\d\d\d", InputError),
}


@pytest.mark.parametrize("which", sorted(TABLES))
def test_every_table_has_the_one_shape_and_its_own_range(which: str) -> None:
    table, pattern, error = TABLES[which]
    assert isinstance(table, CodeTable) and table.error is error
    assert len(table) > 0
    for code, entry in table.items():
        assert type(entry) is Code and entry.code == code
        assert re.fullmatch(pattern, code), f"{code} does not belong in the {which} table"
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", entry.name), entry.name
        assert entry.failure_class and isinstance(entry.severity, Severity)


@pytest.mark.parametrize("which", sorted(TABLES))
def test_every_code_builds_its_diagnostic_and_error(which: str) -> None:
    table, _, error = TABLES[which]
    for code, entry in table.items():
        d = table.diag(code, "what happened", 2, 3, 7)
        assert (d.code, d.name, d.failure_class, d.severity) == (
            code,
            entry.name,
            entry.failure_class,
            entry.severity,
        )
        assert (d.message, d.line, d.column, d.offset) == ("what happened", 2, 3, 7)
        err = table.fail(code, "what happened", line=2, column=3)
        assert type(err) is error and err.diagnostics == (table.diag(code, "what happened", 2, 3),)
        assert pickle.loads(pickle.dumps(err)).diagnostics == err.diagnostics


def test_no_code_is_defined_in_two_tables() -> None:
    tables = [t for t, _, _ in TABLES.values()]
    check_disjoint(*tables)
    assert sum(len(t) for t in tables) == len({c for t in tables for c in t})
    with pytest.raises(ValueError, match="S001 is defined in two tables"):
        check_disjoint(SCENE_CODES, CodeTable([Code("S001", "again", "x")]))


def test_a_table_refuses_a_code_written_twice() -> None:
    with pytest.raises(ValueError, match="Z001 is written twice"):
        CodeTable([Code("Z001", "one", "a"), Code("Z001", "two", "b")])


def test_code_is_frozen() -> None:
    entry = SCENE_CODES["S102"]
    with pytest.raises(AttributeError):
        entry.name = "other"  # type: ignore[misc]


def test_diag_positions_from_span_and_from_text() -> None:
    text = "[scene]\n[canvas:]\n"
    offset = text.index("]", 8)
    by_text = SCENE_CODES.diag("S102", "expected a value", text=text, offset=offset)
    assert (by_text.line, by_text.column, by_text.offset) == (2, 9, offset)
    assert by_text.source_line == "[canvas:]" and by_text.caret == "        ^"
    by_span = SCENE_CODES.diag("S102", "m", span=Span(line=4, column=5, start=40, end=41))
    assert (by_span.line, by_span.column, by_span.offset) == (4, 5, 40)
    assert not by_span.source_line  # no text given: no caret context


def test_severity_override_and_error_override() -> None:
    d = SCENE_CODES.diag("S602", "m", severity=Severity.ERROR)
    assert SCENE_CODES["S602"].severity is Severity.WARNING and d.is_error
    from dslkit.errors import SceneValidationError

    err = SCENE_CODES.fail("S303", "m", error=SceneValidationError)
    assert type(err) is SceneValidationError and err.code == "S303"


def test_unknown_code_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        TRACE_CODES.diag("X201", "solver codes are not trace codes")
    with pytest.raises(KeyError):
        SCENE_CODES.diag("S701", "render codes are not scene codes")
