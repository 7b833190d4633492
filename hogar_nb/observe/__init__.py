"""Traces of every request, fed by the walker's events: W3C Trace Context in and out,
spans per node, queue wait and attempt, a bounded trace store and OpenTelemetry export.

:class:`Tracing` follows one deployment (``dep.enable_tracing()`` makes one);
:mod:`.context` decides a request's trace ids when it starts, so the HTTP front can
name the root span in its response while spans are built off the request path.
"""

from __future__ import annotations

from .context import TRACE_KEY, TraceIds, begin, child_ids, ids_of, new_ids, trace_headers, traceparent
from .sampling import NOT_SAMPLED, TracingWarning, check_rate, sampler_for
from .records import SpanBuilder, kept
from .spans import Recorded, Span, Trace
from .store import TraceStore
from .tracing import Tracing, tracing_configured

__all__ = [
    "NOT_SAMPLED",
    "Recorded",
    "Span",
    "SpanBuilder",
    "TRACE_KEY",
    "Trace",
    "TraceIds",
    "TraceStore",
    "Tracing",
    "TracingWarning",
    "begin",
    "check_rate",
    "child_ids",
    "ids_of",
    "kept",
    "new_ids",
    "sampler_for",
    "trace_headers",
    "traceparent",
    "tracing_configured",
]
