"""JSON responses (orjson) and the error body every HTTP error uses."""

from __future__ import annotations

import logging
import os
from typing import Any, Mapping

import orjson
from starlette.responses import Response

from ..runtime.errors import HTTP_STATUS, OverloadError, RequestError

__all__ = ["HTTPError", "JSONResponse", "dumps", "error_response", "new_request_id", "request_error"]

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


def new_request_id() -> str:
    return os.urandom(8).hex()


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
    """``{"error": {"cause", "message", "node", "request_id"}}`` (v2 paths: ``{"error": message}``)."""
    if v2:
        body: dict[str, Any] = {"error": message}
    else:
        body = {"error": {"cause": cause, "message": message, "node": node, "request_id": request_id}}
        body.update(extra or {})
    all_headers = {"x-request-id": request_id, **(headers or {})}
    return JSONResponse(body, status_code=status, headers=all_headers)


def http_error(err: HTTPError, request_id: str, v2: bool = False) -> JSONResponse:
    return error_response(err.status, err.cause, err.message, request_id, None, err.headers,
                          err.extra, v2)


def request_error(err: BaseException, request_id: str, v2: bool = False) -> JSONResponse:
    """The response for a failed request: status by cause, Retry-After on overload."""
    if isinstance(err, RequestError):
        cause, node = err.cause, err.node
        status = HTTP_STATUS.get(cause, 500)
        message = str(err)
    elif isinstance(err, ValueError):  # e.g. an unknown source name
        cause, node, status, message = "bad_request", None, 400, str(err)
    else:  # the backend itself failed: report it, never a traceback
        cause, node, status = "error", None, 500
        message = f"{type(err).__name__}: {err}"
    headers = {"retry-after": "1"} if isinstance(err, OverloadError) or status == 503 else None
    if status == 500:  # an impl's or the backend's failure: once in the server's log, with its cause
        where = f" at node {node!r}" if node else ""
        log.error("request %s failed%s (%s): %s", request_id, where, cause, message,
                  exc_info=err.__cause__ or err)
    return error_response(status, cause, message, request_id, node, headers, None, v2)
