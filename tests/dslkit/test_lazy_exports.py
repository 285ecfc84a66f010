"""Lazy package exports are typed: mypy sees every public name, and only those.

``dslkit.compilers`` and ``dslkit.train`` load their names on first use (``__getattr__``), so
``import dslkit.train`` does not import torch. For mypy the same names come from
``if TYPE_CHECKING:`` imports, and ``__getattr__`` is hidden from it (``if not TYPE_CHECKING``):
a misspelt ``dslkit.compilers.verfy`` is then a mypy error under ``make lint`` instead of ``Any``.
These tests keep the three lists (lazy table, typed imports, ``__all__``) one list.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = {"dslkit.compilers": ROOT / "compilers", "dslkit.train": ROOT / "train"}


def _is_type_checking(test: ast.expr, negated: bool) -> bool:
    if negated:
        return (
            isinstance(test, ast.UnaryOp)
            and isinstance(test.op, ast.Not)
            and _is_type_checking(test.operand, False)
        )
    return isinstance(test, ast.Name) and test.id == "TYPE_CHECKING"


def _typed_imports(tree: ast.Module) -> dict[str, str]:
    """name -> module of every ``from M import name`` under a top-level ``if TYPE_CHECKING:``."""
    out: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.If) and _is_type_checking(node.test, negated=False):
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.module
                for alias in stmt.names:
                    out[alias.asname or alias.name] = stmt.module
    return out


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_lazy_table_typed_imports_and_all_are_one_list(package: str) -> None:
    tree = ast.parse((PACKAGES[package] / "__init__.py").read_text(encoding="utf-8"))
    module = importlib.import_module(package)
    lazy: dict[str, str] = module._LAZY
    assert _typed_imports(tree) == lazy  # same names, each from the module it loads from
    assert sorted(module.__all__) == sorted(lazy)


@pytest.mark.parametrize("package", sorted(PACKAGES))
def test_getattr_is_hidden_from_the_type_checker(package: str) -> None:
    tree = ast.parse((PACKAGES[package] / "__init__.py").read_text(encoding="utf-8"))
    top_level = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert "__getattr__" not in top_level  # mypy would type every unknown name as Any
    hidden = [
        n
        for n in tree.body
        if isinstance(n, ast.If) and _is_type_checking(n.test, negated=True)
        for f in n.body
        if isinstance(f, ast.FunctionDef) and f.name == "__getattr__"
    ]
    assert len(hidden) == 1


@pytest.mark.parametrize("package", ["dslkit.compilers"])  # train's names need torch
def test_every_lazy_name_resolves_to_its_module_object(package: str) -> None:
    module = importlib.import_module(package)
    # module.__getattr__ itself: the package attribute `parity` is the submodule, not the
    # function, once something has imported dslkit.compilers.parity (a known name clash)
    for name, where in module._LAZY.items():
        assert module.__getattr__(name) is getattr(importlib.import_module(where), name)
    with pytest.raises(AttributeError, match="no attribute 'verfy'"):
        _ = module.verfy
