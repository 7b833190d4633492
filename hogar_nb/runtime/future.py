"""The future ``submit`` returns: a ``concurrent.futures.Future`` that makes its
Condition only when someone waits on it.

``Future()`` builds a ``threading.Condition`` (an RLock and Python-level set-up) for
every request, and ``set_result`` takes it and notifies; most requests are settled
before anyone waits, so that is per-request cost for nothing. :class:`RequestFuture`
keeps the standard class — ``result``, ``add_done_callback``, ``cancel``,
``concurrent.futures.wait`` and ``as_completed``, ``asyncio.wrap_future`` all work
as documented — and creates the Condition on first use (a waiter, a callback, a
cancel). A result set before that changes the state under the module lock that makes
Conditions, so no waiter or callback can have arrived; a waiter that comes after it
returns the result without any Condition. Once a Condition exists, every change is
made under it, as the standard class makes it.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future, InvalidStateError
from concurrent.futures._base import (  # the states, as the standard class names them
    CANCELLED,
    CANCELLED_AND_NOTIFIED,
    FINISHED,
    PENDING,
    RUNNING,
)
from collections import deque
from typing import Any

__all__ = ["LoopInbox", "RequestFuture"]

_STATE = threading.Lock()  # guards state changes of every RequestFuture (a few instructions)
_ENDED = (CANCELLED, CANCELLED_AND_NOTIFIED, FINISHED)


class RequestFuture(Future):
    """A ``concurrent.futures.Future`` whose Condition is made on first use."""

    def __init__(self) -> None:  # noqa: D107 - Future's own, without the Condition
        self._state = PENDING
        self._result = None
        self._exception: BaseException | None = None
        self._waiters: list[Any] = []
        self._done_callbacks: list[Any] = []

    def __getattr__(self, name: str) -> Any:
        if name != "_condition":
            raise AttributeError(name)
        with _STATE:
            return self.__dict__.setdefault("_condition", threading.Condition())

    def _settle(self, ok: bool, value: Any) -> None:
        """Finish with ``value`` (a result when ``ok``, else an exception). Without a
        Condition nobody waits or listens, so the state changes under the module lock
        that makes Conditions; with one, exactly as the standard class does, under it:
        a waiter reads the state and joins ``_waiters`` there, so none is told twice."""
        if "_condition" not in self.__dict__:
            with _STATE:
                state = self._state
                if "_condition" not in self.__dict__:
                    if state not in _ENDED:
                        if ok:
                            self._result = value
                        else:
                            self._exception = value
                        self._state = FINISHED
                        return
                    state_error = True
                else:
                    state_error = False
            if state_error:  # outside the lock: repr() makes the Condition, under it
                raise InvalidStateError(f"{state}: {self!r}")
        if ok:
            super().set_result(value)
        else:
            super().set_exception(value)

    def set_result(self, result: Any) -> None:
        self._settle(True, result)

    def set_exception(self, exception: BaseException | None) -> None:
        self._settle(False, exception)

    def result(self, timeout: float | None = None) -> Any:
        if self._state == FINISHED:  # settled before anyone waited: no Condition at all
            exc = self._exception
            if exc is not None:
                raise exc
            return self._result
        return super().result(timeout)

    def exception(self, timeout: float | None = None) -> BaseException | None:
        if self._state == FINISHED:
            return self._exception
        return super().exception(timeout)

    def done(self) -> bool:
        return self._state in _ENDED

    def cancelled(self) -> bool:
        return self._state in (CANCELLED, CANCELLED_AND_NOTIFIED)

    def running(self) -> bool:
        return self._state == RUNNING



class LoopInbox:
    """Outcomes for the asyncio futures of one event loop, settled on that loop.

    ``loop.call_soon_threadsafe`` per outcome makes a handle and writes to the
    loop's wake-up socket every time. Outcomes go into a deque instead, and the
    loop is woken once for all that arrive before it drains them: under load one
    wake-up settles several requests.
    """

    __slots__ = ("loop", "_items", "_scheduled", "_closed")

    def __init__(self, loop: Any) -> None:
        self.loop = loop
        self._items: deque[tuple[Any, Any, BaseException | None]] = deque()
        self._scheduled = False
        self._closed = False

    def put(self, fut: Any, value: Any, exc: BaseException | None) -> None:
        """Settle ``fut`` (of this loop) with ``value`` or ``exc``; from any thread."""
        if self._closed:
            return
        self._items.append((fut, value, exc))
        if not self._scheduled:
            self._scheduled = True
            try:
                self.loop.call_soon_threadsafe(self._drain)
            except RuntimeError:  # the loop is closed: nobody waits any more
                self._closed = True
                self._items.clear()

    def _drain(self) -> None:
        self._scheduled = False  # first: an outcome put from now on schedules a drain of its own
        items = self._items
        while items:
            fut, value, exc = items.popleft()
            if fut.done():
                continue
            if exc is None:
                fut.set_result(value)
            else:
                fut.set_exception(exc)
