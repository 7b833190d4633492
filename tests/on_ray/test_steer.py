"""Steering on Ray: replicas = auto(...) scaled by Serve's own autoscaler, configured from
the graph, up under load and back down once it is gone, no request lost; mirror edges
copying requests to a candidate whose answers are compared and never returned."""

from __future__ import annotations

import threading
import time

import hogar_nb
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
            return r.mirrored == 200 and r.answered + sum(r.errors.values()) == 200

        _wait(settled, 60.0, "every copy's outcome")
        r = shadow.report()
        assert r.errors == {"error": 50} and r.compared == 150
        assert r.agreement == 0.0, "the candidate echoes its input: it never agrees with double"
        assert dep.metrics().graph.errors == 0
        shadow.close()
    finally:
        dep.stop()
