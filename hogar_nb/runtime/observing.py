"""What a deployment offers its observers: the walker's events, node captures and
results (:class:`ObserversMixin` of :class:`~hogar_nb.runtime.base.DeploymentBase`)."""

from __future__ import annotations

import threading
from collections.abc import Collection
from concurrent.futures import Future
from typing import Any, Callable

from .walk import Capture, Subscription, WalkEvent

__all__ = ["ObserversMixin"]


class ObserversMixin:
    """``subscribe``, ``capture_answers``/``end_capture`` and ``add_result_observer``."""

    _stopped: bool
    _stopped_error: Callable[[], Exception]  # DeploymentBase's
    _subscribe: Callable[..., Subscription]  # the backend's
    _observers: tuple[Callable[[Any], None], ...]
    _observers_lock: threading.Lock

    def subscribe(self, fn: Callable[[Any], Any], maxsize: int = 10_000, every: bool = True,
                  kinds: Collection[str] | None = None,
                  reduce: Callable[[WalkEvent], Any] | None = None,
                  record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> Subscription:
        """Call ``fn(event)`` for every step of every request from now on (a
        :class:`~hogar_nb.runtime.walk.WalkEvent`: started, enqueued, attempt, retry,
        routed, skipped, completed, failed), on a thread of the deployment's, never on
        the request path; on Ray the events come from the ingress in batches.

        At most ``maxsize`` events wait for ``fn``; more are dropped and counted
        (``sub.dropped``), as are events ``fn`` raised on (``sub.failed``): a slow or
        failing observer loses events, never delays a request. ``sub.close()`` ends it.
        ``every=False``: only requests whose context is ``observed`` matter to ``fn``;
        while no subscriber wants every request, the others publish no event (on the
        embedded engine; Ray's ingress publishes every request's events).
        ``kinds``: only events of these kinds; while no subscriber wants ``started``,
        ``completed`` or ``failed``, the walker makes none of them (a cheaper hook for
        observers of nodes, such as the quality monitor). ``reduce``: what to queue of
        each event, called as it is published; ``record``: what takes an observed
        request's steps at once as it ends, where the walker gathers them (both: see
        :meth:`~hogar_nb.runtime.walk.ObserverHub.subscribe`; Ray has no such trails).
        """
        if maxsize < 1:
            raise ValueError(f"got {maxsize} for maxsize; expected an integer >= 1")
        if self._stopped:
            raise self._stopped_error()
        return self._subscribe(fn, maxsize, every, kinds, reduce, record)

    def capture_answers(self, nodes: Collection[str], maxsize: int = 100_000) -> Capture | None:
        """A cheaper hook than :meth:`subscribe` for an observer of worker ``nodes``
        alone: every answered attempt at them as one tuple (node, context, input,
        output, time, shadow) in a bounded :class:`~hogar_nb.runtime.walk.Capture`,
        taken in batches with ``capture.take()``; ``end_capture(capture)`` ends it.
        None where the walker runs out of this process (on Ray: subscribe instead)."""
        if self._stopped:
            raise self._stopped_error()
        return None

    def end_capture(self, capture: Capture) -> None:
        """Stop filling ``capture`` (what it holds stays for a last take)."""
        capture.closed = True

    def add_result_observer(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``fn(result)`` for every successful response of a request sent through
        this object; returns a function that removes it.

        Observers run where the request completes and must be quick; an observer
        that raises is removed so it cannot disturb requests."""
        with self._observers_lock:
            self._observers = (*self._observers, fn)

        def remove() -> None:
            self._drop_observer(fn)

        return remove

    def _drop_observer(self, fn: Callable[[Any], None]) -> None:
        with self._observers_lock:
            self._observers = tuple(o for o in self._observers if o is not fn)

    def _notify(self, fut: Future) -> None:
        if fut.cancelled() or fut.exception() is not None:
            return
        value = fut.result()
        for fn in self._observers:
            try:
                fn(value)
            except Exception:  # an observer must never fail a request
                self._drop_observer(fn)
