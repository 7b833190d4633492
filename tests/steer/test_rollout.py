"""Rollouts on the embedded engine: a candidate that behaves reaches 100% step by step; one
that starts failing is rolled back within a gate interval, with its cause. Every request
is answered once, whatever the weights were when it came."""

from __future__ import annotations

import threading
import time

import pytest

import hogar_nb
from hogar_nb.steer import RolloutError

from .conftest import wait_for

GRAPH = """graph canary
source s
split c
python stable { impl = "tests.steer.impls:primary", replicas = 2 }
python cand   { impl = "tests.steer.impls:primary", replicas = 2 }
sink out
s -> c
c -> stable { weight = 100% }
c -> cand   { weight = 0% }
stable -> out
cand -> out
"""
# a latency gate loose enough for a busy test machine; the error gate as by default
FAST = {"steps": [0.05, 0.25, 0.5, 1.0], "step_time": 0.5, "step_requests": 20, "gate_interval": 0.5,
        "max_p99_ratio": 20.0}


class Traffic:
    """Requests from a thread until stopped; every outcome kept in order."""

    def __init__(self, dep) -> None:
        self.outcomes: list = []
        self.stop = threading.Event()

        def payloads():
            i = 0
            while not self.stop.is_set():
                yield i
                i += 1

        self.thread = threading.Thread(target=lambda: self.outcomes.extend(
            dep.map(payloads(), concurrency=16, progress=False)))
        self.thread.start()

    def end(self) -> list:
        self.stop.set()
        self.thread.join(30)
        return self.outcomes


def test_a_rollout_that_passes_every_gate_ends_at_100_percent(no_leaks):
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH)) as dep:
        traffic = Traffic(dep)
        rollout = dep.rollout("c", candidate="cand", **FAST)
        wait_for(lambda: rollout.done, 60.0, "the rollout to finish")
        outcomes = traffic.end()
        assert rollout.state == "promoted" and rollout.weight == 1.0 and rollout.cause is None
        assert [m.weight for m in rollout.moves] == [0.05, 0.25, 0.5, 1.0, 1.0]
        assert outcomes == [2 * i for i in range(len(outcomes))], "each request answered once, in order"
        moved = [e for e in dep.events if e.node == "c"]
        assert [e.cause for e in moved] == ["rollout"] * 4
        assert moved[-1].detail.startswith("weights {cand: 50%, stable: 50%} -> {cand: 100%, stable: 0%}: step 4/4")
        assert {e["dst"]: e["weight"] for e in dep.earg["edges"] if e["src"] == "c"} == \
            {"cand": 1.0, "stable": 0.0}
        assert rollout.status()["state"] == "promoted"


def test_a_candidate_that_starts_failing_is_rolled_back_within_a_gate_interval(no_leaks):
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH)) as dep:
        traffic = Traffic(dep)
        rollout = dep.rollout("c", candidate="cand", **{**FAST, "step_time": 5.0})
        wait_for(lambda: rollout.step == 1, 30.0, "the second step")
        broke = time.time()
        dep.inject_fault("cand", "error", rate=1.0)
        wait_for(lambda: rollout.done, 30.0, "the rollback")
        took = rollout.moves[-1].time - broke
        mark = len(traffic.outcomes)
        wait_for(lambda: len(traffic.outcomes) > mark + 200, what="traffic after the rollback")
        outcomes = traffic.end()
        assert rollout.state == "rolled_back" and rollout.weight == 0.0
        assert "the candidate's error rate" in rollout.cause and "above the stable arm's 0.0%" in rollout.cause
        # at worst a gate checked just before the first failure reached the watch, and the
        # next one, a full interval later, rolls back; events reach the watch on a thread of
        # their own, so a busy machine adds its lag (well within the 5 s the step holds)
        assert took <= 2 * FAST["gate_interval"] + 1.0, f"rolled back {took:.2f} s after the candidate broke"
        assert [m.weight for m in rollout.moves] == [0.05, 0.25, 0.0], "rolled back during the step it broke in"
        back = [e for e in dep.events if e.node == "c"][-1]
        assert back.cause == "rollout" and "rolled back at 25%: the candidate's error rate" in back.detail
        failed = [o for o in outcomes if isinstance(o, Exception)]
        assert all(getattr(o, "node", None) == "cand" for o in failed), "only the candidate's requests failed"
        assert all(o == 2 * i for i, o in enumerate(outcomes) if not isinstance(o, Exception))
        assert not any(isinstance(o, Exception) for o in outcomes[-100:]), "after the rollback nothing fails"
        m = dep.metrics()
        assert m.graph.ok + m.graph.errors == len(outcomes), "no request lost"


def test_rollout_actions_and_refusals(no_leaks):
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH)) as dep:
        with pytest.raises(RolloutError, match="is not a successor of split 'c'"):
            dep.rollout("c", candidate="nope")
        with pytest.raises(RolloutError, match="'stable' is not a split"):
            dep.rollout("stable", candidate="cand")
        with pytest.raises(RolloutError, match="expected rising shares"):
            dep.rollout("c", candidate="cand", steps=[0.5, 0.2])
        with pytest.raises(RolloutError, match="no rollout at split 'c'"):
            dep.rollout("c", "pause")
        r = dep.rollout("c", candidate="cand", step_time=60.0)
        assert r.weight == 0.05
        dep.rollout("c", "pause")
        with pytest.raises(RolloutError, match="already rolls out 'cand' \\(paused\\)"):
            dep.rollout("c", candidate="cand")
        dep.rollout("c", "resume")
        dep.rollout("c", "promote")
        assert dep.rollout("c", "status").state == "promoted" and r.weight == 1.0
        with pytest.raises(RolloutError, match="is promoted; this needs it running or paused"):
            dep.rollout("c", "abort")
        r2 = dep.rollout("c", candidate="stable", step_time=60.0)  # back the other way
        r2.abort()
        assert r2.state == "aborted" and dep.call(3) == 6
        weights = {e["dst"]: e["weight"] for e in dep.earg["edges"] if e["src"] == "c"}
        assert weights == {"cand": 1.0, "stable": 0.0}


def test_a_candidate_that_slows_down_fails_the_latency_gate(no_leaks):
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH)) as dep:
        traffic = Traffic(dep)
        rollout = dep.rollout("c", candidate="cand", steps=[0.25, 1.0], step_time=60.0, gate_interval=1.0,
                              max_p99_ratio=3.0)
        wait_for(lambda: rollout.status()["moves"], 10.0, "the first step")
        dep.inject_fault("cand", "slow", rate=1.0, delay_ms=150.0)
        wait_for(lambda: rollout.done, 30.0, "the rollback")
        outcomes = traffic.end()
        assert rollout.state == "rolled_back" and rollout.weight == 0.0
        assert rollout.cause.startswith("the candidate's p99 latency") and "above 3x the stable arm's" in \
            rollout.cause
        assert outcomes == [2 * i for i in range(len(outcomes))], "slow, never wrong or lost"
