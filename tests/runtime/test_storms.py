"""Sustained faults: crash and hang storms, raising impls in process replicas, crash
loops that suspend a node and resume it, poisoned replicas. Every request is counted: ok, explicit error or lost."""

from __future__ import annotations

import itertools
import threading
import time

import pytest

import hogar_nb
from hogar_nb.runtime.errors import NodeError, RequestError, UnavailableError

from .conftest import chain, wait_for
from .impls import double

STORM_GRAPH = """
source s
python a { impl = double, replicas = 2 }
python b { impl = double, replicas = 2, retries = 3, recovery = restart }
sink t
s -> a -> b -> t
"""


def tally(futures, timeout=30.0):
    """(ok results by index, errors by index, lost indexes) once every future is
    done or ``timeout`` s have passed."""
    deadline = time.monotonic() + timeout
    ok, errors, lost = {}, {}, []
    for i, f in enumerate(futures):
        try:
            exc = f.exception(max(deadline - time.monotonic(), 0))
        except TimeoutError:
            lost.append(i)
            continue
        if exc is None:
            ok[i] = f.result()
        else:
            errors[i] = exc
    return ok, errors, lost


def test_a_crash_storm_with_default_recovery_keeps_answering(no_leaks):
    graph = hogar_nb.parse_udgl(STORM_GRAPH, namespace={"double": double})
    with hogar_nb.run(graph) as dep:
        dep.inject_fault("b", "crash", rate=0.05, seed=3)
        futures = [dep.submit(i) for i in range(2000)]
        ok, errors, lost = tally(futures)
        assert lost == []
        assert len(ok) >= 1980, f"ok {len(ok)}, errors {sorted({e.cause for e in errors.values()})}"
        assert all(v == 4 * i for i, v in ok.items()), "every result is correct"
        assert all(isinstance(e, RequestError) for e in errors.values())
        events = dep.events
        assert sum(e.action == "restart" for e in events) >= 50, "b's replicas were replaced many times"
        assert not any(e.action == "suspend" for e in events), "a node that serves is never suspended"
        dep.clear_faults()
        wait_for(lambda: dep.metrics().node("b").replicas_alive == 2, what="both replicas of b")
        assert dep.call(5, timeout=5) == 20


def test_a_hang_storm_is_cut_by_the_timeout_and_retried(no_leaks):
    doc = chain(double, replicas=2, timeout_ms=200.0, retries=2,
                recovery={"policy": "restart", "max_restarts": 5, "backoff_ms": 10.0})
    with hogar_nb.run(doc) as dep:
        dep.inject_fault("n0", "hang", rate=0.02, seed=5)
        t0 = time.monotonic()
        futures = [dep.submit(i) for i in range(500)]
        ok, errors, lost = tally(futures)
        elapsed = time.monotonic() - t0
        assert lost == [] and len(ok) >= 490, (len(ok), {e.cause for e in errors.values()})
        assert all(v == 2 * i for i, v in ok.items())
        assert elapsed < 15, f"bounded time: {elapsed:.1f} s"
        assert any(e.cause == "hang" and e.action == "restart" for e in dep.events)


class Switchable:
    """Crashes its replica (SystemExit) while ``broken`` is set, else doubles."""

    broken = threading.Event()

    def __call__(self, x):
        if self.broken.is_set():
            raise SystemExit("broken model state")
        return 2 * x


def test_a_crash_loop_suspends_the_node_which_resumes_once_fixed(no_leaks):
    Switchable.broken.set()
    doc = chain(Switchable, replicas=2, retries=1,
                recovery={"policy": "restart", "max_restarts": 3, "within_ms": 10_000.0, "backoff_ms": 20.0})
    try:
        with hogar_nb.run(doc) as dep:
            futures = [dep.submit(i) for i in range(50)]
            ok, errors, lost = tally(futures, 10)
            assert lost == [] and ok == {}
            assert {e.cause for e in errors.values()} <= {"crash", "unavailable"}
            wait_for(lambda: any(e.action == "suspend" for e in dep.events), what="the node to be suspended")
            t0 = time.monotonic()
            fast = []
            for i in range(20):  # while suspended, requests fail at once (or hit the half-open try)
                with pytest.raises(RequestError) as info:
                    dep.call(i, timeout=5)
                fast.append(info.value)
            assert time.monotonic() - t0 < 2.0
            assert any(isinstance(e, UnavailableError) and "suspended" in str(e) for e in fast)
            restarts = dep.metrics().node("n0").restarts
            assert restarts <= 3 + 20, "no restart storm while suspended"
            Switchable.broken.clear()  # the model is fixed
            wait_for(lambda: _serves(dep), 10, "the node to resume by itself")
            actions = [e.action for e in dep.events]
            assert "half_open" in actions and actions[-1] in ("resume", "restart")
            resume = next(e for e in dep.events if e.action == "resume")
            assert resume.node == "n0" and resume.duration_s > 0
            wait_for(lambda: dep.metrics().node("n0").replicas_alive == 2, what="the other replica")
            assert [dep.call(i, timeout=5) for i in range(5)] == [0, 2, 4, 6, 8]
    finally:
        Switchable.broken.clear()


def _serves(dep) -> bool:
    try:
        return dep.call(21, timeout=2) == 42
    except RequestError:
        return False


class Poisoned:
    """The first instance always raises (a poisoned model state); later ones work."""

    made = itertools.count()

    def __init__(self):
        self.poisoned = next(self.made) == 0

    def __call__(self, x):
        if self.poisoned:
            raise RuntimeError("poisoned state")
        time.sleep(0.001)  # a healthy call takes a moment; a poisoned one fails at once
        return x + 1


def test_a_poisoned_replica_is_ejected_and_replaced_while_its_sibling_serves(no_leaks):
    Poisoned.made = itertools.count()
    with hogar_nb.run(chain(Poisoned, replicas=2)) as dep:
        results = list(dep.map(range(400), concurrency=8, progress=False))
        failed = [r for r in results if isinstance(r, RequestError)]
        assert 5 <= len(failed) <= 60, len(failed)
        assert all("poisoned state" in str(r) for r in failed)
        assert not any(isinstance(r, RequestError) for r in results[-200:]), "none once ejected"
        ejections = [e for e in dep.events if e.action == "eject"]
        assert len(ejections) == 1 and ejections[0].cause == "outlier"
        assert ejections[0].replica == 0 and ejections[0].duration_s < 1.0
        assert list(dep.map(range(200), progress=False)) == list(range(1, 201)), "all served after"
        assert dep.metrics().node("n0").replicas_alive == 2


def test_a_storm_of_raising_calls_in_process_replicas_fails_each_alone(no_leaks):
    # one replica: of two, outlier ejection may rightly replace one that drew five bad payloads in a row
    # the node's timeout bounds each call (a call scheduled out for seconds on a loaded
    # machine is a timeout, rightly, so it is generous here)
    doc = chain("tests.runtime.impls:fail_on_negative", replicas=1, isolation="process", timeout_ms=10000.0)
    with hogar_nb.run(doc) as dep:
        pids = sorted(dep.replica_pids("n0"))
        bad = {i for i in range(5000) if i % 4 == 3}
        futures = [dep.submit(-i if i in bad else i) for i in range(5000)]
        ok, errors, lost = tally(futures, 120)
        assert lost == []
        wrongly = {i: repr(errors[i]) for i in errors if i not in bad}
        assert ok == {i: i for i in range(5000) if i not in bad}, f"every good request answered: {wrongly}"
        assert sorted(errors) == sorted(bad)
        for i, exc in errors.items():
            assert isinstance(exc, NodeError) and exc.cause == "error" and exc.node == "n0"
            assert type(exc.__cause__) is ValueError and str(exc.__cause__) == f"negative input {-i}"
        assert sorted(dep.replica_pids("n0")) == pids, "the replicas live on"
        assert dep.events == []
        assert dep.metrics().node("n0").errors_by_cause == {"error": 1250}
