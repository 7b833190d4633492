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
