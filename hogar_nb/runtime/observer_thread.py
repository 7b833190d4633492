"""Deliver a walker subscription's events on a daemon thread of its own."""

from __future__ import annotations

import threading

from .walk.observers import Subscription

__all__ = ["DRAIN_INTERVAL", "IDLE_AFTER", "drain_in_thread"]

DRAIN_INTERVAL = 0.02  # the longest sleep between two deliveries while events come
IDLE_AFTER = 25  # drains that found nothing, one after the other, before the thread sleeps until woken
_IDLE_WAIT = 5.0  # the longest sleep of an idle thread (it is woken by the next event, or by close)


def drain_in_thread(sub: Subscription, interval: float = DRAIN_INTERVAL) -> threading.Thread:
    """Call ``sub.drain()`` every ``interval`` s on a daemon thread until the
    subscription is closed, then once more; returns the thread.

    After :data:`IDLE_AFTER` drains in a row that found nothing (a subscriber whose
    requests are few, or that takes trails as requests end and gets no events), the
    thread sleeps until the next event is queued (``sub.offer`` wakes it) or the
    subscription closes, instead of waking every ``interval`` for nothing: each wake
    takes the interpreter's lock from the threads serving requests."""
    wake = threading.Event()
    sub.wake = wake.set

    def run() -> None:
        empty = 0
        while not sub.closed:
            if empty < IDLE_AFTER:
                wake.wait(interval)
            else:
                sub.sleeping = True
                if not sub.pending and not sub.closed:  # an event queued meanwhile saw the flag, or is here
                    wake.wait(_IDLE_WAIT)
                sub.sleeping = False
            wake.clear()
            empty = 0 if sub.drain() else empty + 1
        sub.drain()

    thread = threading.Thread(target=run, name="hogar-observer", daemon=True)
    thread.start()
    return thread
