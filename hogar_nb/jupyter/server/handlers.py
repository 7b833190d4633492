"""Tornado handlers of the server extension: ``POST {base_url}/hogar-nb/{lint,complete,format}``.

Every handler is authenticated like the rest of the Jupyter server API (token or
cookie + XSRF). Bodies are JSON objects with a ``text`` string; a body that is not
one, or larger than :data:`MAX_BODY`, is refused with a JSON error
``{"message", "error": {"cause", "message"}}``. The core runs on one worker thread,
so a long text never blocks the server's event loop.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from jupyter_server.base.handlers import APIHandler
from jupyter_server.utils import url_path_join
from tornado import web

from . import completion, service

__all__ = ["MAX_BODY", "NAMESPACE", "handlers"]

NAMESPACE = "hogar-nb"
MAX_BODY = 4 * 1024 * 1024  # a 5,000-node graph is about 0.3 MiB of text

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hogar-nb-lint")


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


class _UDGLHandler(APIHandler):
    """Reads the JSON body, runs :meth:`answer` on the worker thread, writes JSON."""

    def answer(self, body: dict[str, Any]) -> Callable[[], dict[str, Any]]:  # pragma: no cover
        raise NotImplementedError

    def _refuse(self, status: int, cause: str, message: str) -> None:
        self.set_status(status)
        self.finish(json.dumps({"message": message, "error": {"cause": cause, "message": message}}))

    def _body(self) -> dict[str, Any]:
        raw = self.request.body or b""
        if len(raw) > MAX_BODY:
            raise _RequestError(413, "too_large",
                                f"the body is {len(raw):,} bytes; at most {MAX_BODY:,} are accepted")
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as err:
            raise _RequestError(400, "bad_request", f"the body is not JSON: {err}") from None
        if not isinstance(body, dict):
            raise _RequestError(400, "bad_request", 'the body must be a JSON object such as {"text": "..."}')
        if "text" not in body:
            raise _RequestError(400, "bad_request", "`text` is missing")
        _field(body, "text", str)
        return body

    @web.authenticated
    async def post(self) -> None:
        try:
            job = self.answer(self._body())
        except _RequestError as err:
            self._refuse(err.status, err.cause, err.message)
            return
        result = await asyncio.get_running_loop().run_in_executor(_EXECUTOR, job)
        self.finish(json.dumps(result))


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
