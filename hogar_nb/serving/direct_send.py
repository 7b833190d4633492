"""A whole response written at once on uvicorn's httptools connection.

An ASGI application answers with two messages (``http.response.start``, then
``http.response.body``); uvicorn's ``RequestResponseCycle.send`` takes each one apart
again: it copies the default headers, checks every header name and value against
its patterns, looks for ``content-length``, ``transfer-encoding`` and ``connection``
by name, and writes the head and the body separately. For the data plane's answer
(a status, a handful of headers it made itself, a body of known length) that costs a
few microseconds per request for nothing. :func:`send_at_once` writes the same bytes
in one go and leaves the cycle as ``send`` would; for any other server, or a
connection that is paused, gone or logging access, it declines and the caller
sends the two messages.
"""

from __future__ import annotations

import re
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, RequestResponseCycle

__all__ = ["send_at_once"]

# uvicorn's own test of a header value (HEADER_VALUE_RE): no control character but tab
_BAD_VALUE = re.compile(b"[\x00-\x08\x0a-\x1f\x7f]")


def send_at_once(send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bool:
    """Answer ``status`` with ``headers`` and ``body``, the same bytes uvicorn's
    ``send`` of the two messages writes; False (nothing sent) when ``send`` is not a
    cycle this can write for. ``headers``: lower-case names, the body's
    ``content-length`` among them, no ``transfer-encoding`` or ``connection``. A
    header value with a control character raises RuntimeError, as in ``send``."""
    cycle = getattr(send, "__self__", None)
    if (type(cycle) is not RequestResponseCycle or cycle.response_started or cycle.disconnected
            or cycle.flow.write_paused or cycle.access_log or cycle.scope["method"] == "HEAD"):
        return False
    content = [STATUS_LINE[status]]
    for name, value in cycle.default_headers:
        content += (name, b": ", value, b"\r\n")
    ours = len(content) + 2  # where the first of our header values goes; one every 4 items
    for name, value in headers:
        content += (name, b": ", value, b"\r\n")
    if _BAD_VALUE.search(b"".join(content[ours::4])):
        raise RuntimeError("Invalid HTTP header value.")
    keep_alive = cycle.keep_alive
    content += (b"\r\n" if keep_alive else b"connection: close\r\n\r\n", body)
    cycle.response_started = True
    cycle.waiting_for_100_continue = False
    cycle.chunked_encoding = False
    cycle.expected_content_length = 0
    cycle.transport.write(b"".join(content))
    cycle.response_complete = True
    cycle.message_event.set()
    if not keep_alive:
        cycle.transport.close()
    cycle.on_response()
    return True
