"""A transport that writes a response's head and body in one system call.

uvicorn writes the head of a response when the application sends
``http.response.start`` and the body when it sends ``http.response.body``: two
``send`` system calls, two TCP segments, and two moments where the event loop
thread gives up the GIL (and waits for a busy replica thread to hand it back). The
HTTP front's connections hold what is written during one turn of the event loop and
write it at the end of that turn, as one buffer. Closing, ``write_eof`` and a large
buffer write at once, so nothing is held past the turn it was written in.
"""

from __future__ import annotations

import asyncio
from typing import Any, Callable

__all__ = ["CoalescingTransport"]

_WRITE_NOW = 256 * 1024  # bytes held past which a write goes out at once


class CoalescingTransport:
    """Wraps an ``asyncio.Transport``: ``write`` is held until the loop's next turn;
    everything else is the wrapped transport's."""

    __slots__ = ("_transport", "_loop", "_held", "_size", "_instead_of_close")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop,
                 instead_of_close: Callable[[], bool] | None = None) -> None:
        """``instead_of_close``, when given, is asked on each ``close``; it returns true
        when it took care of closing (a lingering close) and the transport stays open."""
        self._transport = transport
        self._loop = loop
        self._instead_of_close = instead_of_close
        self._held: list[bytes] = []
        self._size = 0

    def write(self, data: bytes) -> None:
        if not data:
            return
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(data)
        self._size += len(data)
        if self._size >= _WRITE_NOW:
            self.flush()

    def writelines(self, lines: Any) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Write what is held, as one buffer."""
        held = self._held
        if not held:
            return
        self._held, self._size = [], 0
        if self._transport.is_closing():
            return  # the connection is gone: asyncio would drop the bytes too
        self._transport.write(held[0] if len(held) == 1 else b"".join(held))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._size

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        if self._instead_of_close is not None and self._instead_of_close():
            return
        self._transport.close()

    def abort(self) -> None:
        self._held, self._size = [], 0
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)
