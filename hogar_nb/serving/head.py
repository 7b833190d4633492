"""uvicorn's httptools protocol with a bound on each request head: its size (request
line and header fields) and its number of header fields. Past either, the client gets
431 with the usual JSON error body and the connection closes. A request the parser
cannot read (a bad request line, a control character in a header value) gets 400
with the same JSON body, where uvicorn answers plain text.

uvicorn has no such option for httptools, and httptools gathers a header value by
appending each piece it receives, so one 100 MB header cost tens of seconds of CPU
before the application saw it. Here the head is fed to the parser only up to the
limit: past it the connection is refused without parsing the rest. After the 431 the
server stops sending and discards what the client still sends for a moment (a
lingering close), so the client reads the answer instead of a reset. An answer that
closes the connection before the request's body was all read (a 413 for a body over
the limit) closes the same way: closing a socket with unread bytes sends a reset,
which can reach the client before it has read the answer.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Callable

import httptools
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .coalesce import CoalescingTransport
from .options import DEFAULT_MAX_HEADER_BYTES, DEFAULT_MAX_HEADERS
from .responses import dumps, new_request_id

__all__ = ["HeadLimitProtocol", "protocol_factory"]

LINGER_S = 2.0  # how long a refused connection keeps reading (and dropping) before it closes


class HeadTooLarge(Exception):
    """Raised from a parser callback: the head breaks a limit (``str`` says which)."""


class HeadLimitProtocol(HttpToolsProtocol):
    """One HTTP/1.1 connection whose request heads are bounded (see the module)."""

    def __init__(self, *args: Any, max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES,
                 max_headers: int = DEFAULT_MAX_HEADERS, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_header_bytes = max_header_bytes
        self.max_headers = max_headers
        self._in_head = True  # reading a request head (not a body)
        self._head_left = max_header_bytes
        self._fields = 0
        self._messages = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # a response's head and body go out in one system call (see .coalesce)
        super().connection_made(CoalescingTransport(transport, self.loop,  # type: ignore[arg-type]
                                                    instead_of_close=self._linger_instead))

    def _linger_instead(self) -> bool:
        """On ``close``: when the client is still sending the request's body, end this
        side, drop what it still sends and close a moment later (true); else false."""
        cycle = self.cycle
        if (self._refused or cycle is None or not cycle.more_body or cycle.disconnected
                or self.transport.is_closing()):
            return False
        self._refused = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)
        return True

    # -- parser callbacks -------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self._fields += 1
        if self._fields > self.max_headers:
            raise HeadTooLarge(f"the request has more than {self.max_headers} header fields "
                               "(hogar serve --max-headers)")
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._in_head, self._head_left, self._fields = True, self.max_header_bytes, 0
        self._messages += 1
        super().on_message_complete()

    # -- bytes in -----------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._refused:
            return  # lingering: what the client still sends is dropped
        self._unset_keepalive_if_required()
        try:
            self._feed(data)
        except HeadTooLarge as exc:
            self._refuse(str(exc))
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, HeadTooLarge):
                self._refuse(str(exc.__context__))
            else:
                self._invalid()
        except httptools.HttpParserError:
            self._invalid()
        except httptools.HttpParserUpgrade:  # as uvicorn's own data_received
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()

    def _feed(self, data: bytes) -> None:
        while data:
            left = self._head_left
            if not self._in_head or len(data) <= left:
                if self._in_head:
                    self._head_left = left - len(data)
                self.parser.feed_data(data)
                return
            messages = self._messages
            self.parser.feed_data(data[:left])
            if self.parser is None or self.transport.is_closing():
                return
            if self._in_head and self._messages == messages:  # still the same head, past the limit
                raise HeadTooLarge(f"the request head (request line and header fields) is larger "
                                   f"than {self.max_header_bytes} bytes (hogar serve --max-header-bytes)")
            data = data[left:]

    def _invalid(self) -> None:
        self.logger.warning("Invalid HTTP request received.")
        self._refuse("the request is not valid HTTP/1.1 (its request line or a header field could not be "
                     "read)", b"400 Bad Request", "bad_request")

    def _refuse(self, message: str, status: bytes = b"431 Request Header Fields Too Large",
                cause: str = "too_large") -> None:
        """Answer ``status`` with a JSON error and close, unless a response is under
        way (then just close)."""
        self._refused = True
        if self.cycle is not None and not self.cycle.response_complete:
            self.transport.close()
            return
        rid = new_request_id()
        body = dumps({"error": {"cause": cause, "message": message, "node": None, "request_id": rid}})
        head = [b"HTTP/1.1 " + status + b"\r\n"]
        head += [name + b": " + value + b"\r\n" for name, value in self.server_state.default_headers]
        head += [b"content-type: application/json\r\n",
                 b"content-length: " + str(len(body)).encode() + b"\r\n",
                 b"x-request-id: " + rid.encode() + b"\r\n",
                 b"connection: close\r\n\r\n"]
        self.transport.write(b"".join(head) + body)
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_S, self.transport.close)


def protocol_factory(max_header_bytes: int, max_headers: int) -> Callable[..., HeadLimitProtocol]:
    """What uvicorn's ``Config(http=...)`` takes: makes a bounded protocol per connection."""
    return functools.partial(HeadLimitProtocol, max_header_bytes=max_header_bytes, max_headers=max_headers)
