"""/metrics and /hogar/v1/{graph,status,events} (JSON and the live SSE stream)."""

from __future__ import annotations

import json
import threading

import httpx

from tests.serving.conftest import chain, impl, served, wait_for


def test_graph_is_the_earg_document(echo):
    dep, client = echo
    assert client.get("/hogar/v1/graph").json() == json.loads(json.dumps(dep.earg))


def test_status_has_graph_and_node_metrics(echo):
    dep, client = echo
    for i in range(7):
        client.post("/src", json=i)
    status = client.get("/hogar/v1/status").json()
    assert status["name"] == dep.name and status["running"] is True and status["time"] > 0
    assert status["graph"]["requests"] == 7 and status["graph"]["ok"] == 7
    assert set(status["nodes"]) == {"src", "n0", "n1", "out"}
    n0 = status["nodes"]["n0"]
    assert n0["requests"] == 7 and n0["replicas_alive"] == 1 and n0["errors_by_cause"] == {}
    assert {"p50_ms", "p99_ms", "queue_depth", "in_flight", "rps", "histogram"} <= set(n0)


def test_metrics_has_the_engine_families_and_http_requests_by_route_and_status(echo):
    _dep, client = echo
    for _ in range(3):
        client.post("/src", json=1)
    client.post("/src", content=b"{")
    client.get("/nowhere")
    text = client.get("/metrics").text
    assert 'hogar_requests_total{graph="g",node="n0"} 3.0' in text
    assert 'hogar_http_requests_total{graph="g",method="POST",route="/src",status="200"} 3.0' in text
    assert 'hogar_http_requests_total{graph="g",method="POST",route="/src",status="400"} 1.0' in text
    assert 'route="(unmatched)",status="404"} 1.0' in text


def _read_sse(client: httpx.Client, want, limit: float = 15.0) -> list[tuple[str, dict]]:
    """Read the event stream until ``want(messages)`` holds; returns the messages."""
    messages: list[tuple[str, dict]] = []
    with client.stream("GET", "/hogar/v1/events", headers={"accept": "text/event-stream"},
                       timeout=limit) as resp:
        assert resp.headers["content-type"].startswith("text/event-stream")
        kind = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: "):
                messages.append((kind, json.loads(line[6:])))
                if want(messages):
                    return messages
    raise AssertionError(f"the stream ended before the condition held: {messages}")


def test_events_json_and_live_stream_of_recovery_events_and_status():
    earg = chain(impl("ident"), recovery={"policy": "restart", "max_restarts": 5, "backoff_ms": 10.0})
    with served(earg, status_interval=0.2) as (dep, client):
        assert client.get("/hogar/v1/events").json() == []
        statuses = _read_sse(client, lambda m: sum(k == "status" for k, _ in m) >= 2)
        assert statuses[0][1]["name"] == dep.name and "nodes" in statuses[0][1]

        def crash_later():
            wait_for(lambda: True, 0.1)
            dep.inject_fault("n0", "crash", count=1)
            client.post("/src", json=1)

        threading.Thread(target=crash_later).start()
        messages = _read_sse(client, lambda m: any(k == "recovery" for k, _ in m))
        event = next(d for k, d in messages if k == "recovery")
        assert event["node"] == "n0" and event["cause"] == "crash"
        listed = client.get("/hogar/v1/events").json()
        assert listed[0]["node"] == "n0" and listed[0]["action"] in ("restart", "failover")
