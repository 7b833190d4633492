"""Batching, backpressure, timeouts, retries and graceful stop."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import hogar_nb
from hogar_nb.runtime.errors import DeploymentStoppedError, NodeError, OverloadError, RequestTimeoutError

from .conftest import chain, wait_for


def test_dynamic_batching_groups_requests(no_leaks):
    sizes: list[int] = []

    def batched(xs):
        sizes.append(len(xs))
        return [x * 2 for x in xs]

    doc = chain(batched, batch={"max_size": 8, "max_wait_ms": 50.0})
    with hogar_nb.run(doc) as dep:
        futures = [dep.submit(i) for i in range(64)]
        assert [f.result(5) for f in futures] == [i * 2 for i in range(64)]
    assert max(sizes) == 8, f"expected full batches of 8, got sizes {sizes}"
    assert sum(sizes) == 64 and all(s <= 8 for s in sizes)


def test_batch_wrong_length_is_an_error(no_leaks):
    with hogar_nb.run(chain(lambda xs: xs[:1], batch={"max_size": 4, "max_wait_ms": 20.0})) as dep:
        futures = [dep.submit(i) for i in range(4)]
        errors = [f.exception(5) for f in futures]
    assert all(isinstance(e, NodeError) and "same length" in str(e) for e in errors), errors


def test_a_full_queue_sheds_acall_and_holds_submit_until_its_timeout(no_leaks):
    gate = threading.Event()

    def blocked(x):
        gate.wait(10)
        return x

    async def shed(dep, n):
        return await asyncio.gather(*(dep.acall(i) for i in range(n)), return_exceptions=True)

    with hogar_nb.run(chain(blocked), queue_size=5) as dep:
        try:
            futures = [dep.submit(0)]
            wait_for(lambda: dep.metrics().node("n0").in_flight == 1, what="the first call to start")
            futures += [dep.submit(i) for i in range(1, 6)]
            assert dep.metrics().node("n0").queue_depth == 5
            # acall never waits: one request is held, five are queued, the rest are shed
            t0 = time.monotonic()
            shed_results = asyncio.run(shed(dep, 20))
            assert all(isinstance(r, OverloadError) and r.cause == "overload" for r in shed_results)
            # submit waits for room up to its timeout, then fails with OverloadError
            late = dep.submit(99, timeout=0.2)
            assert isinstance(late.exception(5), OverloadError)
            assert 0.15 < time.monotonic() - t0 < 3
            assert dep.metrics().node("n0").queue_depth == 5, "memory stays bounded"
        finally:
            gate.set()
        ok = [f.result(5) for f in futures]
    assert ok == list(range(6))


def test_per_attempt_timeout_and_retries(no_leaks):
    calls = {"n": 0}

    def flaky(x):
        calls["n"] += 1
        if calls["n"] % 2 == 1:
            raise ValueError("first attempt fails")
        return x

    with hogar_nb.run(chain(flaky, retries=1, retry_errors=True)) as dep:
        assert [dep.call(i, timeout=5) for i in range(5)] == list(range(5))
    with hogar_nb.run(chain(lambda x: 1 / 0, retries=2, retry_errors=True)) as dep:
        with pytest.raises(NodeError, match=r"after 3 attempts \(retries = 2\)") as info:
            dep.call(1, timeout=5)
        assert isinstance(info.value.__cause__, ZeroDivisionError)
        assert dep.metrics().node("n0").errors_by_cause == {"error": 1}
    calls["n"] = 0
    with hogar_nb.run(chain(flaky, retries=2)) as dep:  # an impl's exception is not retried by default
        with pytest.raises(NodeError, match="after 1 attempt .*retry_errors"):
            dep.call(0, timeout=5)
    with hogar_nb.run(chain(lambda x: 1 / 0)) as dep:
        with pytest.raises(NodeError, match=r"after 1 attempt \(retries = 0\)$"):
            dep.call(1, timeout=5)


def test_slow_call_times_out_explicitly(no_leaks):
    release = threading.Event()

    def stuck(x):
        release.wait(10)
        return x

    with hogar_nb.run(chain(stuck, timeout_ms=100.0, retries=0)) as dep:
        t0 = time.monotonic()
        with pytest.raises(RequestTimeoutError) as info:
            dep.call(1, timeout=10)
        assert info.value.cause == "timeout" and time.monotonic() - t0 < 5
        release.set()


def test_caller_timeout_fails_the_request(no_leaks):
    release = threading.Event()
    with hogar_nb.run(chain(lambda x: release.wait(10) and x)) as dep:
        with pytest.raises(RequestTimeoutError, match="caller's timeout"):
            dep.call(1, timeout=0.05)
        release.set()
        assert dep.metrics().graph.errors_by_cause == {"timeout": 1}


def test_stop_drains_in_flight_work(no_leaks):
    def slowish(x):
        time.sleep(0.002)
        return x

    dep = hogar_nb.run(chain(slowish, replicas=2))
    futures = [dep.submit(i) for i in range(100)]
    dep.stop()
    assert [f.result(0) for f in futures] == list(range(100)), "graceful stop finishes queued work"
    with pytest.raises(DeploymentStoppedError):
        dep.call(1)
    assert isinstance(dep.submit(1).exception(0), DeploymentStoppedError)


def test_stop_with_a_deadline_fails_leftovers_explicitly(no_leaks):
    release = threading.Event()
    dep = hogar_nb.run(chain(lambda x: release.wait(10) and x))
    futures = [dep.submit(i) for i in range(5)]
    wait_for(lambda: dep.metrics().node("n0").in_flight == 1, what="one call in flight")
    t = threading.Timer(0.3, release.set)
    t.start()
    dep.stop(timeout=0.05)
    t.join()
    causes = {getattr(f.exception(0), "cause", None) for f in futures}
    assert causes == {"stopped"}, f"unfinished requests end with cause 'stopped', got {causes}"
