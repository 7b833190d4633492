"""Shared helpers for the monitor tests: tiny impls, graphs, a bounded poll and load."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable

import hogar_nb


def double(x: Any) -> Any:
    return x * 2


def inc(x: Any) -> Any:
    return x + 1


def score(x: Any) -> dict:
    """A "model": returns a dict whose ``score`` drifts with the input."""
    return {"score": float(x) / 100.0, "label": "hi" if x > 50 else "lo"}


IMPLS = {"double": double, "inc": inc, "score": score}

CHAIN = """\
graph mon
source src
python n0 { impl = double, replicas = 2, timeout = 2s }
python n1 { impl = inc, replicas = 2, timeout = 2s }
sink out
src -> n0 -> n1 -> out
"""

SCORER = """\
graph scorer
source src
python model { impl = score, timeout = 2s }
sink out
src -> model -> out
"""


def start(text: str = CHAIN, sample_interval: float = 0.1) -> Any:
    graph = hogar_nb.parse_udgl(text, namespace=IMPLS)
    return hogar_nb.run(graph, namespace=IMPLS, sample_interval=sample_interval)


def wait_for(cond: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``cond`` until truthy (returned) or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = cond()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.01)


def send(dep: Any, n: int, payload: Callable[[int], Any] = lambda i: i, track: Any = None) -> list:
    """Submit ``n`` requests, wait for all of them; returns their futures."""
    futures = [dep.submit(payload(i)) for i in range(n)]
    if track is not None:
        for f in futures:
            track(f)
    for f in futures:
        f.exception(timeout=30)
    return futures


class Background:
    """Steady background load at ``rate``/s until stopped (context manager)."""

    def __init__(self, dep: Any, rate: float = 200.0, payload: Callable[[int], Any] = lambda i: i,
                 track: Any = None) -> None:
        self.dep, self.rate, self.payload, self.track = dep, rate, payload, track
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set() and self.dep.running:
            f = self.dep.submit(self.payload(self.sent))
            if self.track is not None:
                self.track(f)
            self.sent += 1
            self._stop.wait(1.0 / self.rate)

    def __enter__(self) -> "Background":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
