"""One call that reports everything wrong with a scene text: syntax, contract, content."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dslkit.errors import Diagnostic, DslSyntaxError
from scene_dsl.contract import Contract
from scene_dsl.parser import parse
from scene_dsl.validate import validate

__all__ = ["check"]


def check(
    text: str | bytes | bytearray | memoryview,
    *,
    contract: str | Path | Contract = "v1",
    content: Mapping[str, Any] | None = None,
) -> list[Diagnostic]:
    """Parse with recovery, then validate what was recovered.

    Args:
        text: scene program text.
        contract: contract name, path or object.
        content: optional content.json mapping; refs are then resolved too.

    Returns:
        Every diagnostic, sorted by position, each with its source line and caret.
        Limit violations (size, depth) and undecodable bytes come back as diagnostics too.
    """
    try:
        result = parse(text, errors="collect", contract=contract)
    except DslSyntaxError as exc:  # limits, or bytes that are not UTF-8: nothing to recover
        return list(exc.diagnostics)
    diags = list(result.diagnostics)
    source = text if isinstance(text, str) else bytes(text).decode("utf-8", "replace")
    source = source.removeprefix("\ufeff")  # as parse() does: positions start after a BOM
    if result.scene is not None:
        diags += validate(result.scene, contract, content, source=source)
    return sorted(diags, key=lambda d: (d.line, d.column, d.code))
