"""Closed-loop load: ``n`` client threads, each sending its next request when the last
is answered; every request and answer counted."""

from __future__ import annotations

import threading
import time
from typing import Any, Callable


class Clients:
    """Client threads against ``dep``; :meth:`set` changes how many send."""

    def __init__(self, dep: Any, expect: Callable[[int], Any]) -> None:
        self.dep = dep
        self.expect = expect
        self.sent = 0
        self.answered = 0
        self.wrong: list[tuple[int, Any]] = []
        self.errors: list[BaseException] = []
        self._lock = threading.Lock()
        self._threads: list[tuple[threading.Thread, threading.Event]] = []

    def _client(self, stop: threading.Event) -> None:
        while not stop.is_set():
            with self._lock:
                i = self.sent
                self.sent += 1
            try:
                value = self.dep.call(i, timeout=30)
            except Exception as exc:  # counted: the test asserts there are none
                with self._lock:
                    self.errors.append(exc)
                continue
            with self._lock:
                self.answered += 1
                if value != self.expect(i):
                    self.wrong.append((i, value))

    def set(self, n: int) -> float:
        """Run ``n`` clients from now on; returns the monotonic time of the change."""
        while len(self._threads) < n:
            stop = threading.Event()
            thread = threading.Thread(target=self._client, args=(stop,), daemon=True)
            self._threads.append((thread, stop))
            thread.start()
        while len(self._threads) > n:
            thread, stop = self._threads.pop()
            stop.set()
            thread.join(30)
        return time.monotonic()

    def close(self) -> None:
        self.set(0)
