"""What travels with one request besides its payload: its id and trace context."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from typing import Any

from ...core.error_wire import new_request_id, new_request_ids

__all__ = ["RequestContext", "fill_request_ids"]

_FIRST_USE = threading.Lock()  # taken only while an id is made, once per request that is read


class RequestContext:
    """One request's identity, carried from its caller through every backend.

    ``request_id`` names the request in logs, error bodies and feedback; the HTTP
    front uses the one it answers with (``x-request-id``). ``traceparent`` and
    ``tracestate`` are the W3C Trace Context headers it came with (None from
    Python). ``attrs`` is free for observers' per-request decisions (a sampling
    choice, a span id decided at the start). ``observed`` false: observers that
    subscribed for observed requests only (a sampling tracer) get none of this
    request's events, and while only such observers listen the walker publishes none
    (the request costs what it costs with nobody listening). Contexts are picklable:
    they cross to Ray's ingress and back with the request's events.
    """

    __slots__ = ("_request_id", "traceparent", "tracestate", "attrs", "observed")

    def __init__(self, request_id: str | None = None, traceparent: str | None = None,
                 tracestate: str | None = None, attrs: dict[str, Any] | None = None,
                 observed: bool = True) -> None:
        self._request_id = request_id  # made on first use when None: most are never read
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.attrs = attrs
        self.observed = observed

    @property
    def request_id(self) -> str:
        rid = self._request_id
        if rid is None:
            # the caller and an observer's thread may read a fresh id at once: both see one
            with _FIRST_USE:
                rid = self._request_id
                if rid is None:
                    rid = self._request_id = new_request_id()
        return rid

    @request_id.setter
    def request_id(self, value: str) -> None:
        self._request_id = value

    @property
    def trace_id(self) -> str | None:
        """The request's W3C trace id (32 hex digits) once tracing decided it
        (``attrs["trace"]``), else None."""
        ids = self.attrs.get("trace") if self.attrs else None
        return getattr(ids, "trace_hex", None)

    def __getstate__(self) -> tuple:
        return (self.request_id, self.traceparent, self.tracestate, self.attrs, self.observed)

    def __setstate__(self, state: tuple) -> None:
        self._request_id, self.traceparent, self.tracestate, self.attrs, self.observed = state

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, RequestContext):
            return NotImplemented
        return self.__getstate__() == other.__getstate__()

    __hash__ = None  # type: ignore[assignment]  # mutable: attrs may change

    def __repr__(self) -> str:
        return f"RequestContext({self.request_id!r})"


def fill_request_ids(contexts: Iterable[RequestContext | None]) -> None:
    """Give each context that has no request id yet its id, the ids made in one go:
    for an observer about to read the ids of many requests."""
    missing = [c for c in contexts if c is not None and c._request_id is None]
    if not missing:
        return
    ids = new_request_ids(len(missing))
    with _FIRST_USE:
        for context, rid in zip(missing, ids):
            if context._request_id is None:  # unless a reader made one meanwhile
                context._request_id = rid
