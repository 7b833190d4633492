"""A traced request as it is kept: tuples of plain values, read as spans when asked.

The walker writes a sampled request's steps into its trail (:mod:`hogar_nb.core.trail`)
and hands the trail to the tracer as the request ends (a subscription's ``record``).
The store keeps a request that succeeded *walked* (:data:`WALKED`): its root span's
ids, request id, route and end, and its trail as a tuple. That is all the request
path pays for; the request's *record*, the one layout every reader takes, is made
from it when its trace is read or exported (:func:`settle`). A request that failed
is kept as its record at once, its error as text (an exception would keep its frames).

Both hold ints, floats, strings and None only: the garbage collector stops
following them the first time it looks, so keeping a thousand of them costs no
collections, where an object per trace (or per step) is promoted to the oldest
generation and then dies there, paid for in full collections under load. Spans are
built from a record only when its trace is read or exported (:class:`~.spans.Recorded`).

Layout of a record: the fields below, then the request's trail (its ``started``
step first); ``ATTRS`` is None or a dict of extra attributes of the root span.
"""

from __future__ import annotations

from typing import Any, Callable

from ..core.trail import STARTED, STEP, STEP_FIELDS, error_text, started
from .context import TRACE_KEY, TraceIds

__all__ = ["ATTRS", "CAUSE", "END", "ERROR", "ERROR_NODE", "HEAD", "PARENT", "REQUEST_ID", "ROUTE", "SOURCE",
           "SPAN", "START", "STEP_FIELDS", "SpanBuilder", "TRACE", "WALKED", "error_text", "kept", "record",
           "sampled_ids", "settle"]

TRACE, SPAN, PARENT, START, END, REQUEST_ID, SOURCE, ROUTE, CAUSE, ERROR_NODE, ERROR, ATTRS = range(12)
HEAD = 12  # where the trail begins
WALKED = 7  # a request kept walked: (trace, span, parent, request id, route, end, trail as a tuple)
_OPEN_LIMIT = 100_000  # requests followed event by event at once; past it the oldest is given up


def sampled_ids(context: Any) -> TraceIds | None:
    """The trace ids of a request ``context`` when the request is sampled, else None."""
    attrs = context.attrs if context is not None else None
    ids = attrs.get(TRACE_KEY) if attrs else None
    return ids if ids is not None and ids.sampled else None


def record(ids: TraceIds, context: Any, trail: Any, end: float, error: Any = None) -> tuple:
    """The record of a request (``context``) that ended at ``end`` after the steps of
    ``trail``; ``error``: None, or the error it failed with (its cause, node and
    text are kept)."""
    route = context.attrs.get("route")
    if error is None:
        return _made(ids.trace_id, ids.span_id, ids.parent_id, context.request_id, route, end, trail)
    return _made(ids.trace_id, ids.span_id, ids.parent_id, context.request_id, route, end, trail,
                 getattr(error, "cause", None) or "error", getattr(error, "node", None), str(error)[:500])


def settle(item: Any) -> Any:
    """A kept item as a record: a walked request's made now; a record or a Trace as
    it is."""
    if type(item) is tuple and len(item) == WALKED:
        return _made(*item)
    return item


def _made(trace: int, span: int, parent: int, request_id: str, route: str | None, end: float,
          trail: Any, cause: str | None = None, node: str | None = None, text: str | None = None) -> tuple:
    return (trace, span, parent, started(trail), end, request_id, trail[2], route, cause, node, text, None, *trail)


def kept(event: Any) -> Any:
    """What a tracer queues of a walker event (its subscription's ``reduce``): the
    record of a sampled request whose trail came in its end event; nothing of an
    unsampled one; any other event as it is (one step of a request followed event by
    event, see :class:`SpanBuilder`)."""
    trail = event.trail
    if trail is None:
        return event
    ids = sampled_ids(event.context)
    if ids is None:
        return None
    return record(ids, event.context, trail, event.time, event.error if event.kind == "failed" else None)


class SpanBuilder:
    """Feed it what a tracer's subscription delivers (``builder(item)``): records, end
    events with their steps, or every step of a request as an event of its own (Ray's
    ingress, or while another observer wants every event); each sampled request's
    record goes to ``sink`` when the request completes or fails. ``graph`` names the
    deployment in the root spans' attributes."""

    def __init__(self, sink: Callable[[tuple], Any], graph: str = "") -> None:
        self.sink = sink
        self.graph = graph
        self.open: dict[int, tuple[TraceIds, Any, list[Any]]] = {}
        self.given_up = 0  # requests whose end never came while too many were open

    def feed(self, events: Any) -> None:
        for event in events:
            self(event)

    def __call__(self, item: Any) -> None:
        if type(item) is tuple:  # made as the request ended (kept)
            self.sink(item)
            return
        event = item
        if event.trail is not None:  # the whole request at once, not reduced on the way
            done = kept(event)
            if done is not None:
                self.sink(done)
            return
        kind = event.kind
        if kind == "started":
            context = event.context
            attrs = getattr(context, "attrs", None)
            ids = attrs.get(TRACE_KEY) if attrs else None
            if ids is not None and ids.sampled:
                if len(self.open) >= _OPEN_LIMIT:
                    del self.open[next(iter(self.open))]
                    self.given_up += 1
                self.open[event.request] = (ids, context, [STARTED, event.time, event.node, 0.0])
            return
        followed = self.open.get(event.request)
        if followed is None:
            return
        if kind == "completed" or kind == "failed":
            del self.open[event.request]
            ids, context, trail = followed
            self.sink(record(ids, context, trail, event.time, event.error if kind == "failed" else None))
        else:
            followed[2].extend((STEP, kind, event.time, event.node, event.attempt, event.outcome, event.choice,
                                event.delay, event.replica, event.began, event.batch, event.shadow,
                                error_text(event.error)))
