"""The trace store: recent, slowest and failed traces, bounded, in memory.

The notebook and the console read traces from here without a collector. The last
``recent`` traces are kept in a ring; besides them, the ``slowest`` slowest and
the last ``failed`` failed ones stay after the ring has moved on, so the requests
worth a look are there long after a burst of ordinary ones. A traced request is
kept as its record (:mod:`.records`) and read as a :class:`~.spans.Trace`.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from typing import Any

from .records import CAUSE, END, START, TRACE
from .spans import Trace, as_trace

__all__ = ["TraceStore"]

STATUSES = ("error", "slow")
Kept = Trace | tuple  # a Trace, or a request's record


def facts(item: Kept) -> tuple[float, str | None, int]:
    """A kept trace's duration (s), cause (None: it succeeded) and trace id."""
    if isinstance(item, tuple):
        return item[END] - item[START], item[CAUSE], item[TRACE]
    return item.end - item.start, item.cause, item.trace_int


class TraceStore:
    """Keeps traces; thread-safe (written by the span builder, read by the fronts).
    ``graph`` names the deployment in the root spans built from records."""

    def __init__(self, recent: int = 1000, slowest: int = 100, failed: int = 200, graph: str = "") -> None:
        for name, value in (("recent", recent), ("slowest", slowest), ("failed", failed)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"got {value!r} for {name}; expected an integer >= 1")
        self.graph = graph
        self._recent: deque[Kept] = deque(maxlen=recent)
        self._slow: list[tuple[float, int, Kept]] = []  # a min-heap: the fastest of the slow on top
        self._slow_max = slowest
        self._failed: deque[Kept] = deque(maxlen=failed)
        self._order = itertools.count()
        self._lock = threading.Lock()
        self.added = 0

    def add(self, trace: Kept) -> None:
        """Keep ``trace``, a Trace or a request's record (the oldest recent one, the
        least slow one make room)."""
        duration, cause, _id = facts(trace)
        with self._lock:
            self.added += 1
            self._recent.append(trace)
            slow = self._slow
            if len(slow) < self._slow_max:
                heapq.heappush(slow, (duration, next(self._order), trace))
            elif duration > slow[0][0]:
                heapq.heapreplace(slow, (duration, next(self._order), trace))
            if cause is not None:
                self._failed.append(trace)

    def traces(self, status: str | None = None, limit: int = 50) -> list[Trace]:
        """The newest traces first; ``status="error"``: failed ones, newest first;
        ``"slow"``: the slowest first. At most ``limit``."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"got {status!r} for status; expected one of {list(STATUSES)} or none")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"got {limit!r} for limit; expected an integer >= 1")
        with self._lock:
            if status == "error":
                found = list(reversed(self._failed))
            elif status == "slow":
                found = [t for _d, _n, t in sorted(self._slow, key=lambda e: (-e[0], e[1]))]
            else:
                found = list(reversed(self._recent))
        return [as_trace(t, self.graph) for t in found[:limit]]

    def trace(self, trace_id: str) -> list[Trace]:
        """Every request kept with trace id ``trace_id`` (32 hex digits), oldest first;
        one, unless callers sent several requests in one trace."""
        key = int(trace_id, 16)
        with self._lock:
            seen: dict[int, Kept] = {}
            for t in itertools.chain(self._recent, (e[2] for e in self._slow), self._failed):
                if facts(t)[2] == key:
                    seen[id(t)] = t
        return sorted((as_trace(t, self.graph) for t in seen.values()), key=lambda t: t.start)

    def summaries(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """:meth:`traces` as JSON summaries (trace and request ids, status, duration...)."""
        return [t.summary() for t in self.traces(status, limit)]

    def trace_json(self, trace_id: str) -> dict[str, Any] | None:
        """Every span of trace ``trace_id`` as JSON, the requests in it summarised;
        None when the store does not have it (ValueError for an id that is not one)."""
        if not isinstance(trace_id, str) or len(trace_id) != 32 or any(
                c not in "0123456789abcdefABCDEF" for c in trace_id):
            raise ValueError(f"got {str(trace_id)[:80]!r} for a trace id; expected 32 hex digits")
        found = self.trace(trace_id)
        if not found:
            return None
        spans = sorted((s for t in found for s in t.spans), key=lambda s: s.start)
        return {"trace_id": trace_id.lower(), "requests": [t.summary() for t in found],
                "spans": [s.to_json() for s in spans]}

    def node_spans(self, node: str, limit: int = 10) -> list[dict[str, Any]]:
        """The slowest spans of node ``node`` in the traces kept, as JSON, each with
        its request's ``request_id``; at most ``limit``."""
        with self._lock:
            kept = {id(t): t for t in itertools.chain(self._recent, (e[2] for e in self._slow), self._failed)}
        found = []
        for item in kept.values():
            t = as_trace(item, self.graph)
            for s in t.spans:
                if s.kind == "node" and s.attrs.get("hogar.node") == node and not s.attrs.get("hogar.mirror"):
                    found.append((s, t.request_id))
        found.sort(key=lambda f: -f[0].duration)
        return [{**s.to_json(), "request_id": rid} for s, rid in found[:limit]]

    def __len__(self) -> int:
        with self._lock:
            ids = {id(t) for t in self._recent}
            ids.update(id(e[2]) for e in self._slow)
            ids.update(id(t) for t in self._failed)
        return len(ids)

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"added": self.added, "recent": len(self._recent), "slow": len(self._slow),
                    "failed": len(self._failed)}
