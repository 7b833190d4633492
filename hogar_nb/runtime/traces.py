"""What a deployment offers for its request traces; :mod:`hogar_nb.observe` does the work.

The runtime imports no observe module: ``enable_tracing`` reaches it through the
front-end registry (:mod:`hogar_nb.dispatch` registers it), and ``tracing`` is the
object it returns, which decides each request's trace ids when it starts.
"""

from __future__ import annotations

import time
from typing import Any, Callable

__all__ = ["TracesMixin"]


class TracesMixin:
    """``enable_tracing``, ``traces``, ``trace`` and ``waterfall`` of
    :class:`~hogar_nb.runtime.base.DeploymentBase`."""

    tracing: Any = None  # hogar_nb.observe.Tracing once enable_tracing() ran
    _stopped: bool
    _stopped_error: Callable[[], Exception]  # DeploymentBase's

    def enable_tracing(self, sample: float | None = None, export: bool = True, **options: Any) -> Any:
        """Trace requests from now on; returns the :class:`hogar_nb.observe.Tracing`.

        Each request's W3C trace ids are decided when it starts (``fut.context.trace_id``);
        a fraction ``sample`` of new traces is recorded (None: ``OTEL_TRACES_SAMPLER``,
        else all), and every trace a caller sampled. Spans are built off the request
        path from the walker's events, kept in a bounded store (:meth:`traces`,
        :meth:`trace`; options ``recent``, ``slowest``, ``failed`` size it) and sent to
        the OpenTelemetry exporters ``OTEL_TRACES_EXPORTER`` names (or ``exporters``;
        ``export=False``: the store only). Calling it again replaces the previous
        tracing."""
        from .._frontends import frontend

        if self._stopped:
            raise self._stopped_error()
        previous = self.tracing
        self.tracing = frontend("tracing")(self, sample=sample, export=export, **options)
        if previous is not None:
            previous.close()
        return self.tracing

    def traces(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Summaries of traced requests, newest first (``status="error"``: failed ones;
        ``"slow"``: the slowest first); empty while tracing is off."""
        return self.tracing.store.summaries(status, limit) if self.tracing is not None else []

    def trace(self, trace_id: str, wait: float = 0.0) -> dict[str, Any] | None:
        """Every span of trace ``trace_id`` (32 hex digits) as JSON, or None when it was
        not kept; ``wait``: seconds to wait for a request that is still finishing."""
        if self.tracing is None:
            return None
        deadline = time.monotonic() + wait
        while True:
            doc: dict[str, Any] | None = self.tracing.store.trace_json(trace_id)
            if doc is not None or time.monotonic() >= deadline:
                return doc
            time.sleep(0.01)

    def waterfall(self, trace_id: str, wait: float = 1.0, **options: Any) -> Any:
        """A Plotly waterfall of trace ``trace_id`` (in a notebook): one row per span,
        nested by parent, coloured by kind and outcome, attributes on hover."""
        from .._frontends import frontend

        doc = self.trace(trace_id, wait)
        if doc is None:
            raise KeyError(f"no trace {trace_id!r} here: tracing is off, it was not sampled, or the "
                           "store has moved past it")
        return frontend("waterfall")(doc, **options)
