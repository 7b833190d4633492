"""Bounded, cheap metrics: counters, a log-bucket latency histogram and ring-buffer series.

Memory is fixed: a histogram is a list of ~90 ints, a series is a ring buffer of
``SERIES_LENGTH`` samples taken every sampling interval, events are a bounded deque.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "MetricsSnapshot",
    "NodeMetrics",
    "OBSERVATIONS_PER_SECOND",
    "RecoveryEvent",
    "SERIES_FIELDS",
    "Series",
    "Stats",
]

_MIN = 1e-6  # 1 µs
_RATIO = 1.25
_LOG_RATIO = math.log(_RATIO)
N_BUCKETS = 90  # up to ~ 1e-6 * 1.25**90 ≈ 5 000 s
BUCKET_BOUNDS = [_MIN * _RATIO ** (i + 1) for i in range(N_BUCKETS)]
SERIES_LENGTH = 720
OBSERVATIONS_PER_SECOND = 2000  # timed completions per node per second, at most about
SERIES_FIELDS = ("rps", "p50_ms", "p95_ms", "p99_ms", "errors", "queue_depth", "in_flight", "replicas_alive")


def bucket_of(seconds: float) -> int:
    if seconds <= _MIN:
        return 0
    i = int(math.log(seconds / _MIN) / _LOG_RATIO)
    return i if i < N_BUCKETS else N_BUCKETS - 1


def percentile_ms(hist: list[int], q: float) -> float | None:
    """The q-quantile (0..1) of a histogram in milliseconds (bucket geometric middle)."""
    total = sum(hist)
    if total == 0:
        return None
    rank = q * total
    seen = 0
    for i, n in enumerate(hist):
        seen += n
        if seen >= rank and n:
            low = _MIN * _RATIO**i if i else 0.0
            return 1000.0 * (math.sqrt(low * BUCKET_BOUNDS[i]) if low else BUCKET_BOUNDS[i] / 2)
    return 1000.0 * BUCKET_BOUNDS[-1]


class Stats:
    """Counters of one node (or the whole graph), O(1) per observation.

    The hot counters (``requests``, ``pending``, ``done``) are plain int updates
    with no lock: under CPython's GIL an attribute ``+= 1`` with no call in it is
    not interleaved, and a lock here cost ~20% of the engine's throughput. Rare
    updates (errors, restarts) and reads for sampling take ``lock``.

    A completion is ``pending`` until its latency is timed: once ``stride`` of them
    are pending, one is timed and counts for all of them in the histogram, and they
    move to ``done``. So ``ok`` (``done + pending``) costs one counter, and the
    histogram's total is ``done``. ``sample`` sets the stride from the last
    interval's completion rate so that about ``OBSERVATIONS_PER_SECOND`` are timed:
    every completion below that rate, a systematic sample above it (reading the
    clock and bucketing cost more than everything else metrics do per request).
    Hot paths inline :meth:`succeeded` to spare a call; nodes that are never timed
    (sources, sinks, routers run inline) count straight into ``done``.
    """

    __slots__ = ("lock", "requests", "done", "errors", "hist", "restarts", "stride", "pending",
                 "_last", "_ring")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.done = 0
        self.errors: dict[str, int] = {}
        self.hist = [0] * N_BUCKETS
        self.restarts = 0
        self.stride = 1
        self.pending = 0
        self._last: tuple[float, int, int, list[int]] | None = None
        self._ring: deque[tuple] = deque(maxlen=SERIES_LENGTH)

    def succeeded(self, latency: float, n: int = 1) -> None:
        """``n`` requests finished, each taking ``latency`` seconds (one batch).

        The engine's hot paths do the same inline, and read the clock only when
        the stride is reached.
        """
        self.pending += n
        if self.pending >= self.stride:
            self.observe(latency)

    @property
    def ok(self) -> int:
        """Completions so far."""
        return self.done + self.pending

    def observe(self, latency: float) -> None:
        """Count the pending completions in the bucket of ``latency`` seconds."""
        weight, self.pending = self.pending, 0
        self.done += weight
        self.hist[bucket_of(latency)] += weight

    def failed(self, cause: str) -> None:
        with self.lock:
            self.errors[cause] = self.errors.get(cause, 0) + 1

    def sample(self, now: float, queue_depth: int, in_flight: int, alive: int) -> None:
        """Append one point to the series: rates and percentiles since the last point."""
        with self.lock:
            done, errs, hist = self.ok, sum(self.errors.values()), list(self.hist)
        last = self._last
        self._last = (now, done, errs, hist)
        if last is None:
            return
        dt = max(now - last[0], 1e-9)
        self.stride = max(1, int((done - last[1]) / dt / OBSERVATIONS_PER_SECOND))
        delta = [a - b for a, b in zip(hist, last[3])]
        self._ring.append((
            now,
            (done - last[1] + errs - last[2]) / dt,
            percentile_ms(delta, 0.50),
            percentile_ms(delta, 0.95),
            percentile_ms(delta, 0.99),
            errs - last[2],
            queue_depth,
            in_flight,
            alive,
        ))

    def snapshot(self, name: str, queue_depth: int, in_flight: int, alive: int,
                 replicas: int, started_at: float, state: str = "serving") -> "NodeMetrics":
        with self.lock:
            ok, requests, hist = self.ok, self.requests, list(self.hist)
            errors = dict(self.errors)
            restarts = self.restarts
        if self._ring:
            rps = self._ring[-1][1]
        else:
            rps = (ok + sum(errors.values())) / max(time.monotonic() - started_at, 1e-9)
        return NodeMetrics(
            name=name, requests=requests, ok=ok, errors=sum(errors.values()),
            errors_by_cause=errors, restarts=restarts,
            p50_ms=percentile_ms(hist, 0.50), p95_ms=percentile_ms(hist, 0.95),
            p99_ms=percentile_ms(hist, 0.99), queue_depth=queue_depth, in_flight=in_flight,
            replicas_alive=alive, replicas=replicas, rps=rps,
            histogram=list(zip(BUCKET_BOUNDS, hist)), state=state,
        )

    def series_rows(self) -> list[tuple]:
        return list(self._ring)


@dataclass(frozen=True)
class NodeMetrics:
    """Totals since start for one node (or the graph, ``name == "graph"``).

    Latency percentiles are over all requests so far (``None`` before the first);
    ``rps`` is completions per second over the last sampling interval; ``state``
    is ``suspended`` while the node refuses requests after repeated failures and
    ``half_open`` while it tries again.
    """

    name: str
    requests: int
    ok: int
    errors: int
    errors_by_cause: dict[str, int]
    restarts: int
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    queue_depth: int
    in_flight: int
    replicas_alive: int
    replicas: int
    rps: float
    histogram: list[tuple[float, int]] = field(repr=False, default_factory=list)
    state: str = "serving"  # serving | suspended | half_open (see docs/udgl.md, Recovery)

    @property
    def healthy(self) -> bool:
        """Serving with all replicas alive (always true for nodes without replicas)."""
        return self.replicas_alive >= self.replicas and self.state == "serving"


@dataclass(frozen=True)
class RecoveryEvent:
    """Something that happened to a node's replicas, and what the engine did.

    ``cause``: crash, died (a process exited; ``detail`` has the exit code or
    signal), hang, start_failed, outlier, operator (scale/reconfigure) or alert.
    ``action``: restart, failover, none, suspend, half_open, resume, eject,
    scale, reconfigure, or an alert's firing / resolved. ``duration_s`` is the time from detection until a
    healthy replacement served (restart, eject, resume), else the time the action
    took. ``replica`` is -1 when the event is about the whole node.
    """

    time: float  # wall clock (time.time())
    node: str
    replica: int
    cause: str
    action: str
    duration_s: float
    requeued: int = 0
    detail: str = ""


@dataclass(frozen=True)
class Series:
    """Parallel lists for plotting: ``t`` (wall-clock seconds) and ``values``."""

    metric: str
    node: str | None
    t: list[float]
    values: list[Any]


@dataclass(frozen=True)
class MetricsSnapshot:
    """What :meth:`Deployment.metrics` returns: graph totals, per-node totals, events, series."""

    time: float
    graph: NodeMetrics
    nodes: dict[str, NodeMetrics]
    events: list[RecoveryEvent]
    _rows: dict[str | None, list[tuple]] = field(repr=False, default_factory=dict)
    _clock_offset: float = field(repr=False, default=0.0)

    def node(self, name: str) -> NodeMetrics:
        try:
            return self.nodes[name]
        except KeyError:
            raise KeyError(f"no node {name!r}; nodes are {sorted(self.nodes)}") from None

    def series(self, metric: str, node: str | None = None) -> Series:
        """One of SERIES_FIELDS for a node (or the graph when ``node`` is None)."""
        if metric not in SERIES_FIELDS:
            raise ValueError(f"unknown series {metric!r}; expected one of {', '.join(SERIES_FIELDS)}")
        if node is not None and node not in self.nodes:
            raise KeyError(f"no node {node!r}; nodes are {sorted(self.nodes)}")
        col = SERIES_FIELDS.index(metric) + 1
        rows = self._rows.get(node, [])
        return Series(metric, node, [r[0] + self._clock_offset for r in rows], [r[col] for r in rows])
