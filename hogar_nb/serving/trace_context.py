"""W3C Trace Context on every HTTP route: read ``traceparent``/``tracestate``, answer
with the ``traceparent`` of the request's root span, put the trace id in error bodies.

The ids are decided when the request arrives (:func:`hogar_nb.observe.new_ids`),
with the deployment's sampler when it traces (``dep.tracing``) and otherwise only
passing a caller's decision on, and kept in :data:`CURRENT` for the rest of the
request's task, where the error responses (:mod:`.responses`) find them.
"""

from __future__ import annotations

import time
from contextvars import ContextVar
from typing import Any

from opentelemetry.sdk.trace.id_generator import RandomIdGenerator
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from ..observe import NOT_SAMPLED, TRACE_KEY, TraceIds, child_ids, new_ids, trace_headers
from ..runtime.walk import RequestContext

__all__ = ["CURRENT", "TraceContextMiddleware", "header_pairs", "request_context", "row_contexts", "start_trace",
           "traced_request"]

CURRENT: ContextVar[TraceIds | None] = ContextVar("hogar_trace", default=None)
_IDS = RandomIdGenerator()
_LIMIT = TraceIdRatioBased.TRACE_ID_LIMIT


def start_trace(dep: Any, traceparent: str | None, tracestate: str | None) -> TraceIds:
    """The ids of a request that came with these headers (also kept in :data:`CURRENT`).

    A request without ``traceparent`` is a new trace: its ids are drawn directly and
    the sampler's root bound decides it (NOT_SAMPLED's is 0 while the deployment does
    not trace), the same few operations whether tracing is on or off, without asking
    OpenTelemetry's sampler for its answer (a tenth of the data plane's time per
    request)."""
    tracing = getattr(dep, "tracing", None)
    sampler = tracing.sampler if tracing is not None else NOT_SAMPLED
    bound = getattr(sampler, "root_bound", None) if traceparent is None else None
    if bound is not None:  # a new trace, decided as new_ids decides it, with a call fewer
        trace_id = _IDS.generate_trace_id()
        ids = TraceIds(trace_id, _IDS.generate_span_id(), 0, trace_id & _LIMIT < bound)
    else:
        ids = new_ids(traceparent, tracestate, sampler)
    CURRENT.set(ids)
    return ids


def request_context(request_id: str, traceparent: str | None, tracestate: str | None, ids: TraceIds,
                    route: str) -> Any:
    """The RequestContext a graph request of this HTTP request carries."""
    return RequestContext(request_id, traceparent, tracestate, {TRACE_KEY: ids, "route": route}, ids.sampled)


def header_pairs(ids: TraceIds) -> list[tuple[bytes, bytes]]:
    """``traceparent`` (and ``tracestate``) as raw ASGI header pairs: what
    :func:`~hogar_nb.observe.trace_headers` writes with OpenTelemetry's propagator,
    written directly. The W3C format of version 00 is fixed
    (``00-{trace id}-{span id}-{flags}``) and ``tracestate`` is kept in header form,
    while the propagator builds a span context, a context and a carrier for every
    response."""
    pairs = [(b"traceparent", b"00-%032x-%016x-%s" % (ids.trace_id, ids.span_id, b"01" if ids.sampled else b"00"))]
    if ids.tracestate:
        pairs.append((b"tracestate", ids.tracestate.encode("latin-1")))
    return pairs


def incoming(headers: list[tuple[bytes, bytes]]) -> tuple[str | None, str | None]:
    traceparent = tracestate = None
    for key, value in headers:
        if key == b"traceparent":
            traceparent = value.decode("latin-1")
        elif key == b"tracestate":
            tracestate = value.decode("latin-1") if tracestate is None else f"{tracestate},{value.decode('latin-1')}"
    return traceparent, tracestate


class TraceContextMiddleware:
    """ASGI middleware: trace ids for every HTTP request, ``traceparent`` on every response."""

    def __init__(self, app: Any, dep: Any) -> None:
        self.app = app
        self.dep = dep

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        traceparent, tracestate = incoming(scope["headers"])
        ids = start_trace(self.dep, traceparent, tracestate)
        scope["hogar.trace"] = (ids, traceparent, tracestate)
        pairs = header_pairs(ids)

        async def send_traced(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                if not any(k.lower() == b"traceparent" for k, _ in headers):
                    message = {**message, "headers": headers + pairs}
            await send(message)

        await self.app(scope, receive, send_traced)


class _HTTPSpan:
    """The span of an HTTP request that sends several graph requests (one per row of
    an infer request): their root spans are its children. Recorded when it ends,
    if the request is sampled and the deployment traces."""

    def __init__(self, tracing: Any, context: Any, source: str, rows: int) -> None:
        self.tracing = tracing
        self.context = context
        self.source = source
        self.rows = rows
        self.start = time.time()

    def end(self, error: BaseException | None) -> None:
        if self.tracing is None or not self.rows:
            return
        ids = self.context.attrs[TRACE_KEY]
        if ids.sampled:
            cause = getattr(error, "cause", "error") if error is not None else None
            self.tracing.record_request(ids, self.context, self.source, self.start, time.time(), cause,
                                        {"hogar.rows": self.rows})


def traced_request(dep: Any, request: Any, request_id: str, source: str, rows: int) -> tuple[Any, _HTTPSpan]:
    """The context of a graph request sent by a Starlette route (the ids the middleware
    decided), and the span to end when the HTTP request ends (it records one only
    for an infer request of ``rows`` > 0 rows, whose rows are requests of their own)."""
    traced = request.scope.get("hogar.trace")
    if traced is None:  # an app without the middleware
        traced = (start_trace(dep, None, None), None, None)
    ids, traceparent, tracestate = traced
    context = request_context(request_id, traceparent, tracestate, ids, request.url.path)
    return context, _HTTPSpan(getattr(dep, "tracing", None), context, source, rows)


def row_contexts(context: Any, n: int) -> list[Any]:
    """One context per row: the same trace, each row's root span a child of the HTTP
    request's span."""

    ids = context.attrs[TRACE_KEY]
    header = trace_headers(ids)
    return [RequestContext(request_id=f"{context.request_id}:{i}", traceparent=header["traceparent"],
                           tracestate=header.get("tracestate"),
                           attrs={TRACE_KEY: child_ids(ids), "route": context.attrs.get("route")},
                           observed=ids.sampled)
            for i in range(n)]
