"""Canonical formatting: stable, readable and meaning-preserving."""

from __future__ import annotations

from pathlib import Path

import pytest

from hogar_nb import parse_udgl
from hogar_nb.core.udgl.format import format_graph

VALID = sorted((Path(__file__).parent / "cases" / "valid").glob("*.udgl"))


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.stem)
def test_formatting_is_a_fixed_point_and_keeps_meaning(path: Path) -> None:
    graph = parse_udgl(path.read_text())
    text = graph.to_udgl()
    again = parse_udgl(text)
    assert again.to_udgl() == text
    assert again.to_earg() == graph.to_earg()


def test_canonical_layout_of_a_small_graph() -> None:
    # the layout written from the model (an edited graph, or one loaded from EARG)
    graph = parse_udgl(
        'source in\npython  feats {impl="m:f",replicas=2}\nmodel m { impl = "m.json" }\n'
        "ensemble e\nsink out\nin->feats->[m, x]\n[m,x]->e->out\npython x { impl = \"m:x\" }\n"
    )
    assert format_graph(graph) == (
        "source   in\n"
        'python   feats { impl = "m:f", replicas = 2 }\n'
        'model    m     { impl = "m.json" }\n'
        "ensemble e\n"
        "sink     out\n"
        'python   x     { impl = "m:x" }\n'
        "\n"
        "in -> feats\n"
        "feats -> [m, x]\n"
        "m -> e\n"
        "x -> e\n"
        "e -> out\n"
    )


def test_long_attribute_blocks_wrap_one_per_line() -> None:
    graph = parse_udgl(
        'source in\npython f { impl = "a.very.long.module.path:function_name", replicas = 3, '
        'cpu = 2, memory = 8GiB, batch = 64, batch_wait = 10ms, description = "wraps" }\n'
        "sink out\nin -> f -> out\n"
    )
    text = graph.to_udgl()
    assert 'python f   {\n    impl = "a.very.long.module.path:function_name",\n    replicas = 3,\n' in text
    assert parse_udgl(text).to_earg() == graph.to_earg()
