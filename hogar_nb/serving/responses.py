"""JSON responses (orjson) and the error body every HTTP error uses."""

from __future__ import annotations

import logging
from typing import Any, Mapping

import orjson
from starlette.responses import Response

from ..core.error_wire import ErrorWire, new_request_id
from ..observe import trace_headers
from .trace_context import CURRENT

__all__ = ["HTTPError", "JSONResponse", "dumps", "error_response", "failure", "new_request_id",
           "request_error", "wire_response"]

_OPTS = orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
log = logging.getLogger("hogar_nb.serving")


def _default(obj: Any) -> Any:
    tolist = getattr(obj, "tolist", None)  # numpy arrays and scalars the option misses
    if callable(tolist):
        return tolist()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")


def dumps(value: Any) -> bytes:
    """JSON bytes of ``value`` (numpy values included); TypeError if it has no JSON form."""
    return orjson.dumps(value, default=_default, option=_OPTS)


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return dumps(content)


class HTTPError(Exception):
    """An error answered before or instead of calling the graph (400, 404, 413, ...)."""

    def __init__(self, status: int, cause: str, message: str, headers: Mapping[str, str] | None = None,
                 extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.cause = cause
        self.message = message
        self.headers = dict(headers or {})
        self.extra = dict(extra or {})


def error_response(status: int, cause: str, message: str, request_id: str, node: str | None = None,
                   headers: Mapping[str, str] | None = None, extra: Mapping[str, Any] | None = None,
                   v2: bool = False) -> JSONResponse:
    """The wire form's body (:class:`~hogar_nb.core.error_wire.ErrorWire`), with its
    request id and Retry-After headers (v2 paths: ``{"error": message}``)."""
    return wire_response(ErrorWire(cause, message, node, request_id, status), headers, extra, v2)


def wire_response(wire: ErrorWire, headers: Mapping[str, str] | None = None,
                  extra: Mapping[str, Any] | None = None, v2: bool = False) -> JSONResponse:
    """The error's JSON response; the request's trace (:data:`.trace_context.CURRENT`)
    gives ``trace_id`` in the body and ``traceparent`` in the headers."""
    ids = CURRENT.get()
    traced: Mapping[str, str] = {}
    if ids is not None:
        if wire.trace_id is None:
            wire.trace_id = ids.trace_hex
        traced = trace_headers(ids)
    body: dict[str, Any] = {"error": wire.message} if v2 else {**wire.to_json(), **(extra or {})}
    return JSONResponse(body, status_code=wire.status, headers={**wire.headers(), **traced, **(headers or {})})


def http_error(err: HTTPError, request_id: str, v2: bool = False) -> JSONResponse:
    return error_response(err.status, err.cause, err.message, request_id, None, err.headers,
                          err.extra, v2)


def failure(err: BaseException, request_id: str) -> ErrorWire:
    """The wire form of a failed request (status by cause); a 500 (an impl's or the
    backend's failure) is logged once, with its cause."""
    wire = ErrorWire.of(err, request_id)
    if wire.status == 500:
        where = f" at node {wire.node!r}" if wire.node else ""
        log.error("request %s failed%s (%s): %s", request_id, where, wire.cause, wire.message,
                  exc_info=err.__cause__ or err)
    return wire


def request_error(err: BaseException, request_id: str, v2: bool = False) -> JSONResponse:
    """The response for a failed request: status by cause, Retry-After on a 503."""
    return wire_response(failure(err, request_id), v2=v2)
