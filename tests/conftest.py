"""Shared fixtures: paths of the UDGL case files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "core" / "cases"


@pytest.fixture
def design_example() -> str:
    return (CASES / "valid" / "design_example.udgl").read_text()


def pytest_collection_modifyitems(config, items) -> None:
    """Browser tests run last: Playwright's sync API keeps an event loop running in
    the main thread while its browser is open, which would break `asyncio.run()` in
    any test scheduled after it."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
