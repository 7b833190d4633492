"""Node captures: a worker node's answered attempts, kept for an observer of that node.

An observer that needs only what some worker nodes took and gave (the quality
monitor: a model's inputs, outputs and request ids) can skip the walker's events:
a :class:`Capture` of those nodes gets one tuple per answered attempt, appended to
a bounded deque where the walker decides the attempt's next step. Appending takes
no lock and wakes no thread; the observer takes what came, in batches, whenever it
likes. Past ``maxsize`` waiting tuples, more are counted in ``dropped``, never lost
silently.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Collection
from typing import Any, NamedTuple

from .context import fill_request_ids

__all__ = ["Capture", "Captured"]


class Captured(NamedTuple):
    """One answered attempt at a captured node. The walker appends plain tuples in
    this order (``Captured._make(t)`` reads one by name)."""

    node: str
    context: Any  # the request's RequestContext, or None
    payload: Any  # the node's input, as the node got it (not copied)
    value: Any  # its answer (not copied)
    time: float  # seconds since the epoch
    shadow: bool  # a mirror's copy (shadow traffic)


class Capture:
    """The answered attempts at ``nodes``, waiting in a bounded deque for :meth:`take`."""

    def __init__(self, nodes: Collection[str], maxsize: int = 100_000) -> None:
        if maxsize < 1:
            raise ValueError(f"got {maxsize} for maxsize; expected an integer >= 1")
        self.nodes = frozenset(nodes)
        self.maxsize = maxsize
        self.dropped = 0
        self.closed = False
        self._queue: deque[tuple] = deque()
        self._lock = threading.Lock()  # only for counting what overflowed

    def put(self, item: tuple) -> None:
        """Keep ``item`` (a :class:`Captured` as a plain tuple), or count it dropped;
        never waits (a few more than ``maxsize`` may slip in from racing threads)."""
        q = self._queue
        if len(q) < self.maxsize:
            q.append(item)
        else:
            with self._lock:
                self.dropped += 1

    def take(self) -> list[tuple]:
        """Everything that came so far, oldest first (appends go on meanwhile); the
        requests' contexts have their request ids (made in one go where missing)."""
        q, pop = self._queue, self._queue.popleft
        items = [pop() for _ in range(len(q))]
        fill_request_ids([item[1] for item in items])
        return items

    @property
    def pending(self) -> int:
        return len(self._queue)
