"""Traces through the HTTP front on the embedded engine: every request one connected
trace, named by its response's traceparent, in the store and in the SDK's exporter."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import hogar_nb
from tests.runtime.conftest import wait_for

from .traced import FOUR, by_trace, check_four, expected, normalise

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _serve(sample: float = 1.0):
    dep = hogar_nb.run(hogar_nb.parse_udgl(FOUR))
    exporter = InMemorySpanExporter()
    dep.enable_tracing(sample=sample, exporters=[exporter])
    return dep, exporter, dep.serve_http()


def test_a_thousand_requests_make_a_thousand_connected_traces(no_leaks) -> None:
    dep, exporter, url = _serve()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            def send(x: int) -> tuple[int, httpx.Response]:
                return x, client.post("/score", content=json.dumps(x))

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(send, range(1000)))
            for x, resp in answers:
                assert resp.status_code == 200 and resp.json() == expected(x)[0]
            wait_for(lambda: dep.tracing.store.added == 1000, 30, "every trace to be built")
            assert dep.tracing.flush(10)
            exported = by_trace(normalise(exporter.get_finished_spans()))
            assert len(exported) == 1000
            for x, resp in answers:
                trace_id = resp.headers["traceparent"].split("-")[1]
                root = check_four(exported[trace_id], x, resp.headers["traceparent"], resp.headers["x-request-id"])
                assert root["name"] == "POST /score" and root["attrs"]["http.route"] == "/score"
            # the store holds the same spans, served over HTTP
            x, resp = answers[-1]
            trace_id = resp.headers["traceparent"].split("-")[1]
            doc = client.get(f"/hogar/v1/traces/{trace_id}").json()
            stored = normalise(doc["spans"])
            check_four(stored, x, resp.headers["traceparent"], resp.headers["x-request-id"])
            assert {s["span_id"] for s in stored} == {s["span_id"] for s in exported[trace_id]}
            listed = client.get("/hogar/v1/traces", params={"limit": 1000}).json()
            assert listed["tracing"] is True and len(listed["traces"]) == 1000
            assert {t["trace_id"] for t in listed["traces"]} == set(exported)
            assert listed["stats"]["events_dropped"] == 0 and listed["stats"]["open"] == 0
    finally:
        dep.stop()


def test_an_incoming_traceparent_is_continued(no_leaks) -> None:
    dep, exporter, url = _serve(sample=0.0)  # a caller's sampled trace is recorded whatever the rate
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            resp = client.post("/score", json=4, headers={"traceparent": CALLER, "tracestate": "congo=t61rcWkgMzE"})
            assert resp.status_code == 200 and resp.json() == 9
            parent = resp.headers["traceparent"]
            assert parent.startswith("00-0af7651916cd43dd8448eb211c80319c-") and parent.endswith("-01")
            assert parent.split("-")[2] != "b7ad6b7169203331"
            assert resp.headers["tracestate"] == "congo=t61rcWkgMzE"
            doc = dep.trace("0af7651916cd43dd8448eb211c80319c", wait=10)
            check_four(normalise(doc["spans"]), 4, parent, resp.headers["x-request-id"], caller=CALLER)
            unsampled = client.post("/score", json=4)  # a new trace at rate 0: answered, not recorded
            assert unsampled.headers["traceparent"].endswith("-00")
            assert dep.trace(unsampled.headers["traceparent"].split("-")[1], wait=0.3) is None
            assert dep.tracing.flush(10)
            assert len(by_trace(normalise(exporter.get_finished_spans()))) == 1
    finally:
        dep.stop()


def test_every_route_answers_with_a_traceparent_and_errors_carry_the_trace_id(no_leaks) -> None:
    dep, _exporter, url = _serve()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for method, path, body in (("GET", "/", None), ("GET", "/hogar/v1/status", None),
                                       ("GET", "/v2/health/ready", None), ("GET", "/metrics", None),
                                       ("POST", "/score", b"{not json"), ("GET", "/nowhere", None),
                                       ("POST", "/v2/models/four/infer", b'{"inputs": 3}'),
                                       ("GET", "/hogar/v1/traces?limit=0", None),
                                       ("GET", "/hogar/v1/traces/xyz", None),
                                       ("GET", f"/hogar/v1/traces/{'0' * 31}1", None)):
                resp = client.request(method, path, content=body, headers={"traceparent": CALLER})
                parent = resp.headers["traceparent"]
                assert parent.split("-")[1] == "0af7651916cd43dd8448eb211c80319c", path
                if resp.status_code >= 400 and not path.startswith("/v2"):
                    assert resp.json()["error"]["trace_id"] == "0af7651916cd43dd8448eb211c80319c", path
                    assert resp.json()["error"]["request_id"] == resp.headers["x-request-id"]
            assert client.get("/hogar/v1/traces?status=sometimes").status_code == 400
            assert client.get(f"/hogar/v1/traces/{'0' * 31}1").status_code == 404
    finally:
        dep.stop()


def test_v2_infer_rows_are_children_of_the_http_requests_span(no_leaks) -> None:
    dep, _exporter, url = _serve()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            body = {"id": "batch-1", "inputs": [{"name": "api", "shape": [3, 1], "datatype": "INT64",
                                                 "data": [1, 2, 3]}]}
            resp = client.post("/v2/models/four/infer", json=body)
            assert resp.status_code == 200, resp.text
            _v, trace_id, root_id, _f = resp.headers["traceparent"].split("-")
            doc = dep.trace(trace_id, wait=10)
            wait_for(lambda: len(dep.trace(trace_id)["requests"]) == 4, 10, "the rows' traces")
            doc = dep.trace(trace_id)
            spans = normalise(doc["spans"])
            roots = [s for s in spans if s["kind"] == "request"]
            http = [s for s in roots if s["span_id"] == root_id]
            assert len(http) == 1 and http[0]["attrs"]["hogar.rows"] == 3
            rows = [s for s in roots if s["parent_id"] == root_id]
            assert sorted(s["attrs"]["hogar.request_id"] for s in rows) == ["batch-1:0", "batch-1:1", "batch-1:2"]
            ids = {s["span_id"] for s in spans}
            assert all(s["parent_id"] in ids for s in spans if s is not http[0])
    finally:
        dep.stop()


def test_python_calls_expose_their_trace(no_leaks) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(FOUR)) as dep:
        fut = dep.submit(3)
        assert fut.result() == 5 and fut.context.trace_id is None  # tracing off: no ids
        assert dep.traces() == [] and dep.trace("0" * 32) is None
        dep.enable_tracing(export=False)
        fut = dep.submit(3)
        assert fut.result() == 5
        doc = dep.trace(fut.context.trace_id, wait=10)
        assert doc["requests"][0]["request_id"] == fut.context.request_id
        assert {s["name"] for s in doc["spans"] if s["kind"] == "node"} == {"f", "w", "odd"}
        assert [t["trace_id"] for t in dep.traces()] == [fut.context.trace_id]


def test_latency_buckets_carry_trace_ids_as_openmetrics_exemplars(no_leaks) -> None:
    from prometheus_client.openmetrics.parser import text_string_to_metric_families

    dep, _exporter, url = _serve()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            for x in range(200):
                assert client.post("/score", json=x).status_code == 200
            wait_for(lambda: dep.tracing.store.added == 200, 30, "every trace")
            resp = client.get("/metrics", headers={"accept": "application/openmetrics-text; version=1.0.0"})
            assert resp.headers["content-type"].startswith("application/openmetrics-text")
            families = {f.name: f for f in text_string_to_metric_families(resp.text)}
            buckets = [s for s in families["hogar_latency_seconds"].samples
                       if s.name.endswith("_bucket") and s.labels["node"] == "__graph__"]
            exemplars = [(s, s.exemplar) for s in buckets if s.exemplar is not None]
            assert exemplars
            bounds = [float(s.labels["le"]) for s in buckets]
            for sample, exemplar in exemplars:
                trace = dep.trace(exemplar.labels["trace_id"])
                assert trace is not None and exemplar.value <= float(sample.labels["le"])
                assert trace["requests"][0]["duration_ms"] == pytest.approx(exemplar.value * 1000, abs=0.002)
                below = [b for b in bounds if b < float(sample.labels["le"])]
                assert not below or exemplar.value > max(below)
            plain = client.get("/metrics")  # the Prometheus text format has no exemplars
            assert plain.headers["content-type"].startswith("text/plain") and "trace_id" not in plain.text
    finally:
        dep.stop()


def test_a_storm_of_good_and_bad_requests_is_counted_and_traced(no_leaks) -> None:
    """2,000 requests, one in four not JSON and one in four making the switch's impl
    raise: every one answered, every answer names its trace, every request that
    reached the graph is in the store with its outcome."""
    dep, _exporter, url = _serve()
    try:
        with httpx.Client(base_url=url, timeout=30) as client:
            def send(i: int) -> tuple[int, httpx.Response]:
                if i % 4 == 1:
                    return i, client.post("/score", content=b"{not json")
                if i % 4 == 2:
                    return i, client.post("/score", json="not a number")  # f doubles it; the switch raises
                return i, client.post("/score", json=i)

            with ThreadPoolExecutor(8) as pool:
                answers = list(pool.map(send, range(2000)))
        statuses = {i: r.status_code for i, r in answers}
        assert sum(s == 200 for s in statuses.values()) == 1000
        assert sum(s == 400 for s in statuses.values()) == 500 and sum(s == 500 for s in statuses.values()) == 500
        for i, resp in answers:
            trace_id = resp.headers["traceparent"].split("-")[1]
            if resp.status_code != 200:
                assert resp.json()["error"]["trace_id"] == trace_id
        reached = [(i, r) for i, r in answers if r.status_code != 400]
        wait_for(lambda: dep.tracing.store.added == len(reached), 30, "a trace per request that reached the graph")
        failed = {t.trace_id for t in dep.tracing.store.traces("error", limit=200)}
        assert len(failed) == 200  # the store keeps the last 200 failed ones
        for i, resp in reached:
            doc = dep.trace(resp.headers["traceparent"].split("-")[1])
            if doc is None:  # ordinary and rotated out of the ring of 1,000
                continue
            summary = doc["requests"][0]
            assert summary["status"] == ("ok" if resp.status_code == 200 else "error")
            if resp.status_code == 500:
                assert summary["cause"] == "error"
                attempt = next(s for s in doc["spans"] if s["kind"] == "attempt" and s["status"] == "error")
                assert attempt["attributes"]["hogar.node"] == "w" and "ValueError" in attempt["attributes"]["hogar.error"]
        assert dep.tracing.stats()["events_dropped"] == 0
    finally:
        dep.stop()
