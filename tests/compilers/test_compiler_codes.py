"""The compiler's codes live with the compiler, and each one is tested where it is emitted."""

from __future__ import annotations

from pathlib import Path

import pytest
from dslkit.compilers.codes import RENDER_CODES

HERE = Path(__file__).resolve()


@pytest.mark.parametrize("code", sorted(RENDER_CODES))
def test_every_render_code_is_tested_with_the_compiler(code: str) -> None:
    # S7xx codes are emitted by the compiler (text fitting, raster safety), so their behaviour is
    # tested beside it; this keeps "one test per code" honest when a new S7xx code is added.
    others = [p for p in HERE.parent.glob("test_*.py") if p != HERE]
    assert any(code in p.read_text("utf-8") for p in others), code
