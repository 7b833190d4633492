"""W3C Trace Context in and out: a request's trace ids, decided when it starts.

The ids of a request's root span are fixed before the request enters the graph,
so the response (written by the HTTP front while spans are still being built off
the request path) can name them. :func:`begin` reads an incoming ``traceparent``
and ``tracestate`` with OpenTelemetry's :class:`TraceContextTextMapPropagator`,
continues that trace or starts one, asks the sampler, and keeps the result in the
request context's ``attrs`` (:data:`TRACE_KEY`) as a picklable :class:`TraceIds`,
so it crosses to a Ray ingress with the context. :func:`traceparent` writes the
header naming the root span, with the same propagator.
"""

from __future__ import annotations

from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import Sampler, TraceIdRatioBased
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["TRACE_KEY", "TraceIds", "begin", "child_ids", "ids_of", "new_ids", "trace_headers", "traceparent"]

TRACE_KEY = "trace"  # where a RequestContext's attrs keep its TraceIds

_PROPAGATOR = TraceContextTextMapPropagator()
_IDS = RandomIdGenerator()
_LIMIT = TraceIdRatioBased.TRACE_ID_LIMIT


class TraceIds:
    """A request's place in a trace: ``trace_id`` and its root span's ``span_id``
    (ints, as OpenTelemetry keeps them), the caller's span ``parent_id`` (0 when the
    trace starts here), whether it is ``sampled`` and the ``tracestate`` to pass on."""

    __slots__ = ("trace_id", "span_id", "parent_id", "sampled", "tracestate")

    def __init__(self, trace_id: int, span_id: int, parent_id: int = 0, sampled: bool = False,
                 tracestate: str | None = None) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.sampled = sampled
        self.tracestate = tracestate

    @property
    def trace_hex(self) -> str:
        return format(self.trace_id, "032x")

    @property
    def span_hex(self) -> str:
        return format(self.span_id, "016x")

    def __getstate__(self) -> tuple:
        return (self.trace_id, self.span_id, self.parent_id, self.sampled, self.tracestate)

    def __setstate__(self, state: tuple) -> None:
        self.trace_id, self.span_id, self.parent_id, self.sampled, self.tracestate = state

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TraceIds) and self.__getstate__() == other.__getstate__()

    def __repr__(self) -> str:
        return f"<TraceIds {self.trace_hex}/{self.span_hex}{' sampled' if self.sampled else ''}>"


def new_ids(header: str | None, state: str | None, sampler: Sampler, name: str = "request") -> TraceIds:
    """The ids of a request that came with ``traceparent`` ``header`` (or None) and
    ``tracestate`` ``state``: that trace continued when the header is valid, else a
    new one; ``sampler`` decides whether it is recorded."""
    parent: SpanContext | None = None
    context = None
    if header:
        carrier = {"traceparent": header} if not state else {"traceparent": header, "tracestate": state}
        context = _PROPAGATOR.extract(carrier)
        parent = trace_api.get_current_span(context).get_span_context()
        if not parent.is_valid:
            parent, context = None, None
    if parent is None:
        trace_id = _IDS.generate_trace_id()
        bound = getattr(sampler, "root_bound", None)
        if bound is not None:  # the root sampler's own test (TraceIdRatioBased.should_sample)
            return TraceIds(trace_id, _IDS.generate_span_id(), 0, trace_id & _LIMIT < bound)
    else:
        trace_id = parent.trace_id
    result = sampler.should_sample(context, trace_id, name)
    sampled = result.decision.is_sampled()
    outgoing = result.trace_state if result.trace_state is not None else (
        parent.trace_state if parent is not None else None)
    return TraceIds(trace_id, _IDS.generate_span_id(), parent.span_id if parent is not None else 0, sampled,
                    outgoing.to_header() if outgoing else None)


def child_ids(ids: TraceIds) -> TraceIds:
    """The ids of a request sent on behalf of the span ``ids`` names (its child)."""
    return TraceIds(ids.trace_id, _IDS.generate_span_id(), ids.span_id, ids.sampled, ids.tracestate)


def ids_of(context: Any) -> TraceIds | None:
    """The :class:`TraceIds` kept in a request context, if any."""
    attrs = getattr(context, "attrs", None)
    return attrs.get(TRACE_KEY) if attrs else None


def begin(context: Any, sampler: Sampler) -> TraceIds:
    """Decide ``context``'s trace ids once (from its ``traceparent``/``tracestate``)
    and keep them in its ``attrs``; the ones already there are kept. The request is
    ``observed`` (its walker events published for a tracer) when it is sampled."""
    ids = ids_of(context)
    if ids is None:
        ids = new_ids(context.traceparent, context.tracestate, sampler)
        if context.attrs is None:
            context.attrs = {TRACE_KEY: ids}
        else:
            context.attrs[TRACE_KEY] = ids
    context.observed = ids.sampled
    return ids


def traceparent(ids: TraceIds) -> str:
    """The ``traceparent`` header naming the request's root span."""
    return trace_headers(ids)["traceparent"]


def trace_headers(ids: TraceIds) -> dict[str, str]:
    """``traceparent`` (and ``tracestate`` when there is one) for a response or an
    outgoing call, written by the W3C propagator."""
    span = SpanContext(ids.trace_id, ids.span_id, False, TraceFlags(TraceFlags.SAMPLED if ids.sampled else 0),
                       TraceState.from_header([ids.tracestate]) if ids.tracestate else None)
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=trace_api.set_span_in_context(NonRecordingSpan(span)))
    return carrier
