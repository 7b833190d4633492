"""Failed attempts in traces: crash storms retried, a killed process replica, failed requests."""

from __future__ import annotations

import os
import signal

import pytest

import hogar_nb
from tests.runtime.conftest import chain, wait_for

FAST_RESTART = {"policy": "restart", "max_restarts": 1000, "backoff_ms": 1.0}


def _attempts(trace, node: str = "n0") -> list:
    return sorted((s for s in trace.spans if s.kind == "attempt" and s.attrs["hogar.node"] == node),
                  key=lambda s: s.attrs["hogar.attempt"])


def test_a_crash_storm_shows_each_crash_as_a_failed_attempt_before_the_retry(no_leaks) -> None:
    with hogar_nb.run(chain("tests.runtime.impls:double", replicas=2, recovery=FAST_RESTART, retries=3)) as dep:
        tracing = dep.enable_tracing(export=False, recent=2000)
        dep.inject_fault("n0", "crash", rate=0.1, seed=7)
        futures = [dep.submit(i) for i in range(1000)]
        outcomes = [f.exception(30) for f in futures]
        wait_for(lambda: tracing.store.added == 1000, 30, "every trace")
        traces = {t.request_id: t for t in tracing.store.traces(limit=1000)}
        assert len(traces) == 1000
        crashes = 0
        for fut, exc in zip(futures, outcomes):
            trace = traces[fut.context.request_id]
            assert trace.trace_id == fut.context.trace_id
            attempts = _attempts(trace)
            outcomes_seen = [a.attrs["hogar.outcome"] for a in attempts]
            assert [a.attrs["hogar.attempt"] for a in attempts] == list(range(len(attempts)))
            if exc is None:
                assert outcomes_seen[-1] == "ok" and set(outcomes_seen[:-1]) <= {"crash"} and trace.ok
            else:
                assert outcomes_seen == ["crash"] * 4 and trace.cause == "crash" and not trace.root.ok
            for failed in attempts[:-1] if exc is None else attempts:
                assert not failed.ok and failed.attrs["hogar.cause"] == "crash" and "hogar.replica" in failed.attrs
            retried = [s for s in trace.spans if s.kind == "queue" and s.attrs["hogar.attempt"] > 0]
            assert len(retried) == len(attempts) - 1 and all("hogar.retry_delay_ms" in s.attrs for s in retried)
            crashes += outcomes_seen.count("crash")
        restarts = [e for e in dep.metrics().events if e.cause == "crash"]
        assert crashes == len(restarts) >= 50  # each crash held one request: every one is in a trace
        failed = tracing.store.traces("error", limit=200)
        assert {t.request_id for t in failed} == {f.context.request_id for f, e in zip(futures, outcomes) if e}


@pytest.mark.timeout(90)
def test_a_killed_process_replica_is_a_failed_attempt_on_that_replica(no_leaks) -> None:
    doc = chain("tests.runtime.impls:slow_double", replicas=2, isolation="process", recovery=FAST_RESTART,
                retries=2)
    with hogar_nb.run(doc) as dep:
        tracing = dep.enable_tracing(export=False)
        pids = dep.replica_pids("n0")
        futures = [dep.submit(i) for i in range(30)]
        wait_for(lambda: dep.metrics().node("n0").in_flight == 2, what="both processes busy")
        os.kill(pids[0], signal.SIGKILL)
        assert [f.result(30) for f in futures] == [2 * i for i in range(30)]
        wait_for(lambda: tracing.store.added == 30, 10, "every trace")
        hit = [t for t in tracing.store.traces(limit=30) if any(not s.ok for s in t.spans)]
        assert len(hit) == 1 and hit[0].ok  # the request the dead process held, retried
        attempts = _attempts(hit[0])
        assert [a.ok for a in attempts] == [False, True]
        assert attempts[0].attrs["hogar.cause"] == "crash" and attempts[0].attrs["hogar.replica"] == "0"


def test_a_mirrors_copy_has_spans_of_its_own_marked_as_mirror(no_leaks) -> None:
    graph = hogar_nb.parse_udgl('graph shadowed\nsource ingest\npython v1 { impl = "tests.runtime.impls:double" }\n'
                                'python v2 { impl = "tests.runtime.impls:inc" }\nsink out\n'
                                'ingest -> v1 -> out\ningest -> v2 { mirror = 100% }\n')
    with hogar_nb.run(graph) as dep:
        tracing = dep.enable_tracing(export=False)
        futures = [dep.submit(i) for i in range(50)]
        assert [f.result(10) for f in futures] == [2 * i for i in range(50)]
        wait_for(lambda: tracing.store.added == 50, 10, "every trace")
        for fut in futures:
            spans = dep.trace(fut.context.trace_id)["spans"]
            nodes = {s["name"]: s for s in spans if s["kind"] == "node"}
            assert "v1" in nodes and not nodes["v1"]["attributes"].get("hogar.mirror")
            for s in spans:  # whatever of the copy ran before the answer, marked as the mirror's
                if s["attributes"].get("hogar.node") == "v2":
                    assert s["attributes"]["hogar.mirror"] is True and s["name"].startswith("v2")
            mirror = nodes["v2 (mirror)"]  # copied at the source, before the answer
            assert mirror["parent_id"] == spans[0]["span_id"] and mirror["attributes"]["hogar.mirror"] is True
