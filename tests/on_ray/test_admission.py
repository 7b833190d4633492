"""The ingress places at most a node's capacity of calls at its handle and keeps the
rest in its own first-come queue, bounded like the node's queue (`admission.py`)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

import hogar_nb
from hogar_nb.runtime.errors import OverloadError

SLOW = """\
graph slow
defaults { cpu = 0.05, timeout = 60s }
source s
python nap { impl = "tests.on_ray.impls:snooze" }
sink out
s -> nap -> out
"""

TIGHT_QUEUE = """\
graph tight_queue
defaults { cpu = 0.05, timeout = 60s }
source s
python nap { impl = "tests.on_ray.impls:snooze", max_queue = 4 }
sink out
s -> nap -> out
"""


@pytest.fixture(scope="module")
def slow(local_ray):
    dep = hogar_nb.run(hogar_nb.parse_udgl(SLOW), backend="ray")
    yield dep
    dep.stop()


def _burst(dep, payloads: list) -> list:
    """Every payload sent at once from one loop; each request's value or error."""
    async def main() -> list:
        return await asyncio.gather(*(dep.acall(p) for p in payloads), return_exceptions=True)

    return asyncio.run(main())


def test_a_burst_waits_at_the_ingress_and_every_request_is_answered(slow) -> None:
    seen: list[dict] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(slow._report()["admission"]["nap"])
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        for _ in range(3):  # bursts back to back: the gate ends each one empty
            out = _burst(slow, [0.02] * 300)
            assert out == [0.02] * 300
    finally:
        stop.set()
        watcher.join()
    limit = seen[0]["limit"]
    assert limit == 8  # max_ongoing_requests (8) x one replica
    assert max(s["held"] for s in seen) <= limit
    assert max(s["waiting"] for s in seen) > 0  # the burst waited at the ingress, not at Serve's router
    after = slow._report()["admission"]["nap"]
    assert (after["held"], after["waiting"]) == (0, 0)


def test_scaling_a_node_widens_its_gate(slow) -> None:
    slow.scale("nap", 2)
    try:
        assert slow._report()["admission"]["nap"]["limit"] == 16
        assert _burst(slow, [0.01] * 100) == [0.01] * 100
    finally:
        slow.scale("nap", 1)
    assert slow._report()["admission"]["nap"]["limit"] == 8


def test_past_the_node_queue_requests_are_refused_as_overload(local_ray) -> None:
    dep = hogar_nb.run(hogar_nb.parse_udgl(TIGHT_QUEUE), backend="ray")
    try:
        assert dep._report()["admission"]["nap"]["queued"] == 4
        for _ in range(3):
            out = _burst(dep, [0.5] * 40)
            answered = [v for v in out if v == 0.5]
            refused = [e for e in out if isinstance(e, OverloadError)]
            assert len(answered) + len(refused) == 40, out  # nothing else: no lost request
            assert len(answered) >= 12  # eight placed and four waiting, at least
            assert refused and all(e.cause == "overload" and "nap" in str(e) for e in refused)
        assert dep.call(0.0) == 0.0  # the node serves on after the storms
    finally:
        dep.stop()
