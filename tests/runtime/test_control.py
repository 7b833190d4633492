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
