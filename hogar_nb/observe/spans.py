"""Spans of one request, built from its record when its trace is read or exported.

A sampled request is kept as a record (:mod:`.records`); :class:`Recorded` builds
its spans when first asked for: one root span (the request: route, source, status,
request id) whose ids are the ones decided when the request started
(:mod:`.context`), and per node visited one span with a child span for each wait in
the node's queue and each attempt (replica, outcome, cause, batch size). A switch's
or split's choice is an attribute of that node's span (a split, which runs no
replica, gets a span of no length); skipped nodes are listed on the root span. The
ids of the spans below the root are drawn from a generator seeded by the root's, so
a record builds the same spans whenever it is read.
"""

from __future__ import annotations

import random
import threading
from typing import Any

from ..core.trail import error_text, trail_steps
from .records import ATTRS, HEAD

__all__ = ["Recorded", "Span", "Trace", "as_trace"]

_BUILDING = threading.Lock()


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
    """One request's spans, the root first; a kept request's (:class:`Recorded`) are
    built from its record when first asked for."""

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

    def __init__(self, span_id: int, start: float) -> None:
        self.span_id = span_id
        self.start = start
        self.end = start
        self.queued: float | None = start
        self.delay = 0.0
        self.ok = True
        self.children: list[Span] = []
        self.attrs: dict[str, Any] = {}


class Recorded(Trace):
    """The trace of a request kept as a record (:mod:`.records`); its spans are built
    from the record when first read, the same ones whenever it is (``graph`` names
    the deployment in the root span)."""

    __slots__ = ("record", "graph", "parent_id", "error_node", "error", "_ids")

    def __init__(self, record: tuple, graph: str = "") -> None:
        self._spans = None
        self.record = record
        self.graph = graph
        (self.trace_int, self.span_id, self.parent_id, self.start, self.end, self.request_id, self.source,
         self.route, self.cause, self.error_node, self.error) = record[:ATTRS]
        self._ids: random.Random | None = None

    def _new_id(self) -> int:
        assert self._ids is not None
        return self._ids.getrandbits(64) or 1

    def _build(self) -> list[Span]:
        record = self.record
        self._ids = random.Random(self.span_id)  # the same ids at every build
        nodes: dict[str, _Node] = {}
        routes: list[tuple[str, str, float]] = []
        skipped: list[str] = []
        for step in trail_steps(record, HEAD):
            kind, at, node = step[0], step[1], step[2]
            if step[10]:  # a mirror's copy (shadow traffic) has spans of its own beside the node's
                node = f"{node} (mirror)"
            if kind == "enqueued":
                state = nodes.get(node)
                if state is None:
                    nodes[node] = _Node(self._new_id(), at)
                else:
                    state.queued = at
            elif kind == "attempt":
                self._attempt(nodes, node, step)
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
        if self.record[ATTRS]:
            root_attrs.update(self.record[ATTRS])
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
                spans.append(Span(trace_id, self._new_id(), root_id, name, "route", at, at, True,
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

    def _attempt(self, nodes: dict[str, _Node], node: str, step: tuple) -> None:
        _kind, end, _node, attempt, outcome, _choice, _delay, replica, step_began, batch, shadow, error = step
        state = nodes.get(node)
        if state is None:  # its enqueue event was lost: the attempt alone
            state = nodes[node] = _Node(self._new_id(), step_began or end)
        queued = state.queued if state.queued is not None else state.start
        began = queued if step_began is None else min(max(step_began, queued), end)
        parent, trace_id = state.span_id, self.trace_int
        if began > queued or state.delay:
            attrs: dict[str, Any] = {"hogar.node": node, "hogar.attempt": attempt}
            if state.delay:
                attrs["hogar.retry_delay_ms"] = round(state.delay * 1000.0, 3)
            state.children.append(Span(trace_id, self._new_id(), parent, f"{node} queue",
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
                attrs["hogar.error"] = error_text(error)
        state.children.append(Span(trace_id, self._new_id(), parent, f"{node} attempt {attempt}",
                                   "attempt", began, end, ok, attrs))
        state.end = max(state.end, end)
        state.queued = None
        state.delay = 0.0
        state.ok = ok


def as_trace(item: Trace | tuple, graph: str = "") -> Trace:
    """A kept trace as a :class:`Trace`: a record's built when read, a Trace itself."""
    return item if isinstance(item, Trace) else Recorded(item, graph)
