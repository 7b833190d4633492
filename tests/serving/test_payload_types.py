"""A payload that contradicts a declared input type is a 422 at the HTTP boundary,
naming the node, and reaches no replica; good payloads mixed in are all answered."""

from __future__ import annotations

import random

import hogar_nb
from tests.serving import impls
from tests.serving.conftest import served

GRAPH = """
source ingest { route = "/score" }
python summer { impl = "tests.serving.impls:counted_sum", input = float32[n, 4] }
sink out
ingest -> summer -> out
"""


def _payloads(n: int) -> list[tuple[object, bool]]:
    """``n`` payloads, about a third of them contradicting float32[n, 4]; (payload, good)."""
    rng = random.Random(7)
    deep: list = [1.0]
    for _ in range(1000):  # deeper than the recursion limit, within the JSON parser's
        deep = [deep]
    bad = [[1, 2, 3], [[1, 2, 3, 4], [1, 2]], ["a", "b", "c", "d"], {"x": 1}, 3, [[1, 2, 3, 4, 5]], [True] * 4,
           deep, [[[1, 2, 3, 4]]]]
    out: list[tuple[object, bool]] = []
    for i in range(n):
        if i % 3 == 0:
            out.append((bad[i % len(bad)], False))
        elif i % 2:
            out.append(([rng.random() for _ in range(4)], True))
        else:
            out.append(([[rng.random() for _ in range(4)] for _ in range(3)], True))
    return out


def test_storm_of_mixed_payloads_bad_ones_are_422_before_any_replica() -> None:
    impls.CALLS.clear()
    counts = {200: 0, 422: 0}
    payloads = _payloads(1500)
    with served(hogar_nb.parse_udgl(GRAPH)) as (_dep, client):
        for payload, good in payloads:
            resp = client.post("/score", json=payload)
            counts[resp.status_code] = counts.get(resp.status_code, 0) + 1
            if good:
                assert resp.status_code == 200, resp.text
            else:
                assert resp.status_code == 422, (payload, resp.text)
                err = resp.json()["error"]
                assert err["cause"] == "invalid_input" and err["node"] == "summer"
                assert "float32[n, 4]" in err["message"]
    n_good = sum(good for _p, good in payloads)
    assert counts == {200: n_good, 422: len(payloads) - n_good}
    assert len(impls.CALLS) == n_good  # no bad payload reached the replica


def test_oip_infer_checks_the_declared_type_too() -> None:
    with served(hogar_nb.parse_udgl(GRAPH)) as (_dep, client):
        body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 3], "data": [1, 2, 3]}]}
        resp = client.post("/v2/models/graph/infer", json=body)
        assert resp.status_code == 422 and "summer" in resp.json()["error"]
        body = {"inputs": [{"name": "x", "datatype": "FP32", "shape": [1, 4], "data": [1, 2, 3, 4]}]}
        resp = client.post("/v2/models/graph/infer", json=body)
        assert resp.status_code == 200, resp.text


def test_a_source_declaring_its_payload_names_itself() -> None:
    text = GRAPH.replace('route = "/score"', 'route = "/score", input = bytes[n]').replace(
        ', input = float32[n, 4]', '')
    with served(hogar_nb.parse_udgl(text.replace("counted_sum", "ident"))) as (_dep, client):
        resp = client.post("/score", json=[1, 2])
        assert resp.status_code == 422 and resp.json()["error"]["node"] == "ingest"
        assert client.post("/score", json=["a", "b"]).json() == ["a", "b"]
