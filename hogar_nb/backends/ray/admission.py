"""How many calls the ingress lets wait at a node's DeploymentHandle at once.

Serve's router keeps every call a handle cannot place yet and retries them all on
each scheduling round; a 1,000-request burst into a node of eight slots made the
chain six to ten times slower than the same chain at 64 in flight. The ingress
therefore gives a node at most its capacity (``max_ongoing_requests`` times its
replicas, the autoscaler's maximum for an autoscaled node, so the autoscaler still
sees the demand it scales on) and keeps the rest in its own first-come queue, bounded
like the node's queue (``max_queued_requests``): past that, a call is refused.

asyncio's Semaphore cannot change its size; a node's capacity changes with
``scale``, so the gate is written here.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

__all__ = ["Gate", "node_capacity"]


def node_capacity(options: dict[str, Any]) -> tuple[int, int]:
    """``(calls placed at once, calls waiting)`` for a node deployed with ``options``
    (:func:`hogar_nb.export.ray_serve.deployment_options`, with any changes applied)."""
    auto = options.get("autoscaling_config")
    replicas = int(auto["max_replicas"]) if auto else int(options.get("num_replicas") or 1)
    queued = int(options.get("max_queued_requests", -1))
    return max(1, int(options["max_ongoing_requests"]) * max(1, replicas)), queued


class Gate:
    """A first-come counting gate whose size can change while calls wait."""

    __slots__ = ("limit", "queued", "held", "_waiters")

    def __init__(self, limit: int, queued: int = -1) -> None:
        self.limit = limit
        self.queued = queued  # waiting calls allowed; -1: no bound
        self.held = 0
        self._waiters: deque[asyncio.Future] = deque()

    @property
    def waiting(self) -> int:
        return len(self._waiters)

    def full(self) -> bool:
        """No room to place a call now, and none to wait for one either."""
        return self.held >= self.limit and 0 <= self.queued <= len(self._waiters)

    async def acquire(self) -> None:
        if self.held < self.limit and not self._waiters:
            self.held += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter  # the slot was handed over by release() or resize()
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():  # handed over just as it was cancelled
                self.release()
            else:
                self._waiters.remove(waiter)
            raise

    def release(self) -> None:
        self.held -= 1
        self._wake()

    def resize(self, limit: int, queued: int) -> None:
        self.limit, self.queued = limit, queued
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.held < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.held += 1
                waiter.set_result(None)
