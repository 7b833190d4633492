"""The graph walker driven by simulated events: deterministic, no threads, no clock."""

from __future__ import annotations

import random
from collections import deque
from typing import Any, Callable

import pytest

from hogar_nb.models.errors import ModelInputError
from hogar_nb.runtime.errors import (
    InvalidInputError,
    NodeError,
    ReplicaCrashError,
    RequestTimeoutError,
    RouteError,
    UnavailableError,
)
from hogar_nb.runtime.metrics import Stats
from hogar_nb.runtime.plan import build_plan
from hogar_nb.runtime.walk import (
    INF,
    RAY_POLICY,
    Captured,
    Complete,
    Enqueue,
    Fail,
    Retry,
    SideOutput,
    Walk,
    WalkEvent,
    Walker,
)

from .conftest import chain, make_earg


class FixedRandom(random.Random):
    """random() answers from a script; uniform() at its middle unless scripted too."""

    def __init__(self, values: list[float]) -> None:
        super().__init__(0)
        self.values = deque(values)

    def random(self) -> float:
        return self.values.popleft()

    def uniform(self, a: float, b: float) -> float:
        return a + (b - a) * self.values.popleft()


def walker(doc: dict, rng: random.Random | None = None, **kw: Any) -> Walker:
    plan = build_plan(doc)
    stats = {n: Stats() for n in plan.nodes}
    return Walker(plan, rng=rng or FixedRandom([]), stats=stats, graph_stats=Stats(), **kw)


class Sim:
    """Runs a walker's actions: each worker node is a function of the payload that
    returns a value or raises ``Outcome`` (a failed attempt with a cause); time is a
    number advanced by retries."""

    def __init__(self, w: Walker, impls: dict[str, Callable[[Any], Any]]) -> None:
        self.w = w
        self.impls = impls
        self.now = 0.0
        self.jobs: deque[Enqueue] = deque()
        self.log: list[Any] = []
        self.result: list[Any] = []
        self.side: list[tuple[str, Any]] = []

    def take(self, actions: list[Any]) -> None:
        for a in actions:
            self.log.append(a)
            if isinstance(a, Enqueue):
                self.jobs.append(a)
            elif isinstance(a, Retry):
                self.now += a.delay
                self.jobs.append(a.job)
            elif isinstance(a, (Complete, Fail)):
                self.result.append(a)
            elif isinstance(a, SideOutput):
                self.side.append((a.sink, a.value))

    def run(self, payload: Any, source: str | None = None, deadline: float = INF,
            rid: int = 0) -> Complete | Fail:
        walk = Walk(rid, self.now, deadline)
        self.take(self.w.start(walk, source or self.w.plan.sources[0], payload, self.now))
        while self.jobs:
            job = self.jobs.popleft()
            try:
                value = self.impls[job.node](job.payload)
            except Outcome as o:
                self.take(self.w.failed(job, o.cause, self.now, o.exc))
            else:
                self.take(self.w.produced(job, value, self.now))
        assert len(self.result) == 1, self.log
        return self.result.pop()


class Outcome(Exception):
    def __init__(self, cause: str, exc: BaseException | None = None) -> None:
        super().__init__(cause)
        self.cause, self.exc = cause, exc


def raising(cause: str, exc: BaseException | None = None) -> Callable[[Any], Any]:
    def fn(_x: Any) -> Any:
        raise Outcome(cause, exc)
    return fn


def noop(x: Any) -> Any:
    return x


# -- routing ----------------------------------------------------------------------------------
def test_chain_enqueues_each_node_in_turn_and_completes() -> None:
    w = walker(chain(noop, noop, noop))
    walk = Walk(7, 0.0)
    first = w.start(walk, "src", 1, 0.0)
    assert [(type(a), a.node, a.payload, a.entry) for a in first] == [(Enqueue, "n0", 1, True)]
    second = w.produced(first[0], 2, 0.1)
    assert [(type(a), a.node, a.payload, a.entry) for a in second] == [(Enqueue, "n1", 2, False)]
    third = w.produced(second[0], 3, 0.2)
    done = w.produced(third[0], 4, 0.5)
    assert len(done) == 1 and isinstance(done[0], Complete) and done[0].value == 4 and done[0].walk is walk
    assert walk.finished
    assert w.graph_stats.requests == 1 and w.graph_stats.ok == 1
    assert w.stats["src"].done == 1 and w.stats["out"].done == 1


def test_fan_out_fan_in_ensemble_waits_for_every_input() -> None:
    nodes = {"src": {"kind": "source"}, "a": {"impl": noop}, "b": {"impl": noop},
             "ens": {"kind": "ensemble", "combine": "concat"}, "side": {"kind": "sink"},
             "out": {"kind": "sink", "response": True}}
    doc = make_earg(nodes, ["src -> a", "src -> b", "a -> ens", "b -> ens", "ens -> out", "src -> side"])
    w = walker(doc)
    walk = Walk(0, 0.0)
    acts = w.start(walk, "src", 10, 0.0)
    jobs = {a.node: a for a in acts if isinstance(a, Enqueue)}
    assert set(jobs) == {"a", "b"}
    assert [(a.sink, a.value) for a in acts if isinstance(a, SideOutput)] == [("side", 10)]
    assert w.produced(jobs["b"], 13, 0.1) == [], "the ensemble waits for a"
    done = w.produced(jobs["a"], 11, 0.2)
    assert [type(a) for a in done] == [Complete] and done[0].value == [11, 13], "inputs in name order"


@pytest.mark.parametrize(("combine", "weights", "expected"),
                         [("mean", {"a": 3.0, "b": 1.0}, 11.5), ("mean", None, 12.0),
                          ("vote", {"b": 5.0}, 13)])
def test_weighted_ensemble(combine: str, weights: dict | None, expected: Any) -> None:
    ens: dict[str, Any] = {"kind": "ensemble", "combine": combine}
    if weights:
        ens["weights"] = weights
    nodes = {"src": {"kind": "source"}, "a": {"impl": noop}, "b": {"impl": noop}, "ens": ens,
             "out": {"kind": "sink"}}
    doc = make_earg(nodes, ["src -> a", "src -> b", "a -> ens", "b -> ens", "ens -> out"])
    out = Sim(walker(doc), {"a": lambda x: x + 1, "b": lambda x: x + 3}).run(10)
    assert isinstance(out, Complete) and out.value == pytest.approx(expected)


def test_ensemble_that_cannot_combine_fails_at_the_ensemble() -> None:
    nodes = {"src": {"kind": "source"}, "a": {"impl": noop}, "b": {"impl": noop},
             "ens": {"kind": "ensemble", "combine": "mean"}, "out": {"kind": "sink"}}
    doc = make_earg(nodes, ["src -> a", "src -> b", "a -> ens", "b -> ens", "ens -> out"])
    w = walker(doc)
    out = Sim(w, {"a": lambda x: [1, 2], "b": lambda x: [1]}).run(0)
    assert isinstance(out, Fail) and isinstance(out.error, NodeError) and out.error.node == "ens"
    assert str(out.error) == ("ensemble 'ens' could not combine its inputs: ValueError('mean expects "
                              "equal-length lists, got lengths [2, 1]')")
    assert w.stats["ens"].errors == {"error": 1}


def _switch(catch_all: bool = False) -> dict:
    nodes = {"src": {"kind": "source"}, "gate": {"kind": "switch", "impl": noop},
             "big": {"impl": noop}, "small": {"impl": noop}, "out": {"kind": "sink"}}
    edges = [("gate", "big", {"when": "big"}), ("gate", "small", {"when": "*" if catch_all else "small"}),
             "src -> gate", "big -> out", "small -> out"]
    return make_earg(nodes, edges)


def test_switch_routes_the_payload_by_its_key() -> None:
    w = walker(_switch())
    walk = Walk(0, 0.0)
    (gate,) = w.start(walk, "src", 500, 0.0)
    acts = w.produced(gate, "big", 0.0)
    assert [(type(a), a.node, a.payload) for a in acts] == [(Enqueue, "big", 500)], \
        "the switch passes its input on, not its key; the sink waits for no skipped branch"
    assert isinstance(w.produced(acts[0], "big:500", 0.0)[0], Complete)


def test_switch_without_a_matching_edge_fails_with_its_edges() -> None:
    w = walker(_switch())
    out = Sim(w, {"gate": lambda x: "neg"}).run(-1)
    assert isinstance(out, Fail) and isinstance(out.error, RouteError)
    assert str(out.error) == "switch 'gate' answered 'neg', which matches none of its edges ['big', 'small']"
    assert out.error.node == "gate" and w.stats["gate"].errors == {"route": 1}
    out = Sim(walker(_switch(catch_all=True)), {"gate": lambda x: "neg", "small": lambda x: f"s{x}"}).run(-1)
    assert isinstance(out, Complete) and out.value == "s-1"


def test_split_arms_follow_the_injected_rng() -> None:
    nodes = {"src": {"kind": "source"}, "split": {"kind": "split"}, "a": {"impl": noop},
             "b": {"impl": noop}, "out": {"kind": "sink"}}
    doc = make_earg(nodes, [("split", "a", {"weight": 0.8}), ("split", "b", {"weight": 0.2}),
                            "src -> split", "a -> out", "b -> out"])
    w = walker(doc, rng=FixedRandom([0.79, 0.81, 0.0, 0.99]))
    impls = {"a": lambda x: "a", "b": lambda x: "b"}
    assert [Sim(w, impls).run(i).value for i in range(4)] == ["a", "b", "a", "b"]


def test_split_choice_and_skips_are_events() -> None:
    nodes = {"src": {"kind": "source"}, "split": {"kind": "split"}, "a": {"impl": noop},
             "b": {"impl": noop}, "out": {"kind": "sink"}}
    doc = make_earg(nodes, [("split", "a", {"weight": 0.5}), ("split", "b", {"weight": 0.5}),
                            "src -> split", "a -> out", "b -> out"])
    w = walker(doc, rng=FixedRandom([0.9]))
    seen: list[WalkEvent] = []
    sub = w.hub.subscribe(seen.append)
    Sim(w, {"b": lambda x: "b"}).run(0)
    sub.drain()
    assert [(e.kind, e.node, e.choice) for e in seen] == [
        ("started", "src", None), ("routed", "split", "b"), ("skipped", "a", None),
        ("enqueued", "b", None), ("attempt", "b", None), ("completed", None, None)]


def test_several_sources_skip_the_others() -> None:
    nodes = {"s1": {"kind": "source"}, "s2": {"kind": "source"}, "f": {"impl": noop},
             "g": {"impl": noop}, "j": {"kind": "ensemble", "combine": "concat"}, "out": {"kind": "sink"}}
    doc = make_earg(nodes, ["s1 -> f", "s2 -> g", "f -> j", "g -> j", "j -> out"])
    w = walker(doc)
    out = Sim(w, {"f": lambda x: x * 2, "g": lambda x: x * 3}).run(4, source="s2")
    assert isinstance(out, Complete) and out.value == [12], "the ensemble gets g's input only"
    assert w.stats["s1"].requests == 0 and w.stats["s2"].requests == 1


def test_a_request_no_branch_brings_to_the_response_sink_fails() -> None:
    nodes = {"src": {"kind": "source"}, "gate": {"kind": "switch", "impl": noop},
             "keep": {"impl": noop}, "log": {"impl": noop}, "side": {"kind": "sink"},
             "out": {"kind": "sink", "response": True}}
    doc = make_earg(nodes, [("gate", "keep", {"when": "keep"}), ("gate", "log", {"when": "log"}),
                            "src -> gate", "keep -> out", "log -> side"], response="out")
    sim = Sim(walker(doc), {"gate": lambda x: x, "log": lambda x: x, "keep": lambda x: x})
    out = sim.run("log")
    assert isinstance(out, Fail) and isinstance(out.error, RouteError) and out.error.node == "out"
    assert str(out.error) == "no branch reached the response sink 'out' for this request"
    assert sim.side == [("side", "log")], "the branch taken still runs to its side sink"
    assert isinstance(sim.run("keep"), Complete)


# -- one node alone ---------------------------------------------------------------------------
def test_a_request_started_at_a_worker_runs_that_node_alone() -> None:
    w = walker(chain(noop, noop, noop))
    seen: list[WalkEvent] = []
    sub = w.hub.subscribe(seen.append)
    walk = Walk(4, 0.0)
    (job,) = w.start(walk, "n1", 10, 0.0)
    assert (type(job), job.node, job.payload, job.entry, job.src) == (Enqueue, "n1", 10, True, None)
    (done,) = w.produced(job, 11, 0.2)
    assert isinstance(done, Complete) and done.value == 11 and done.walk is walk and walk.alone
    sub.drain()
    assert [(e.kind, e.node) for e in seen] == [("started", "n1"), ("enqueued", "n1"), ("attempt", "n1"),
                                                 ("completed", None)]
    assert w.graph_stats.requests == 1 and w.graph_stats.ok == 1
    assert w.stats["n0"].requests == 0 and w.stats["src"].requests == 0 and w.stats["out"].done == 0
    sub.close()
    (job,) = w.start(Walk(5, 0.0), "n0", 1, 0.0)  # nobody subscribed: the chain's shortcut is not taken
    assert [type(a) for a in w.produced(job, 2, 0.0)] == [Complete]


def test_a_node_alone_keeps_its_retries_and_fails_even_off_the_response_path() -> None:
    nodes = {"src": {"kind": "source"}, "f": {"impl": noop}, "log": {"impl": noop, "retries": 1},
             "side": {"kind": "sink"}, "out": {"kind": "sink", "response": True}}
    doc = make_earg(nodes, ["src -> f", "src -> log", "f -> out", "log -> side"], response="out")
    w = walker(doc, rng=FixedRandom([0.5] * 4))
    walk = Walk(0, 0.0)
    (job,) = w.start(walk, "log", 3, 0.0)
    (retry,) = w.failed(job, "crash", 0.0)
    assert isinstance(retry, Retry) and job.attempt == 1
    (fail,) = w.failed(job, "crash", 0.01)
    assert isinstance(fail, Fail) and isinstance(fail.error, ReplicaCrashError) and walk.finished
    assert str(fail.error) == "node 'log': the replica crashed after 2 attempts (retries = 1)"
    ws = walker(_switch())
    (gate,) = ws.start(Walk(1, 0.0), "gate", 500, 0.0)
    (done,) = ws.produced(gate, "big", 0.0)
    assert isinstance(done, Complete) and done.value == "big", "a switch alone answers its key"


# -- retries ----------------------------------------------------------------------------------
def _one(**attrs: Any) -> Walker:
    return walker(chain(noop, **attrs), rng=FixedRandom([0.5] * 10))


def test_crash_is_retried_with_backoff_then_fails_with_its_count() -> None:
    w = _one(retries=2)
    walk = Walk(0, 0.0)
    (job,) = w.start(walk, "src", 1, 0.0)
    (retry,) = w.failed(job, "crash", 0.0)
    assert isinstance(retry, Retry) and retry.job is job and job.attempt == 1
    assert retry.delay == pytest.approx(0.005), "the first backoff, jitter at its middle"
    (retry,) = w.failed(job, "crash", 0.01)
    assert retry.delay == pytest.approx(0.010) and job.attempt == 2
    (fail,) = w.failed(job, "crash", 0.03)
    assert isinstance(fail, Fail) and isinstance(fail.error, ReplicaCrashError)
    assert str(fail.error) == "node 'n0': the replica crashed after 3 attempts (retries = 2)"
    assert w.stats["n0"].errors == {"crash": 1} and w.graph_stats.errors == {"crash": 1}


def test_jitter_spans_half_to_one_and_a_half_and_is_capped() -> None:
    w = walker(chain(noop, retries=20), rng=FixedRandom([0.0, 1.0] + [1.0] * 20))
    (job,) = w.start(Walk(0, 0.0), "src", 1, 0.0)
    delays = [w.failed(job, "timeout", 0.0)[0].delay for _ in range(12)]
    assert delays[:2] == [pytest.approx(0.0025), pytest.approx(0.0150)]
    assert delays[-1] == pytest.approx(1.5), "capped at 1 s before the jitter"


def test_timeout_message() -> None:
    out = Sim(_one(retries=1, timeout_ms=250.0), {"n0": raising("timeout")}).run(1)
    assert isinstance(out.error, RequestTimeoutError)
    assert str(out.error) == "node 'n0' did not answer within its timeout of 250 ms after 2 attempts (retries = 1)"


def test_impl_error_is_retried_only_with_retry_errors() -> None:
    exc = ValueError("bad")
    out = Sim(_one(retries=2), {"n0": raising("error", exc)}).run(1)
    assert isinstance(out.error, NodeError) and out.error.__cause__ is exc
    assert str(out.error) == ("node 'n0' raised ValueError('bad') after 1 attempt "
                              "(an impl's exception is retried only with retry_errors)")
    sim = Sim(_one(retries=2, retry_errors=True), {"n0": raising("error", exc)})
    out = sim.run(1)
    assert str(out.error) == "node 'n0' raised ValueError('bad') after 3 attempts (retries = 2)"
    assert sum(isinstance(a, Retry) for a in sim.log) == 2
    out = Sim(_one(), {"n0": raising("error", exc)}).run(1)
    assert str(out.error) == "node 'n0' raised ValueError('bad') after 1 attempt (retries = 0)"


@pytest.mark.parametrize("exc", [InvalidInputError("expected 3 features, got 2"),
                                 ModelInputError("expected 3 features, got 2")])
def test_rejected_input_is_never_retried(exc: Exception) -> None:
    sim = Sim(_one(retries=3, retry_errors=True), {"n0": raising("error", exc)})
    out = sim.run([1, 2])
    assert not any(isinstance(a, Retry) for a in sim.log)
    assert isinstance(out.error, InvalidInputError) and out.error.cause == "invalid_input"
    assert str(out.error) == "node 'n0' rejected the input: expected 3 features, got 2"
    assert out.error.__cause__ is exc


def test_a_retry_that_cannot_start_before_the_deadline_is_not_made() -> None:
    w = _one(retries=3)
    walk = Walk(0, 0.0, deadline=0.004)
    (job,) = w.start(walk, "src", 1, 0.0)
    (fail,) = w.failed(job, "crash", 0.0)
    assert str(fail.error) == ("node 'n0': the replica crashed after 1 attempt (retries = 3, "
                               "no time left for a retry before the request's deadline)")


def test_deadline_passed_fails_once_and_not_after_completion() -> None:
    w = _one()
    walk = Walk(0, 0.0, deadline=2.0, timeout=2.0)
    (job,) = w.start(walk, "src", 1, 0.0)
    (fail,) = w.deadline_passed(walk, 2.0)
    assert isinstance(fail.error, RequestTimeoutError)
    assert str(fail.error) == "no result within the caller's timeout of 2 s (the request's deadline)"
    assert w.produced(job, 1, 2.5) == [], "a late result completes nothing"
    assert w.failed(job, "crash", 2.5) == [], "and a failed request is not retried"
    done = Walk(1, 0.0)
    (job,) = w.start(done, "src", 1, 0.0)
    w.produced(job, 1, 0.1)
    assert w.deadline_passed(done, 3.0) == []
    assert str(w.deadline_passed(Walk(2, 0.0, 1.0), 1.0)[0].error) == "no result within the request's deadline"


def test_work_dropped_late_and_refused_work() -> None:
    w = _one(retries=3)
    (job,) = w.start(Walk(0, 0.0), "src", 1, 0.0)
    (fail,) = w.failed(job, "late", 5.0)
    assert str(fail.error) == ("node 'n0' dropped the request before running it: its deadline passed "
                               "while it waited")
    (job,) = w.start(Walk(1, 0.0), "src", 1, 0.0)
    (fail,) = w.refused(job, UnavailableError("node 'n0' has no live replica", "n0"), 0.0)
    assert fail.error.cause == "unavailable" and w.stats["n0"].errors == {"timeout": 1, "unavailable": 1}


def test_a_stopping_node_takes_no_retry() -> None:
    w = _one(retries=3)
    (job,) = w.start(Walk(0, 0.0), "src", 1, 0.0)
    (fail,) = w.failed(job, "crash", 0.0, may_retry=False)
    assert str(fail.error) == "node 'n0': the replica crashed after 1 attempt (retries = 3)"


def test_a_failure_off_the_response_path_fails_no_request() -> None:
    nodes = {"src": {"kind": "source"}, "f": {"impl": noop}, "log": {"impl": noop},
             "side": {"kind": "sink"}, "out": {"kind": "sink", "response": True}}
    doc = make_earg(nodes, ["src -> f", "src -> log", "f -> out", "log -> side"], response="out")
    w = walker(doc)
    out = Sim(w, {"f": lambda x: x, "log": raising("crash")}).run(3)
    assert isinstance(out, Complete) and out.value == 3
    assert w.stats["log"].errors == {"crash": 1} and w.graph_stats.errors == {}


def test_ray_policy_gives_crashes_serves_replacement_time() -> None:
    w = walker(chain(noop), rng=FixedRandom([]), policy=RAY_POLICY)
    (job,) = w.start(Walk(0, 0.0), "src", 1, 0.0)
    delays = [w.failed(job, "crash", 0.0)[0].delay for _ in range(6)]
    assert delays == [0.05, 0.1, 0.2, 0.4, 0.8, 1.0]
    (fail,) = w.failed(job, "crash", 0.0)
    assert str(fail.error) == "node 'n0': the replica crashed after 7 attempts (retries = 0)"


# -- observers ---------------------------------------------------------------------------------
def test_lifecycle_events_of_a_retried_request() -> None:
    w = _one(retries=1)
    seen: list[WalkEvent] = []
    sub = w.hub.subscribe(seen.append)
    calls = iter([Outcome("crash"), 5])

    def flaky(_x: Any) -> Any:
        v = next(calls)
        if isinstance(v, Outcome):
            raise v
        return v

    Sim(w, {"n0": flaky}).run(1, rid=3)
    assert sub.drain() == 6
    assert [(e.kind, e.node, e.attempt, e.outcome) for e in seen] == [
        ("started", "src", 0, ""), ("enqueued", "n0", 0, ""), ("attempt", "n0", 0, "crash"),
        ("retry", "n0", 1, "crash"), ("attempt", "n0", 1, "ok"), ("completed", None, 0, "")]
    assert {e.request for e in seen} == {3}
    assert sub.delivered == 6


def test_a_full_or_failing_observer_loses_events_not_requests() -> None:
    w = _one()
    slow = w.hub.subscribe(lambda e: None, maxsize=2)
    broken = w.hub.subscribe(lambda e: 1 / 0)
    for i in range(10):
        assert isinstance(Sim(w, {"n0": noop}).run(i, rid=i), Complete)
    assert slow.pending == 2 and slow.dropped == 10 * 4 - 2
    broken.drain()
    assert broken.failed == 40 and broken.delivered == 0
    slow.close()
    broken.close()
    assert not w.hub.active


def test_nobody_subscribed_publishes_nothing() -> None:
    w = _one()
    assert not w.hub.active
    sub = w.hub.subscribe(lambda e: None)
    sub.close()
    Sim(w, {"n0": noop}).run(1)
    assert sub.pending == 0 and sub.delivered == 0


def test_a_drain_thread_delivers_and_ends_on_close() -> None:
    from hogar_nb.runtime.observer_thread import drain_in_thread

    w = _one()
    seen: list[str] = []
    sub = w.hub.subscribe(lambda e: seen.append(e.kind))
    thread = drain_in_thread(sub, interval=0.001)
    Sim(w, {"n0": noop}).run(1)
    sub.close()
    thread.join(5.0)
    assert seen == ["started", "enqueued", "attempt", "completed"]
    assert not thread.is_alive()


def test_a_capture_keeps_each_answer_of_its_node_and_counts_what_overflowed() -> None:
    w = walker(chain(noop, noop, retries=1), rng=FixedRandom([0.5] * 4), wall_offset=1000.0)
    cap = w.capture(["n1"], maxsize=5)
    calls = iter([Outcome("crash"), "b0"])

    def flaky(_x: Any) -> Any:  # n1's first attempt of the first request fails
        v = next(calls, None)
        if isinstance(v, Outcome):
            raise v
        return ("n1", _x) if v is None else v

    sim = Sim(w, {"n0": lambda x: x * 10, "n1": flaky})
    for i in range(7):
        assert isinstance(sim.run(i, rid=i), Complete)
    got = [Captured._make(t) for t in cap.take()]
    assert [(c.node, c.payload, c.value, c.shadow) for c in got] == [
        ("n1", 0, "b0", False), ("n1", 10, ("n1", 10), False), ("n1", 20, ("n1", 20), False),
        ("n1", 30, ("n1", 30), False), ("n1", 40, ("n1", 40), False)]
    assert all(c.context is None and c.time >= 1000.0 for c in got)  # epoch seconds, as events'
    assert cap.dropped == 2 and cap.take() == []
    assert not w.hub.active  # no event was made for it
    w.end_capture(cap)
    sim.run(8, rid=8)
    assert cap.pending == 0 and cap.dropped == 2 and cap.closed
    with pytest.raises(ValueError, match="expected worker nodes"):
        w.capture(["src"])
    again = w.capture(["n0", "n1"])
    with pytest.raises(ValueError, match=r"nodes \['n1'\] are captured already"):
        w.capture(["n1"])
    w.end_capture(again)


# -- the circuit breaker ----------------------------------------------------------------------
def test_replica_failures_restart_with_backoff_then_suspend_the_node() -> None:
    w = walker(chain(noop, noop, recovery={"policy": "restart", "max_restarts": 2, "within_ms": 10_000.0,
                                           "backoff_ms": 100.0}))
    assert [(t.action, t.delay) for t in (w.replica_failed("n1", 0.0), w.replica_failed("n1", 1.0))] == [
        ("restart", 0.0), ("restart", 0.1)]  # the first at once, then the backoff
    t = w.replica_failed("n1", 2.0, "crash")
    assert (t.action, t.delay, t.detail) == (
        "suspend", 0.4, "2 restarts within 10 s with no request served; next try in 0.4 s")
    assert w.suspended == {"n1"} and w.breakers["n1"].state == "suspended"
    # a request fails at the suspended node at once, counted there; n0 still ran it
    sim = Sim(w, {"n0": noop, "n1": noop})
    sim.now = 2.1
    fail = sim.run(5)
    assert isinstance(fail, Fail) and isinstance(fail.error, UnavailableError)
    assert (fail.error.cause, fail.error.node) == ("unavailable", "n1")
    assert str(fail.error) == ("node 'n1' is suspended: its replicas kept failing with no request served "
                               "(2 restarts within 10 s); it is tried again in 0.30 s")
    assert w.stats["n1"].errors == {"unavailable": 1}
    assert [a.node for a in sim.log if isinstance(a, Enqueue)] == ["n0"]
    assert w.unavailable("n1", 2.1) is not None and w.unavailable("n0", 2.1) is None


def test_half_open_lets_traffic_in_and_a_served_call_resumes() -> None:
    w = walker(chain(noop, recovery={"policy": "restart", "max_restarts": 0, "backoff_ms": 100.0}))
    assert w.replica_failed("n0", 0.0).action == "suspend"  # max = 0: the first failure suspends
    assert w.served("n0", 0.05) is None and w.breakers["n0"].state == "suspended"  # a late answer
    t = w.half_open("n0", 0.1)
    assert (t.action, t.duration) == ("half_open", 0.1) and w.suspended == set()
    assert w.half_open("n0", 0.2) is None  # once
    assert Sim(w, {"n0": noop}).run(3).value == 3
    resumed = w.served("n0", 0.3)
    assert (resumed.action, resumed.detail) == ("resume", "a request was served again")
    assert resumed.duration == pytest.approx(0.3)
    assert w.breakers["n0"].state == "serving" and w.served("n0", 0.4) is None


def test_a_failed_half_open_try_suspends_again_for_twice_as_long() -> None:
    w = walker(chain(noop, recovery={"policy": "restart", "max_restarts": 0, "backoff_ms": 100.0}))
    first = w.replica_failed("n0", 0.0)
    w.half_open("n0", first.delay)
    again = w.replica_failed("n0", 0.2, "crash", "exit code 1")
    assert again.action == "suspend" and again.delay == 2 * first.delay
    assert again.detail.startswith("the half-open try failed (exit code 1)")
    assert w.suspended == {"n0"}
