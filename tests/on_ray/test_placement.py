"""Placement across a multi-machine Ray cluster on this host: two more raylets join the
session's head, each labelled as one of the graph's ``cluster`` workers; the replicas
land where the core placed them, and when one machine is killed its replicas move to a
machine with room while requests keep flowing, every one of them counted."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import warnings

import httpx

import hogar_nb
from hogar_nb.backends.ray.cluster import LocalRay
from hogar_nb.export.ray_placement import WORKER_LABEL

GRAPH = """\
graph placed
defaults { cpu = 0.25, timeout = 30s, retries = 3 }
cluster { workers = 2, cpu = 1 }
source s
python a { impl = "tests.on_ray.impls:double", replicas = 2 }
sink out
s -> a -> out
"""


def _wait(cond, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.25)


def test_replicas_land_as_placed_and_move_when_a_machine_dies(local_ray) -> None:
    machines = [LocalRay(join=local_ray.address, num_cpus=1, labels={WORKER_LABEL: f"worker-{i}"},
                         temp_dir=tempfile.mkdtemp(prefix=f"w{i}-", dir=os.environ["RAY_TMPDIR"]))
                for i in range(2)]
    dep = None
    try:
        starting = [threading.Thread(target=m.start) for m in machines]  # side by side: each takes a while
        for t in starting:
            t.start()
        for t in starting:
            t.join()
        assert all(m.process is not None and m.process.poll() is None for m in machines)
        graph = hogar_nb.parse_udgl(GRAPH)
        planned = graph.to_earg()["placement"]
        assert sorted([planned["a/0"], planned["a/1"]]) == ["worker-0", "worker-1"]  # spread
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            dep = hogar_nb.run(graph, backend="ray")
        assert any("hogar-worker=<worker>" in str(w.message) for w in caught)  # W704 says how machines are named
        spread = {"worker-0": 1, "worker-1": 1}
        _wait(lambda: all(p["running"] == spread for p in dep.placement().values()), 60, "replicas as placed")
        assert dep.placement() == {"a": {"planned": spread, "running": spread}}
        url = dep.serve_http()
        assert httpx.get(url + "/hogar/v1/placement", timeout=30).json() == {
            "nodes": {"a": {"planned": spread, "running": spread}}}

        stop = threading.Event()
        outcomes: list = []

        def client() -> None:
            i = 0
            while not stop.is_set():
                try:
                    outcomes.append(("ok", dep.call(i) == 2 * i))
                except Exception as exc:  # counted and named below
                    outcomes.append(("failed", f"{type(exc).__name__}: {exc}"))
                i += 1

        thread = threading.Thread(target=client)
        thread.start()
        _wait(lambda: len(outcomes) >= 50, 60, "traffic before the kill")
        machines[1].kill()  # worker-1 is lost with its replica
        moved = {"worker-0": 1}

        def recovered() -> bool:
            now = dep.placement()
            return all(sum(p["running"].values()) == 2 and "worker-1" not in p["running"]
                       and p["running"].get("worker-0") == 1 for p in now.values())

        _wait(recovered, 120, "the lost machine's replicas to run on a surviving machine")
        mark = len(outcomes)
        _wait(lambda: len(outcomes) >= mark + 100, 60, "traffic after the move")
        stop.set()
        thread.join(60)
        now = dep.placement()
        elsewhere = [m for m in now["a"]["running"] if m not in ("worker-0", "worker-1")]
        assert now["a"]["planned"] == spread and now["a"]["running"] == {**moved, elsewhere[0]: 1}
        failed = [o for o in outcomes if o[0] == "failed"]
        assert all(ok for kind, ok in outcomes if kind == "ok"), "an answer was wrong"
        assert outcomes[mark:] and all(kind == "ok" for kind, _ in outcomes[mark:]), failed[-5:]
        assert len(failed) <= 5, failed  # at most the calls in flight on the lost machine
        assert dep.call(20) == 40
    finally:
        if dep is not None:
            dep.stop()
        for machine in machines:
            machine.stop()
