"""One call that reports everything wrong with a scene text: syntax, contract, content."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dslkit.errors import Diagnostic, DslSyntaxError
from scene_dsl.contract import DEFAULT_CONTRACT, Contract
from scene_dsl.dialects import parse
from scene_dsl.validate import validate

__all__ = ["check"]


def check(
    text: str | bytes | bytearray | memoryview,
    *,
    contract: str | Path | Contract = DEFAULT_CONTRACT,
    content: Mapping[str, Any] | None = None,
    dialect: str = "dslkit",
) -> list[Diagnostic]:
    """Parse with recovery, then validate what was recovered.

    Args:
        text: scene program text.
        dialect: the surface it is written in (``"auto"``, ``"dslkit"``, ``"cke"``, ``"d1"``
            ... ``"d6"``; see :mod:`scene_dsl.dialects`).
        contract: contract name, path or object.
        content: optional content.json mapping; refs are then resolved too.

    Returns:
        Every diagnostic, sorted by position, each with its source line and caret.
        Limit violations (size, depth) and undecodable bytes come back as diagnostics too.
    """
    try:
        result = parse(text, dialect=dialect, errors="collect", contract=contract)
    except DslSyntaxError as exc:  # limits, or bytes that are not UTF-8: nothing to recover
        return list(exc.diagnostics)
    diags = list(result.diagnostics)
    source = text if isinstance(text, str) else bytes(text).decode("utf-8", "replace")
    source = source.removeprefix("\ufeff")  # as parse() does: positions start after a BOM
    if result.scene is not None:
        seen = {(d.code, d.line, d.column) for d in diags}
        # A dialect reader may already have said what the validator finds (an unknown
        # component): report each problem once.
        diags += [
            d
            for d in validate(result.scene, contract, content, source=source)
            if (d.code, d.line, d.column) not in seen
        ]
    return sorted(diags, key=lambda d: (d.line, d.column, d.code))
