"""Shared fixtures: paths of the UDGL case files."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).resolve().parent / "core" / "cases"


@pytest.fixture
def design_example() -> str:
    return (CASES / "valid" / "design_example.udgl").read_text()
