"""Request lifecycle events and their delivery to observers, off the request path.

The walker publishes a :class:`WalkEvent` at each step of a request when, and only
when, someone subscribed (one truth test per step otherwise). Each
:class:`Subscription` has its own bounded queue: publishing appends to it (or counts
the event as ``dropped`` when it is full) and never waits; the observer's function
runs wherever :meth:`Subscription.drain` is called: a thread of the driver's
(:func:`hogar_nb.runtime.observer_thread.drain_in_thread`), or a test. A slow observer loses events, a failing one loses the event it failed
on (both counted); no request ever waits for either.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection
from typing import Any, Callable, Literal

from ...core.trail import STEP_FIELDS, Step, trail_steps

__all__ = ["EVENT_KINDS", "EventKind", "ObserverHub", "REQUEST_ENDS", "STEP_FIELDS", "Step", "Subscription",
           "WalkEvent"]

EventKind = Literal["started", "enqueued", "attempt", "retry", "routed", "skipped", "completed", "failed"]
EVENT_KINDS = frozenset(("started", "enqueued", "attempt", "retry", "routed", "skipped", "completed", "failed"))
#: a request's first and last events: not made at all while no subscriber wants them
REQUEST_ENDS = frozenset(("started", "completed", "failed"))




class WalkEvent:
    """One step of one request.

    ============= ===================================================================
    ``started``   the request entered at source ``node``; ``value`` is its payload
    ``enqueued``  it was handed to worker ``node`` (``attempt``: 0 first, then
                  retries); ``value`` is the node's input
    ``attempt``   an attempt at ``node`` ended: ``outcome`` is ``"ok"`` (``value``:
                  the node's output) or its cause (``error``: what failed);
                  ``replica``, ``began`` and ``batch`` say who ran it, when it began
                  and in a batch of how many, where the driver knows
    ``retry``     a retry of ``node`` is due in ``delay`` s
    ``routed``    switch or split ``node`` chose the branch ``choice``
    ``skipped``   ``node`` will not run for this request (a branch not taken)
    ``completed`` the request has its result (``value``)
    ``failed``    the request failed: ``outcome`` is the cause, ``error`` the error
    ============= ===================================================================

    ``request`` numbers the request within its deployment; ``context`` is its
    :class:`~.context.RequestContext` (request id, trace headers), or None. ``time``
    and ``began`` are seconds since the epoch on every backend. ``shadow`` marks the
    ``enqueued`` and ``attempt`` events of a mirror's copy (shadow traffic).

    ``steps``: while only observers of observed requests listen (``every=False``, a
    sampling tracer), each wanting every kind of event, the walker publishes no event
    per step of an observed request: it writes its steps into one flat list, its
    ``trail`` (:mod:`hogar_nb.core.trail`), and the request's ``completed`` or
    ``failed`` event carries it, the ``started`` step first (one queued item per
    request instead of one per step, and no object per step for the garbage
    collector to follow); a subscriber that records trails gets the trail alone,
    without the event (see :meth:`ObserverHub.subscribe`). ``steps`` reads it as
    :class:`Step` tuples. Otherwise both are None.
    """

    __slots__ = ("kind", "request", "time", "node", "attempt", "outcome", "choice", "delay", "error",
                 "value", "context", "replica", "began", "batch", "shadow", "trail")

    def __init__(self, kind: EventKind, request: int, time: float, node: str | None = None,
                 attempt: int = 0, outcome: str = "", choice: str | None = None, delay: float = 0.0,
                 error: BaseException | None = None, value: Any = None, context: Any = None,
                 replica: str | None = None, began: float | None = None, batch: int = 1,
                 shadow: bool = False, trail: list[Any] | None = None) -> None:
        self.kind = kind
        self.request = request
        self.time = time
        self.node = node
        self.attempt = attempt
        self.outcome = outcome
        self.choice = choice
        self.delay = delay
        self.error = error
        self.value = value
        self.context = context
        self.replica = replica
        self.began = began
        self.batch = batch
        self.shadow = shadow
        self.trail = trail

    @property
    def steps(self) -> list[tuple] | None:
        """The request's steps (see above) as tuples in :class:`Step` order, or None."""
        return None if self.trail is None else trail_steps(self.trail)

    def __repr__(self) -> str:
        parts = [f"{self.kind} #{self.request}"]
        if self.node is not None:
            parts.append(f"at {self.node!r}")
        if self.outcome:
            parts.append(self.outcome)
        if self.choice is not None:
            parts.append(f"-> {self.choice!r}")
        return f"<WalkEvent {' '.join(parts)}>"


class Subscription:
    """One observer's bounded queue; counts what it ``delivered``, ``dropped`` (queue
    full) and what the observer ``failed`` on (it, or its ``reduce``, raised).
    ``kinds``: the event kinds it takes (None: all). ``reduce`` and ``record``: see
    :meth:`ObserverHub.subscribe`."""

    def __init__(self, hub: ObserverHub, fn: Callable[[Any], Any], maxsize: int,
                 every: bool = True, kinds: frozenset[str] | None = None,
                 reduce: Callable[[WalkEvent], Any] | None = None,
                 record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> None:
        self.fn = fn
        self.maxsize = maxsize
        self.every = every
        self.kinds = kinds
        self.reduce = reduce
        self.record = record
        self.delivered = 0
        self.dropped = 0
        self.failed = 0
        self._queue: deque[WalkEvent] = deque()
        self._hub = hub
        self.closed = False
        # while the thread that drains the queue sleeps until something comes (it found
        # nothing for a while), the next event wakes it (see observer_thread)
        self.sleeping = False
        self.wake: Callable[[], Any] | None = None

    def offer(self, event: WalkEvent) -> None:
        """Queue ``event`` for the observer, or count it dropped; never waits."""
        if self.kinds is not None and event.kind not in self.kinds:
            return
        if len(self._queue) >= self.maxsize:
            self.dropped += 1
            return
        reduce = self.reduce
        if reduce is None:
            self._queue.append(event)
        else:
            try:
                kept = reduce(event)
            except Exception:  # the observer's fault: the event is lost, counted
                self.failed += 1
                return
            if kept is None:
                return
            self._queue.append(kept)
        if self.sleeping:
            self.sleeping = False
            self.wake()  # type: ignore[misc]

    def record_trail(self, context: Any, trail: list[Any], time: float, error: Any) -> None:
        """Hand the trail of a request that ended at ``time`` (``error``: None, or why
        it failed) to the subscriber's ``record``; never raises."""
        try:
            self.record(context, trail, time, error)  # type: ignore[misc]
        except Exception:  # the observer's fault: the request's steps are lost, counted
            self.failed += 1

    def drain(self) -> int:
        """Call the observer on every queued event; returns how many were taken."""
        q, fn, n = self._queue, self.fn, 0
        while q:
            event = q.popleft()
            n += 1
            try:
                fn(event)
            except Exception:  # the observer's fault: its event is lost, counted
                self.failed += 1
            else:
                self.delivered += 1
        return n

    @property
    def pending(self) -> int:
        return len(self._queue)

    def close(self) -> None:
        """Unsubscribe: no event is queued from now on (a drain still delivers the rest)."""
        self._hub._remove(self)
        self.closed = True
        if self.wake is not None:
            self.wake()


class ObserverHub:
    """Where the walker publishes; ``active`` is false while nobody subscribed, and
    ``ends`` while nobody wants a request's ``started``, ``completed`` or ``failed``
    event (the walker then makes none). ``trails``: observed requests' steps are
    written into their trails; ``recorders``: the subscriptions that take a trail
    directly when its request ends (then no end event is made for them)."""

    def __init__(self) -> None:
        self._subs: tuple[Subscription, ...] = ()  # replaced whole, never mutated
        self.active = False
        self.every = False  # some subscriber wants the events of every request
        self.ends = False
        self.trails = False
        self.recorders: tuple[Subscription, ...] = ()

    def subscribe(self, fn: Callable[[Any], Any], maxsize: int = 10_000,
                  every: bool = True, kinds: Collection[str] | None = None,
                  reduce: Callable[[WalkEvent], Any] | None = None,
                  record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> Subscription:
        """Queue every :class:`WalkEvent` from now on for ``fn``, called off the request
        path by :meth:`Subscription.drain`. At most ``maxsize`` events wait; more are
        dropped. ``every`` false: only the events of requests whose context is
        ``observed`` are wanted (they may still come with others'); while every
        subscriber is such and wants every kind, an observed request's steps come
        together in its end event's ``trail`` (see :class:`WalkEvent`). ``kinds``: only
        events of these kinds (None: all).

        ``reduce``: called with each event as it is published, on the request path:
        what it returns is queued for ``fn`` instead (nothing when None). For an
        observer that keeps a few plain values of an event: the event, its context and
        its value are let go at once rather than held until the drain, which an
        interpreter under load pays for in garbage collections. It must be quick and
        never block; an event it raises on is lost, counted as ``failed``.

        ``record``: while steps travel in trails, an observed request's end makes no
        event for this subscriber: ``record(context, trail, time, error)`` is called
        instead, on the request path, as the request ends (``error``: None, or the
        :class:`~hogar_nb.runtime.errors.RequestError` it failed with; ``trail``: see
        :mod:`hogar_nb.core.trail`; kept as it is, never changed). The same
        rules as for ``reduce``: quick, never blocking; one that raises loses that
        request, counted as ``failed``. Its other events still come to ``fn``."""
        if maxsize < 1:
            raise ValueError(f"got {maxsize} for maxsize; expected an integer >= 1")
        wanted = None if kinds is None else frozenset(kinds)
        if wanted is not None and (not wanted or not wanted <= EVENT_KINDS):
            raise ValueError(f"got {sorted(wanted)} for kinds; expected some of {sorted(EVENT_KINDS)}")
        sub = Subscription(self, fn, maxsize, every, wanted, reduce, record)
        self._subs = (*self._subs, sub)
        self._update()
        return sub

    def _remove(self, sub: Subscription) -> None:
        self._subs = tuple(s for s in self._subs if s is not sub)
        self._update()

    def _update(self) -> None:
        subs = self._subs
        self.every = any(s.every for s in subs)
        # an observed request's steps may travel together, in its end event or to a recorder
        trails = bool(subs) and not self.every and all(s.kinds is None for s in subs)
        recorders = tuple(s for s in subs if s.record is not None) if trails else ()
        self.ends = any((s.kinds is None or not s.kinds.isdisjoint(REQUEST_ENDS)) and s not in recorders
                        for s in subs)
        self.recorders = recorders
        self.trails = trails
        self.active = bool(subs)

    def publish(self, event: WalkEvent) -> None:
        for sub in self._subs:
            sub.offer(event)

    def close(self) -> None:
        for sub in self._subs:
            sub.close()
