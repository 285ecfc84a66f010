"""The two languages dslkit trains models to write, named once for the train modules."""

from __future__ import annotations

from typing import Literal

Language = Literal["scene", "trace"]
LANGUAGES: tuple[Language, ...] = ("scene", "trace")


def check_language(language: object) -> None:
    """Raise ``ValueError`` unless ``language`` is one of :data:`LANGUAGES`."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be 'scene' or 'trace', not {language!r}")
