"""Hostile bodies never crash the server: every answer is JSON with a known status, and
a storm of bad payloads mixed with good ones under concurrency loses no request."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serving.conftest import chain, impl, served
from tests.serving.rawhttp import post_many

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5),
    max_leaves=20)
BODIES = st.one_of(st.binary(max_size=300), JSON.map(lambda v: json.dumps(v).encode()))
TENSORS = st.fixed_dictionaries({}, optional={
    "name": st.one_of(st.text(max_size=5), st.integers()),
    "shape": st.lists(st.integers(-2, 6), max_size=4),
    "datatype": st.sampled_from(["FP32", "INT64", "BOOL", "BYTES", "FP9", ""]),
    "data": st.lists(JSON, max_size=12),
})
INFER = st.fixed_dictionaries({}, optional={"inputs": st.lists(TENSORS, max_size=3), "id": JSON,
                                            "parameters": JSON})


@pytest.fixture(scope="module")
def server():
    with served(chain(impl("double")), max_body=2000) as pair:
        yield pair


def _assert_json_error_or_ok(resp: httpx.Response, allowed: set[int]) -> None:
    assert resp.status_code in allowed, resp.text
    body = resp.json()  # always JSON
    if resp.status_code != 200:
        assert "error" in body


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=BODIES, path=st.sampled_from(["/src", "/v2/models/g/infer", "/", "/nope"]))
def test_any_body_gets_a_json_answer(server, body, path):
    _dep, client = server
    resp = client.post(path, content=body)
    _assert_json_error_or_ok(resp, {200, 400, 404, 405, 413, 500})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(request=INFER)
def test_any_infer_request_gets_a_protocol_answer(server, request):
    _dep, client = server
    resp = client.post("/v2/models/g/infer", json=request, timeout=10)
    _assert_json_error_or_ok(resp, {200, 400, 413, 500})
    if resp.status_code != 200:
        assert isinstance(resp.json()["error"], str)


def test_storm_of_bad_and_good_payloads_counts_every_request():
    """4,000 requests from 64 concurrent clients, one in four malformed or rejected:
    every good one is answered right, every bad one gets its 4xx/5xx, none is lost,
    and the server's own counters agree."""
    n, concurrency = 4000, 64
    kinds = ["good", "good", "good", "badjson", "good", "notnumber", "good", "toolarge"]

    def body(i: int) -> bytes:
        kind = kinds[i % len(kinds)]
        if kind == "good":
            return str(i).encode()
        if kind == "badjson":
            return b'{"unterminated": '
        if kind == "notnumber":
            return b'"a string"'
        return b"[" + b"1," * 2000 + b"1]"

    expected = {"good": 200, "badjson": 400, "notnumber": 500, "toolarge": 413}
    with served(chain(impl("ident"), impl("double"), replicas=2), max_body=2000) as (dep, client):
        requests = [("/src", body(i)) for i in range(n)]
        answers = asyncio.run(post_many(client.base_url.host, client.base_url.port, requests, concurrency))
        results = [(i, status, json.loads(raw)) for i, (status, raw) in enumerate(answers)]
        assert len(results) == n
        for i, status, answer in results:
            kind = kinds[i % len(kinds)]
            assert status == expected[kind], (i, kind, answer)
            if kind == "good":
                assert answer == 2 * i
            else:
                assert answer["error"]["cause"] in ("bad_request", "error", "too_large")
        metrics = client.get("/metrics").text
        by_status = {s: sum(1 for _, st_, _ in results if st_ == s) for s in (200, 400, 413, 500)}
        for status, count in by_status.items():
            assert f'method="POST",route="/src",status="{status}"}} {float(count)}' in metrics
        snap = dep.metrics()
        assert snap.graph.requests == by_status[200] + by_status[500]
        assert snap.graph.ok == by_status[200] and snap.graph.errors == by_status[500]
        assert snap.nodes["n1"].errors_by_cause == {"error": by_status[500]}
