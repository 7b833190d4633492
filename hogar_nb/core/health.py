"""Node health from two readings of a node's totals: the rules and colours every monitor
uses (the notebook dashboard and the web console), as pure data and functions.

A node is rated from its error rate, recent latency against its timeout and its live
replicas; :data:`LEVELS` gives each level's colour and meaning for legends.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

__all__ = [
    "COLOURS",
    "LEVELS",
    "HealthRules",
    "NodeHealth",
    "NodeInfo",
    "NodeTotals",
    "assess",
    "percentile_ms",
]


@dataclass(frozen=True)
class NodeInfo:
    """A node as drawn: ``replicas`` is 0 for inline nodes (sources, sinks, splits...)."""

    name: str
    kind: str = "python"
    replicas: int = 0
    timeout_ms: float | None = None


@dataclass(frozen=True)
class NodeTotals:
    """Totals since start (counters) and gauges of one node or of the graph."""

    requests: int = 0
    ok: int = 0
    errors_by_cause: dict[str, int] = field(default_factory=dict)
    restarts: int = 0
    hist: tuple[int, ...] = ()  # per-bucket latency counts (not cumulative)
    bounds: tuple[float, ...] = ()  # bucket upper bounds, seconds
    queue_depth: int = 0
    in_flight: int = 0
    replicas_alive: int = 0
    rps: float = 0.0
    state: str = "serving"  # suspended / half_open: the node refuses requests after failures

    @property
    def errors(self) -> int:
        return sum(self.errors_by_cause.values())


#: level -> (fill colour, what it means); the legend is built from this.
LEVELS: dict[str, tuple[str, str]] = {
    "ok": ("#2ca02c", "healthy: traffic flows, errors and latency low"),
    "idle": ("#9ecae1", "no traffic in the last seconds"),
    "degraded": ("#ff9f1c", "replica missing, some errors or latency near the timeout"),
    "failing": ("#d62728", "many errors or latency at the timeout"),
    "down": ("#5c0a0a", "no replica alive"),
    "suspended": ("#9467bd", "suspended after repeated failures: refuses requests until a try succeeds"),
    "inline": ("#d9d9d9", "inline node (no replicas): source, sink, split, ensemble"),
}
COLOURS = {k: v[0] for k, v in LEVELS.items()}


@dataclass(frozen=True)
class HealthRules:
    """Thresholds: error rates are fractions of completions, latency a fraction of the timeout."""

    error_warn: float = 0.01
    error_bad: float = 0.2
    latency_warn: float = 0.5
    latency_bad: float = 0.9
    horizon_s: float = 5.0  # recent = the last horizon_s seconds of readings


@dataclass(frozen=True)
class NodeHealth:
    level: str
    reason: str
    rps: float
    queue_depth: int
    in_flight: int
    replicas_alive: int
    replicas: int
    error_rate: float | None
    p99_ms: float | None

    @property
    def badge(self) -> str:
        """Short text under the node name: rps and queue depth."""
        return f"{self.rps:.1f} rps · q {self.queue_depth}"


def percentile_ms(counts: list[int] | tuple[int, ...], bounds: tuple[float, ...], q: float) -> float | None:
    """The q-quantile (0..1) in ms of per-bucket counts with upper ``bounds`` in seconds."""
    total = sum(counts)
    if total <= 0:
        return None
    rank, seen = q * total, 0
    for i, n in enumerate(counts):
        seen += n
        if n and seen >= rank:
            high = bounds[i] if i < len(bounds) else bounds[-1]
            low = bounds[i - 1] if 0 < i <= len(bounds) else 0.0
            if math.isinf(high):
                high = low
            return 1000.0 * (math.sqrt(low * high) if low > 0 else high / 2)
    return 1000.0 * bounds[-1]


def assess(info: NodeInfo, now: NodeTotals, before: NodeTotals | None, dt: float,
           rules: HealthRules) -> NodeHealth:
    """Health of one node given its totals now and ``dt`` seconds earlier."""
    d_ok = now.ok - (before.ok if before else 0)
    d_err = now.errors - (before.errors if before else 0)
    done = d_ok + d_err
    rate = d_err / done if done > 0 else None
    if before is not None and len(before.hist) == len(now.hist):
        delta = [a - b for a, b in zip(now.hist, before.hist)]
    else:
        delta = list(now.hist)
    p99 = percentile_ms(delta, now.bounds, 0.99) if now.bounds else None
    rps = now.rps if now.rps else (done / dt if dt > 0 else 0.0)
    level, reason = "ok", "healthy"
    if info.replicas == 0:
        level, reason = "inline", "inline node"
    elif now.state != "serving":
        level, reason = "suspended", "half-open: trying again" if now.state == "half_open" else "suspended"
    elif now.replicas_alive == 0:
        level, reason = "down", f"0/{info.replicas} replicas alive"
    if level in ("ok", "inline"):
        latency_frac = p99 / info.timeout_ms if p99 is not None and info.timeout_ms else 0.0
        if rate is not None and rate >= rules.error_bad:
            level, reason = "failing", f"{rate:.0%} errors"
        elif latency_frac >= rules.latency_bad:
            level, reason = "failing", f"p99 {p99:.0f} ms of {info.timeout_ms:.0f} ms timeout"
        elif info.replicas and now.replicas_alive < info.replicas:
            level, reason = "degraded", f"{now.replicas_alive}/{info.replicas} replicas alive"
        elif rate is not None and rate >= rules.error_warn:
            level, reason = "degraded", f"{rate:.1%} errors"
        elif latency_frac >= rules.latency_warn:
            level, reason = "degraded", f"p99 {p99:.0f} ms of {info.timeout_ms:.0f} ms timeout"
        elif level == "ok" and done == 0 and now.in_flight == 0 and now.queue_depth == 0:
            level, reason = "idle", "no traffic"
    return NodeHealth(level, reason, rps, now.queue_depth, now.in_flight, now.replicas_alive,
                      info.replicas, rate, p99)
