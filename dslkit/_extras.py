"""One place that turns a missing optional dependency into "install dslkit[extra]".

dslkit keeps its core light (``scene_dsl`` and ``trace_dsl`` need only lark); rendering,
tokenizers, training and the Hugging Face bridges live behind pip extras. Every module that
needs one of those packages asks :func:`require` for it, so a user without the extra reads::

    dslkit.compilers.to_png needs cairosvg: pip install 'dslkit[render]'

instead of a bare ``No module named 'cairosvg'`` from deep inside a call.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from dslkit.errors import MissingExtraError

__all__ = ["EXTRAS", "require"]

# extra -> the packages it installs that dslkit imports (pyproject.toml's optional-dependencies
# by import name). Only used to check that a caller names a real extra.
EXTRAS: dict[str, tuple[str, ...]] = {
    "render": ("cairosvg", "defusedxml", "PIL", "skimage", "scipy", "numpy"),
    "tokenizer": ("tokenizers",),
    "train": ("torch", "numpy", "tqdm", "tokenizers", "safetensors"),
    "hf": ("transformers", "safetensors", "datasets"),
}


def require(module: str, *, extra: str, feature: str = "", load: bool = True) -> ModuleType | None:
    """Import an optional dependency, or explain which extra installs it.

    Args:
        module: the import name, e.g. ``"cairosvg"`` or ``"skimage.metrics"``.
        extra: the dslkit extra that provides it (``render``, ``tokenizer``, ``train``, ``hf``).
        feature: what needs it, for the message (default: the module's top-level name).
        load: False only checks that the module is installed (without importing it, so a
            package ``__init__`` can check for torch without paying for importing it).

    Returns:
        The imported module, or None when ``load`` is False.

    Raises:
        MissingExtraError: the module (or a package it needs) is not installed; the message
            names the pip command. It is an ``ImportError`` too, so ``except ImportError`` in
            callers keeps working.
    """
    if extra not in EXTRAS:  # a typo here would send users to an extra that does not exist
        raise ValueError(f"unknown dslkit extra {extra!r}; one of {', '.join(EXTRAS)}")
    top = module.partition(".")[0]
    if not load:
        if importlib.util.find_spec(top) is None:
            raise _missing(top, extra, feature)
        return None
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        # Only a missing *dependency* is the user's install; a missing submodule of an installed
        # package is a version mismatch, worth the same advice (reinstall the extra).
        missing = (exc.name or top).partition(".")[0]
        raise _missing(missing, extra, feature) from exc


def _missing(name: str, extra: str, feature: str) -> MissingExtraError:
    what = feature or "this feature"
    return MissingExtraError(
        f"{what} needs the Python package {name!r}, which is not installed: "
        f"pip install 'dslkit[{extra}]'",
        module=name,
        extra=extra,
    )
