"""Result observers and the deployment's EARG document (used by the monitor)."""

from __future__ import annotations

import hogar_nb

from .conftest import chain, wait_for


def double(x):
    return 2 * x


def test_observers_see_every_response_until_removed(no_leaks) -> None:
    seen: list[int] = []
    with hogar_nb.run(chain(double)) as dep:
        remove = dep.add_result_observer(seen.append)
        assert [dep.call(i) for i in range(5)] == [0, 2, 4, 6, 8]
        remove()
        dep.call(100)
    assert seen == [0, 2, 4, 6, 8]


def test_a_failing_observer_is_dropped_and_requests_still_succeed(no_leaks) -> None:
    calls: list[int] = []

    def bad(value):
        calls.append(value)
        raise RuntimeError("observer bug")

    with hogar_nb.run(chain(double)) as dep:
        dep.add_result_observer(bad)
        assert dep.call(1) == 2
        assert dep.call(2) == 4
    assert calls == [2]


def test_deployment_exposes_a_copy_of_its_earg(no_leaks) -> None:
    graph = hogar_nb.parse_udgl(
        "graph tiny\nsource s\npython f { impl = double, replicas = 2 }\nsink out\ns -> f -> out\n",
        namespace={"double": double},
    )
    with hogar_nb.run(graph) as dep:
        earg = dep.earg
        assert earg == graph.to_earg()
        earg["nodes"].clear()
        assert dep.earg["nodes"][1]["replicas"] == 2


def test_observers_of_observed_requests_only_get_no_events_of_the_others(no_leaks) -> None:
    import time

    from hogar_nb.runtime.walk import RequestContext, Step

    with hogar_nb.run(chain(double, double)) as dep:
        some: list = []
        every: list = []
        picky = dep.subscribe(some.append, every=False)
        futures = [dep.submit(i, context=RequestContext(f"r{i}", observed=i % 10 == 0)) for i in range(100)]
        assert [f.result(10) for f in futures] == [4 * i for i in range(100)]
        wait_for(lambda: sum(e.kind == "completed" for e in some) == 10, what="the observed requests' events")
        time.sleep(0.1)
        assert {e.context.request_id for e in some} == {f"r{i}" for i in range(0, 100, 10)}
        # while only observers of observed requests listen, a request's steps come in its end event
        assert all(e.kind == "completed" for e in some)
        (end,) = [e for e in some if e.context.request_id == "r10"]
        steps = [Step._make(s) for s in end.steps]
        assert [(s.kind, s.node) for s in steps] == [
            ("started", "src"), ("enqueued", "n0"), ("attempt", "n0"), ("enqueued", "n1"), ("attempt", "n1")]
        assert [s.time for s in steps] == sorted(s.time for s in steps) and steps[-1].time <= end.time
        assert steps[2].outcome == "ok" and steps[2].replica is not None
        dep.subscribe(every.append)  # someone wants every request: every request's events
        futures = [dep.submit(i, context=RequestContext(f"s{i}", observed=False)) for i in range(10)]
        assert [f.result(10) for f in futures] == [4 * i for i in range(10)]
        wait_for(lambda: sum(e.kind == "completed" for e in every) == 10, what="every request's events")
        # with such an observer, an observed request's events come one per step again, to both
        assert dep.call(5, context=RequestContext("t5")) == 20
        wait_for(lambda: all(any(e.kind == "completed" and e.context.request_id == "t5" for e in got)
                             for got in (some, every)), what="the observed request's end")
        for got in (some, every):
            kinds = [e.kind for e in got if e.context.request_id == "t5"]
            assert kinds == ["started", "enqueued", "attempt", "enqueued", "attempt", "completed"]
        assert all(e.steps is None for e in every)
        picky.close()


def test_observers_of_some_kinds_get_only_those_and_the_walker_makes_no_request_ends_for_them(no_leaks) -> None:
    import pytest

    from hogar_nb.runtime.walk import RequestContext

    def fail_on_6(x):
        if x == 6:
            raise ValueError("six")
        return x

    with hogar_nb.run(chain(double, fail_on_6)) as dep:
        with pytest.raises(ValueError, match="kinds"):
            dep.subscribe(print, kinds=("started", "finished"))
        steps: list = []
        sub = dep.subscribe(steps.append, kinds=("enqueued", "attempt"))
        hub = dep._engine.walker.hub
        assert hub.active and not hub.ends  # nobody wants a start or an end: none is made
        futures = [dep.submit(i, context=RequestContext(f"r{i}")) for i in range(50)]
        results = [f.exception(10) or f.result() for f in futures]
        assert sum(isinstance(r, Exception) for r in results) == 1
        wait_for(lambda: sum(e.kind == "attempt" for e in steps) == 100, what="every node's attempt")
        assert {e.kind for e in steps} == {"enqueued", "attempt"}
        assert sum(e.kind == "enqueued" for e in steps) == 100
        assert sub.dropped == 0
        ends: list = []
        dep.subscribe(ends.append, kinds=("completed", "failed"))
        assert hub.ends
        assert [dep.call(i) for i in range(2)] == [0, 2]
        with pytest.raises(Exception, match="six"):
            dep.call(3, context=RequestContext("bad"))
        wait_for(lambda: len(ends) == 3, what="the ends of three requests")
        assert [e.kind for e in ends] == ["completed", "completed", "failed"]
        assert ends[-1].context.request_id == "bad"


def test_a_recorder_takes_each_observed_requests_trail_as_it_ends_and_its_faults_fail_no_request(no_leaks) -> None:
    from hogar_nb.core.trail import Step, started, trail_steps
    from hogar_nb.runtime.walk import RequestContext

    def fail_on_6(x):
        if x == 6:
            raise ValueError("six")
        return x

    with hogar_nb.run(chain(double, fail_on_6)) as dep:
        ended: list = []
        events: list = []
        sub = dep.subscribe(events.append, every=False,
                            record=lambda context, trail, end, error: ended.append((context, trail, end, error)))
        futures = [dep.submit(i, context=RequestContext(f"r{i}", observed=i % 3 == 0)) for i in range(20)]
        outcomes = [f.exception(10) for f in futures]
        assert [i for i, o in enumerate(outcomes) if o is not None] == [3]
        # taken at once, as each request ended: no end event for the recorder
        assert sorted(c.request_id for c, *_ in ended) == sorted(f"r{i}" for i in range(0, 20, 3))
        (failed,) = [e for e in ended if e[0].request_id == "r3"]
        assert failed[3] is outcomes[3] and failed[3].node == "n1"
        assert [s[4] for s in trail_steps(failed[1]) if s[0] == "attempt"] == ["ok", "error"]
        assert "ValueError: six" in trail_steps(failed[1])[-1][11]
        context, trail, end, error = next(e for e in ended if e[0].request_id == "r6")
        steps = [Step._make(s) for s in trail_steps(trail)]
        assert [(s.kind, s.node) for s in steps] == [
            ("started", "src"), ("enqueued", "n0"), ("attempt", "n0"), ("enqueued", "n1"), ("attempt", "n1")]
        assert error is None and started(trail) == steps[0].time <= steps[-1].time <= end
        assert sub.failed == 0 and not any(e.kind in ("completed", "failed") for e in events)
        sub.close()
        calls = []

        def broken(*args):
            calls.append(args)
            raise RuntimeError("a recorder's bug")

        sub = dep.subscribe(print, every=False, record=broken)
        assert [dep.call(i, context=RequestContext(f"s{i}")) for i in (0, 1, 2, 4, 5)] == [0, 2, 4, 8, 10]
        assert len(calls) == 5 and sub.failed == 5
        sub.close()


def test_an_idle_observer_thread_sleeps_until_an_event_or_its_close_wakes_it() -> None:
    import threading

    from hogar_nb.runtime.observer_thread import drain_in_thread
    from hogar_nb.runtime.walk import ObserverHub, WalkEvent

    hub = ObserverHub()
    got: list[WalkEvent] = []
    delivered = threading.Event()
    sub = hub.subscribe(lambda e: (got.append(e), delivered.set()))
    thread = drain_in_thread(sub)
    for n in range(3):  # asleep after IDLE_AFTER empty drains; each event wakes it, then it idles again
        wait_for(lambda: sub.sleeping, 10, "the thread to sleep")
        delivered.clear()
        hub.publish(WalkEvent("started", n, 0.0, "src"))
        assert delivered.wait(1.0), "an event wakes the sleeping thread (its own sleep lasts 5 s)"
    assert [e.request for e in got] == [0, 1, 2] and sub.delivered == 3
    wait_for(lambda: sub.sleeping, 10, "the thread to sleep")
    sub.close()
    thread.join(1.0)
    assert not thread.is_alive(), "closing wakes it to end"
