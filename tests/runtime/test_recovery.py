"""Crash, hang and process-kill recovery with exact request accounting."""

from __future__ import annotations

import os
import signal

import pytest

import hogar_nb
from hogar_nb.runtime.errors import UnavailableError

from .conftest import chain, wait_for
from .impls import double

FAST_RESTART = {"policy": "restart", "max_restarts": 1000, "backoff_ms": 1.0}


def _outcomes(futures, timeout=20.0):
    ok, errors = {}, {}
    for i, f in enumerate(futures):
        exc = f.exception(timeout)
        if exc is None:
            ok[i] = f.result()
        else:
            errors[i] = exc
    return ok, errors


def test_crashes_are_recovered_and_nothing_is_lost(no_leaks):
    with hogar_nb.run(chain(double, replicas=2, recovery=FAST_RESTART, retries=3)) as dep:
        dep.inject_fault("n0", "crash", rate=0.1, seed=7)
        futures = [dep.submit(i) for i in range(300)]
        ok, errors = _outcomes(futures)
        assert len(ok) + len(errors) == 300
        assert all(v == 2 * i for i, v in ok.items()), "results are correct after retries"
        assert all(e.cause in ("crash",) for e in errors.values()), errors
        assert len(ok) >= 290, f"retries should save almost every request, ok={len(ok)}"
        dep.clear_faults()
        wait_for(lambda: dep.metrics().node("n0").replicas_alive == 2, what="both replicas back")
        snap = dep.metrics()
        crashes = [e for e in snap.events if e.cause == "crash"]
        assert crashes and all(e.node == "n0" and e.action == "restart" for e in crashes)
        assert snap.node("n0").restarts == len(crashes) >= 10
        assert sum(e.requeued for e in crashes) == len(crashes), "each crash held one request"
        assert snap.node("n0").p50_ms < 50, "restarts back off only while failures repeat"
        assert dep.call(21, timeout=5) == 42


def test_hung_replica_is_abandoned_replaced_and_its_work_retried(no_leaks):
    doc = chain(double, replicas=2, timeout_ms=150.0, recovery=FAST_RESTART, retries=2)
    with hogar_nb.run(doc) as dep:
        dep.inject_fault("n0", "hang", count=2, seed=1)
        futures = [dep.submit(i) for i in range(40)]
        ok, errors = _outcomes(futures)
        assert errors == {} and ok == {i: 2 * i for i in range(40)}
        def hang_events():
            events = [e for e in dep.metrics().events if e.cause == "hang"]
            return events if len(events) == 2 else None

        hangs = wait_for(hang_events, what="two hang recovery events")
        assert all(e.action == "restart" and e.duration_s >= 0 for e in hangs)


def test_failover_moves_traffic_to_healthy_replicas(no_leaks):
    doc = chain(double, replicas=3, retries=1,
                recovery={"policy": "failover", "max_restarts": 5, "backoff_ms": 1.0})
    with hogar_nb.run(doc) as dep:
        dep.inject_fault("n0", "crash", count=2)
        ok, errors = _outcomes([dep.submit(i) for i in range(50)])
        assert errors == {} and len(ok) == 50
        snap = dep.metrics()
        assert [e.action for e in snap.events] == ["failover", "failover"]
        assert snap.node("n0").replicas_alive == 1 and snap.node("n0").restarts == 0


def test_policy_none_ends_with_unavailable_errors(no_leaks):
    doc = chain(double, recovery={"policy": "none", "max_restarts": 0, "backoff_ms": 1.0})
    with hogar_nb.run(doc) as dep:
        dep.inject_fault("n0", "crash", count=1)
        ok, errors = _outcomes([dep.submit(i) for i in range(20)])
        assert len(ok) + len(errors) == 20 and not ok
        causes = {e.cause for e in errors.values()}
        assert causes <= {"unavailable", "crash"} and "unavailable" in causes, causes
        with pytest.raises(UnavailableError):
            dep.call(1, timeout=5)
        assert dep.metrics().events[0].action == "none"


def test_injected_errors_and_slowness_are_counted(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        dep.inject_fault("n0", "error", rate=1.0, count=3)
        ok, errors = _outcomes([dep.submit(i) for i in range(10)])
        assert len(errors) == 3 and {e.cause for e in errors.values()} == {"error"}
        dep.inject_fault("n0", "slow", rate=1.0, delay_ms=30.0, count=1)
        assert dep.call(1, timeout=5) == 2
        assert dep.metrics().node("n0").p99_ms >= 25.0


@pytest.mark.timeout(60)
def test_process_replicas_survive_a_kill(no_leaks):
    doc = chain("tests.runtime.impls:slow_double", replicas=2, isolation="process",
                recovery=FAST_RESTART, retries=2)
    with hogar_nb.run(doc) as dep:
        pids = dep.replica_pids("n0")
        assert len(pids) == 2 and os.getpid() not in pids
        futures = [dep.submit(i) for i in range(30)]
        wait_for(lambda: dep.metrics().node("n0").in_flight == 2, what="both processes busy")
        os.kill(pids[0], signal.SIGKILL)
        ok, errors = _outcomes(futures, timeout=30)
        assert errors == {} and ok == {i: 2 * i for i in range(30)}
        died = [e for e in dep.metrics().events if e.cause == "died"]
        assert len(died) == 1 and died[0].action == "restart"
        wait_for(lambda: len(dep.replica_pids("n0")) == 2, 30, "the killed process to be replaced")
        assert pids[0] not in dep.replica_pids("n0")
        dep.inject_fault("n0", "crash", count=1)
        assert [dep.call(i, timeout=30) for i in range(3)] == [0, 2, 4], "a crashing process is retried"
