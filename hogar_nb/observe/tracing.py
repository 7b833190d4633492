"""Tracing of one deployment: ids at the start, spans from the walker, store and export."""

from __future__ import annotations

import os
import threading
import time
from bisect import bisect_left
from collections import deque
from typing import Any

from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.sampling import Sampler

from .context import TraceIds, begin
from .export import Exporter
from .records import END, SpanBuilder, kept, record, sampled_ids
from .sampling import env_sampler, sampler_for
from .spans import as_trace
from .store import TraceStore, facts

__all__ = ["Tracing", "tracing_configured"]

_EXPORT_INTERVAL = 0.05  # the longest wait of a finished trace for the exporters
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
    exporters the environment configures (``export=False``: the store only), on a
    thread of its own.

    On the embedded engine the walker hands a sampled request's trail over as the
    request ends, and its record goes into the store there and then (appends, no
    lock: :class:`TraceStore`); on Ray the ingress's events come to the driver and
    are followed request by request (:class:`SpanBuilder`).

    ``sample``: the fraction of new traces recorded (callers' sampled traces always
    are); None: ``OTEL_TRACES_SAMPLER``, else the graph's ``trace_sample``, else
    every request. ``recent``,
    ``slowest`` and ``failed`` size the :class:`TraceStore`; ``max_events`` bounds
    the events waiting for the span builder, and the traces waiting for export
    (more are dropped, counted);
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
        self.closed = False
        self.export_dropped = 0
        self._max_outbox = max_events
        self._outbox: deque[tuple] = deque()
        self._exporting: threading.Thread | None = None
        self._handing = False  # the export thread is handing traces over
        self._stop = threading.Event()
        if self.exporter is not None:
            self._exporting = threading.Thread(target=self._export_loop, name="hogar-trace-export", daemon=True)
            self._exporting.start()
        # a sampled request's trail goes into the store as the request ends (record), or
        # its end event becomes its record as it is published (kept)
        self.subscription = dep.subscribe(self.builder, maxsize=max_events, every=False, reduce=kept,
                                          record=self.store.add_walked if self._exporting is None else self._record)

    def begin(self, context: Any) -> TraceIds:
        """Decide ``context``'s trace ids (kept in its ``attrs``), once, by this
        deployment's sampler."""
        return begin(context, self.sampler)

    def record_request(self, ids: TraceIds, context: Any, source: str, start: float, end: float,
                       cause: str | None, attrs: dict[str, Any] | None = None) -> None:
        """Record a request span the walker did not see (an HTTP request that sent
        several graph requests, their root spans being its children)."""
        route = (context.attrs or {}).get("route")
        self._finished((ids.trace_id, ids.span_id, ids.parent_id, start, end, context.request_id, source, route,
                        cause, None, None, attrs or None))

    def _record(self, context: Any, trail: list[Any], end: float, error: Any) -> None:
        """A request the walker followed ended, while traces are exported (the
        subscription's ``record``; the store's own :meth:`~.store.TraceStore.add_walked`
        otherwise): its record is kept and handed to the exporters."""
        ids = sampled_ids(context)
        if ids is not None:
            self._finished(record(ids, context, trail, end, error))

    def _finished(self, record: tuple) -> None:
        self.store.add(record)
        if self._exporting is not None:
            self._export(record)

    def _export(self, record: tuple) -> None:
        if len(self._outbox) < self._max_outbox:
            self._outbox.append(record)
        else:
            self.export_dropped += 1

    def _export_loop(self) -> None:
        outbox, graph, exporter = self._outbox, self.builder.graph, self.exporter
        assert exporter is not None
        while True:
            stopping = self._stop.wait(_EXPORT_INTERVAL)
            self._handing = True
            while outbox:
                try:
                    exporter(as_trace(outbox.popleft(), graph))
                except Exception:  # a trace whose spans could not be made: lost, counted
                    self.export_dropped += 1
            self._handing = False
            if stopping:
                return

    def exemplars(self, bounds: list[float]) -> list[tuple[str, float, float] | None]:
        """For each latency bucket (upper ``bounds`` in seconds, ascending, the last
        one +Inf) the latest recent request that fell in it: (trace id, latency s,
        time), or None; for OpenMetrics exemplars on ``/metrics``."""
        out: list[tuple[str, float, float] | None] = [None] * len(bounds)
        for item in self.store.recent():
            duration, cause, trace_id = facts(item)
            if cause is not None:
                continue
            i = bisect_left(bounds, duration)
            if i < len(bounds):
                out[i] = (format(trace_id, "032x"), duration, item[END] if isinstance(item, tuple) else item.end)
        return out

    def flush(self, timeout: float = 5.0) -> bool:
        """Export what is buffered now; false if the exporters did not finish in time."""
        if self.exporter is None:
            return True
        deadline = time.monotonic() + timeout
        while (self._outbox or self._handing) and time.monotonic() < deadline:  # handed to the exporters first
            time.sleep(0.005)
        return self.exporter.flush(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop following requests; export what is left."""
        if self.closed:
            return
        self.closed = True
        from ..runtime.observer_thread import DRAIN_INTERVAL  # the package itself needs no runtime

        self.subscription.close()
        time.sleep(2 * DRAIN_INTERVAL)  # the subscription's last delivery
        if self._exporting is not None:
            self._stop.set()
            self._exporting.join()
        if self.exporter is not None:
            self.exporter.close()

    def stats(self) -> dict[str, Any]:
        sub = self.subscription
        return {**self.store.stats(), "events_dropped": sub.dropped + self.export_dropped,
                "observer_failed": sub.failed,
                "export_failures": self.exporter.failures if self.exporter is not None else 0,
                "open": len(self.builder.open)}

    def __repr__(self) -> str:
        rate = "env" if self.sample is None else f"{self.sample:g}"
        return f"<Tracing sample={rate} {len(self.store)} traces, export={self.exporter!r}>"
