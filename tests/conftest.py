"""Suite-wide settings: property tests draw the same examples on every run by default.

A red ``make test`` must mean a regression, not an unlucky draw: the default hypothesis
profile is derandomized. Search for new failures with ``HYPOTHESIS_PROFILE=explore make test``
(random draws; a thousand examples where a test does not set its own count). A failure
it finds prints the example, to be pinned as a test of its own.
"""

from __future__ import annotations

import os

try:
    from hypothesis import settings
except ImportError:  # hypothesis comes with the [test] extra; plain pytest runs without it
    pass
else:
    settings.register_profile("repeatable", derandomize=True, print_blob=True)
    settings.register_profile("explore", max_examples=1000, print_blob=True)
    settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))
