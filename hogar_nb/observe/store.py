"""The trace store: recent, slowest and failed traces, bounded, in memory.

The notebook and the console read traces from here without a collector. The last
``recent`` traces are kept in a ring; besides them, the ``slowest`` slowest and
the last ``failed`` failed ones stay after the ring has moved on, so the requests
worth a look are there long after a burst of ordinary ones. A traced request is
kept as its record (:mod:`.records`) and read as a :class:`~.spans.Trace`.

Traces are added on the request path, as each request ends, so adding takes no
lock and never waits for a reader: it appends to bounded deques (atomic in
CPython), and a trace slower than the slowest kept so far is set aside as a
candidate, folded into the slowest ones under the lock by the next reader or by a
later add when the lock is free (an add waits for a reader, whose hold is a copy of
the lists, only when candidates pile up while readers keep the lock). A request the
walker hands over is kept walked (:meth:`TraceStore.add_walked`) and made into its
record by the readers (:func:`~.records.settle`).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections import deque
from typing import Any

from .context import TRACE_KEY
from .records import CAUSE, END, START, TRACE, record, settle
from .spans import Trace, as_trace

__all__ = ["TraceStore"]

STATUSES = ("error", "slow")
Kept = Trace | tuple  # a Trace, a request's record, or a request kept walked (records.WALKED)


def facts(item: Kept) -> tuple[float, str | None, int]:
    """A settled trace's (a record's or a Trace's) duration (s), cause (None: it
    succeeded) and trace id."""
    if isinstance(item, tuple):
        return item[END] - item[START], item[CAUSE], item[TRACE]
    return item.end - item.start, item.cause, item.trace_int


def _copy(items: Any) -> list:
    """A list of a deque that other threads append to: copied again in the rare case
    an append came in between (the copy runs no Python code unless a collection
    runs a finaliser, and only then can another thread append)."""
    while True:
        try:
            return list(items)
        except RuntimeError:  # deque mutated during iteration
            continue


class TraceStore:
    """Keeps traces; thread-safe (written as requests end, read by the fronts).
    ``graph`` names the deployment in the root spans built from records."""

    def __init__(self, recent: int = 1000, slowest: int = 100, failed: int = 200, graph: str = "") -> None:
        for name, value in (("recent", recent), ("slowest", slowest), ("failed", failed)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"got {value!r} for {name}; expected an integer >= 1")
        self.graph = graph
        self._recent: deque[Kept] = deque(maxlen=recent)
        self._slow: list[tuple[float, int, Kept]] = []  # a min-heap: the fastest of the slow on top
        self._slow_max = slowest
        self._floor = -1.0  # the fastest of the slow once there are `slowest`: who is slower is a candidate
        self._candidates: deque[tuple[float, Kept]] = deque()
        self._must_fold = 16 * slowest  # candidates past which an add waits for a reader to finish
        self._failed: deque[Kept] = deque(maxlen=failed)
        self._order = itertools.count()
        self._adds = itertools.count()
        self._lock = threading.Lock()

    @property
    def added(self) -> int:
        """How many traces were ever added."""
        return int(repr(self._adds)[6:-1])  # "count(n)": read without taking a number

    def add(self, trace: Kept) -> None:
        """Keep ``trace``, a Trace or a request's record (the oldest recent one, the
        least slow one make room); takes no lock (see the module)."""
        if isinstance(trace, tuple):  # facts(), inlined
            duration, cause = trace[END] - trace[START], trace[CAUSE]
        else:
            duration, cause = trace.end - trace.start, trace.cause
        next(self._adds)
        self._recent.append(trace)
        if cause is not None:
            self._failed.append(trace)
        if duration > self._floor:
            self._candidate(duration, trace)

    def _candidate(self, duration: float, trace: Kept) -> None:
        """Set ``trace`` (slower than the fastest of the slowest kept) aside as a
        candidate; fold the candidates in once there are as many as the slowest kept
        and the lock is free, or waiting for it once they pile up."""
        candidates = self._candidates
        candidates.append((duration, trace))
        waiting = len(candidates)
        if waiting >= self._slow_max and self._lock.acquire(blocking=waiting >= self._must_fold):
            try:
                self._fold()
            finally:
                self._lock.release()

    def add_walked(self, context: Any, trail: list[Any], end: float, error: Any) -> None:
        """Keep a request the walker followed, which ended at ``end`` (wall clock) after
        the steps of ``trail``: a walker subscription's ``record``. One that succeeded is
        kept walked (see :mod:`.records`); one that failed (``error``) as its record,
        made now. A request whose context names no sampled trace is not kept."""
        try:  # records.sampled_ids, inlined
            attrs = context.attrs
            ids = attrs[TRACE_KEY]
        except (AttributeError, TypeError, KeyError):  # no context, no attrs, no ids: not traced
            return
        if not ids.sampled:
            return
        if error is not None:
            self.add(record(ids, context, trail, end, error))
            return
        walked = (ids.trace_id, ids.span_id, ids.parent_id, context.request_id, attrs.get("route"), end,
                  tuple(trail))
        next(self._adds)
        self._recent.append(walked)
        duration = end - trail[1] - trail[3]  # records.started(trail), inlined
        if duration > self._floor:
            self._candidate(duration, walked)

    def _fold(self) -> None:
        """Move the candidates among the slowest (under the lock)."""
        slow, candidates = self._slow, self._candidates
        while candidates:
            duration, trace = candidates.popleft()
            if len(slow) < self._slow_max:
                heapq.heappush(slow, (duration, next(self._order), trace))
            elif duration > slow[0][0]:
                heapq.heapreplace(slow, (duration, next(self._order), trace))
        if len(slow) >= self._slow_max:
            self._floor = slow[0][0]

    def _kept(self) -> tuple[list[Kept], list[Kept], list[Kept]]:
        """The recent, slowest (slowest first) and failed traces, as records and Traces
        (under the lock; one request may be in several lists, as one object)."""
        self._fold()
        slow = [t for _d, _n, t in sorted(self._slow, key=lambda e: (-e[0], e[1]))]
        made: dict[int, Any] = {}  # a request in two lists is settled once: one object in both

        def settled(items: list[Kept]) -> list[Kept]:
            out = []
            for t in items:
                r = made.get(id(t))
                if r is None:
                    r = made[id(t)] = settle(t)
                out.append(r)
            return out

        return settled(_copy(self._recent)), settled(slow), settled(_copy(self._failed))

    def recent(self) -> list[Kept]:
        """The recent traces as records and Traces, oldest first."""
        return [settle(t) for t in _copy(self._recent)]

    def traces(self, status: str | None = None, limit: int = 50) -> list[Trace]:
        """The newest traces first; ``status="error"``: failed ones, newest first;
        ``"slow"``: the slowest first. At most ``limit``."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"got {status!r} for status; expected one of {list(STATUSES)} or none")
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"got {limit!r} for limit; expected an integer >= 1")
        with self._lock:
            recent, slow, failed = self._kept()
        found = failed[::-1] if status == "error" else slow if status == "slow" else recent[::-1]
        return [as_trace(t, self.graph) for t in found[:limit]]

    def trace(self, trace_id: str) -> list[Trace]:
        """Every request kept with trace id ``trace_id`` (32 hex digits), oldest first;
        one, unless callers sent several requests in one trace."""
        key = int(trace_id, 16)
        with self._lock:
            kept = self._kept()
        seen: dict[int, Kept] = {}
        for t in itertools.chain(*kept):
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
            kept = {id(t): t for t in itertools.chain(*self._kept())}
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
            kept = self._kept()
        return len({id(t) for t in itertools.chain(*kept)})

    def stats(self) -> dict[str, Any]:
        with self._lock:
            self._fold()
            return {"added": self.added, "recent": len(self._recent), "slow": len(self._slow),
                    "failed": len(self._failed)}
