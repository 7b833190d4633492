"""Deliver a walker subscription's events on a daemon thread of its own."""

from __future__ import annotations

import threading

from .walk.observers import Subscription

__all__ = ["DRAIN_INTERVAL", "drain_in_thread"]

DRAIN_INTERVAL = 0.02  # the longest sleep between two deliveries


def drain_in_thread(sub: Subscription, interval: float = DRAIN_INTERVAL) -> threading.Thread:
    """Call ``sub.drain()`` every ``interval`` s on a daemon thread until the
    subscription is closed, then once more; returns the thread."""
    stop = threading.Event()

    def run() -> None:
        while not sub.closed:
            stop.wait(interval)
            sub.drain()
        sub.drain()

    thread = threading.Thread(target=run, name="hogar-observer", daemon=True)
    thread.start()
    return thread
