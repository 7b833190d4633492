"""The same graph on the embedded engine and on Ray Serve: same answers, same errors
(class, cause and message), same events, options and HTTP error bodies."""

from __future__ import annotations

import dataclasses
import inspect
import json
import time
import urllib.error
import urllib.request
from typing import Any, Callable

import pytest

import hogar_nb
from hogar_nb.runtime.errors import (
    NodeError,
    OverloadError,
    ReconfigureError,
    RequestError,
    RequestTimeoutError,
    RouteError,
    UnavailableError,
    UnknownNodeError,
)
from hogar_nb.runtime.metrics import SERIES_FIELDS, RecoveryEvent
from hogar_nb.runtime.protocol import DeploymentProtocol
from hogar_nb.runtime.walk import RequestContext

from .graphs import CAPACITY, TIGHT, conformance_graph, tight_options


@pytest.fixture(scope="module", params=["embedded", "ray"])
def dep(request, tmp_path_factory):
    graph, base = conformance_graph(tmp_path_factory.mktemp("conformance"))
    if request.param == "ray":
        request.getfixturevalue("local_ray")
        deployment = hogar_nb.run(graph, base_dir=base, backend="ray")
    else:
        deployment = hogar_nb.run(graph, base_dir=base)
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def tight(dep, request):
    """A one-node graph with room for CAPACITY requests, on the same backend as ``dep``;
    on Ray it also answers on Serve's own HTTP proxy (``tight.ray_url``)."""
    port = request.getfixturevalue("local_ray").http_port if dep.backend == "ray" else None
    deployment = hogar_nb.run(hogar_nb.parse_udgl(TIGHT), **tight_options(dep.backend, port))
    deployment.ray_url = f"http://127.0.0.1:{port}" if port else None
    yield deployment
    deployment.stop()


def test_chain(dep) -> None:
    assert [dep.call(x, source="chain_in") for x in (0, 3, -5)] == [1, 7, -9]


def test_fan_out_with_a_model_and_a_weighted_ensemble(dep) -> None:
    # lin: 1*1 + 2*2 + 0.5 = 5.5 (weight 0.25); tot: 3.0 (weight 0.75)
    assert dep.call([1, 2], source="fan_in") == pytest.approx(0.25 * 5.5 + 0.75 * 3.0)


def test_switch(dep) -> None:
    assert dep.call(5, source="switch_in") == 5
    assert dep.call(150, source="switch_in") == -150
    with pytest.raises(RouteError) as err:
        dep.call(-1, source="switch_in")
    assert err.value.cause == "route" and err.value.node == "gate"
    assert "matches none of its edges" in str(err.value)


def test_split_sends_each_request_one_way_by_weight(dep) -> None:
    results = [f.result(timeout=60) for f in [dep.submit(i, source="split_in") for i in range(200)]]
    assert all(r == i or r == {"tagged": i} for i, r in enumerate(results))
    tagged = sum(isinstance(r, dict) for r in results)
    assert 50 < tagged < 150


def test_batching_answers_each_item_and_forms_batches(dep) -> None:
    futures = [dep.submit(i, source="batch_in") for i in range(64)]
    outs = [f.result(timeout=60) for f in futures]
    assert [o["y"] for o in outs] == [2 * i for i in range(64)]
    assert max(o["batch"] for o in outs) > 1
    assert all(o["batch"] <= 8 for o in outs)


def test_failing_impl_is_an_error_after_its_retries(dep) -> None:
    assert dep.call(4, source="fail_in") == 4
    with pytest.raises(NodeError) as err:
        dep.call(-4, source="fail_in")
    assert err.value.cause == "error" and err.value.node == "boom"
    assert "after 2 attempts (retries = 1)" in str(err.value)
    assert isinstance(err.value.__cause__, ValueError)


def test_one_node_alone(dep) -> None:
    before = dep.metrics()
    assert [dep.call(5, node="a"), dep.call(5, node="b"), dep.call(150, node="gate")] == [10, 6, "big"]
    assert dep.call([1, 2], node="lin") == pytest.approx(5.5)
    assert [f.result(timeout=60) for f in [dep.submit(i, node="bd") for i in range(8)]][3]["y"] == 6
    with pytest.raises(NodeError) as err:
        dep.call(-1, node="boom")
    assert err.value.node == "boom" and "after 2 attempts (retries = 1)" in str(err.value)
    with pytest.raises(RequestTimeoutError) as late:
        dep.call(0.35, node="nap")  # its timeout is 300 ms; the replica is free again soon after
    assert late.value.node == "nap"
    assert dep.call(0.01, node="nap") == 0.01
    unknown = _error(dep.call, 1, node="out")
    assert type(unknown) is UnknownNodeError
    assert str(unknown) == f"'out' is not a node with replicas; they are {dep.replica_nodes()}"
    assert type(_error(dep.call, 1, source="chain_in", node="a")) is ValueError
    snap = dep.metrics()
    assert snap.node("a").requests - before.node("a").requests == 1
    assert snap.node("chain_in").requests == before.node("chain_in").requests
    assert snap.graph.requests - before.graph.requests == 15


def test_one_node_alone_over_the_open_inference_protocol(dep) -> None:
    url = dep.serve_http()
    body = {"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [1, 2, 3, 4]}]}
    status, _headers, out = _post(f"{url}/v2/models/conformance.lin/versions/1/infer", json.dumps(body).encode())
    assert status == 200 and out["model_name"] == "conformance.lin"
    assert out["outputs"][0]["data"] == pytest.approx([5.5, 11.5])
    status, _headers, out = _post(f"{url}/v2/models/conformance.boom/infer", json.dumps(
        {"inputs": [{"name": "x", "shape": [], "datatype": "INT64", "data": [-1]}]}).encode())
    assert status == 500 and "boom" in out["error"]
    rows = {"inputs": [{"name": "x", "shape": [3, 1], "datatype": "INT64", "data": [1, 2, 3]}]}
    status, _headers, out = _post(f"{url}/v2/models/conformance.a/infer", json.dumps(rows).encode())
    assert (status, out["outputs"][0]["data"]) == (200, [1, 1, 2, 2, 3, 3]), "a python impl runs once per row"
    status, _headers, out = _post(f"{url}/v2/models/conformance.bd/infer", json.dumps(rows).encode())
    assert [json.loads(v) for v in out["outputs"][0]["data"]] == [
        {"y": [v, v], "batch": 3} for v in (1, 2, 3)], "a batched impl gets the tensor's rows in one call"
    from hogar_nb.serving.grpc_server import GRPCServer
    from tests.serving.test_oip_grpc import Client, infer_request

    server = GRPCServer(dep).start()
    client = Client(server.address)
    try:
        answer = client("ModelInfer", infer_request("conformance.lin", {
            "name": "x", "datatype": "FP64", "shape": [2, 2], "contents": {"fp64_contents": [1, 2, 3, 4]}}))
        assert list(answer.outputs[0].contents.fp64_contents) == pytest.approx([5.5, 11.5])
        assert client("ModelReady", name="conformance.gate", version="1").ready
    finally:
        client.close()
        server.stop(1.0)
    with urllib.request.urlopen(f"{url}/v2/models/conformance.gate/ready", timeout=60) as resp:
        assert json.loads(resp.read()) == {"name": "conformance.gate", "ready": True}


SEEN: dict[str, Any] = {}  # the embedded engine's answer, which the Ray backend must match


def test_a_model_rejecting_its_input_fails_that_request_alike(dep) -> None:
    with pytest.raises(RequestError) as err:
        dep.call([1, 2, 3], source="fan_in")
    assert err.value.node == "lin" and err.value.cause in ("invalid_input", "error")
    assert SEEN.setdefault("model_input", err.value.cause) == err.value.cause


def test_node_timeout_and_caller_deadline(dep) -> None:
    assert dep.call(0.01, source="slow_in") == 0.01
    with pytest.raises(RequestTimeoutError) as err:
        dep.call(1.0, source="slow_in")
    assert err.value.cause == "timeout" and err.value.node == "nap"
    with pytest.raises(RequestTimeoutError):
        dep.call(0.25, source="slow_in", timeout=0.1)


def test_metrics_count_what_happened(dep) -> None:
    before = dep.metrics()
    for x in range(10):
        dep.call(x, source="chain_in")
    with pytest.raises(NodeError):
        dep.call(-1, source="fail_in")
    snap = dep.metrics()
    assert snap.node("a").ok - before.node("a").ok == 10
    assert snap.node("b").ok - before.node("b").ok == 10
    boom = snap.node("boom")
    assert boom.errors_by_cause.get("error", 0) - before.node("boom").errors_by_cause.get("error", 0) == 1
    assert snap.graph.requests - before.graph.requests == 11
    assert snap.node("a").replicas == 2 and snap.node("a").replicas_alive == 2
    assert snap.node("a").p50_ms is not None


def test_acall_and_load(dep) -> None:
    import asyncio

    async def many():
        return await asyncio.gather(*(dep.acall(x, source="chain_in") for x in range(20)),
                                    *(dep.astart(x, source="chain_in") for x in range(20)))

    assert asyncio.run(many()) == [2 * x + 1 for x in range(20)] * 2
    report = dep.load(100, 1.0, 3, source="chain_in")
    assert report.lost == 0 and report.errors == {} and report.ok == report.sent > 50
    assert set(report.results_sample) == {7}


# -- the protocol ---------------------------------------------------------------------
def _params(fn) -> list[tuple]:
    """Names, kinds and defaults of ``fn``'s parameters, and whether it is a coroutine."""
    sig = inspect.signature(fn)
    return [inspect.iscoroutinefunction(fn)] + [(p.name, p.kind, p.default) for p in sig.parameters.values()]


def test_both_backends_satisfy_the_protocol_by_signature(dep) -> None:
    assert isinstance(dep, DeploymentProtocol)
    members = [n for n in vars(DeploymentProtocol) if not n.startswith("_") or n in ("__enter__", "__exit__")]
    for name in members:
        declared = inspect.getattr_static(DeploymentProtocol, name)
        if isinstance(declared, property) or not callable(declared):
            assert hasattr(dep, name), name
            continue
        assert _params(getattr(type(dep), name)) == _params(declared), name
    assert dep.backend in ("embedded", "ray")


# -- errors: class and message ------------------------------------------------------------
def _error(fn, *args, **kwargs) -> BaseException:
    with pytest.raises(Exception) as err:
        fn(*args, **kwargs)
    return err.value


def test_operator_errors_have_one_class_and_message(dep) -> None:
    unknown = _error(dep.scale, "nope", 2)
    assert type(unknown) is UnknownNodeError and isinstance(unknown, KeyError)
    assert str(unknown) == f"'nope' is not a node with replicas; they are {dep.replica_nodes()}"
    assert type(_error(dep.reconfigure, "out", timeout="1s")) is UnknownNodeError
    attr = _error(dep.reconfigure, "b", colour="red")
    assert type(attr) is ReconfigureError and (attr.node, attr.attribute) == ("b", "colour")
    assert str(attr) == ("node 'b': `colour` cannot be changed while running; "
                         "these can: replicas, batch, batch_wait, timeout, retries")
    for attrs, name in (({"replicas": 0}, "replicas"), ({"timeout": "soon"}, "timeout"),
                        ({"batch": -1}, "batch")):
        bad = _error(dep.reconfigure, "b", **attrs)
        assert type(bad) is ReconfigureError and (bad.node, bad.attribute) == ("b", name)
        assert SEEN.setdefault(f"bad {name}", str(bad)) == str(bad)
    assert dep.metrics().node("b").replicas == 1  # nothing changed


def test_unknown_run_options_are_a_type_error(dep, tmp_path) -> None:
    graph, base = conformance_graph(tmp_path)
    with pytest.raises(TypeError) as err:
        hogar_nb.run(graph, base_dir=base, backend=dep.backend, colour="red")
    assert str(err.value) == f"run() got unexpected options ['colour'] for the {dep.backend} backend"


def test_overload_and_deadline(tight) -> None:
    import asyncio

    held = [tight.submit(1.5) for _ in range(CAPACITY)]  # the graph is full for ~1.5 s
    time.sleep(0.3)
    with pytest.raises(OverloadError) as err:
        asyncio.run(tight.acall(0.0))
    assert err.value.cause == "overload"
    late = tight.submit(0.0, timeout=0.2)
    with pytest.raises(OverloadError):
        late.result(30)
    assert [f.result(60) for f in held] == [1.5] * CAPACITY
    with pytest.raises(RequestTimeoutError) as err:
        tight.call(2.0, timeout=0.3)
    assert err.value.cause == "timeout"


# -- events -----------------------------------------------------------------------------
def _operator_events(dep, since: float) -> list[tuple[str, str, str, str]]:
    return [(e.node, e.cause, e.action, e.detail) for e in dep.events
            if e.cause == "operator" and e.time >= since]


def test_scale_and_reconfigure_events(dep) -> None:
    since = time.time()
    dep.scale("b", 2)
    dep.reconfigure("b", timeout="2s", retries=1)
    dep.reconfigure("b", timeout=10_000, retries=0, replicas=1)
    assert _operator_events(dep, since) == [
        ("b", "operator", "scale", "replicas 1 -> 2"),
        ("b", "operator", "reconfigure", "timeout 10s -> 2s"),
        ("b", "operator", "reconfigure", "retries 0 -> 1"),
        ("b", "operator", "reconfigure", "timeout 2s -> 10s"),
        ("b", "operator", "reconfigure", "retries 1 -> 0"),
        ("b", "operator", "scale", "replicas 2 -> 1")]
    entry = next(n for n in dep.earg["nodes"] if n["name"] == "b")
    assert (entry["replicas"], entry["timeout_ms"], entry["retries"]) == (1, 10_000.0, 0)
    assert dep.call(2, source="chain_in") == 5


def test_a_crashed_replica_is_a_restart_event(dep) -> None:
    since = time.time()
    dep.inject_fault("a", "crash", count=1)
    # the call the crash held is retried (Ray) or fails with cause "crash" (retries = 0)
    outcomes = list(dep.map(range(6), concurrency=1, source="chain_in", timeout=120, progress=False))
    assert all(o == 2 * x + 1 or getattr(o, "cause", None) == "crash" for x, o in enumerate(outcomes))
    assert sum(o == 2 * x + 1 for x, o in enumerate(outcomes)) >= 5
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        restarts = [e for e in dep.events if e.node == "a" and e.time >= since]
        if restarts and dep.metrics().node("a").replicas_alive == 2:
            break
        time.sleep(0.2)
    dep.clear_faults()
    assert [(e.cause, e.action) for e in restarts][:1] == [("crash", "restart")]


def test_a_node_whose_replicas_keep_crashing_is_suspended_then_resumes(dep) -> None:
    """The walker's circuit breaker, on both backends: with ``restart(max = 1)`` a second
    crash with nothing served suspends ``fragile``; a request then fails at once as
    unavailable, naming the suspension; once the fault is gone the half-open try serves
    and resumes the node."""
    since = time.time()
    dep.inject_fault("fragile", "crash")
    try:
        outcomes: list = []
        for x in range(8):  # the crashes' own requests fail (or are retried, on Ray) until it suspends
            try:
                outcomes.append(dep.call(x, source="fragile_in", timeout=120))
            except RequestError as err:
                outcomes.append(err)
                if isinstance(err, UnavailableError):
                    break
        suspended = outcomes[-1]
        assert isinstance(suspended, UnavailableError), outcomes
        assert all(getattr(o, "cause", None) == "crash" for o in outcomes[:-1]), outcomes
        assert (suspended.cause, suspended.node) == ("unavailable", "fragile")
        message = str(suspended).split(" in ")[0]  # the time left differs
        assert message == ("node 'fragile' is suspended: its replicas kept failing with no request "
                           "served (1 restarts within 60 s); it is tried again")
        assert dep.metrics().node("fragile").state == "suspended"
    finally:
        dep.clear_faults()
    deadline = time.monotonic() + 120
    while True:  # the half-open try comes 3 s after the suspension, then one call resumes it
        try:
            if dep.call(21, source="fragile_in", timeout=60) == 42:
                break
        except UnavailableError:
            assert time.monotonic() < deadline, "fragile never resumed"
            time.sleep(0.2)
    breaker = [(e.cause, e.action) for e in dep.events
               if e.node == "fragile" and e.time >= since and e.action in ("suspend", "half_open", "resume")]
    assert breaker == [("crash", "suspend"), ("suspend", "half_open"), ("suspend", "resume")]
    assert dep.metrics().node("fragile").state == "serving"
    assert SEEN.setdefault("breaker", (message, breaker)) == (message, breaker)


# -- map, submit, observers, metrics ---------------------------------------------------------
def test_map_with_every_option(dep, capsys) -> None:
    pulled = []

    def lazily(n):
        for i in range(n):
            pulled.append(i)
            yield i

    results = dep.map(lazily(40), concurrency=4, ordered=True, source="chain_in", timeout=60,
                      progress=True)
    assert next(results) == 1 and len(pulled) <= 5  # read lazily, 4 in flight
    assert list(results) == [2 * i + 1 for i in range(1, 40)]
    assert "40 done" in capsys.readouterr().err  # the progress bar, on stderr
    unordered = list(dep.map(range(30), concurrency=8, ordered=False, source="chain_in", progress=False))
    assert sorted(unordered) == [2 * i + 1 for i in range(30)]
    mixed = list(dep.map([1, -1, 2], source="fail_in", progress=False))
    assert mixed[0] == 1 and mixed[2] == 2 and isinstance(mixed[1], NodeError)
    # one at a time: `nap` has one replica, and the fast nap must not wait behind the slow one
    late = list(dep.map([0.01, 1.0], source="slow_in", concurrency=1, timeout=0.5, progress=False))
    assert late[0] == 0.01 and isinstance(late[1], RequestTimeoutError)
    assert dep._default_concurrency("chain_in") == 1024
    with pytest.raises(ValueError):
        list(dep.map([1], concurrency=0, source="chain_in"))


def test_a_burst_of_submits_waits_for_room(dep) -> None:
    # 2,000 at once wait longer than the chain's 10 s node timeout on a 2-core machine; what is
    # checked here is that each submit waits for room and gets its answer (no OverloadError)
    dep.reconfigure("a", timeout="300s")
    dep.reconfigure("b", timeout="300s")
    try:
        futures = [dep.submit(i, source="chain_in") for i in range(2000)]
        results = [f.exception(600) or f.result() for f in futures]
    finally:
        dep.reconfigure("a", timeout="10s")
        dep.reconfigure("b", timeout="10s")
    assert results == [2 * i + 1 for i in range(2000)]


def test_result_observers(dep) -> None:
    seen: list = []
    remove = dep.add_result_observer(seen.append)
    dep.add_result_observer(lambda value: 1 / 0)  # removed at its first failure
    assert [dep.call(x, source="chain_in") for x in (1, 2)] == [3, 5]
    with pytest.raises(NodeError):
        dep.call(-1, source="fail_in")
    remove()
    dep.call(3, source="chain_in")
    assert seen == [3, 5] and len(dep._observers) == 0


def test_metrics_snapshot_keys(dep) -> None:
    snap = dep.metrics()
    shape = {"snapshot": sorted(f.name for f in dataclasses.fields(snap)),
             "graph": sorted(f.name for f in dataclasses.fields(snap.graph)),
             "node": sorted(f.name for f in dataclasses.fields(snap.node("a"))),
             "nodes": sorted(snap.nodes), "event": sorted(f.name for f in dataclasses.fields(RecoveryEvent))}
    for metric in SERIES_FIELDS:
        assert snap.series(metric).t and snap.series(metric, "a").t, metric
    assert SEEN.setdefault("metrics", json.dumps(shape)) == json.dumps(shape)


# -- HTTP error bodies ----------------------------------------------------------------
def _post(url: str, body: bytes, rid: str | None = None) -> tuple[int, dict, dict]:
    headers = {"content-type": "application/json", **({"x-request-id": rid} if rid else {})}
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


def test_http_error_bodies_of_both_fronts(tight) -> None:
    fronts = {"hogar serve": tight.serve_http()}
    if tight.ray_url:
        fronts["ray ingress"] = tight.ray_url
    for front, url in fronts.items():
        status, headers, body = _post(url + "/tight", b"0.0", "abc123")
        assert (status, body, headers.get("x-request-id")) == (200, 0.0, "abc123"), front
        status, headers, body = _post(url + "/tight", b"{not json", "rid-1")
        assert status == 400 and body["error"]["cause"] == "bad_request", front
        assert body["error"]["request_id"] == headers["x-request-id"] == "rid-1", front
        status, headers, body = _post(url + "/tight", b"-1")
        assert status == 500, front
        assert set(body["error"]) == {"cause", "message", "node", "request_id", "trace_id"}, front
        assert headers["traceparent"].split("-")[1] == body["error"]["trace_id"], front
        assert (body["error"]["cause"], body["error"]["node"]) == ("error", "nap"), front
        assert body["error"]["request_id"] == headers["x-request-id"] and len(headers["x-request-id"]) >= 8
        status, headers, body = _post(url + "/nowhere", b"1")
        assert status == 404 and body["error"]["cause"] == "not_found", front
    held = [tight.submit(1.0) for _ in range(CAPACITY)]
    time.sleep(0.3)
    status, headers, body = _post(fronts["hogar serve"] + "/tight", b"0.0")
    assert status == 503 and headers["retry-after"] == "1" and body["error"]["cause"] == "overload"
    assert [f.result(60) for f in held] == [1.0] * CAPACITY


def _events_until(seen: list, done: Callable[[list], bool], timeout: float = 30.0) -> list:
    end = time.monotonic() + timeout
    while not done(seen) and time.monotonic() < end:
        time.sleep(0.05)
    return list(seen)


def test_walker_events_reach_a_subscriber_with_values_and_context(dep) -> None:
    seen: list = []
    sub = dep.subscribe(seen.append)
    try:
        ctx = RequestContext("req-chain-1", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
        fut = dep.submit(3, source="chain_in", context=ctx)
        assert fut.result(timeout=60) == 7 and fut.context is ctx
        with pytest.raises(RouteError):
            dep.call(-1, source="switch_in", context=RequestContext("req-switch"))
        dep.call(150, source="switch_in", context=RequestContext("req-big"))
        assert dep.call([1, 2], source="fan_in", context=RequestContext("req-fan")) == pytest.approx(3.625)
        ids = {"req-chain-1", "req-switch", "req-big", "req-fan"}
        events = _events_until(seen, lambda s: ids <= {e.context.request_id for e in s
                                                       if e.kind in ("completed", "failed")})
    finally:
        sub.close()
    by_id: dict[str, list] = {}
    for e in events:
        by_id.setdefault(e.context.request_id, []).append(e)
    chain = [(e.kind, e.node, e.outcome, e.value) for e in by_id["req-chain-1"] if e.kind != "skipped"]
    assert {e.node for e in by_id["req-chain-1"] if e.kind == "skipped"} >= {"fan_in", "gate", "boom"}
    assert chain == [("started", "chain_in", "", 3), ("enqueued", "a", "", 3), ("attempt", "a", "ok", 6),
                     ("enqueued", "b", "", 6), ("attempt", "b", "ok", 7), ("completed", None, "", 7)]
    assert by_id["req-chain-1"][0].context.traceparent == ctx.traceparent
    assert len({e.request for e in by_id["req-chain-1"]}) == 1
    times = [e.time for e in by_id["req-chain-1"]]
    assert times == sorted(times) and abs(times[0] - time.time()) < 60, "epoch seconds on every backend"
    failed = by_id["req-switch"][-1]
    assert (failed.kind, failed.node, failed.outcome) == ("failed", "gate", "route")
    routed = [(e.node, e.choice) for e in by_id["req-big"] if e.kind == "routed"]
    assert routed == [("gate", "neg")]
    fan = by_id["req-fan"]
    assert {e.node for e in fan if e.kind == "attempt"} == {"lin", "tot"}
    assert fan[-1].kind == "completed" and fan[-1].value == pytest.approx(3.625)
    attempts = [e for e in events if e.kind == "attempt" and e.began is not None]
    assert all(e.began <= e.time for e in attempts)
    assert sub.dropped == 0 and sub.failed == 0
    # closed: nothing more arrives
    count = len(seen)
    dep.call(1, source="chain_in")
    time.sleep(0.3)
    assert len(seen) == count


def test_a_slow_subscriber_loses_events_never_requests(dep) -> None:
    every: list = []
    reference = dep.subscribe(every.append, maxsize=100_000)
    slow = dep.subscribe(lambda e: time.sleep(0.01), maxsize=5)
    try:
        results = [f.result(timeout=60) for f in [dep.submit(i, source="chain_in") for i in range(300)]]
        _events_until(every, lambda s: sum(e.kind == "completed" for e in s) >= 300)
    finally:
        slow.close()
        reference.close()
    assert results == [2 * i + 1 for i in range(300)]
    assert sum(e.kind == "completed" for e in every) == 300 and reference.dropped == 0
    _events_until([], lambda s: slow.delivered + slow.dropped >= len(every), timeout=10)
    assert slow.dropped > 0 and slow.delivered + slow.dropped == len(every)
