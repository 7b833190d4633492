"""Every UDGL example in the docs and the design brief compiles without errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hogar_nb import parse_udgl

ROOT = Path(__file__).resolve().parents[2]
_BLOCK = re.compile(r"```udgl\n(.*?)```", re.S)


def _examples() -> list[tuple[str, str]]:
    text = (ROOT / "docs" / "udgl.md").read_text()
    return [(f"udgl.md#{i}", block) for i, block in enumerate(_BLOCK.findall(text), 1)]


@pytest.mark.parametrize(("where", "text"), _examples(), ids=[w for w, _ in _examples()])
def test_docs_example_compiles(where: str, text: str) -> None:
    graph = parse_udgl(text)
    assert graph.to_earg()["nodes"]


def test_docs_have_an_example_per_section() -> None:
    assert len(_examples()) >= 10


def test_design_example_stages_edges_and_cluster(design_example: str) -> None:
    # its nodes are pinned in test_earg_udgl.py
    earg = parse_udgl(design_example).to_earg()
    assert earg["stages"] == [["ingest"], ["features"], ["nn", "xgb"], ["blend"], ["gate"],
                              ["canary"], ["review_v2"], ["out"]]
    assert earg["edges"][:2] == [{"src": "blend", "dst": "gate"}, {"src": "canary", "dst": "out", "weight": 0.9}]
    assert earg["response"] == "out"
    assert earg["cluster"] == {"workers": 3, "cpu": 8, "gpu": 1, "memory_bytes": 34359738368}
