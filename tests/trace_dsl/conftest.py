"""Shared fixtures of the trace DSL tests: fixture files and the GSM8K split (optional)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "traces"


def gsm8k_path() -> Path | None:
    """The GSM8K train split: ``$DSLKIT_GSM8K`` or ``../shared/data/gsm8k/train.jsonl``."""
    env = os.environ.get("DSLKIT_GSM8K")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
    return path if path.is_file() else None


@pytest.fixture(scope="session")
def gsm8k_train() -> Path:
    path = gsm8k_path()
    if path is None:
        pytest.skip(
            "GSM8K train split not found: set DSLKIT_GSM8K or add ../shared/data/gsm8k/train.jsonl"
        )
    return path
