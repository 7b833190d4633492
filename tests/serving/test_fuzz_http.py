"""Hostile bodies never crash the server: every answer is JSON with a known status, and
a storm of bad payloads mixed with good ones under concurrency loses no request."""

from __future__ import annotations

import asyncio
import gzip
import json
import zlib

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.serving.conftest import chain, impl, served
from tests.serving.rawhttp import Conn, post_many

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


# header fields that would make the server wait for more (a body, a 100-continue) or
# switch protocols are left to the tests of those; everything else goes
_WAITS = (b"content-length", b"transfer-encoding", b"expect", b"upgrade")
TOKEN = st.binary(min_size=1, max_size=12) | st.text("abcXYZ-_019", min_size=1, max_size=12).map(str.encode)
FIELDS = st.lists(st.tuples(TOKEN, st.binary(max_size=30)), max_size=6).filter(
    lambda fields: not any(name.strip().lower().startswith(_WAITS) for name, _ in fields))
HEADS = st.one_of(
    st.binary(min_size=1, max_size=200),
    st.builds(lambda method, path, version, fields: b"%s %s %s\r\n%s\r\n" % (
        method, path, version, b"".join(name + b": " + value + b"\r\n" for name, value in fields)),
        st.sampled_from([b"GET", b"POST", b"PUT", b"BREW", b"get", b""]),
        st.sampled_from([b"/src", b"/healthz", b"/nope", b"*", b"/\x00", b"", b"/src?a=%zz"]) | TOKEN,
        st.sampled_from([b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1x", b""]),
        FIELDS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=HEADS)
def test_any_request_head_gets_a_json_answer_or_a_close(server, head):
    """Whatever bytes come as a request head, the answer is JSON with a known status,
    or (a head that has not ended yet) the connection waits; the server serves on."""
    _dep, client = server
    with Conn(client) as conn:
        conn.sock.settimeout(0.3)
        conn.sendall(head)
        try:
            status, headers, body = conn.answer()
        except TimeoutError:  # not a whole head yet: the server waits for the rest, as it should
            assert b"\r\n\r\n" not in head.lstrip(b"\r\n"), head
        except AssertionError:  # closed before an answer: only for a head that never began
            assert not head.strip(), head
        else:
            assert status in {200, 400, 404, 405, 431}, (status, body)
            answer = json.loads(body)
            assert status == 200 or "cause" in answer["error"], answer
    assert client.post("/src", json=3).json() == 6


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


def test_storm_of_compressed_and_plain_bodies_and_answers_counts_every_request():
    """3,000 requests from 64 clients: plain, gzip and deflate bodies, clients that
    accept gzip answers and clients that do not, large and small answers, mixed with
    corrupt gzip and gzip bombs. Every good one is answered right (compressed exactly
    when asked and large), every bad one gets its 400/413, none is lost."""
    n = 3000
    big = list(range(400))  # about 2 KB of JSON: compressed when the client accepts gzip
    kinds = ["plain", "gzip", "deflate", "accepts", "accepts-small", "corrupt", "plain-big", "bomb"]
    bomb = gzip.compress(b" " * 100_000)

    def request(i: int) -> tuple[str, bytes, str]:
        kind = kinds[i % len(kinds)]
        value = [i, *big] if kind in ("accepts", "plain-big", "gzip") else [i]
        raw = json.dumps(value).encode()
        return {"plain": ("/src", raw, ""), "plain-big": ("/src", raw, ""),
                "gzip": ("/src", gzip.compress(raw), "Content-Encoding: gzip\r\nAccept-Encoding: gzip\r\n"),
                "deflate": ("/src", zlib.compress(raw), "Content-Encoding: deflate\r\n"),
                "accepts": ("/src", raw, "Accept-Encoding: gzip, deflate\r\n"),
                "accepts-small": ("/src", raw, "Accept-Encoding: gzip\r\n"),
                "corrupt": ("/src", b"\x1f\x8b not gzip", "Content-Encoding: gzip\r\n"),
                "bomb": ("/src", bomb, "Content-Encoding: gzip\r\n")}[kind]

    with served(chain(impl("ident"), replicas=2), max_body=20_000) as (_dep, client):
        requests = [request(i) for i in range(n)]
        answers = asyncio.run(post_many(client.base_url.host, client.base_url.port, requests, 64, with_headers=True))
        assert len(answers) == n and all(a is not None for a in answers)
        for i, (status, headers, raw) in enumerate(answers):
            kind = kinds[i % len(kinds)]
            compressed = headers.get("content-encoding") == "gzip"
            assert compressed == (kind in ("accepts", "gzip")), (i, kind, headers)
            answer = json.loads(gzip.decompress(raw) if compressed else raw)
            if kind == "corrupt":
                assert status == 400 and "not valid gzip data" in answer["error"]["message"], (i, answer)
            elif kind == "bomb":
                assert status == 413 and answer["error"]["cause"] == "too_large", (i, answer)
            else:
                assert status == 200 and answer[0] == i and len(answer) in (1, 1 + len(big)), (i, kind, answer)
        metrics = client.get("/metrics").text
        per_kind = n // len(kinds)
        for status, count in ((200, 6 * per_kind), (400, per_kind), (413, per_kind)):
            assert f'method="POST",route="/src",status="{status}"}} {float(count)}' in metrics, metrics
