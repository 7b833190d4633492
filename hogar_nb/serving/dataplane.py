"""The data plane: ``POST`` on a source's route, served as plain ASGI.

Inference requests are the hot path, so they skip Starlette's request, routing and
response objects (about a third of the front's cost per request); every other path
goes to the Starlette application. Same behaviour as the rest of the front: JSON in
and out, ``x-request-id``, W3C ``traceparent`` in and out, the body limit, errors by
cause, counted by route/status, gzip or deflate request bodies and gzip responses
for clients that accept them.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import orjson
from starlette.middleware.gzip import GZipMiddleware

from .body import decompress
from .direct_send import send_at_once
from .responses import HTTPError, error_response, http_error, new_request_id, request_error
from .trace_context import header_pairs, request_context, start_trace

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["GZIP_MINIMUM", "DataPlane", "gzip_middleware"]

_JSON = (b"content-type", b"application/json")
GZIP_MINIMUM = 1024  # bytes: a smaller response is not worth compressing


class DataPlane:
    """ASGI app: POST on a source route is answered here, anything else by ``fallback``."""

    def __init__(self, state: ServingState, fallback: Any = None) -> None:
        self.state = state
        self.fallback = fallback
        self.routes_str = dict(state.routes)
        self._gzip = gzip_middleware(self._serve_scope)  # for clients that send Accept-Encoding: gzip

    def endpoint(self, path: str, source: str) -> Any:
        """The same handler as a plain ASGI app (not a function, so a Starlette Route
        passes it scope, receive and send)."""
        return _Mounted(self, path, source)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            source = self.routes_str.get(scope["path"])
            if source is not None:
                if _accepts_gzip(scope["headers"]):
                    await self._gzip(scope, receive, send)
                else:
                    await self._serve(scope, receive, send, scope["path"], source)
                return
        await self.fallback(scope, receive, send)

    async def _serve_scope(self, scope: dict, receive: Any, send: Any) -> None:
        await self._serve(scope, receive, send, scope["path"], self.routes_str[scope["path"]])

    async def _serve(self, scope: dict, receive: Any, send: Any, path: str, source: str) -> None:
        state = self.state
        rid = declared = traceparent = tracestate = encoding = None
        for key, value in scope["headers"]:
            if key == b"x-request-id":
                rid = value.decode("latin-1")
            elif key == b"content-length":
                declared = value
            elif key == b"content-encoding":
                encoding = value.decode("latin-1").strip().lower()
            elif key == b"traceparent":
                traceparent = value.decode("latin-1")
            elif key == b"tracestate":
                tracestate = value.decode("latin-1")
        if rid is None:
            rid = new_request_id()
        ids = start_trace(state.dep, traceparent, tracestate)
        try:
            body = await self._body(receive, declared, state.options.max_body)
            if encoding not in (None, "", "identity"):
                body = decompress(body, encoding, state.options.max_body)
            try:
                payload = orjson.loads(body)
            except orjson.JSONDecodeError as exc:
                if not body.strip():
                    raise HTTPError(400, "bad_request", "the request body is empty; send a JSON value "
                                    "(e.g. null, 3 or [1, 2])") from None
                raise HTTPError(400, "bad_request", f"the request body is not valid JSON: {exc}") from None
        except HTTPError as err:
            await self._respond(scope, receive, send, path, http_error(err, rid))
            return
        if (wrong := state.payload_types.problem(source, payload)) is not None:
            response = error_response(422, "invalid_input", wrong[1], rid, wrong[0])
            await self._respond(scope, receive, send, path, response)
            return
        try:  # ServingState.wait_for_graph, inlined: a coroutine fewer per request
            task = state.entering()
            try:
                result = await state.dep.astart(payload, state.options.timeout, source,
                                                request_context(rid, traceparent, tracestate, ids, path))
            except asyncio.CancelledError:
                state.cancelled(task)
                raise
            finally:
                state.waiting.discard(task)
        except Exception as err:  # RequestError and anything a backend lets through
            await self._respond(scope, receive, send, path, request_error(err, rid))
            return
        try:
            out = orjson.dumps(result, option=orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
        except TypeError:
            from .responses import dumps

            try:
                out = dumps(result)
            except TypeError as err:
                response = error_response(500, "error", f"the graph's response is not JSON-serialisable: "
                                          f"{err}", rid, state.dep.name)
                await self._respond(scope, receive, send, path, response)
                return
        headers = [_JSON, (b"content-length", str(len(out)).encode()), (b"x-request-id", rid.encode("latin-1")),
                   *header_pairs(ids)]
        if not send_at_once(send, 200, headers, out):
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": out})
        state.counters.add("POST", path, 200)

    async def _respond(self, scope: dict, receive: Any, send: Any, path: str, response: Any) -> None:
        await response(scope, receive, send)
        self.state.counters.add("POST", path, response.status_code)

    @staticmethod
    async def _body(receive: Any, declared: bytes | None, limit: int) -> bytes:
        if declared is not None:
            try:
                size = int(declared)
            except ValueError:
                raise HTTPError(400, "bad_request", f"invalid Content-Length {declared[:40]!r}") from None
            if size > limit:
                raise HTTPError(413, "too_large", f"the request body is {size} bytes; the limit is {limit} "
                                "bytes (hogar serve --max-body)", {"connection": "close"})
        chunks: list[bytes] = []
        total = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                raise HTTPError(400, "bad_request", "the client disconnected before sending the body")
            chunk = message.get("body", b"")
            total += len(chunk)
            if total > limit:
                raise HTTPError(413, "too_large", f"the request body is more than {limit} bytes "
                                "(hogar serve --max-body)", {"connection": "close"})
            chunks.append(chunk)
            if not message.get("more_body", False):
                return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def gzip_middleware(app: Any) -> GZipMiddleware:
    """``app`` behind Starlette's GZipMiddleware as the front uses it: responses of at
    least :data:`GZIP_MINIMUM` bytes are compressed (zlib's default level, not the
    slowest) when the client accepts gzip; smaller ones and event streams are not."""
    return GZipMiddleware(app, minimum_size=GZIP_MINIMUM, compresslevel=6)


def _accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    for key, value in headers:
        if key == b"accept-encoding":
            return b"gzip" in value
    return False


class _Mounted:
    def __init__(self, plane: DataPlane, path: str, source: str) -> None:
        self.plane, self.path, self.source = plane, path, source

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        await self.plane._serve(scope, receive, send, self.path, self.source)
