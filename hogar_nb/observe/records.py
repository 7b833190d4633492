"""A traced request as it is kept: one tuple of plain values, made as the request ends.

The walker writes a sampled request's steps into one flat list (its end event's
``trail``); :func:`kept` turns that end event into a *record*, as the event is
published (a :class:`~hogar_nb.runtime.walk.Subscription`'s ``reduce``), so the
event, the request's context and its result are let go at once. A record holds
ints, floats, strings and None only: the garbage collector stops following it the
first time it looks, so keeping a thousand of them costs no collections, where an
object per trace (or per step) is promoted to the oldest generation and then dies
there, paid for in full collections under load. Spans are built from a record only
when its trace is read or exported (:class:`~.spans.Recorded`).

Layout: the fields below, then the request's steps, ``STEP_FIELDS`` values each in
:class:`~hogar_nb.runtime.walk.Step` order (errors as text), its ``started`` step
first; ``ATTRS`` is None or a dict of extra attributes of the root span.
"""

from __future__ import annotations

from typing import Any, Callable

from .context import TRACE_KEY, TraceIds

__all__ = ["ATTRS", "CAUSE", "END", "ERROR", "ERROR_NODE", "HEAD", "PARENT", "REQUEST_ID", "ROUTE", "SOURCE",
           "SPAN", "START", "STEP_FIELDS", "SpanBuilder", "TRACE", "error_text", "kept", "record"]

TRACE, SPAN, PARENT, START, END, REQUEST_ID, SOURCE, ROUTE, CAUSE, ERROR_NODE, ERROR, ATTRS = range(12)
HEAD = 12  # where the steps begin
STEP_FIELDS = 12  # hogar_nb.runtime.walk.STEP_FIELDS (the observe package imports no runtime module)
_ERROR_AT = 11  # a step's error
_OPEN_LIMIT = 100_000  # requests followed event by event at once; past it the oldest is given up


def error_text(error: Any) -> str | None:
    """An error as a record keeps it (an exception keeps its frames alive)."""
    if error is None or isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"[:500]


def record(ids: TraceIds, request_id: str, route: str | None, event: Any, steps: list[Any]) -> tuple:
    """The record of a request that ended with ``event`` (``completed`` or ``failed``)
    after ``steps`` (flat, its ``started`` step first)."""
    errors = steps[_ERROR_AT::STEP_FIELDS]
    if errors.count(None) != len(errors):  # an attempt failed on the way: its error as text
        steps = list(steps)
        for i in range(_ERROR_AT, len(steps), STEP_FIELDS):
            steps[i] = error_text(steps[i])
    if event.kind == "failed":
        error = event.error
        return (ids.trace_id, ids.span_id, ids.parent_id, steps[1], event.time, request_id, steps[2], route,
                event.outcome or "error", event.node, str(error)[:500] if error is not None else None, None,
                *steps)
    return (ids.trace_id, ids.span_id, ids.parent_id, steps[1], event.time, request_id, steps[2], route,
            None, None, None, None, *steps)


def kept(event: Any) -> Any:
    """What a tracer queues of a walker event (its subscription's ``reduce``): the
    record of a sampled request whose steps came in its end event; nothing of an
    unsampled one; any other event as it is (one step of a request followed event by
    event, see :class:`SpanBuilder`)."""
    trail = event.trail
    if trail is None:
        return event
    context = event.context
    attrs = context.attrs if context is not None else None
    if not attrs:
        return None
    ids = attrs.get(TRACE_KEY)
    if ids is None or not ids.sampled:
        return None
    if event.kind == "completed" and trail[_ERROR_AT::STEP_FIELDS].count(None) * STEP_FIELDS == len(trail):
        # the usual case, as record() makes it, without a call more on the request path
        return (ids.trace_id, ids.span_id, ids.parent_id, trail[1], event.time, context.request_id, trail[2],
                attrs.get("route"), None, None, None, None, *trail)
    return record(ids, context.request_id, attrs.get("route"), event, trail)


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
                self.open[event.request] = (ids, context, [
                    "started", event.time, event.node, 0, "", None, 0.0, None, None, 1, False, None])
            return
        followed = self.open.get(event.request)
        if followed is None:
            return
        if kind == "completed" or kind == "failed":
            del self.open[event.request]
            ids, context, steps = followed
            self.sink(record(ids, context.request_id, (context.attrs or {}).get("route"), event, steps))
        else:
            followed[2].extend((kind, event.time, event.node, event.attempt, event.outcome, event.choice,
                                event.delay, event.replica, event.began, event.batch, event.shadow,
                                error_text(event.error)))
