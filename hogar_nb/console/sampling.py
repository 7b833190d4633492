"""Turn ``/hogar/v1/status`` readings into one-second samples: rates, latency percentiles,
errors by cause, queues, replicas and each node's health (the notebook monitor's rules)."""

from __future__ import annotations

import math
from collections import deque
from typing import Any

from ..core.health import HealthRules, NodeInfo, NodeTotals, assess, percentile_ms
from ..core.kinds import WORKER_KINDS

__all__ = ["LiveState", "topology", "totals"]



def topology(earg: dict) -> dict[str, NodeInfo]:
    """Each node as the health rules see it: replicas 0 for inline nodes."""
    out = {}
    for n in earg.get("nodes", []):
        kind = n.get("kind", "python")
        worker = kind in WORKER_KINDS
        timeout = n.get("timeout_ms")
        out[n["name"]] = NodeInfo(n["name"], kind, int(n.get("replicas") or 1) if worker else 0,
                                  float(timeout) if worker and timeout is not None else None)
    return out


def totals(m: dict | None) -> NodeTotals:
    """A status entry (the NodeMetrics fields) as the health rules' totals."""
    if not m:
        return NodeTotals()
    hist = m.get("histogram") or []
    bounds = tuple(math.inf if b is None else float(b) for b, _ in hist)  # JSON has no infinity
    return NodeTotals(
        requests=int(m.get("requests") or 0), ok=int(m.get("ok") or 0),
        errors_by_cause={str(k): int(v) for k, v in (m.get("errors_by_cause") or {}).items()},
        restarts=int(m.get("restarts") or 0), hist=tuple(int(n) for _, n in hist), bounds=bounds,
        queue_depth=int(m.get("queue_depth") or 0), in_flight=int(m.get("in_flight") or 0),
        replicas_alive=int(m.get("replicas_alive") or 0), rps=float(m.get("rps") or 0.0),
        state=str(m.get("state") or "serving"))


def _node_info(info: NodeInfo, m: dict | None) -> NodeInfo:
    """The node with its current replica target (it changes when an operator scales it)."""
    if m and info.replicas and m.get("replicas"):
        return NodeInfo(info.name, info.kind, int(m["replicas"]), info.timeout_ms)
    return info


class LiveState:
    """Readings of one deployment, and the sample of each new one against its predecessors."""

    def __init__(self, earg: dict, rules: HealthRules | None = None, keep: int = 900) -> None:
        self.nodes = topology(earg)
        self.rules = rules or HealthRules()
        self._readings: deque[tuple[float, dict]] = deque(maxlen=64)
        self.samples: deque[dict] = deque(maxlen=keep)

    def _before(self, now: float, horizon: float) -> tuple[float, dict] | None:
        """The most recent reading at least ``horizon`` seconds old (else the oldest)."""
        chosen = None
        for t, status in self._readings:
            if now - t >= horizon or chosen is None:
                chosen = (t, status)
            else:
                break
        return chosen

    def update(self, status: dict, now: float) -> dict:
        """The sample of ``status`` read at ``now``: rates over the time between this reading
        and the previous one as the server stamped them (``dt``, seconds), so a reading that
        arrived late or early neither dips nor spikes."""
        prev = self._readings[-1] if self._readings else None
        old = self._before(now, self.rules.horizon_s)
        self._readings.append((now, status))
        nodes_now = status.get("nodes") or {}
        graph_now = totals(status.get("graph"))
        graph_prev = totals(prev[1].get("graph")) if prev else None
        dt = _server_time(status, now) - _server_time(prev[1], prev[0]) if prev else 0.0
        done = errors = 0
        by_cause: dict[str, int] = {}
        if graph_prev is not None:
            for cause, n in graph_now.errors_by_cause.items():
                d = n - graph_prev.errors_by_cause.get(cause, 0)
                if d > 0:
                    by_cause[cause] = d
            errors = sum(by_cause.values())
            done = max(0, graph_now.ok - graph_prev.ok) + errors
        delta_hist = list(graph_now.hist)
        if graph_prev is not None and len(graph_prev.hist) == len(graph_now.hist):
            delta_hist = [max(0, a - b) for a, b in zip(graph_now.hist, graph_prev.hist)]
        g = status.get("graph") or {}
        if graph_now.bounds and sum(delta_hist):
            p50, p95, p99 = (percentile_ms(delta_hist, graph_now.bounds, q) for q in (0.5, 0.95, 0.99))
        else:
            p50, p95, p99 = g.get("p50_ms"), g.get("p95_ms"), g.get("p99_ms")
        # Completions between the two readings over the time between them: the server's own
        # ``rps`` covers only its last half-second window, which a bursty second overstates.
        rps = done / dt if graph_prev is not None and dt > 0 else graph_now.rps
        health = {}
        old_nodes = (old[1].get("nodes") or {}) if old else {}
        odt = now - old[0] if old else 0.0
        for name, info in self.nodes.items():
            m = nodes_now.get(name)
            h = assess(_node_info(info, m), totals(m), totals(old_nodes.get(name)) if old else None, odt, self.rules)
            health[name] = {"level": h.level, "reason": h.reason, "rps": round(h.rps, 2),
                            "queue": h.queue_depth, "alive": h.replicas_alive,
                            "replicas": int((m or {}).get("replicas") or h.replicas),
                            "restarts": int((m or {}).get("restarts") or 0),
                            "p99": None if h.p99_ms is None else round(h.p99_ms, 2)}
        sample = {
            "t": now, "dt": round(dt, 3), "rps": round(rps, 3), "p50": p50, "p95": p95, "p99": p99,
            "done": done, "errors": errors, "by_cause": by_cause,
            "error_rate": (errors / done) if done else 0.0,
            "queue": sum(int((m or {}).get("queue_depth") or 0) for m in nodes_now.values()),
            "restarts": sum(int((m or {}).get("restarts") or 0) for m in nodes_now.values()),
            "running": bool(status.get("running", True)),
            "nodes": health,
            "hist": delta_hist, "bounds": [None if math.isinf(b) else b for b in graph_now.bounds],
        }
        self.samples.append(sample)
        return sample


def _server_time(status: dict, fallback: float) -> float:
    try:
        return float(status["time"])
    except (KeyError, TypeError, ValueError):
        return fallback


def downsample(samples: list[dict]) -> dict:
    """One history row from consecutive samples: means of rates, maxima of latencies and
    queues, sums of errors and of the seconds they cover (``dt``), the last replicas and health."""
    if not samples:
        return {}
    last = samples[-1]

    def mean(key: str) -> float:
        return sum(s.get(key) or 0.0 for s in samples) / len(samples)

    def worst(key: str) -> float | None:
        values = [s[key] for s in samples if s.get(key) is not None]
        return max(values) if values else None

    by_cause: dict[str, int] = {}
    for s in samples:
        for cause, n in s.get("by_cause", {}).items():
            by_cause[cause] = by_cause.get(cause, 0) + n
    done = sum(s.get("done", 0) for s in samples)
    errors = sum(s.get("errors", 0) for s in samples)
    dt = sum(s.get("dt") or 0.0 for s in samples)
    return {
        "t": last["t"], "dt": round(dt, 3), "rps": round(done / dt if dt > 0 else mean("rps"), 3), "p50": worst("p50"), "p95": worst("p95"),
        "p99": worst("p99"), "done": done, "errors": errors, "by_cause": by_cause,
        "error_rate": errors / done if done else 0.0, "queue": worst("queue") or 0,
        "restarts": last.get("restarts", 0), "running": last.get("running", True),
        "nodes": {name: {k: v for k, v in h.items() if k in ("level", "replicas", "alive")}
                  for name, h in last.get("nodes", {}).items()},
    }
