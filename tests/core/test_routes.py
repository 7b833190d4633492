"""One route normaliser: the HTTP front, the exporters and the Ray ingress agree."""

from __future__ import annotations

import pytest

from hogar_nb.core.routes import normalize_route, source_routes
from hogar_nb.core.udgl import parse_udgl


@pytest.mark.parametrize(("written", "route"), [
    ("/score", "/score"), ("score", "/score"), ("/score/", "/score"), ("//score//", "/score"),
    ("/", "/"), ("", "/"), ("/a/b/", "/a/b"),
])
def test_a_route_has_one_leading_slash_and_no_trailing_one(written: str, route: str) -> None:
    assert normalize_route(written) == route


def test_each_source_gets_its_route_or_its_name() -> None:
    graph = parse_udgl('source api { route = "/v1/score/" }\nsource batch\nsink out\napi -> out\nbatch -> out\n')
    assert source_routes(graph.to_earg()) == {"api": "/v1/score", "batch": "/batch"}


def test_an_odd_document_yields_the_sources_it_has() -> None:
    assert source_routes({"nodes": [{"kind": "source", "name": "a"}, "junk", {"kind": "sink", "name": "b"}]}) == {
        "a": "/a"}
    assert source_routes({}) == {}
