"""Suite-wide settings: property tests draw the same examples on every run by default; the
GSM8K train split (optional real material) for the tests that read it.

A red ``make test`` must mean a regression, not an unlucky draw: the default hypothesis
profile is derandomized. Search for new failures with ``HYPOTHESIS_PROFILE=explore make test``
(random draws; a thousand examples where a test does not set its own count). A failure
it finds prints the example, to be pinned as a test of its own.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

try:
    from hypothesis import settings
except ImportError:  # hypothesis comes with the [test] extra; plain pytest runs without it
    pass
else:
    settings.register_profile("repeatable", derandomize=True, print_blob=True)
    settings.register_profile("explore", max_examples=1000, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def gsm8k_train() -> Path:
    """The GSM8K train split: ``$DSLKIT_GSM8K`` or ``../shared/data/gsm8k/train.jsonl``
    (the test is skipped, saying so, where neither is there)."""
    env = os.environ.get("DSLKIT_GSM8K")
    path = Path(env) if env else REPO.parent / "shared" / "data" / "gsm8k" / "train.jsonl"
    if not path.is_file():
        pytest.skip(f"GSM8K train split not found at {path}: set DSLKIT_GSM8K")
    return path
