"""The trace store keeps the recent traces, and the slowest and failed ones longer."""

from __future__ import annotations

import random

import pytest

from hogar_nb.observe import Span, Trace, TraceStore


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
