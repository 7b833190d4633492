"""Expose a deployment's metrics in the Prometheus text format (127.0.0.1 only)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.samples import Exemplar

if TYPE_CHECKING:  # pragma: no cover
    from .protocol import DeploymentProtocol as Deployment

__all__ = ["DeploymentCollector", "start_server"]


class DeploymentCollector:
    """A prometheus_client collector reading :meth:`Deployment.metrics` at scrape time.

    While the deployment traces requests (``dep.tracing``), the graph's latency buckets
    carry the trace id of a recent request that fell in each as an OpenMetrics
    exemplar (shown when the scraper asks for ``application/openmetrics-text``)."""

    def __init__(self, dep: Deployment) -> None:
        self.dep = dep

    def collect(self) -> Iterator[Any]:
        snap = self.dep.metrics()
        labels = ["graph", "node"]
        rows = [("__graph__", snap.graph)] + sorted(snap.nodes.items())
        g = self.dep.name
        requests = CounterMetricFamily("hogar_requests", "Requests received", labels=labels)
        ok = CounterMetricFamily("hogar_requests_ok", "Requests answered", labels=labels)
        errors = CounterMetricFamily("hogar_request_errors", "Failed requests by cause",
                                     labels=labels + ["cause"])
        restarts = CounterMetricFamily("hogar_replica_restarts", "Replica restarts", labels=labels)
        gauges = {
            key: GaugeMetricFamily(f"hogar_{key}", doc, labels=labels)
            for key, doc in (("queue_depth", "Requests waiting in queues"),
                             ("in_flight", "Requests being processed"),
                             ("replicas_alive", "Live replicas"),
                             ("rps", "Completions per second, last interval"))
        }
        latency = HistogramMetricFamily("hogar_latency_seconds", "Latency", labels=labels)
        for name, m in rows:
            lv = [g, name]
            requests.add_metric(lv, m.requests)
            ok.add_metric(lv, m.ok)
            for cause, n in sorted(m.errors_by_cause.items()):
                errors.add_metric(lv + [cause], n)
            restarts.add_metric(lv, m.restarts)
            for key, fam in gauges.items():
                fam.add_metric(lv, getattr(m, key))
            cumulative, buckets = 0, []
            for bound, count in m.histogram:
                cumulative += count
                buckets.append((repr(bound), cumulative))
            buckets.append(("+Inf", cumulative))
            if name == "__graph__":
                buckets = _with_exemplars(self.dep, m.histogram, buckets)
            latency.add_metric(lv, buckets, sum_value=_approx_sum(m.histogram))
        yield from (requests, ok, errors, restarts, *gauges.values(), latency)
        events = CounterMetricFamily("hogar_recovery_events", "Recovery events", labels=["graph"])
        events.add_metric([g], len(snap.events))
        yield events


def _with_exemplars(dep: Any, histogram: list[tuple[float, int]], buckets: list[Any]) -> list[Any]:
    tracing = getattr(dep, "tracing", None)
    if tracing is None:
        return buckets
    picked = tracing.exemplars([bound for bound, _n in histogram] + [float("inf")])
    return [(b[0], b[1], Exemplar({"trace_id": e[0]}, e[1], e[2])) if e is not None else b
            for b, e in zip(buckets, picked)]


def _approx_sum(histogram: list[tuple[float, int]]) -> float:
    return sum(bound * count for bound, count in histogram)


def start_server(dep: Deployment, port: int) -> tuple[Any, int]:
    """Serve on 127.0.0.1:``port`` (0 picks a free port); returns (server, bound port)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(dep))
    server, _thread = start_http_server(port, addr="127.0.0.1", registry=registry)
    return server, server.server_address[1]
