"""Backpressure for in-process callers, request deadlines, map, max_queue."""

from __future__ import annotations

import threading
import time

import pytest

import hogar_nb
from hogar_nb.runtime import DeploymentProtocol
from hogar_nb.runtime.errors import NodeError, OverloadError, RequestError, RequestTimeoutError

from .conftest import chain, wait_for
from .impls import double, inc


def test_the_embedded_deployment_implements_the_protocol(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        assert isinstance(dep, DeploymentProtocol)


def test_a_plain_loop_of_20000_submits_never_fails_for_being_fast(no_leaks):
    with hogar_nb.run(chain(inc, inc, inc, inc), queue_size=64) as dep:
        futures = [dep.submit(i) for i in range(20_000)]
        results = [f.result(60) for f in futures]
        assert results == [i + 4 for i in range(20_000)]
        snap = dep.metrics()
        assert snap.graph.errors == 0 and snap.graph.ok == 20_000
        assert max(snap.series("queue_depth", "n0").values, default=0) <= 64


def test_a_deadline_bounds_queueing_and_late_work_is_dropped(no_leaks):
    calls = []

    def slow(x):
        calls.append(x)
        time.sleep(0.01)
        return x

    with hogar_nb.run(chain(slow, timeout_ms=500.0)) as dep:
        t0 = time.monotonic()
        futures = [dep.submit(i, timeout=0.3) for i in range(200)]
        outcomes = [f.exception(5) for f in futures]
        elapsed = time.monotonic() - t0
        ok = [i for i, e in enumerate(outcomes) if e is None]
        late = [e for e in outcomes if e is not None]
        assert len(ok) + len(late) == 200
        assert all(isinstance(e, RequestTimeoutError) and e.cause == "timeout" for e in late)
        assert 5 <= len(ok) <= 40 and len(late) >= 150, (len(ok), len(late))
        assert elapsed < 1.5, "every request ends by its deadline, none is computed late"
        wait_for(lambda: dep.metrics().node("n0").in_flight == 0, what="the last call to end")
        # at most the call running when the deadlines passed, and one started just before its own
        assert len(calls) <= len(ok) + 2, ("work whose deadline passed is not run", len(calls), len(ok))
        assert dep.call(7, timeout=1) == 7


def test_map_keeps_order_bounds_memory_and_returns_errors_in_place(no_leaks):
    pulled = []

    def payloads():
        for i in range(3000):
            pulled.append(i)
            yield -1 if i % 500 == 7 else i

    def check(x):
        if x < 0:
            raise ValueError("negative")
        return x * 2

    with hogar_nb.run(chain(check, replicas=2)) as dep:
        seen = 0
        results = []
        for item in dep.map(payloads(), concurrency=32, progress=False):
            results.append(item)
            seen += 1
            assert len(pulled) - seen <= 32, "at most `concurrency` requests are in flight"
        assert len(results) == 3000
        bad = [i for i, r in enumerate(results) if isinstance(r, RequestError)]
        assert bad == [i for i in range(3000) if i % 500 == 7]
        assert all(isinstance(results[i], NodeError) for i in bad)
        assert [r for i, r in enumerate(results) if i not in bad] == \
            [2 * i for i in range(3000) if i % 500 != 7]
        unordered = list(dep.map(range(500), concurrency=16, ordered=False, progress=False))
        assert sorted(unordered) == [2 * i for i in range(500)]


def test_map_draws_a_progress_bar_when_asked(no_leaks, capsys):
    with hogar_nb.run(chain(double)) as dep:
        assert list(dep.map([1, 2, 3], progress=True)) == [2, 4, 6]
    err = capsys.readouterr().err
    assert "3/3" in err and "100%" in err and err.endswith("\n")


def test_max_queue_is_a_node_attribute(no_leaks):
    gate = threading.Event()

    def blocked(x):
        gate.wait(10)
        return x

    graph = hogar_nb.parse_udgl(
        "source s\npython a { impl = blocked, max_queue = 3 }\nsink t\ns -> a -> t\n",
        namespace={"blocked": blocked})
    doc = graph.to_earg()
    assert doc["nodes"][1]["max_queue"] == 3
    assert "max_queue" not in hogar_nb.parse_udgl(
        "source s\npython a { impl = \"m:f\" }\nsink t\ns -> a -> t\n").to_earg()["nodes"][1]
    assert hogar_nb.loads_earg(hogar_nb.dump_earg(graph)).to_earg()["nodes"][1]["max_queue"] == 3
    with pytest.raises(hogar_nb.UDGLError, match="max_queue"):
        hogar_nb.parse_udgl("source s\npython a { impl = \"m:f\", max_queue = 0 }\nsink t\ns -> a -> t\n")
    with hogar_nb.run(graph) as dep:
        try:
            first = dep.submit(0)
            wait_for(lambda: dep.metrics().node("a").in_flight == 1, what="the first call")
            queued = [dep.submit(i) for i in range(1, 4)]
            refused = dep.submit(4, timeout=0.05)
            assert isinstance(refused.exception(5), OverloadError)
            assert "max_queue 3" in str(refused.exception())
        finally:
            gate.set()
        assert [f.result(5) for f in [first, *queued]] == [0, 1, 2, 3]
