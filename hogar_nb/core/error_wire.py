"""The one wire form of a failed request, for every HTTP front, backend boundary and client.

A request that fails crosses a wire as ``{"error": {"cause", "message", "node",
"request_id"}}``, with ``"trace_id"`` beside the request id when the request has a
trace (W3C Trace Context, 32 hex digits); over HTTP its status follows the cause (:data:`HTTP_STATUS`) and a
503 carries ``Retry-After``. :class:`ErrorWire` writes and reads that form; the
runtime turns one back into its exception class by ``cause``
(:func:`hogar_nb.runtime.errors.error_from_wire`).
"""

from __future__ import annotations

import itertools
import os
import threading
from dataclasses import dataclass
from typing import Any, Mapping

__all__ = ["HTTP_STATUS", "RETRY_AFTER_S", "ErrorWire", "new_request_id"]

# HTTP status for each cause of a failed request, used by every HTTP front.
HTTP_STATUS = {
    "overload": 503,
    "timeout": 504,
    "unavailable": 503,
    "bad_request": 400,
    "invalid_input": 422,
    "error": 500,
    "crash": 500,
    "route": 500,
    "stopped": 503,
}
RETRY_AFTER_S = 1  # what a 503 asks the client to wait before trying again


class _RequestIds:
    """Unique ids without a system call each: a random prefix (drawn again in a forked
    child and when the counter wraps) and a counter. ``os.urandom`` per id gave up the
    GIL for its system call, and an event loop thread that gives it up waits for a busy
    replica thread's switch interval to get it back."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._redraw()

    def _redraw(self) -> None:
        self._prefix = os.urandom(4).hex()
        self._count = itertools.count(1)

    def __call__(self) -> str:
        n = next(self._count)
        if n > 0xFFFFFFFF:
            with self._lock:
                self._redraw()
                n = next(self._count)
        return f"{self._prefix}{n:08x}"

    def many(self, n: int) -> list[str]:
        """``n`` fresh ids at once (their numbers are taken in one go)."""
        numbers = list(itertools.islice(self._count, n))
        if numbers and numbers[-1] > 0xFFFFFFFF:
            return [self() for _ in range(n)]
        prefix = self._prefix
        return [f"{prefix}{i:08x}" for i in numbers]


_ids = _RequestIds()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_ids._redraw)


def new_request_id() -> str:
    """A fresh request id (16 hex digits) for a request that came without one."""
    return _ids()


def new_request_ids(n: int) -> list[str]:
    """``n`` fresh request ids, as :func:`new_request_id` makes them, in one go."""
    return _ids.many(n)


@dataclass
class ErrorWire:
    """A failed request as it crosses a wire. ``status`` defaults to the cause's."""

    cause: str
    message: str
    node: str | None = None
    request_id: str | None = None
    status: int = 0
    trace_id: str | None = None

    def __post_init__(self) -> None:
        if not self.status:
            self.status = HTTP_STATUS.get(self.cause, 500)

    @classmethod
    def of(cls, err: BaseException, request_id: str | None = None, trace_id: str | None = None) -> ErrorWire:
        """The wire form of an exception: a request error by its ``cause``; a ValueError
        (say, an unknown source) is a bad request; anything else an ``error`` naming its type."""
        cause = getattr(err, "cause", None)
        if isinstance(cause, str):
            return cls(cause, str(err), getattr(err, "node", None), request_id, trace_id=trace_id)
        if isinstance(err, ValueError):
            return cls("bad_request", str(err), None, request_id, trace_id=trace_id)
        return cls("error", f"{type(err).__name__}: {err}", None, request_id, trace_id=trace_id)

    @property
    def retry_after(self) -> int | None:
        """Seconds a client should wait before retrying (503 only)."""
        return RETRY_AFTER_S if self.status == 503 else None

    def headers(self) -> dict[str, str]:
        """The HTTP headers that go with the body: the request id and Retry-After."""
        out = {"x-request-id": self.request_id} if self.request_id else {}
        if self.retry_after is not None:
            out["retry-after"] = str(self.retry_after)
        return out

    def to_json(self) -> dict[str, Any]:
        """``{"error": {"cause", "message", "node", "request_id"}}``, and ``"trace_id"``
        when the request has one."""
        inner = {"cause": self.cause, "message": self.message, "node": self.node, "request_id": self.request_id}
        if self.trace_id is not None:
            inner["trace_id"] = self.trace_id
        return {"error": inner}

    @classmethod
    def from_json(cls, body: Any, status: int = 0) -> ErrorWire:
        """Read :meth:`to_json`'s form (``status``: the HTTP status it came with, if any);
        ValueError when ``body`` is not that form."""
        inner = body.get("error") if isinstance(body, Mapping) else None
        if not isinstance(inner, Mapping) or not isinstance(inner.get("cause"), str):
            raise ValueError(f"not an error body: {str(body)[:200]!r}")
        node, rid, tid = inner.get("node"), inner.get("request_id"), inner.get("trace_id")
        return cls(inner["cause"], str(inner.get("message") or ""),
                   node if isinstance(node, str) else None, rid if isinstance(rid, str) else None,
                   status, tid if isinstance(tid, str) else None)
