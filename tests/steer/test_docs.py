"""Every UDGL example of docs/operations.md compiles without errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hogar_nb import parse_udgl

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
BLOCKS = re.compile(r"```udgl\n(.*?)```", re.S).findall(DOC.read_text())


@pytest.mark.parametrize("text", BLOCKS, ids=[f"operations.md#{i}" for i in range(1, len(BLOCKS) + 1)])
def test_operations_example_compiles(text: str) -> None:
    graph = parse_udgl(text)
    assert graph.check() == []


def test_the_page_has_its_examples() -> None:
    assert len(BLOCKS) >= 2
