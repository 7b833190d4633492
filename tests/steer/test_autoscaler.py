"""The embedded autoscaler on a real engine: a 10x load step, steady load, load removed,
and a cluster budget shared out by the critical path. Every request is counted."""

from __future__ import annotations

import time

import hogar_nb
from hogar_nb.steer import Autoscaler

from .conftest import wait_for
from .load import Clients

UP_DELAY_S = 0.5
DOWN_DELAY_S = 2.0

GRAPH = f"""graph stepped
source src
python front {{ impl = "tests.steer.impls:quick" }}
python slow  {{ impl = "tests.steer.impls:slow", replicas = auto(min = 1, max = 8), target_ongoing = 2,
               scale_up_delay = {int(UP_DELAY_S * 1000)}ms, scale_down_delay = {int(DOWN_DELAY_S * 1000)}ms }}
sink out
src -> front -> slow -> out
"""


def replicas_events(dep):
    return [e for e in dep.events if e.node == "slow" and e.action == "scale"]


def test_a_load_step_scales_up_in_time_holds_steady_and_drains_down(no_leaks):
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH))
    clients = Clients(dep, lambda i: (i + 1) * 2)
    try:
        assert isinstance(dep.autoscaler, Autoscaler) and dep.autoscaler.running
        clients.set(2)  # one replica's worth: 2 in flight, target 2
        time.sleep(1.5)
        assert dep.metrics().node("slow").replicas == 1
        step = clients.set(16)  # 10x... and more: 16 in flight want 8 replicas
        wait_for(lambda: dep.metrics().node("slow").replicas == 8, 10.0, "8 replicas")
        reached = time.monotonic() - step
        # the event is written once every new replica is ready, a moment after they count
        wait_for(lambda: any("-> 8" in e.detail for e in replicas_events(dep)), 10.0, "the scale event")
        assert reached <= UP_DELAY_S + 1.0, f"8 replicas {reached:.2f} s after the step"
        ups = replicas_events(dep)
        assert ups[-1].cause == "autoscale" and ups[-1].detail.startswith("replicas ")
        assert "-> 8: " in ups[-1].detail and "target 2 per replica" in ups[-1].detail

        steady = len(replicas_events(dep))
        time.sleep(8.0)  # steady load: no change back and forth
        assert len(replicas_events(dep)) - steady <= 1
        assert dep.metrics().node("slow").replicas >= 7

        removed = clients.set(0)
        answered = clients.answered
        wait_for(lambda: dep.metrics().node("slow").replicas == 1, DOWN_DELAY_S + 10.0, "scale down")
        down = [e for e in replicas_events(dep) if e.time >= time.time() - (time.monotonic() - removed)]
        assert down and all(e.detail.endswith(f"for {DOWN_DELAY_S:g} s, target 2 per replica") for e in down)
        wait_for(lambda: dep.metrics().node("slow").replicas_alive == 1, 10.0, "leaving replicas to drain")
        assert clients.answered == answered == clients.sent, "every request sent was answered"
        assert clients.errors == [] and clients.wrong == []
    finally:
        clients.close()
        dep.stop()
    assert not dep.autoscaler.running


def test_scaling_down_under_load_drains_every_request(no_leaks):
    """A storm of up and down decisions while clients keep sending: none lost, none twice."""
    text = GRAPH.replace(f"scale_down_delay = {int(DOWN_DELAY_S * 1000)}ms", "scale_down_delay = 0ms") \
                .replace(f"scale_up_delay = {int(UP_DELAY_S * 1000)}ms", "scale_up_delay = 0ms")
    dep = hogar_nb.run(hogar_nb.parse_udgl(text))
    clients = Clients(dep, lambda i: (i + 1) * 2)
    try:
        for n in (12, 1, 16, 2, 10, 0, 14, 1) * 2:
            clients.set(n)
            time.sleep(0.4)
        clients.set(0)
        assert clients.errors == [] and clients.wrong == []
        assert clients.answered == clients.sent >= 500
        changes = replicas_events(dep)
        assert len(changes) >= 8 and {e.cause for e in changes} == {"autoscale"}
    finally:
        clients.close()
        dep.stop()


BUDGET = """graph budgeted
source src
python light { impl = "tests.steer.impls:quick", replicas = auto(min = 1, max = 6), scale_up_delay = 0ms }
python heavy { impl = "tests.steer.impls:slower", replicas = auto(min = 1, max = 6), scale_up_delay = 0ms }
ensemble both { combine = mean }
sink out
src -> [light, heavy] -> both -> out
cluster { workers = 1, cpu = 4 }
"""


def test_a_short_cluster_gives_the_critical_paths_bottleneck_its_replicas_first(no_leaks):
    dep = hogar_nb.run(hogar_nb.parse_udgl(BUDGET))
    clients = Clients(dep, lambda i: (i + 1 + i + 1) / 2)
    try:
        clients.set(12)
        wait_for(lambda: dep.metrics().node("heavy").replicas == 3, 10.0, "heavy to get the free cpus")
        time.sleep(1.0)
        m = dep.metrics()
        assert (m.node("heavy").replicas, m.node("light").replicas) == (3, 1)
        heavy = [e for e in dep.events if e.node == "heavy" and e.cause == "autoscale"]
        assert any("the cluster's cpu budget gave" in e.detail and "critical path first" in e.detail
                   for e in heavy)
    finally:
        clients.close()
        dep.stop()
    assert clients.errors == [] and clients.wrong == []
