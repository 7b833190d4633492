"""Steering on Ray: replicas = auto(...) scaled by Serve's own autoscaler, configured from
the graph, up under load and back down once it is gone, no request lost; mirror edges
copying requests to a candidate whose answers are compared and never returned."""

from __future__ import annotations

import threading
import time

import pytest

import hogar_nb
from hogar_nb.runtime.errors import ReconfigureError
from hogar_nb.steer import ShadowMonitor

AUTO = """\
graph autoscaled
defaults { cpu = 0.05, timeout = 30s }
source s
python slow { impl = "tests.on_ray.impls:snooze", replicas = auto(min = 1, max = 3), target_ongoing = 1,
              scale_up_delay = 500ms, scale_down_delay = 2s }
sink out
s -> slow -> out
"""


def _wait(cond, timeout: float, what: str) -> float:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.25)
    return time.monotonic() - t0


def test_serve_scales_an_auto_node_up_and_down(local_ray) -> None:
    dep = hogar_nb.run(hogar_nb.parse_udgl(AUTO), backend="ray")
    stop = threading.Event()
    outcomes: list = []

    def client() -> None:
        while not stop.is_set():
            try:
                outcomes.append(dep.call(0.2))
            except Exception as exc:  # noqa: BLE001 - counted below
                outcomes.append(exc)

    try:
        assert dep.metrics().node("slow").replicas_alive == 1
        assert dep.autoscaler is None, "on Ray, Serve's autoscaler scales, not the embedded one"
        with pytest.raises(ReconfigureError, match="Serve's autoscaler sets its replicas"):
            dep.scale("slow", 2)
        clients = [threading.Thread(target=client) for _ in range(6)]
        for t in clients:
            t.start()
        _wait(lambda: dep.metrics().node("slow").replicas_alive >= 2, 90.0, "Serve to scale up")
        stop.set()
        for t in clients:
            t.join(60)
        _wait(lambda: dep.metrics().node("slow").replicas_alive == 1, 90.0, "Serve to scale down")
    finally:
        stop.set()
        dep.stop()
    assert len(outcomes) > 10 and all(r == 0.2 for r in outcomes), \
        [r for r in outcomes if r != 0.2][:3]


SHADOW = """\
graph shadowed
defaults { cpu = 0.05, timeout = 30s }
source s
python v1 { impl = "tests.on_ray.impls:double" }
python v2 { impl = "tests.on_ray.impls:fail_on_negative" }
sink out
s -> v1 -> out
s -> v2 { mirror = 100% }
"""


def test_mirror_edges_on_ray_compare_and_never_answer(local_ray) -> None:
    dep = hogar_nb.run(hogar_nb.parse_udgl(SHADOW), backend="ray")
    try:
        shadow = ShadowMonitor(dep)
        payloads = [i if i % 4 else -i - 1 for i in range(200)]  # every fourth fails in the candidate
        results = list(dep.map(payloads, concurrency=16, progress=False))
        assert results == [2 * p for p in payloads], "every response is the primary's"

        def settled() -> bool:
            r = shadow.report()
            # both sides of every pair: a primary's answer may be observed after its copy's
            return r.mirrored == 200 and r.compared + r.primary_errors + sum(r.errors.values()) == 200

        _wait(settled, 60.0, "every pair's outcome")
        r = shadow.report()
        assert r.errors == {"error": 50} and r.compared == 150
        assert r.agreement == 0.0, "the candidate echoes its input: it never agrees with double"
        assert dep.metrics().graph.errors == 0
        shadow.close()
    finally:
        dep.stop()


CANARY = """\
graph canary
defaults { cpu = 0.05, timeout = 30s }
source s
split c
python stable { impl = "tests.on_ray.impls:double" }
python cand   { impl = "tests.on_ray.impls:double" }
sink out
s -> c
c -> stable { weight = 100% }
c -> cand   { weight = 0% }
stable -> out
cand -> out
"""


def test_a_rollout_on_ray_moves_the_ingress_weights_and_answers_each_request_once(local_ray) -> None:
    dep = hogar_nb.run(hogar_nb.parse_udgl(CANARY), backend="ray")
    stop = threading.Event()
    outcomes: list = []

    def client() -> None:
        i = 0
        while not stop.is_set():
            try:
                outcomes.append((i, dep.call(i)))
            except Exception as exc:  # noqa: BLE001 - counted below
                outcomes.append((i, exc))
            i += 1

    t = threading.Thread(target=client)
    t.start()
    try:
        rollout = dep.rollout("c", candidate="cand", steps=[0.1, 0.5, 1.0], step_time=1.0, step_requests=5,
                              gate_interval=0.5, max_p99_ratio=50.0)
        _wait(lambda: rollout.done, 120.0, "the rollout to finish")
        mark = len(outcomes)
        _wait(lambda: len(outcomes) > mark + 20, 60.0, "traffic at 100%")
        stop.set()
        t.join(60)
        ok = dep.metrics().graph.ok
    finally:
        stop.set()
        t.join(60)
        dep.stop()
    assert rollout.state == "promoted", rollout.status()
    assert outcomes and all(out == 2 * i for i, out in outcomes), [o for o in outcomes if o[1] != 2 * o[0]][:3]
    assert ok == len(outcomes), "every request answered once"
