"""Watch a Prometheus text endpoint (the engine's ``serve_metrics`` or a remote one).

The text is read with ``prometheus_client``'s parser; the ``hogar_*`` families are
turned into the same totals a deployment gives, and the series (rates, latency
percentiles from histogram differences, gauges) are kept in bounded ring buffers.
"""

from __future__ import annotations

import math
import time
import urllib.request
from collections import deque
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from .health import percentile_ms
from .source import SERIES, Marker, NodeInfo, NodeTotals, Reading, Topology, graph_topology

__all__ = ["PrometheusSource", "parse_hogar_metrics"]

GRAPH_LABEL = "__graph__"
_GAUGES = ("queue_depth", "in_flight", "replicas_alive", "rps")


def parse_hogar_metrics(text: str) -> dict[str | None, NodeTotals]:
    """Totals per node (None: the graph) from Prometheus text with ``hogar_*`` families."""
    raw: dict[str | None, dict[str, Any]] = {}

    def entry(labels: dict[str, str]) -> dict[str, Any]:
        node = labels.get("node", GRAPH_LABEL)
        key = None if node == GRAPH_LABEL else node
        return raw.setdefault(key, {"errors": {}, "buckets": []})

    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels, value = s.name, s.labels, s.value
            if name == "hogar_requests_total":
                entry(labels)["requests"] = int(value)
            elif name == "hogar_requests_ok_total":
                entry(labels)["ok"] = int(value)
            elif name == "hogar_request_errors_total":
                entry(labels)["errors"][labels.get("cause", "error")] = int(value)
            elif name == "hogar_replica_restarts_total":
                entry(labels)["restarts"] = int(value)
            elif name == "hogar_latency_seconds_bucket":
                le = labels.get("le", "+Inf")
                entry(labels)["buckets"].append((math.inf if le in ("+Inf", "Inf") else float(le), value))
            elif name.startswith("hogar_") and name[6:] in _GAUGES:
                entry(labels)[name[6:]] = value
    out: dict[str | None, NodeTotals] = {}
    for key, d in raw.items():
        buckets = sorted(d["buckets"])
        bounds = tuple(b for b, _ in buckets if not math.isinf(b))
        cumulative = [int(c) for _, c in buckets]
        hist = tuple(c - p for c, p in zip(cumulative, [0, *cumulative[:-1]]))[: len(bounds)]
        out[key] = NodeTotals(
            requests=d.get("requests", 0), ok=d.get("ok", 0), errors_by_cause=d["errors"],
            restarts=d.get("restarts", 0), hist=hist, bounds=bounds,
            queue_depth=int(d.get("queue_depth", 0)), in_flight=int(d.get("in_flight", 0)),
            replicas_alive=int(d.get("replicas_alive", 0)), rps=float(d.get("rps", 0.0)))
    return out


class PrometheusSource:
    """Scrapes ``url`` on every :meth:`read`; keeps ``length`` points of series per node."""

    def __init__(self, url: str, graph: Any = None, timeout: float = 5.0, length: int = 720) -> None:
        self.url = url
        self.label = url
        self.timeout = timeout
        self._graph = graph
        self._topology: Topology | None = None
        self._prev: tuple[float, dict[str | None, NodeTotals]] | None = None
        self._rings: dict[str | None, deque[tuple]] = {}
        self._length = length
        self._markers: deque[Marker] = deque(maxlen=1000)

    def fetch(self) -> str:
        with urllib.request.urlopen(self.url, timeout=self.timeout) as resp:
            return resp.read().decode("utf-8", "replace")

    def topology(self) -> Topology:
        if self._topology is None:
            if self._graph is not None:
                self._topology = graph_topology(self._graph)
            else:
                totals = parse_hogar_metrics(self.fetch())
                self._topology = Topology({
                    n: NodeInfo(n, "python" if t.replicas_alive else "inline", t.replicas_alive)
                    for n, t in sorted(totals.items(), key=lambda kv: str(kv[0])) if n is not None
                }, [])
        return self._topology

    def read(self) -> Reading:
        now = time.time()
        totals = parse_hogar_metrics(self.fetch())
        prev = self._prev
        if prev is not None:
            dt = max(now - prev[0], 1e-9)
            for key, cur in totals.items():
                before = prev[1].get(key)
                if before is None:
                    continue
                done = cur.ok + cur.errors - before.ok - before.errors
                delta = [a - b for a, b in zip(cur.hist, before.hist)] if len(cur.hist) == len(before.hist) else []
                pct = [percentile_ms(delta, cur.bounds, q) if delta else None for q in (0.5, 0.95, 0.99)]
                rps = cur.rps or done / dt
                ring = self._rings.setdefault(key, deque(maxlen=self._length))
                ring.append((now, rps, *pct, cur.errors - before.errors, cur.queue_depth,
                             cur.in_flight, cur.replicas_alive))
                if key is not None and cur.restarts > before.restarts:
                    n = cur.restarts - before.restarts
                    self._markers.append(Marker(now, key, f"{key}: {n} restart(s)"))
        self._prev = (now, totals)
        return Reading(now, totals, list(self._markers), True, None)

    def series(self, reading: Reading, metric: str, node: str | None) -> tuple[list[float], list[Any]]:
        col = SERIES.index(metric) + 1
        rows = self._rings.get(node, ())
        return [r[0] for r in rows], [r[col] for r in rows]
