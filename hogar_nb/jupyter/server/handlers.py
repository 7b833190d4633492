"""Tornado handlers of the server extension: ``POST {base_url}/hogar-nb/{lint,complete,format}``.

Every handler is authenticated like the rest of the Jupyter server API (token or
cookie + XSRF), and before any of the body is read: the body is streamed, so an
anonymous client gets 403 at its headers, and a body over :data:`MAX_BODY` (by its
``Content-Length``, or as it streams) gets 413 without the rest being read. Bodies
are JSON objects with a ``text`` string of at most :data:`MAX_TEXT` characters; any
other body is refused with a JSON error ``{"message", "error": {"cause", "message"}}``.

The core runs on worker threads, never on the server's event loop, in two lanes: texts
up to :data:`SMALL_TEXT` characters (a cell, or a graph of a few hundred nodes) on
their own workers, so they never wait behind big ones; bigger texts on one worker, each
user's one at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, AsyncIterator, Callable

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from . import completion, service

__all__ = ["MAX_BODY", "MAX_TEXT", "NAMESPACE", "SMALL_TEXT", "handlers"]

NAMESPACE = "hogar-nb"
MAX_BODY = 4 * 1024 * 1024  # JSON escapes can make a body several times its text
MAX_TEXT = 1024 * 1024  # a 5,000-node graph is about 0.3 MiB of text
SMALL_TEXT = 64 * 1024

_SMALL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="hogar-nb-lint")
_LARGE = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hogar-nb-lint-large")


class _Turns:
    """One asyncio lock per user, forgotten once nobody holds or waits for it."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def of(self, user: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(user, (asyncio.Lock(), 0))
        self._locks[user] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[user]
            if users == 1:
                del self._locks[user]
            else:
                self._locks[user] = (lock, users - 1)


_LARGE_TURNS = _Turns()  # a user's big texts wait for each other, not for others'


async def _run(user: str, text: str, job: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    if len(text) <= SMALL_TEXT:
        return await loop.run_in_executor(_SMALL, job)
    async with _LARGE_TURNS.of(user):
        return await loop.run_in_executor(_LARGE, job)


class _RequestError(Exception):
    def __init__(self, status: int, cause: str, message: str) -> None:
        super().__init__(message)
        self.status, self.cause, self.message = status, cause, message


def _field(body: dict[str, Any], name: str, kind: type, default: Any = None) -> Any:
    """``body[name]`` (or ``default``), refused with a 400 unless it is of ``kind``."""
    value = body.get(name, default)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        expected = {str: "a string", bool: "true or false", int: "an integer"}[kind]
        raise _RequestError(400, "bad_request", f"`{name}` must be {expected}, got {type(value).__name__}")
    return value


@web.stream_request_body
class _UDGLHandler(APIHandler):
    """Authenticates at the headers, streams the JSON body in up to :data:`MAX_BODY`,
    runs :meth:`answer` on a worker thread, writes JSON."""

    def answer(self, body: dict[str, Any]) -> Callable[[], dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _refuse(self, status: int, cause: str, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"message": message, "error": {"cause": cause, "message": message}}))

    async def prepare(self) -> None:
        """Runs once the headers are in, before any of the body is read."""
        self._chunks: list[bytes] = []
        self._size = 0
        await super().prepare()  # authentication (403), XSRF and origin checks
        if self._finished:
            return
        if self.current_user is None:
            raise web.HTTPError(403)
        declared = self.request.headers.get("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
            self._refuse(*_too_large(int(declared)))

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return
        self._size += len(chunk)
        if self._size > MAX_BODY:
            self._chunks.clear()
            self._refuse(*_too_large(None))
            return
        self._chunks.append(chunk)

    def _body(self) -> dict[str, Any]:
        raw = b"".join(self._chunks)
        self._chunks.clear()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise _RequestError(400, "bad_request", f"the body is not JSON: {err}") from None
        except RecursionError:  # the json module's answer to lists or objects nested too deep
            raise _RequestError(400, "bad_request", "the body nests lists or objects too deep; "
                                'send a JSON object such as {"text": "..."}') from None
        if not isinstance(body, dict):
            raise _RequestError(400, "bad_request", 'the body must be a JSON object such as {"text": "..."}')
        if "text" not in body:
            raise _RequestError(400, "bad_request", "`text` is missing")
        text = _field(body, "text", str)
        if len(text) > MAX_TEXT:
            raise _RequestError(413, "too_large", f"the text is {len(text):,} characters; at most "
                                f"{MAX_TEXT:,} are accepted")
        return body

    @web.authenticated
    async def post(self) -> None:
        if self._finished:
            return
        try:
            body = self._body()
            job = self.answer(body)
        except _RequestError as err:
            self._refuse(err.status, err.cause, err.message)
            return
        user = getattr(self.current_user, "username", None) or str(self.current_user)
        self.finish(json.dumps(await _run(user, body["text"], job)))


def _too_large(size: int | None) -> tuple[int, str, str]:
    got = f"{size:,} bytes" if size is not None else "more"
    return 413, "too_large", f"the body is {got}; at most {MAX_BODY:,} are accepted"


class LintHandler(_UDGLHandler):
    """``{"text", "cell": false}`` -> ``{"diagnostics": [...], "errors", "parsed"}``."""

    def answer(self, body):
        text, cell = body["text"], _field(body, "cell", bool, False)
        return lambda: service.lint(text, cell=cell)


class FormatHandler(_UDGLHandler):
    """``{"text", "cell": false}`` -> ``{"text": canonical or null, "changed", "diagnostics"}``."""

    def answer(self, body):
        text, cell = body["text"], _field(body, "cell", bool, False)
        return lambda: service.format_text(text, cell=cell)


class CompleteHandler(_UDGLHandler):
    """``{"text", "line", "column", "cell": false}`` (1-based) -> ``{"prefix", "items": [...]}``."""

    def answer(self, body):
        text, cell = body["text"], _field(body, "cell", bool, False)
        line, column = _field(body, "line", int, 1), _field(body, "column", int, 1)
        return lambda: completion.complete_source(text, line, column, cell)


def handlers(base_url: str) -> list[tuple[str, type]]:
    """The URL patterns under ``base_url`` and their handlers."""
    return [
        (url_path_join(base_url, NAMESPACE, "lint"), LintHandler),
        (url_path_join(base_url, NAMESPACE, "complete"), CompleteHandler),
        (url_path_join(base_url, NAMESPACE, "format"), FormatHandler),
    ]
