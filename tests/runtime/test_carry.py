"""Run to completion: a replica's thread carries a request on into the next node when
that node has an idle replica and short calls, with every semantic of a queued call
(metrics, timeouts from when the call starts, recovery)."""

from __future__ import annotations

import itertools
import threading

import hogar_nb

from .conftest import chain, wait_for
from .impls import double


class Where:
    """Doubles its input and records which thread ran it."""

    def __init__(self) -> None:
        self.threads: list[str] = []

    def __call__(self, x):
        self.threads.append(threading.current_thread().name)
        return 2 * x


def test_a_chain_of_short_nodes_runs_on_the_first_nodes_thread(no_leaks) -> None:
    a, b, c = Where(), Where(), Where()
    with hogar_nb.run(chain(a, b, c)) as dep:
        assert [dep.call(i, timeout=10) for i in range(200)] == [8 * i for i in range(200)]
        snap = dep.metrics()
    # a call that a busy machine made look long goes through the queue once: most are carried
    for node in (b, c):
        assert node.threads.count("hogar-n0-0") > len(node.threads) / 2, node.threads
    for name in ("n0", "n1", "n2"):  # every node counts its calls as if it took them from its queue
        node = snap.node(name)
        assert (node.requests, node.ok, node.errors) == (200, 200, 0), name


class Slow(Where):
    def __call__(self, x):
        threading.Event().wait(0.002)  # longer than a thread hand-off: not worth carrying
        return super().__call__(x)


def test_a_node_with_long_calls_keeps_its_own_thread(no_leaks) -> None:
    a, b = Where(), Slow()
    with hogar_nb.run(chain(a, b)) as dep:
        assert [dep.call(i, timeout=10) for i in range(30)] == [4 * i for i in range(30)]
    assert set(b.threads[1:]) == {"hogar-n1-0"}


class HangOn14(Where):
    """Hangs the first call with 14 (request 7, doubled by the node before) until released."""

    release = threading.Event()

    def __call__(self, x):
        if x == 14 and "hung" not in self.threads:
            self.threads.append("hung")
            self.release.wait(30)
        return super().__call__(x)


def test_a_carried_call_that_hangs_is_cut_by_its_timeout_and_both_replicas_are_replaced(no_leaks) -> None:
    a, b = Where(), HangOn14()
    HangOn14.release.clear()
    try:
        # n0 would never replace a replica of its own (policy none): the carrier is replaced anyway
        doc = chain(a, b, timeout_ms=300.0, retries=1)
        doc["nodes"][1]["recovery"] = {"policy": "none", "max_restarts": 0, "backoff_ms": 10.0}
        with hogar_nb.run(doc) as dep:
            assert [dep.call(i, timeout=10) for i in range(10, 30)] == [4 * i for i in range(10, 30)]
            # 7 reaches b on n0's thread and hangs there: cut at b's timeout, retried on b's replacement
            assert dep.call(7, timeout=20) == 28
            assert "hogar-n0-0" in b.threads[:b.threads.index("hung")]
            wait_for(lambda: (dep.metrics().node("n0").replicas_alive, dep.metrics().node("n1").replicas_alive)
                     == (1, 1), what="both replacements")
            events = dep.events
            host = [(e.action, e.detail) for e in events if e.node == "n0" and e.cause == "hang"]
            assert host == [("restart", "its thread carried a call of node 'n1' that hung")]
            assert [e.action for e in events if e.node == "n1" and e.cause == "hang"] == ["restart"]
            HangOn14.release.set()  # the hung thread comes back, finds its replica gone and leaves
            assert [dep.call(i, timeout=10) for i in range(20)] == [4 * i for i in range(20)]
            n1 = dep.metrics().node("n1")  # the retried request counts once, as it does off a carry
            assert (n1.requests, n1.ok, n1.errors) == (41, 41, 0)
    finally:
        HangOn14.release.set()


class CrashEvery:
    """Doubles; every 97th call ends its replica (SystemExit), on whichever thread runs it."""

    calls = itertools.count(1)
    crashed_on: list[str] = []  # the threads that ran the crashing calls

    def __call__(self, x):
        if next(self.calls) % 97 == 0:
            self.crashed_on.append(threading.current_thread().name)
            raise SystemExit("a broken replica")
        return 2 * x


def test_a_crash_storm_in_carried_calls_loses_no_request(no_leaks) -> None:
    doc = chain(double, CrashEvery(), double, replicas=2, retries=3,
                recovery={"policy": "restart", "max_restarts": 1000, "backoff_ms": 1.0})
    doc["nodes"][2]["impl"] = CrashEvery  # a fresh instance per replica, one shared count
    with hogar_nb.run(doc) as dep:
        futures = [dep.submit(i) for i in range(3000)]
        outcomes = [f.exception(timeout=60) or f.result() for f in futures]
        assert outcomes == [8 * i for i in range(3000)]  # every crash retried on a live replica
        assert any(t.startswith("hogar-n0-") for t in CrashEvery.crashed_on)  # carried by n0's threads
        events = [e for e in dep.events if e.node == "n1"]
        assert len(events) >= 3000 // 97 - 1 and {(e.cause, e.action) for e in events} == {("crash", "restart")}
        wait_for(lambda: dep.metrics().node("n1").replicas_alive == 2, what="n1's replacements")
        snap = dep.metrics()
    for name in ("n0", "n1", "n2"):
        assert (snap.node(name).requests, snap.node(name).ok) == (3000, 3000), name


class AroundTheTimeout:
    """Doubles after sleeping 10 to 30 ms in turn: about its node's timeout of 20 ms, so
    calls end as the supervisor judges them hung."""

    calls = itertools.count()

    def __call__(self, x):
        threading.Event().wait(0.010 + 0.001 * (next(self.calls) % 21))
        return 2 * x


class Seen:
    """Doubles and records every input it is called with."""

    inputs: list[int] = []

    def __call__(self, x):
        self.inputs.append(x)
        return 2 * x


def test_calls_that_end_as_they_time_out_are_answered_or_failed_once(no_leaks) -> None:
    doc = chain(AroundTheTimeout(), Seen(), replicas=2, retries=0,
                recovery={"policy": "restart", "max_restarts": 10_000, "backoff_ms": 1.0})
    doc["nodes"][1]["timeout_ms"] = 20.0
    with hogar_nb.run(doc) as dep:
        futures = [dep.submit(i) for i in range(400)]
        answered, timed_out = [], []
        for i, f in enumerate(futures):
            exc = f.exception(timeout=60)
            if exc is None:
                assert f.result() == 4 * i
                answered.append(2 * i)
            else:
                assert exc.cause == "timeout", exc
                timed_out.append(i)
        assert len(answered) + len(timed_out) == 400
        assert answered and timed_out  # both sides of the race were run
        # a call cut at its timeout is never passed on as well: the next node ran each answer once
        assert sorted(Seen.inputs) == answered
        snap = dep.metrics()
        assert snap.node("n0").in_flight == 0
        assert (snap.node("n1").requests, snap.node("n1").ok) == (len(answered), len(answered))
