"""Read a request body as JSON with a size limit, without reading past the limit.

A body sent with ``Content-Encoding: gzip`` or ``deflate`` is decompressed with the
same limit on what it decompresses to, so a small bomb is a 413 like a large body.
"""

from __future__ import annotations

import zlib
from typing import Any

import orjson
from starlette.requests import Request

from .responses import HTTPError

__all__ = ["decompress", "loads_json", "read_body", "read_json"]

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
    body = b"".join(chunks) if len(chunks) != 1 else chunks[0]
    encoding = request.headers.get("content-encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    return decompress(body, encoding, limit)


def decompress(body: bytes, encoding: str, limit: int) -> bytes:
    """``body`` decoded, never more than ``limit`` bytes of it (413 past that)."""
    if encoding == "gzip":
        wbits = 16 + zlib.MAX_WBITS
    elif encoding == "deflate":
        wbits = zlib.MAX_WBITS  # "deflate" is the zlib format (RFC 9110)
    else:
        raise HTTPError(415, "bad_request", f"Content-Encoding {encoding[:40]!r} is not supported; "
                        "send gzip, deflate or identity")
    decoder = zlib.decompressobj(wbits)
    try:
        out = decoder.decompress(body, limit + 1)
    except zlib.error as exc:
        raise HTTPError(400, "bad_request", f"the body is not valid {encoding} data: {exc}") from None
    if len(out) > limit or decoder.unconsumed_tail:
        raise HTTPError(413, "too_large", f"the request body decompresses to more than {limit} bytes "
                        "(hogar serve --max-body)", _CLOSE)
    if not decoder.eof:
        raise HTTPError(400, "bad_request", f"the {encoding} body ends before its data does")
    return out


async def read_json(request: Request, limit: int) -> Any:
    """The body parsed as JSON; 400 with the parser's message when it is not JSON."""
    return loads_json(await read_body(request, limit))


def loads_json(body: bytes) -> Any:
    """``body`` parsed as JSON; 400 with the parser's message when it is not JSON."""
    if not body.strip():
        raise HTTPError(400, "bad_request", "the request body is empty; send a JSON value "
                        "(e.g. null, 3 or [1, 2])")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise HTTPError(400, "bad_request", f"the request body is not valid JSON: {exc}") from None
