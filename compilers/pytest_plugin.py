"""Run the gold-pack gate inside any pytest suite.

Enable it per run or per project::

    pytest -p compilers.pytest_plugin --gold-pack examples/gold
    # or in pytest.ini / pyproject [tool.pytest.ini_options]:
    #   addopts = "-p compilers.pytest_plugin"
    #   gold_pack = "examples/gold"

Then either use the fixture::

    def test_gold(gold_pack_report):
        assert gold_pack_report.ok, gold_pack_report.format()

or call the helper directly (no plugin needed)::

    from dslkit.compilers.pytest_plugin import assert_gold_pack
    def test_gold():
        assert_gold_pack("examples/gold")
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dslkit.compilers.gold import GoldReport, check_gold_pack

__all__ = ["assert_gold_pack", "gold_pack_report"]


def assert_gold_pack(directory: str | Path, *, contract: str = "v1") -> GoldReport:
    """Check a gold pack and fail the calling test with every failed check listed.

    Args:
        directory: the pack folder.
        contract: contract name to validate and compile against.

    Returns:
        The :class:`~compilers.gold.GoldReport` when every case passes.

    Raises:
        AssertionError: some case failed (or the pack has no cases); the message is the
            report's per-case summary.
    """
    report = check_gold_pack(directory, contract=contract)
    if not report.ok:
        raise AssertionError(f"gold pack {directory} failed:\n{report.format()}")
    return report


def pytest_addoption(parser: Any) -> None:
    """Add ``--gold-pack DIR`` and the ``gold_pack`` ini key."""
    parser.addoption(
        "--gold-pack",
        action="store",
        default=None,
        metavar="DIR",
        help="gold pack folder for the gold_pack_report fixture (default: ini gold_pack, "
        "else examples/gold under the rootdir)",
    )
    parser.addini("gold_pack", "gold pack folder for the gold_pack_report fixture", default="")


def _pack_dir(config: Any) -> Path:
    chosen = config.getoption("--gold-pack") or config.getini("gold_pack") or "examples/gold"
    path = Path(chosen)
    return path if path.is_absolute() else Path(str(config.rootpath)) / path


@pytest.fixture(scope="session")
def gold_pack_report(request: Any) -> GoldReport:
    """Session fixture: the :class:`~compilers.gold.GoldReport` of the configured pack.

    The pack is checked once per session; skip-free by design (a missing folder is an error).
    """
    directory = _pack_dir(request.config)
    if not directory.is_dir():
        pytest.fail(f"gold pack folder not found: {directory} (set --gold-pack)", pytrace=False)
    return check_gold_pack(directory)
