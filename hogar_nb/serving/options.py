"""Settings of the HTTP front."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import HogarError

__all__ = ["DEFAULT_MAX_BODY", "DEFAULT_MAX_HEADERS", "DEFAULT_MAX_HEADER_BYTES", "DEFAULT_MAX_ROWS",
           "ServeOptions", "read_admin_token"]

DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_MAX_HEADER_BYTES = 64 * 1024
DEFAULT_MAX_HEADERS = 100
DEFAULT_MAX_ROWS = 1024
ADMIN_TOKEN_ENV = "HOGAR_ADMIN_TOKEN"


@dataclass(frozen=True)
class ServeOptions:
    """``max_body``: largest request body in bytes (413 above it); ``timeout``: each
    request's deadline in seconds (None: the graph's own timeouts); ``admin_token``:
    enables the admin API behind ``Authorization: Bearer TOKEN``;
    ``allow_fault_injection``: also expose the fault-injection admin paths;
    ``status_interval``: seconds between status messages on the SSE stream;
    ``max_header_bytes`` and ``max_headers``: the largest request head (request line
    and header fields) and the most header fields a request may have (431 past them);
    ``max_rows``: the most rows an OIP v2 infer request may send (413 past it)."""

    max_body: int = DEFAULT_MAX_BODY
    timeout: float | None = None
    admin_token: str | None = None
    allow_fault_injection: bool = False
    status_interval: float = 1.0
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_headers: int = DEFAULT_MAX_HEADERS
    max_rows: int = DEFAULT_MAX_ROWS

    def __post_init__(self) -> None:
        if not isinstance(self.max_body, int) or self.max_body < 1:
            raise HogarError(f"got {self.max_body!r} for max_body; expected a positive number of bytes")
        if self.timeout is not None and not self.timeout > 0:
            raise HogarError(f"got {self.timeout!r} for timeout; expected seconds > 0 or None")
        for name in ("max_header_bytes", "max_headers", "max_rows"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise HogarError(f"got {value!r} for {name}; expected a positive integer")
        if self.admin_token is not None and len(self.admin_token) < 8:
            raise HogarError("the admin token is too short; use at least 8 characters")


def read_admin_token(path: str | None) -> str | None:
    """The admin token from ``path`` (first line), else from $HOGAR_ADMIN_TOKEN, else None."""
    if path is not None:
        try:
            token = Path(path).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise HogarError(f"cannot read the admin token file {path!r}: {exc}") from None
        if not token:
            raise HogarError(f"the admin token file {path!r} is empty")
        return token
    return os.environ.get(ADMIN_TOKEN_ENV) or None
