"""The future ``submit`` returns: a ``concurrent.futures.Future`` that makes its
Condition only when someone waits on it.

``Future()`` builds a ``threading.Condition`` (an RLock and Python-level set-up) for
every request, and ``set_result`` takes it and notifies; most requests are settled
before anyone waits, so that is per-request cost for nothing. :class:`RequestFuture`
keeps the standard class — ``result``, ``add_done_callback``, ``cancel``,
``concurrent.futures.wait`` and ``as_completed``, ``asyncio.wrap_future`` all work
as documented — and creates the Condition on first use (a waiter, a callback, a
cancel). State changes are made under one module lock held for a few instructions,
so a result and a cancel never both win; a waiter that arrives after the result
returns it without any Condition.

Why no other order loses a wake-up: the setter writes the state before it looks for
a Condition; a waiter makes the Condition before it reads the state under it.
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
from typing import Any

__all__ = ["RequestFuture"]

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

    def _wake(self, ok: bool) -> None:
        cond = self.__dict__.get("_condition")
        if cond is not None:
            with cond:
                for waiter in self._waiters:
                    if ok:
                        waiter.add_result(self)
                    else:
                        waiter.add_exception(self)
                cond.notify_all()
        self._invoke_callbacks()

    def set_result(self, result: Any) -> None:
        with _STATE:
            state = self._state
            if state not in _ENDED:
                self._result = result
                self._state = FINISHED
        if state in _ENDED:  # outside the lock: repr() makes the Condition, under it
            raise InvalidStateError(f"{state}: {self!r}")
        self._wake(True)

    def set_exception(self, exception: BaseException | None) -> None:
        with _STATE:
            state = self._state
            if state not in _ENDED:
                self._exception = exception
                self._state = FINISHED
        if state in _ENDED:  # outside the lock: repr() makes the Condition, under it
            raise InvalidStateError(f"{state}: {self!r}")
        self._wake(False)

    def cancel(self) -> bool:
        with _STATE:
            if self._state in (RUNNING, FINISHED):
                return False
            if self._state in (CANCELLED, CANCELLED_AND_NOTIFIED):
                return True
            self._state = CANCELLED
        with self._condition:
            self._condition.notify_all()
        self._invoke_callbacks()
        return True

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

