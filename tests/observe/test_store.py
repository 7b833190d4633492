"""The trace store keeps the recent traces, and the slowest and failed ones longer."""

from __future__ import annotations

import random

import pytest

from hogar_nb.core.trail import ANSWERED, ENQUEUED, PASSED, STARTED
from hogar_nb.observe import Span, Trace, TraceStore
from hogar_nb.observe.context import TraceIds
from hogar_nb.runtime.errors import RequestError
from hogar_nb.runtime.walk import RequestContext


def _trace(n: int, duration: float, cause: str | None = None) -> Trace:
    root = Span(n + 1, 7, 0, "g s", "request", 1000.0 + n, 1000.0 + n + duration, cause is None)
    node = Span(n + 1, 8, 7, "f", "node", 1000.0 + n, 1000.0 + n + duration / 2)
    return Trace([root, node], f"r{n}", "s", None, cause)


def test_recent_slow_and_failed_traces_are_kept_within_their_bounds() -> None:
    store = TraceStore(recent=100, slowest=10, failed=20)
    rng = random.Random(3)
    durations = [rng.random() for _ in range(5000)]
    failed = {i for i in range(5000) if i % 37 == 0}
    for i, d in enumerate(durations):
        store.add(_trace(i, d, "timeout" if i in failed else None))
    recent = store.traces(limit=1000)
    assert [t.request_id for t in recent] == [f"r{i}" for i in range(4999, 4899, -1)]
    slow = store.traces("slow", limit=1000)
    slowest = sorted(range(5000), key=lambda i: -durations[i])[:10]
    assert [t.request_id for t in slow] == [f"r{i}" for i in slowest]
    errors = store.traces("error", limit=1000)
    assert [t.request_id for t in errors] == [f"r{i}" for i in sorted(failed, reverse=True)[:20]]
    assert all(t.summary()["status"] == "error" and t.summary()["cause"] == "timeout" for t in errors)
    assert store.added == 5000 and len(store) <= 130
    assert store.traces("slow", limit=3) == slow[:3]


def test_a_trace_is_found_by_its_id_while_any_list_keeps_it() -> None:
    store = TraceStore(recent=2, slowest=1, failed=1)
    store.add(_trace(0, 9.0))
    store.add(_trace(1, 0.1, "crash"))
    for i in range(2, 10):
        store.add(_trace(i, 0.1))
    assert [t.request_id for t in store.trace(format(1, "032x"))] == ["r0"]  # the slowest
    assert [t.request_id for t in store.trace(format(2, "032x"))] == ["r1"]  # the failed one
    assert store.trace(format(4, "032x")) == []  # ordinary and rotated out
    assert store.trace(format(10, "032X").upper()) != []
    doc = store.trace(format(10, "032x"))[0].to_json()
    assert [s["parent_id"] for s in doc["spans"]] == [None, "0000000000000007"]
    assert doc["duration_ms"] == 100.0 and doc["spans"][1]["duration_ms"] == 50.0


@pytest.mark.parametrize("kwargs", [{"status": "bad"}, {"limit": 0}, {"limit": "5"}])
def test_bad_queries_are_value_errors(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        TraceStore().traces(**kwargs)


def test_writers_on_many_threads_and_readers_at_once_lose_nothing_they_should_keep() -> None:
    """Adding takes no lock (requests add as they end): eight writers add 40,000 traces
    while two readers list, look up and count them; every count, the slowest and the
    failed ones come out as if added one after the other."""
    import sys
    import threading

    store = TraceStore(recent=500, slowest=50, failed=100)
    rng = random.Random(11)
    durations = [rng.random() for _ in range(40_000)]
    failed = {i for i in range(40_000) if i % 101 == 0}
    traces = [_trace(i, d, "error" if i in failed else None) for i, d in enumerate(durations)]
    done = threading.Event()
    seen: list[int] = []
    problems: list[BaseException] = []

    def write(k: int) -> None:
        for t in traces[k::8]:
            store.add(t)

    def read() -> None:
        try:
            while not done.is_set():
                listed = store.traces(limit=500) + store.traces("slow", limit=50) + store.traces("error", limit=100)
                seen.append(len(listed))
                store.trace(listed[0].trace_id) if listed else None
                assert len(store) <= 650
        except BaseException as exc:  # noqa: BLE001  (reported below)
            problems.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    writers = [threading.Thread(target=write, args=(k,)) for k in range(8)]
    switching = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # threads take turns every few bytecodes, as on a busy server
    try:
        for t in readers + writers:
            t.start()
        for t in writers:
            t.join()
        done.set()
        for t in readers:
            t.join()
    finally:
        sys.setswitchinterval(switching)
    assert not problems and seen, problems
    assert store.added == 40_000
    assert store.stats() == {"added": 40_000, "recent": 500, "slow": 50, "failed": 100}
    slowest = sorted(range(40_000), key=lambda i: -durations[i])[:50]
    assert [t.request_id for t in store.traces("slow", limit=50)] == [f"r{i}" for i in slowest]
    assert {t.request_id for t in store.traces("error", limit=100)} <= {f"r{i}" for i in failed}
    assert all(t.cause == "error" for t in store.traces("error", limit=100))


def _walked(n: int, duration: float, sampled: bool = True) -> tuple[RequestContext, list, float]:
    """A request through a -> b as the walker hands it over: its context, trail, end."""
    context = RequestContext(f"w{n}", attrs={"trace": TraceIds(n + 1, 7, 0, sampled), "route": "/go"},
                             observed=sampled)
    half, wait = duration / 2, duration / 8  # each node: a wait in its queue, then its attempt
    trail = [STARTED, 5.0, "src", 1000.0 + n, ENQUEUED, 5.0, "a", PASSED, 5.0 + half, "a", 0, "a-0", 5.0 + wait, 1,
             "b", ANSWERED, 5.0 + duration, "b", 0, "b-0", 5.0 + half + wait, 1]
    return context, trail, 1005.0 + n + duration


def test_requests_the_walker_hands_over_are_read_as_their_records() -> None:
    store = TraceStore(recent=5, slowest=2, failed=2)
    store.add_walked(*_walked(0, 9.0), None)  # the slowest
    store.add_walked(*_walked(1, 9.5, sampled=False), None)  # a context that names no sampled trace: not kept
    failing = _walked(2, 0.5)
    store.add_walked(*failing, RequestError("b failed", "b"))
    assert [t.request_id for t in store.traces(limit=10)] == ["w2", "w0"]
    for i in range(3, 10):
        store.add_walked(*_walked(i, 0.1 * i), None)
    assert store.stats() == {"added": 9, "recent": 5, "slow": 2, "failed": 1}
    assert [t.request_id for t in store.traces(limit=10)] == ["w9", "w8", "w7", "w6", "w5"]
    assert [t.request_id for t in store.traces("slow")] == ["w0", "w9"]
    (failed,) = store.traces("error")
    assert failed.request_id == "w2" and failed.cause == "error" and failed.route == "/go"
    # the slowest one, kept once, is one trace however many lists hold it
    assert len(store) == 7 and [t.request_id for t in store.trace(format(10, "032x"))] == ["w9"]
    doc = store.trace_json(format(1, "032x"))
    assert doc is not None and doc["requests"][0]["request_id"] == "w0"
    root = doc["spans"][0]
    assert root["kind"] == "request" and root["start"] == 1005.0 and root["duration_ms"] == 9000.0
    assert [(s["kind"], s["name"], s["duration_ms"]) for s in doc["spans"]] == [
        ("request", "POST /go", 9000.0), ("node", "a", 4500.0), ("queue", "a queue", 1125.0),
        ("attempt", "a attempt 0", 3375.0), ("node", "b", 4500.0), ("queue", "b queue", 1125.0),
        ("attempt", "b attempt 0", 3375.0)]