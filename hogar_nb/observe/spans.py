"""Spans of one request, built from the walker's events off the request path.

:class:`SpanBuilder` follows each sampled request's :class:`WalkEvent` s and, when
the request ends, hands its :class:`Trace` on: one root span (the request: route,
source, status, request id) whose ids are the ones decided when the request
started (:mod:`.context`), and per node visited one span with a child span for
each wait in the node's queue and each attempt (replica, outcome, cause, batch
size). A switch's or split's choice is an attribute of that node's span (a split,
which runs no replica, gets a span of no length); skipped nodes are listed on the
root span.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from .context import ids_of

__all__ = ["Span", "SpanBuilder", "Trace"]

_IDS = RandomIdGenerator()
_OPEN_LIMIT = 100_000  # requests followed at once; past it the oldest is given up


class Span:
    """One timed step of a request. ``kind``: ``request`` (the root), ``node``,
    ``queue``, ``attempt`` or ``route``; times in seconds since the epoch."""

    __slots__ = ("trace_id", "span_id", "parent_id", "name", "kind", "start", "end", "ok", "attrs")

    def __init__(self, trace_id: int, span_id: int, parent_id: int, name: str, kind: str, start: float,
                 end: float, ok: bool = True, attrs: dict[str, Any] | None = None) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id
        self.name = name
        self.kind = kind
        self.start = start
        self.end = end
        self.ok = ok
        self.attrs = attrs if attrs is not None else {}

    @property
    def duration(self) -> float:
        return self.end - self.start

    def to_json(self) -> dict[str, Any]:
        return {"trace_id": format(self.trace_id, "032x"), "span_id": format(self.span_id, "016x"),
                "parent_id": format(self.parent_id, "016x") if self.parent_id else None,
                "name": self.name, "kind": self.kind, "start": self.start, "end": self.end,
                "duration_ms": round(self.duration * 1000.0, 3), "status": "ok" if self.ok else "error",
                "attributes": self.attrs}

    def __repr__(self) -> str:
        return f"<Span {self.kind} {self.name!r} {self.duration * 1000:.3f} ms{'' if self.ok else ' error'}>"


class Trace:
    """One request's spans, the root first."""

    __slots__ = ("spans", "request_id", "source", "route", "cause")

    def __init__(self, spans: list[Span], request_id: str, source: str, route: str | None,
                 cause: str | None) -> None:
        self.spans = spans
        self.request_id = request_id
        self.source = source
        self.route = route
        self.cause = cause

    @property
    def root(self) -> Span:
        return self.spans[0]

    @property
    def trace_id(self) -> str:
        return format(self.root.trace_id, "032x")

    @property
    def duration(self) -> float:
        return self.root.duration

    @property
    def ok(self) -> bool:
        return self.cause is None

    def summary(self) -> dict[str, Any]:
        root = self.root
        return {"trace_id": self.trace_id, "span_id": format(root.span_id, "016x"),
                "request_id": self.request_id, "source": self.source, "route": self.route,
                "status": "ok" if self.cause is None else "error", "cause": self.cause,
                "start": root.start, "duration_ms": round(self.duration * 1000.0, 3), "spans": len(self.spans)}

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "spans": [s.to_json() for s in self.spans]}

    def __repr__(self) -> str:
        return f"<Trace {self.trace_id} {len(self.spans)} spans {self.duration * 1000:.3f} ms>"


class _Node:
    __slots__ = ("span_id", "start", "end", "queued", "delay", "ok", "children", "attrs")

    def __init__(self, start: float) -> None:
        self.span_id = _IDS.generate_span_id()
        self.start = start
        self.end = start
        self.queued: float | None = start
        self.delay = 0.0
        self.ok = True
        self.children: list[Span] = []
        self.attrs: dict[str, Any] = {}


class _Request:
    __slots__ = ("ids", "context", "source", "start", "nodes", "routes", "skipped")

    def __init__(self, ids: Any, context: Any, source: str, start: float) -> None:
        self.ids = ids
        self.context = context
        self.source = source
        self.start = start
        self.nodes: dict[str, _Node] = {}
        self.routes: list[tuple[str, str, float]] = []
        self.skipped: list[str] = []


class SpanBuilder:
    """Feed it every :class:`WalkEvent` (``builder(event)``); each sampled request's
    :class:`Trace` goes to ``sink`` when the request completes or fails.
    ``graph`` names the deployment in the root spans' attributes."""

    def __init__(self, sink: Callable[[Trace], Any], graph: str = "") -> None:
        self.sink = sink
        self.graph = graph
        self.open: dict[int, _Request] = {}
        self.given_up = 0  # requests whose end never came while too many were open

    def feed(self, events: Iterable[Any]) -> None:
        for event in events:
            self(event)

    def __call__(self, event: Any) -> None:
        kind = event.kind
        if kind == "started":
            ids = ids_of(event.context)
            if ids is not None and ids.sampled:
                if len(self.open) >= _OPEN_LIMIT:
                    del self.open[next(iter(self.open))]
                    self.given_up += 1
                self.open[event.request] = _Request(ids, event.context, event.node, event.time)
            return
        req = self.open.get(event.request)
        if req is None:
            return
        node = event.node
        if kind == "enqueued":
            state = req.nodes.get(node)
            if state is None:
                req.nodes[node] = _Node(event.time)
            else:
                state.queued = event.time
        elif kind == "attempt":
            self._attempt(req, event)
        elif kind == "retry":
            state = req.nodes.get(node)
            if state is not None:
                state.queued = event.time
                state.delay = event.delay
        elif kind == "routed":
            req.routes.append((node, event.choice, event.time))
        elif kind == "skipped":
            req.skipped.append(node)
        elif kind == "completed":
            del self.open[event.request]
            self.sink(self._finish(req, event.time, None, None))
        elif kind == "failed":
            del self.open[event.request]
            self.sink(self._finish(req, event.time, event.outcome or "error", event))

    def _attempt(self, req: _Request, event: Any) -> None:
        end = event.time
        state = req.nodes.get(event.node)
        if state is None:  # its enqueue event was lost: the attempt alone
            state = req.nodes[event.node] = _Node(getattr(event, "began", None) or end)
        queued = state.queued if state.queued is not None else state.start
        began = getattr(event, "began", None)
        began = queued if began is None else min(max(began, queued), end)
        trace_id, parent = req.ids.trace_id, state.span_id
        if began > queued or state.delay:
            attrs: dict[str, Any] = {"hogar.node": event.node, "hogar.attempt": event.attempt}
            if state.delay:
                attrs["hogar.retry_delay_ms"] = round(state.delay * 1000.0, 3)
            state.children.append(Span(trace_id, _IDS.generate_span_id(), parent, f"{event.node} queue",
                                       "queue", queued, began, True, attrs))
        ok = event.outcome == "ok"
        attrs = {"hogar.node": event.node, "hogar.attempt": event.attempt, "hogar.outcome": event.outcome,
                 "hogar.batch_size": getattr(event, "batch", 1) or 1}
        replica = getattr(event, "replica", None)
        if replica is not None:
            attrs["hogar.replica"] = str(replica)
        if not ok:
            attrs["hogar.cause"] = event.outcome
            if event.error is not None:
                attrs["hogar.error"] = str(event.error)[:500]
        state.children.append(Span(trace_id, _IDS.generate_span_id(), parent,
                                   f"{event.node} attempt {event.attempt}", "attempt", began, end, ok, attrs))
        state.end = max(state.end, end)
        state.queued = None
        state.delay = 0.0
        state.ok = ok

    def _finish(self, req: _Request, end: float, cause: str | None, event: Any) -> Trace:
        ids = req.ids
        context = req.context
        attrs_in = context.attrs or {}
        route = attrs_in.get("route")
        trace_id, root_id = ids.trace_id, ids.span_id
        root_attrs: dict[str, Any] = {"hogar.graph": self.graph, "hogar.source": req.source,
                                      "hogar.request_id": context.request_id, "hogar.status": cause or "ok"}
        if route:
            root_attrs["http.route"] = route
        spans: list[Span] = []
        for name, state in req.nodes.items():
            node_attrs: dict[str, Any] = {"hogar.node": name, "hogar.attempts": sum(
                1 for c in state.children if c.kind == "attempt")}
            spans.append(Span(trace_id, state.span_id, root_id, name, "node", state.start, state.end, state.ok,
                              node_attrs))
            spans.extend(state.children)
            state.attrs = node_attrs
        for name, choice, at in req.routes:
            chose = req.nodes.get(name)
            if chose is not None:
                chose.attrs["hogar.choice"] = choice
            else:
                spans.append(Span(trace_id, _IDS.generate_span_id(), root_id, name, "route", at, at, True,
                                  {"hogar.node": name, "hogar.choice": choice}))
        if req.skipped:
            root_attrs["hogar.skipped"] = list(req.skipped)
        if cause is not None:
            root_attrs["hogar.cause"] = cause
            if event.node is not None:
                root_attrs["hogar.error_node"] = event.node
            if event.error is not None:
                root_attrs["hogar.error"] = str(event.error)[:500]
        name = f"POST {route}" if route else f"{self.graph} {req.source}".strip()
        root = Span(trace_id, root_id, ids.parent_id, name, "request", req.start, end, cause is None, root_attrs)
        spans.sort(key=lambda s: s.start)
        return Trace([root, *spans], context.request_id, req.source, route, cause)
