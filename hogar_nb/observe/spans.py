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

import threading
from typing import Any, Callable, Iterable

from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

from .context import TRACE_KEY, ids_of

__all__ = ["Span", "SpanBuilder", "Trace"]

_IDS = RandomIdGenerator()
_BUILDING = threading.Lock()
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
    """One request's spans, the root first. A traced request's trace keeps its steps
    and builds its spans when first asked for (the store keeps traces nobody may
    read): one object per trace for the garbage collector to walk."""

    __slots__ = ("_spans", "request_id", "source", "route", "cause", "trace_int", "start", "end", "span_id")

    def __init__(self, spans: list[Span], request_id: str, source: str, route: str | None,
                 cause: str | None) -> None:
        self._spans: list[Span] | None = spans
        self.request_id = request_id
        self.source = source
        self.route = route
        self.cause = cause
        root = spans[0]
        self.trace_int: int = root.trace_id
        self.span_id: int = root.span_id
        self.start: float = root.start
        self.end: float = root.end

    def _build(self) -> list[Span]:
        raise NotImplementedError  # a trace made with its spans never builds them

    @property
    def trace_id(self) -> str:
        """The W3C trace id, 32 hex digits."""
        return format(self.trace_int, "032x")

    @property
    def spans(self) -> list[Span]:
        if self._spans is None:
            with _BUILDING:  # once, whichever thread reads first: span ids stay the same
                if self._spans is None:
                    self._spans = self._build()
        return self._spans

    @property
    def root(self) -> Span:
        return self.spans[0]

    @property
    def duration(self) -> float:
        return self.end - self.start

    @property
    def ok(self) -> bool:
        return self.cause is None

    def summary(self) -> dict[str, Any]:
        return {"trace_id": self.trace_id, "span_id": format(self.span_id, "016x"),
                "request_id": self.request_id, "source": self.source, "route": self.route,
                "status": "ok" if self.cause is None else "error", "cause": self.cause,
                "start": self.start, "duration_ms": round(self.duration * 1000.0, 3), "spans": len(self.spans)}

    def to_json(self) -> dict[str, Any]:
        return {**self.summary(), "spans": [s.to_json() for s in self.spans]}

    def __repr__(self) -> str:
        return f"<Trace {self.trace_id} {self.duration * 1000:.3f} ms>"


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


def _text(error: Any) -> str | None:
    if error is None or isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"[:500]


def _step(event: Any) -> tuple:
    """A walker event as the builder keeps it (a :class:`~hogar_nb.runtime.walk.Step`
    tuple): no payload, no context, its error as text."""
    return (event.kind, event.time, event.node, event.attempt, event.outcome, event.choice, event.delay,
            event.replica, event.began, event.batch, event.shadow, _text(event.error))


def _untangled(steps: list[tuple]) -> list[tuple]:
    """``steps`` with their errors as text (an exception keeps its frames alive)."""
    for i, step in enumerate(steps):
        if step[11] is not None and not isinstance(step[11], str):
            steps[i] = (*step[:11], _text(step[11]))
    return steps


class _Request(Trace):
    """A sampled request's trace: its steps so far, its spans built from them when
    first read. It keeps plain values only (its context and ids go once it ends)."""

    __slots__ = ("context", "steps", "graph", "parent_id", "error_node", "error")

    def __init__(self, ids: Any, context: Any, source: str, start: float, graph: str,
                 steps: list[tuple] | None = None) -> None:
        self._spans = None
        self.trace_int = ids.trace_id
        self.span_id = ids.span_id
        self.parent_id: int = ids.parent_id
        self.context = context
        self.source = source
        self.start = start
        self.steps: Any = steps if steps is not None else []
        self.graph = graph
        self.end = start
        self.cause = None
        self.error_node: str | None = None
        self.error: str | None = None
        self.request_id = ""
        self.route = None

    def _build(self) -> list[Span]:
        steps = _untangled(list(self.steps))
        self.steps = ()
        nodes: dict[str, _Node] = {}
        routes: list[tuple[str, str, float]] = []
        skipped: list[str] = []
        trace_id = self.trace_int
        for step in steps:
            kind, at, node = step[0], step[1], step[2]
            if step[10]:  # a mirror's copy (shadow traffic) has spans of its own beside the node's
                node = f"{node} (mirror)"
            if kind == "enqueued":
                state = nodes.get(node)
                if state is None:
                    nodes[node] = _Node(at)
                else:
                    state.queued = at
            elif kind == "attempt":
                _attempt(nodes, trace_id, node, step)
            elif kind == "retry":
                state = nodes.get(node)
                if state is not None:
                    state.queued = at
                    state.delay = step[6]
            elif kind == "routed":
                routes.append((node, step[5], at))
            elif kind == "skipped":
                skipped.append(node)
        return self._assemble(nodes, routes, skipped)

    def _assemble(self, nodes: dict[str, _Node], routes: list[tuple[str, str, float]],
               skipped: list[str]) -> list[Span]:
        cause, route = self.cause, self.route
        trace_id, root_id = self.trace_int, self.span_id
        root_attrs: dict[str, Any] = {"hogar.graph": self.graph, "hogar.source": self.source,
                                      "hogar.request_id": self.request_id, "hogar.status": cause or "ok"}
        if route:
            root_attrs["http.route"] = route
        spans: list[Span] = []
        for name, state in nodes.items():
            node_attrs: dict[str, Any] = {"hogar.node": name, "hogar.attempts": sum(
                1 for c in state.children if c.kind == "attempt")}
            if name.endswith(" (mirror)"):
                node_attrs["hogar.node"], node_attrs["hogar.mirror"] = name[:-len(" (mirror)")], True
            spans.append(Span(trace_id, state.span_id, root_id, name, "node", state.start, state.end, state.ok,
                              node_attrs))
            spans.extend(state.children)
            state.attrs = node_attrs
        for name, choice, at in routes:
            chose = nodes.get(name)
            if chose is not None:
                chose.attrs["hogar.choice"] = choice
            else:
                spans.append(Span(trace_id, _IDS.generate_span_id(), root_id, name, "route", at, at, True,
                                  {"hogar.node": name, "hogar.choice": choice}))
        if skipped:
            root_attrs["hogar.skipped"] = skipped
        if cause is not None:
            root_attrs["hogar.cause"] = cause
            if self.error_node is not None:
                root_attrs["hogar.error_node"] = self.error_node
            if self.error is not None:
                root_attrs["hogar.error"] = self.error
        name = f"POST {route}" if route else f"{self.graph} {self.source}".strip()
        root = Span(trace_id, root_id, self.parent_id, name, "request", self.start, self.end, cause is None,
                    root_attrs)
        spans.sort(key=lambda s: s.start)
        return [root, *spans]


def _attempt(nodes: dict[str, _Node], trace_id: int, node: str, step: tuple) -> None:
    _kind, end, _node, attempt, outcome, _choice, _delay, replica, step_began, batch, shadow, error = step
    state = nodes.get(node)
    if state is None:  # its enqueue event was lost: the attempt alone
        state = nodes[node] = _Node(step_began or end)
    queued = state.queued if state.queued is not None else state.start
    began = queued if step_began is None else min(max(step_began, queued), end)
    parent = state.span_id
    if began > queued or state.delay:
        attrs: dict[str, Any] = {"hogar.node": node, "hogar.attempt": attempt}
        if state.delay:
            attrs["hogar.retry_delay_ms"] = round(state.delay * 1000.0, 3)
        state.children.append(Span(trace_id, _IDS.generate_span_id(), parent, f"{node} queue",
                                   "queue", queued, began, True, attrs))
    ok = outcome == "ok"
    attrs = {"hogar.node": node, "hogar.attempt": attempt, "hogar.outcome": outcome,
             "hogar.batch_size": batch or 1}
    if shadow:
        attrs["hogar.node"], attrs["hogar.mirror"] = node[:-len(" (mirror)")], True
    if replica is not None:
        attrs["hogar.replica"] = str(replica)
    if not ok:
        attrs["hogar.cause"] = outcome
        if error is not None:
            attrs["hogar.error"] = _text(error)
    state.children.append(Span(trace_id, _IDS.generate_span_id(), parent, f"{node} attempt {attempt}",
                               "attempt", began, end, ok, attrs))
    state.end = max(state.end, end)
    state.queued = None
    state.delay = 0.0
    state.ok = ok


class SpanBuilder:
    """Feed it every :class:`WalkEvent` (``builder(event)``); each sampled request's
    :class:`Trace` goes to ``sink`` when the request completes or fails. Only the
    steps are kept on the way (cheap); spans are made when the trace is read or
    exported. ``graph`` names the deployment in the root spans' attributes."""

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
        steps = event.steps
        if steps is not None:  # the whole request at once (see WalkEvent.steps)
            context = event.context
            attrs = context.attrs if context is not None else None
            ids = attrs.get(TRACE_KEY) if attrs else None
            if ids is not None and ids.sampled:
                first = steps[0]
                self._end(_Request(ids, context, first[2], first[1], self.graph, steps), event)
            return
        if kind == "started":
            ids = ids_of(event.context)
            if ids is not None and ids.sampled:
                if len(self.open) >= _OPEN_LIMIT:
                    del self.open[next(iter(self.open))]
                    self.given_up += 1
                self.open[event.request] = _Request(ids, event.context, event.node, event.time, self.graph)
            return
        req = self.open.get(event.request)
        if req is None:
            return
        if kind == "completed" or kind == "failed":
            del self.open[event.request]
            self._end(req, event)
        else:
            req.steps.append(_step(event))

    def _end(self, req: _Request, event: Any) -> None:
        req.end = event.time
        if event.kind == "failed":
            req.cause = event.outcome or "error"
            req.error_node = event.node
            req.error = str(event.error)[:500] if event.error is not None else None
            req.steps = _untangled(list(req.steps))  # errors as text now: exceptions keep frames alive
        # what the trace needs of the request's context, which is let go (it dies young); the
        # steps as a tuple of tuples of plain values, which the garbage collector stops tracking
        context = req.context
        req.context = None
        req.request_id = context.request_id
        attrs = context.attrs
        req.route = attrs.get("route") if attrs else None
        req.steps = tuple(req.steps)
        self.sink(req)
