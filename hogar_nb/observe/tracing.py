"""Tracing of one deployment: ids at the start, spans from the walker, store and export."""

from __future__ import annotations

import os
import time
from bisect import bisect_left
from collections import deque
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from .context import TRACE_KEY, TraceIds, begin
from .export import Exporter
from .records import CAUSE, END, SpanBuilder, kept
from .sampling import env_sampler, sampler_for
from .spans import as_trace
from .store import TraceStore, facts

__all__ = ["Tracing", "tracing_configured"]

_EXEMPLARS = 512  # recent successful requests the exemplars are picked from
_ENV = ("OTEL_TRACES_SAMPLER", "OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def tracing_configured() -> bool:
    """Whether the environment asks for traces (a sampler, an exporter or an endpoint)."""
    if os.environ.get("OTEL_TRACES_SAMPLER"):
        return True
    if os.environ.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return any(os.environ.get(v) for v in _ENV)


class Tracing:
    """Traces the requests of ``dep``: decides each request's ids when it starts
    (:meth:`begin`), keeps each sampled request's steps as the walker reports them
    (a record: :mod:`.records`) in :attr:`store`, and hands its spans to the
    exporters the environment configures (``export=False``: the store only).

    ``sample``: the fraction of new traces recorded (callers' sampled traces always
    are); None: ``OTEL_TRACES_SAMPLER``, else the graph's ``trace_sample``, else
    every request. ``recent``,
    ``slowest`` and ``failed`` size the :class:`TraceStore`; ``max_events`` bounds
    the events waiting for the span builder (more are dropped, counted);
    ``exporters``: OpenTelemetry span exporters to use instead of the environment's."""

    def __init__(self, dep: Any, sample: float | None = None, export: bool = True, recent: int = 1000,
                 slowest: int = 100, failed: int = 200, max_events: int = 100_000,
                 exporters: list[SpanExporter] | None = None) -> None:
        env = env_sampler() if sample is None else None
        if sample is None and env is None:  # the graph's default, else parentbased_always_on: a rate of 1
            graph_rate = (getattr(dep, "earg", None) or {}).get("trace_sample")
            sample = float(graph_rate) if graph_rate is not None else None
        self.sampler: Sampler = env if env is not None else sampler_for(1.0 if sample is None else sample)
        self.sample = sample
        self.store = TraceStore(recent, slowest, failed, dep.name)
        if not export:
            self.exporter = None
        elif exporters is not None:
            self.exporter = Exporter(exporters, dep.name)
        else:
            self.exporter = Exporter.from_env(dep.name)
        self.builder = SpanBuilder(self._finished, dep.name)
        self._latest: deque[tuple] = deque(maxlen=_EXEMPLARS)  # records
        # a sampled request's end event becomes its record as it is published (kept)
        self.subscription = dep.subscribe(self.builder, maxsize=max_events, every=False, reduce=kept)
        self.closed = False

    def begin(self, context: Any) -> TraceIds:
        """Decide ``context``'s trace ids (kept in its ``attrs``), once."""
        attrs = context.attrs
        ids = attrs.get(TRACE_KEY) if attrs else None
        if ids is None:  # not decided by the HTTP front
            return begin(context, self.sampler)
        context.observed = ids.sampled
        return ids

    def record_request(self, ids: TraceIds, context: Any, source: str, start: float, end: float,
                       cause: str | None, attrs: dict[str, Any] | None = None) -> None:
        """Record a request span the walker did not see (an HTTP request that sent
        several graph requests, their root spans being its children)."""
        route = (context.attrs or {}).get("route")
        self._finished((ids.trace_id, ids.span_id, ids.parent_id, start, end, context.request_id, source, route,
                        cause, None, None, attrs or None))

    def _finished(self, record: tuple) -> None:
        if self.exporter is not None:
            self.exporter(as_trace(record, self.builder.graph))
        self.store.add(record)
        if record[CAUSE] is None:
            self._latest.append(record)

    def exemplars(self, bounds: list[float]) -> list[tuple[str, float, float] | None]:
        """For each latency bucket (upper ``bounds`` in seconds, ascending, the last
        one +Inf) the latest recent request that fell in it: (trace id, latency s,
        time), or None; for OpenMetrics exemplars on ``/metrics``."""
        out: list[tuple[str, float, float] | None] = [None] * len(bounds)
        for item in list(self._latest):
            duration, _cause, trace_id = facts(item)
            i = bisect_left(bounds, duration)
            if i < len(bounds):
                out[i] = (format(trace_id, "032x"), duration, item[END])
        return out

    def flush(self, timeout: float = 5.0) -> bool:
        """Export what is buffered now; false if the exporters did not finish in time."""
        return self.exporter.flush(timeout) if self.exporter is not None else True

    def close(self) -> None:
        """Stop following requests; export what is left."""
        if self.closed:
            return
        self.closed = True
        from ..runtime.observer_thread import DRAIN_INTERVAL  # the package itself needs no runtime

        self.subscription.close()
        time.sleep(2 * DRAIN_INTERVAL)  # the subscription's last delivery
        if self.exporter is not None:
            self.exporter.close()

    def stats(self) -> dict[str, Any]:
        sub = self.subscription
        return {**self.store.stats(), "events_dropped": sub.dropped, "observer_failed": sub.failed,
                "export_failures": self.exporter.failures if self.exporter is not None else 0,
                "open": len(self.builder.open)}

    def __repr__(self) -> str:
        rate = "env" if self.sample is None else f"{self.sample:g}"
        return f"<Tracing sample={rate} {len(self.store)} traces, export={self.exporter!r}>"
