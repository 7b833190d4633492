"""Traces on Ray Serve: the request context crosses to the ingress and the replicas'
attempts come back in the same trace, exactly as on the embedded engine."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

import hogar_nb
from tests.observe.traced import FOUR, by_trace, check_four, expected, normalise
from tests.runtime.conftest import wait_for

CALLER = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


@pytest.fixture(scope="module")
def traced(local_ray):
    graph = hogar_nb.parse_udgl(FOUR.replace("graph four", "graph four\ndefaults { cpu = 0.05 }"))
    dep = hogar_nb.run(graph, backend="ray")
    exporter = InMemorySpanExporter()
    dep.enable_tracing(sample=0.0, exporters=[exporter])  # callers' sampled traces only
    url = dep.serve_http()
    yield dep, exporter, url
    dep.stop()


def test_a_thousand_requests_on_ray_make_a_thousand_connected_traces(traced) -> None:
    dep, exporter, url = traced
    exporter.clear()
    with httpx.Client(base_url=url, timeout=60) as client:
        def send(x: int) -> tuple[int, httpx.Response, str]:
            caller = f"00-{x + 1:032x}-{x + 1:016x}-01"
            return x, client.post("/score", content=json.dumps(x), headers={"traceparent": caller}), caller

        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(send, range(1000)))
    assert all(r.status_code == 200 and r.json() == expected(x)[0] for x, r, _c in answers)
    wait_for(lambda: dep.tracing.store.added >= 1000, 60, "every trace from the ingress's events")
    assert dep.tracing.flush(10)
    exported = by_trace(normalise(exporter.get_finished_spans()))
    assert len(exported) == 1000
    for x, resp, caller in answers:
        assert resp.headers["traceparent"].split("-")[1] == caller.split("-")[1]
        check_four(exported[caller.split("-")[1]], x, resp.headers["traceparent"], resp.headers["x-request-id"],
                   caller=caller)
    replicas = {s["attrs"]["hogar.replica"] for spans in exported.values() for s in spans
                if s["kind"] == "attempt" and s["attrs"]["hogar.node"] == "f"}
    assert len(replicas) == 2  # f's two Serve replicas, each named in its attempts


def test_python_calls_on_ray_carry_their_trace(traced) -> None:
    dep, _exporter, _url = traced
    from hogar_nb.runtime.walk import RequestContext

    fut = dep.submit(6, context=RequestContext(traceparent=CALLER))
    assert fut.result(60) == 13 and fut.context.trace_id == "0af7651916cd43dd8448eb211c80319c"
    doc = dep.trace(fut.context.trace_id, wait=30)
    wait_for(lambda: any(r["request_id"] == fut.context.request_id for r in dep.trace(CALLER.split("-")[1])["requests"]),
             30, "the request's trace")
    spans = [s for s in normalise(dep.trace(CALLER.split("-")[1])["spans"])
             if s["attrs"].get("hogar.request_id") == fut.context.request_id]
    assert spans and spans[0]["parent_id"] == "b7ad6b7169203331"
    unsampled = dep.submit(6)  # a new trace at rate 0: ids decided, nothing recorded
    assert unsampled.result(60) == 13 and unsampled.context.trace_id is not None
    assert dep.trace(unsampled.context.trace_id, wait=0.5) is None


def test_failed_attempts_on_ray_are_in_the_trace(local_ray) -> None:
    graph = hogar_nb.parse_udgl('graph boom\ndefaults { cpu = 0.05 }\nsource s\n'
                                'python f { impl = "tests.on_ray.impls:fail_on_negative", retries = 2, '
                                'retry_errors = true }\nsink out\ns -> f -> out\n')
    with hogar_nb.run(graph, backend="ray") as dep:
        tracing = dep.enable_tracing(export=False)
        futures = [dep.submit(x) for x in (-1, 2, -3, 4)]
        outcomes = [f.exception(60) for f in futures]
        assert [e is None for e in outcomes] == [False, True, False, True]
        wait_for(lambda: tracing.store.added == 4, 30, "four traces")
        for fut, exc in zip(futures, outcomes):
            doc = dep.trace(fut.context.trace_id)
            attempts = sorted((s for s in doc["spans"] if s["kind"] == "attempt"),
                              key=lambda s: s["attributes"]["hogar.attempt"])
            if exc is None:
                assert [a["status"] for a in attempts] == ["ok"]
            else:
                assert [a["attributes"]["hogar.cause"] for a in attempts] == ["error"] * 3
                assert doc["requests"][0]["status"] == "error" and doc["requests"][0]["cause"] == "error"
        assert {t["request_id"] for t in dep.traces("error")} == {futures[0].context.request_id,
                                                                  futures[2].context.request_id}
