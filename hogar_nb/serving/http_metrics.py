"""HTTP request counters by route and status, and the ``/metrics`` page."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any, Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import choose_encoder
from prometheus_client.core import CounterMetricFamily
from starlette.requests import Request
from starlette.responses import Response

from ..quality.prometheus import QualityCollector
from ..runtime.prometheus import DeploymentCollector

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol


__all__ = ["HTTPCounters", "CountingMiddleware", "metrics_endpoint"]

UNMATCHED = "(unmatched)"


class HTTPCounters:
    """Counts of answered HTTP requests keyed by (method, route template, status)."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str, int]] = Counter()
        self._lock = threading.Lock()

    def add(self, method: str, route: str, status: int) -> None:
        key = (method, route, status)
        with self._lock:
            self._counts[key] += 1

    def snapshot(self) -> dict[tuple[str, str, int], int]:
        with self._lock:
            return dict(self._counts)

    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())


class CountingMiddleware:
    """Pure ASGI middleware: counts every HTTP response by its matched route and status."""

    def __init__(self, app: Any, counters: HTTPCounters) -> None:
        self.app = app
        self.counters = counters

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_counting(message: dict) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_counting)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or UNMATCHED
            self.counters.add(scope["method"], path, status)


class _HTTPCollector:
    def __init__(self, counters: HTTPCounters, graph: str) -> None:
        self.counters = counters
        self.graph = graph

    def collect(self) -> Iterator[Any]:
        fam = CounterMetricFamily("hogar_http_requests", "HTTP requests answered, by route and status",
                                  labels=["graph", "method", "route", "status"])
        for (method, route, status), n in sorted(self.counters.snapshot().items()):
            fam.add_metric([self.graph, method, route, str(status)], n)
        yield fam


def make_registry(dep: DeploymentProtocol, counters: HTTPCounters) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(dep))
    registry.register(_HTTPCollector(counters, dep.name))
    registry.register(QualityCollector(dep))
    return registry


def metrics_endpoint(registry: CollectorRegistry) -> Any:
    async def metrics(request: Request) -> Response:
        accept = request.headers.get("accept", "")
        if "application/openmetrics-text" in accept:  # OpenMetrics carries the exemplars
            encoder, content_type = choose_encoder(accept)
            return Response(encoder(registry), headers={"content-type": content_type})
        return Response(generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8")

    return metrics
