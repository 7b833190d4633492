"""scale and reconfigure on a running graph: checked values, events, no request lost."""

from __future__ import annotations

import threading

import pytest

import hogar_nb
from hogar_nb.runtime.errors import ReconfigureError, UnknownNodeError

from .conftest import chain, wait_for
from .impls import double, double_one_or_batch


def test_scaling_and_reconfiguring_under_load_loses_no_request(no_leaks):
    doc = chain(double, double_one_or_batch, replicas=1)
    with hogar_nb.run(doc) as dep:
        results: list = []
        stop = threading.Event()

        def payloads():
            i = 0
            while not stop.is_set() or i < 2000:
                yield i
                i += 1

        def drive():
            results.extend(dep.map(payloads(), concurrency=256, progress=False))

        driver = threading.Thread(target=drive)
        driver.start()
        wait_for(lambda: len(results) > 500, what="traffic to flow")
        dep.scale("n0", 3)
        assert dep.metrics().node("n0").replicas_alive == 3
        dep.reconfigure("n1", batch=8, batch_wait="2ms", timeout="250ms", retries=2)
        dep.scale("n0", 1)
        wait_for(lambda: dep.metrics().node("n0").replicas_alive == 1, what="two replicas to leave")
        dep.reconfigure("n1", batch=1, batch_wait=0, timeout=1000, replicas=2)
        mark = len(results)
        wait_for(lambda: len(results) > mark + 500, what="traffic after the changes")
        stop.set()
        driver.join(30)
        assert results == [2 * 2 * i for i in range(len(results))], "every request answered, in order"
        assert len(results) >= 2000
        plan = dep._engine.workers["n1"].plan
        assert (plan.batch_size, plan.batch_wait, plan.timeout, plan.retries, plan.replicas) == \
            (1, 0.0, 1.0, 2, 2)
        node = dep.earg["nodes"][2]
        assert node["batch"] == {"max_size": 1, "max_wait_ms": 0.0} and node["timeout_ms"] == 1000.0
        changes = [(e.node, e.action, e.detail) for e in dep.events]
        assert ("n0", "scale", "replicas 1 -> 3") in changes
        assert ("n1", "reconfigure", "timeout 30s -> 250ms") in changes
        assert ("n0", "scale", "replicas 3 -> 1") in changes
        assert all(e.cause == "operator" and e.replica == -1 for e in dep.events)
    assert doc["nodes"][2]["timeout_ms"] == 30000.0, "the caller's document is not changed"


@pytest.mark.parametrize(("attrs", "attribute", "text"), [
    ({"replicas": 0}, "replicas", "expected an integer >= 1"),
    ({"timeout": "0ms"}, "timeout", "> 0ms"),
    ({"timeout": "fast"}, "timeout", "expected a duration"),
    ({"retries": 101}, "retries", "<= 100"),
    ({"batch": 2.5}, "batch", "expected an integer"),
    ({"cpu": 2}, "cpu", "cannot be changed while running"),
])
def test_bad_values_are_refused_before_anything_changes(no_leaks, attrs, attribute, text):
    with hogar_nb.run(chain(double, retries=1)) as dep:
        with pytest.raises(ReconfigureError, match=text) as info:
            dep.reconfigure("n0", **{"batch_wait": "1ms", **attrs})
        assert info.value.node == "n0" and info.value.attribute == attribute
        assert isinstance(info.value, hogar_nb.HogarError) and isinstance(info.value, ValueError)
        assert dep._engine.workers["n0"].plan.batch_wait == 0.0, "nothing changed"
        assert dep.events == []


def test_unknown_nodes_are_named(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        with pytest.raises(UnknownNodeError, match="'nope' is not a node with replicas") as info:
            dep.scale("nope", 2)
        assert isinstance(info.value, KeyError) and info.value.node == "nope"


def test_scale_flapping_under_a_storm_ends_at_the_last_count_and_loses_nothing(no_leaks):
    """Scale down then up again before the leaving replicas took their STOP, many
    times, under sustained load: the count settles where it was last asked, and
    every request is answered once."""
    doc = chain(double, double_one_or_batch, replicas=2)
    with hogar_nb.run(doc) as dep:
        results: list = []
        stop = threading.Event()

        def payloads():
            i = 0
            while not stop.is_set() or i < 4000:
                yield i
                i += 1

        driver = threading.Thread(target=lambda: results.extend(
            dep.map(payloads(), concurrency=128, progress=False)))
        driver.start()
        wait_for(lambda: len(results) > 200, what="traffic to flow")
        for n in [1, 4, 2, 5, 1, 3, 1, 6, 2, 4] * 3:
            dep.scale("n0", n, cause="autoscale", why="storm")
        wait_for(lambda: dep.metrics().node("n0").replicas_alive == 4, what="the last count")
        stop.set()
        driver.join(60)
        assert results == [4 * i for i in range(len(results))], "every request answered once, in order"
        worker = dep._engine.workers["n0"]
        assert worker.leaving == 0 and len(worker.replicas) == 4
        scaled = [e for e in dep.events if e.node == "n0"]
        assert len(scaled) == 30 and all(e.cause == "autoscale" and e.detail.endswith(": storm")
                                         for e in scaled)


SPLIT = """graph canary
source s
split c
python stable { impl = "tests.steer.impls:primary" }
python cand { impl = "tests.steer.impls:candidate" }
sink out
s -> c
c -> stable { weight = 100% }
c -> cand { weight = 0% }
stable -> out
cand -> out
"""


def test_a_splits_weights_move_under_load_and_every_request_is_answered_once(no_leaks):
    with hogar_nb.run(hogar_nb.parse_udgl(SPLIT)) as dep:
        routed: list = []
        sub = dep.subscribe(lambda e: routed.append(e.choice) if e.kind == "routed" else None)
        results: list = []
        stop = threading.Event()

        def payloads():
            i = 0
            while not stop.is_set() or i < 3000:
                yield 1 + 70 * i  # never a multiple of 7 or 10: both arms answer 2x
                i += 1

        driver = threading.Thread(target=lambda: results.extend(dep.map(payloads(), concurrency=64,
                                                                         progress=False)))
        driver.start()
        for share in ("5%", "25%", "50%", "100%", "0%", "50%"):
            dep.reconfigure("c", weights={"cand": share, "stable": 1 - float(share[:-1]) / 100},
                            cause="rollout", why="step")
            mark = len(results)
            wait_for(lambda: len(results) > mark + 200, what="traffic at this weight")
        stop.set()
        driver.join(30)
        assert results == [2 * (1 + 70 * i) for i in range(len(results))], "each answered once, in order"
        assert dep.metrics().graph.ok == len(results) and dep.metrics().graph.errors == 0
        wait_for(lambda: sub.pending == 0, what="events")
        sub.close()
        assert len(routed) == len(results) and {"stable", "cand"} == set(routed)
        weights = {e["dst"]: e["weight"] for e in dep.earg["edges"] if e["src"] == "c"}
        assert weights == {"stable": 0.5, "cand": 0.5}
        last = [e for e in dep.events if e.node == "c"][-1]
        assert (last.cause, last.action) == ("rollout", "reconfigure")
        assert last.detail == "weights {cand: 0%, stable: 100%} -> {cand: 50%, stable: 50%}: step"


@pytest.mark.parametrize("weights, message", [
    ({"cand": 0.5}, "no weight for ['stable']"),
    ({"cand": 0.5, "stable": 0.6}, "the weights sum to 110%, not 100%"),
    ({"cand": 0.5, "stable": 0.5, "other": 0}, "has no successor 'other'"),
    ({"cand": "lots", "stable": 0.5}, "expected a percentage"),
    ([0.5, 0.5], "weights are a mapping of its successors"),
])
def test_bad_split_weights_are_refused(no_leaks, weights, message):
    with hogar_nb.run(hogar_nb.parse_udgl(SPLIT)) as dep:
        with pytest.raises(ReconfigureError) as err:
            dep.reconfigure("c", weights=weights)
        assert message in str(err.value)
        with pytest.raises(ReconfigureError):
            dep.reconfigure("c", replicas=2)
        assert dep.call(1) == 2
