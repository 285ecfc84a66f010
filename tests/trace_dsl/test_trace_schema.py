"""The step schema is the one source: AST nodes, parser, printer and tokenizer follow it."""

from __future__ import annotations

import dataclasses
import random

import pytest

import trace_dsl
from trace_dsl import parser as trace_parser
from trace_dsl.schema import KEY_NAMES, SCHEMAS
from trace_dsl.strategies import sample_trace


@pytest.mark.parametrize("op", sorted(SCHEMAS))
def test_ast_nodes_are_named_after_the_schema_keys(op: str) -> None:
    node = trace_parser._NODES[op]
    cls = getattr(node, "func", node)  # percent ops share one node type
    fields = [f.name for f in dataclasses.fields(cls) if f.name not in ("op", "span")]
    assert fields == list(SCHEMAS[op].names)


def test_printer_writes_keys_in_schema_order() -> None:
    rng = random.Random(1)
    for _ in range(40):
        for step in sample_trace(rng).steps:
            body = trace_dsl.printer.step_to_text(step)
            keys = [part.split(":")[0] for part in body[1:-1].split(", ") if ": " in part]
            keys = [k for k in keys if k == "op" or k in SCHEMAS[step.op].names]
            order = ["op", *SCHEMAS[step.op].names]
            assert keys == sorted(keys, key=order.index), body


def test_parser_reports_schema_keys() -> None:
    res = trace_dsl.parse(
        "expert: arithmetic\ntrace:\n- {op: query, var: x, colour: red}\n", errors="collect"
    )
    assert [d.code for d in res.diagnostics] == ["T201"]
    assert "allowed: op, var" in res.diagnostics[0].message
    res = trace_dsl.parse("expert: arithmetic\ntrace:\n- {op: init, var: x}\n", errors="collect")
    assert [d.code for d in res.diagnostics] == ["T207"]


def test_tokenizer_reserves_the_schema_keys() -> None:
    pytest.importorskip("tokenizers")
    from dslkit.tokenizer.reserved import trace_reserved

    texts = {t.text for t in trace_reserved("atomic")}
    assert {f"{k}: " for k in KEY_NAMES} <= texts


def test_step_spans_point_into_the_text() -> None:
    text = "expert: arithmetic\ntrace:\n- {op: init, var: x, value: 3}  # three\n- {op: query, var: x}\n"
    trace = trace_dsl.parse(text)
    for step in trace.steps:
        assert step.span is not None
        assert text[step.span.start : step.span.end] == "- " + trace_dsl.printer.step_to_text(step)
        assert (step.line, step.column) == (step.span.line, step.span.column)
    block = trace.blocks[0]
    assert block.span is not None and text[block.span.start : block.span.end] == text[:-1]
    assert trace == trace_dsl.parse(trace_dsl.to_text(trace))  # spans are out of equality
