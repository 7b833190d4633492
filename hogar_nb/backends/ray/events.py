"""The walker's events, from the ingress on Ray to observers in the driver."""

from __future__ import annotations

import threading
from collections.abc import Collection
from typing import Any, Callable

from ...runtime.observer_thread import drain_in_thread
from ...runtime.walk import ObserverHub, Subscription, WalkEvent

__all__ = ["EventPump", "PULL_INTERVAL"]

PULL_INTERVAL = 0.05  # seconds between two pulls from the ingress while someone listens


class EventPump:
    """Pulls the ingress's events in batches while the driver has subscribers, and
    publishes them to the driver's own hub; each subscription drains on its thread.

    ``call(method, *args)`` runs an ingress method and returns its result (blocking).
    Events the ingress dropped because the driver did not take them in time are added
    to every subscription's ``dropped``.
    """

    def __init__(self, call: Callable[..., Any]) -> None:
        self._call = call
        self.hub = ObserverHub()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False
        self._dropped_seen = 0

    def subscribe(self, fn: Callable[[Any], Any], maxsize: int, kinds: Collection[str] | None = None,
                  reduce: Callable[[WalkEvent], Any] | None = None) -> Subscription:
        sub = self.hub.subscribe(fn, maxsize, kinds=kinds, reduce=reduce)
        drain_in_thread(sub)
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._call("take_events", 0)  # the ingress records from now on
                self._thread = threading.Thread(target=self._run, name="hogar-ray-events", daemon=True)
                self._thread.start()
        return sub

    def _run(self) -> None:
        while not self._closed and self.hub.active:
            self._pull()
            self._wake.wait(PULL_INTERVAL)
        if not self._closed:
            try:
                self._call("stop_events")
            except Exception:  # the application is gone: nothing records any more
                pass

    def _pull(self) -> None:
        while True:
            try:
                events, dropped = self._call("take_events")
            except Exception:  # the ingress is restarting or gone: try again later
                return
            if dropped > self._dropped_seen:
                for sub in self.hub._subs:
                    sub.dropped += dropped - self._dropped_seen
                self._dropped_seen = dropped
            for event in events:
                self.hub.publish(event)
            if len(events) < 1000:
                return

    def close(self) -> None:
        """Take what the ingress still holds, then end every subscription."""
        if self.hub.active:
            self._pull()
        self._closed = True
        self._wake.set()
        self.hub.close()
