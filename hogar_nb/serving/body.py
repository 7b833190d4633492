"""Read a request body as JSON with a size limit, without reading past the limit."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from .responses import HTTPError

__all__ = ["read_json"]

_CLOSE = {"connection": "close"}


def _too_large(limit: int, size: int | None = None) -> HTTPError:
    got = f"{size} bytes" if size is not None else "more"
    return HTTPError(413, "too_large", f"the request body is {got}; the limit is {limit} bytes "
                     "(hogar serve --max-body)", _CLOSE)


async def read_body(request: Request, limit: int) -> bytes:
    """The body, or 413 as soon as it is known to exceed ``limit`` (Content-Length, or
    while streaming a chunked body): the rest is never read and the connection closes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            size = int(declared)
        except ValueError:
            raise HTTPError(400, "bad_request", f"invalid Content-Length {declared[:40]!r}") from None
        if size > limit:
            raise _too_large(limit, size)
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks) if len(chunks) != 1 else chunks[0]


async def read_json(request: Request, limit: int) -> Any:
    """The body parsed as JSON; 400 with the parser's message when it is not JSON."""
    body = await read_body(request, limit)
    if not body.strip():
        raise HTTPError(400, "bad_request", "the request body is empty; send a JSON value "
                        "(e.g. null, 3 or [1, 2])")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPError(400, "bad_request", f"the request body is not valid JSON: {exc}") from None
