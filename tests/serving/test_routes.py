"""The plain JSON routes, GET /, request ids and every error mapping, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import socket

import httpx
import pytest

from hogar_nb.runtime.errors import HTTP_STATUS

from tests.serving.conftest import chain, impl, make_earg, served, wait_for


def _error(resp: httpx.Response) -> dict:
    body = resp.json()
    assert set(body["error"]) == {"cause", "message", "node", "request_id", "trace_id"}
    assert body["error"]["request_id"] == resp.headers["x-request-id"]
    assert resp.headers["traceparent"].split("-")[1] == body["error"]["trace_id"]
    return body["error"]


def test_post_route_answers_the_response_sink(echo):
    dep, client = echo
    for payload in (3, [1, 2.5], {"a": [1, {"b": None}]}, "text", None, True):
        resp = client.post("/src", content=json.dumps(payload))
        assert resp.status_code == 200 and resp.json() == payload
        assert resp.headers["content-type"] == "application/json"


def test_declared_route_and_index_list_routes():
    earg = make_earg({"api": {"kind": "source", "route": "/score"}, "f": {"impl": impl("double")},
                      "other": {"kind": "source"}, "out": {"kind": "sink"}},
                     ["api -> f", "other -> f", "f -> out"], name="scorer")
    with served(earg) as (dep, client):
        assert client.post("/score", json=4).json() == 8
        assert client.post("/other", json=5).json() == 10
        index = client.get("/").json()
        assert index["name"] == "scorer"
        posts = {(r["path"], r.get("source")) for r in index["routes"] if r["method"] == "POST"}
        assert {("/score", "api"), ("/other", "other"), ("/v2/models/scorer/infer", None)} <= posts


def test_request_id_is_echoed_or_generated(echo):
    _dep, client = echo
    resp = client.post("/src", json=1, headers={"x-request-id": "abc-123"})
    assert resp.headers["x-request-id"] == "abc-123"
    ids = {client.post("/src", json=1).headers["x-request-id"] for _ in range(5)}
    assert len(ids) == 5 and all(len(i) == 16 for i in ids)
    bad = client.post("/src", content=b"{", headers={"x-request-id": "req-9"})
    assert _error(bad)["request_id"] == "req-9"


@pytest.mark.parametrize("body", [b"{", b"[1,", b"nul", b"\xff\xfe", b"{'a': 1}", b"", b"   "])
def test_malformed_json_is_400(echo, body):
    _dep, client = echo
    resp = client.post("/src", content=body, headers={"content-type": "application/json"})
    assert resp.status_code == 400
    assert _error(resp)["cause"] == "bad_request"


def test_unknown_route_is_404_listing_routes(echo):
    _dep, client = echo
    resp = client.post("/nope", json=1)
    assert resp.status_code == 404
    err = _error(resp)
    assert err["cause"] == "not_found" and "POST /src" in err["message"]
    assert {"method": "POST", "path": "/src", "source": "src"} in resp.json()["routes"]


def test_wrong_method_is_405_json(echo):
    _dep, client = echo
    resp = client.get("/src")
    assert resp.status_code == 405 and _error(resp)["cause"] == "method_not_allowed"


def test_body_over_the_limit_is_413_without_reading_it():
    with served(chain(impl("ident")), max_body=1000) as (_dep, client):
        assert client.post("/src", json=list(range(100))).status_code == 200
        resp = client.post("/src", content=b"[" + b"1," * 600 + b"1]")
        assert resp.status_code == 413 and _error(resp)["cause"] == "too_large"
        # a declared 1 GB body is refused from its header: the server answers before it is sent
        host, port = client.base_url.host, client.base_url.port
        with socket.create_connection((host, port), timeout=10) as sock:
            sock.sendall(b"POST /src HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                         b"Content-Length: 1000000000\r\n\r\n[1,")
            answer = sock.recv(4096)
        assert answer.startswith(b"HTTP/1.1 413") and b"too_large" in answer

        def chunks():
            for _ in range(100):
                yield b"1" * 100
        resp = client.post("/src", content=chunks())  # chunked: no Content-Length
        assert resp.status_code == 413
        assert client.post("/src", json=[1]).status_code == 200  # still serving


def test_impl_error_is_500_naming_the_node(echo):
    with served(chain(impl("ident"), impl("double"))) as (_dep, client):
        resp = client.post("/src", json="not a number")
        assert resp.status_code == 500
        err = _error(resp)
        assert err["cause"] == "error" and err["node"] == "n1" and "double needs a number" in err["message"]
        assert client.post("/src", json=2).json() == 4


def test_model_rejecting_its_input_is_422():
    with served(chain(impl("shape_checked"))) as (_dep, client):
        resp = client.post("/src", json=[1, 2, 3])
        assert resp.status_code == HTTP_STATUS["invalid_input"] == 422
        assert _error(resp)["cause"] == "invalid_input" and _error(resp)["node"] == "n0"
        assert client.post("/src", json=[1, 2]).json() == 3


def test_unserialisable_result_is_500(echo):
    with served(chain(impl("unserialisable"))) as (_dep, client):
        resp = client.post("/src", json=1)
        assert resp.status_code == 500 and "JSON" in _error(resp)["message"]


def test_request_deadline_is_504():
    with served(chain(impl("slow")), timeout=0.01) as (_dep, client):
        resp = client.post("/src", json=1)
        assert resp.status_code == 504 and _error(resp)["cause"] == "timeout"


def test_node_without_live_replica_is_503():
    earg = chain(impl("ident"), recovery={"policy": "none", "max_restarts": 0, "backoff_ms": 10.0})
    with served(earg) as (dep, client):
        dep.inject_fault("n0", "crash", rate=1.0)
        first = client.post("/src", json=1)
        assert first.status_code in (500, 503)
        wait_for(lambda: dep.metrics().nodes["n0"].replicas_alive == 0, 10, "the replica to die")
        resp = client.post("/src", json=1)
        assert resp.status_code == 503 and _error(resp)["cause"] == "unavailable"
        assert _error(resp)["node"] == "n0" and resp.headers["retry-after"]


def test_overload_is_503_with_retry_after():
    from tests.serving.impls import RELEASE

    RELEASE.clear()
    with served(chain(impl("gate")), run_options={"queue_size": 2}) as (_dep, client):
        async def burst():
            async with httpx.AsyncClient(base_url=str(client.base_url), timeout=30) as ac:
                tasks = [asyncio.ensure_future(ac.post("/src", json=i)) for i in range(20)]
                overloaded = None
                for fut in asyncio.as_completed(tasks[:]):
                    resp = await fut
                    if resp.status_code == 503:
                        overloaded = resp
                        break
                RELEASE.set()
                return overloaded, await asyncio.gather(*tasks)
        try:
            overloaded, answers = asyncio.run(burst())
        finally:
            RELEASE.set()
        assert overloaded is not None
        assert _error(overloaded)["cause"] == "overload" and overloaded.headers["retry-after"] == "1"
        codes = sorted({r.status_code for r in answers})
        assert codes == [200, 503]


def test_stopping_the_deployment_closes_its_server():
    import hogar_nb

    dep = hogar_nb.run(chain(impl("ident")))
    url = dep.serve_http()
    assert httpx.post(url + "/src", json=1).json() == 1
    dep.stop()
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/v2/health/live")
