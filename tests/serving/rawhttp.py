"""A lean asyncio HTTP/1.1 client for load in tests (httpx's pool is too slow to load a
server with thousands of concurrent requests on two cores). Keep-alive connections,
one per worker; a ``connection: close`` answer makes the worker reconnect."""

from __future__ import annotations

import asyncio
import socket
from typing import Any, Sequence


async def _read(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


async def post_many(host: str, port: int, requests: Sequence[tuple[str, bytes] | tuple[str, bytes, str]],
                    concurrency: int = 64, with_headers: bool = False) -> list[Any]:
    """POST each (path, body) or (path, body, extra header lines); returns (status, body),
    or (status, headers, body) ``with_headers``, in the order of ``requests``."""
    results: list[Any] = [None] * len(requests)
    next_index = iter(range(len(requests)))

    async def worker() -> None:
        reader = writer = None
        for i in next_index:
            path, body, *extra = requests[i]
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            writer.write(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
                         f"{''.join(extra)}Content-Length: {len(body)}\r\n\r\n".encode() + body)
            status, headers, answer = await _read(reader)
            results[i] = (status, headers, answer) if with_headers else (status, answer)
            if headers.get("connection", "").lower() == "close":
                writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


class Conn:
    """A raw connection: ``sendall`` bytes, read ``answer()`` s one at a time (what the
    server sent past one answer stays buffered for the next)."""

    def __init__(self, client) -> None:
        self.sock = socket.create_connection((client.base_url.host, client.base_url.port), timeout=30)
        self.stream = self.sock.makefile("rb")

    def __enter__(self) -> "Conn":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stream.close()
        self.sock.close()

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        status_line = self.stream.readline()
        if not status_line:
            raise AssertionError("closed before a response")
        headers = {}
        while (line := self.stream.readline().decode("latin-1").strip()):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        body = self.stream.read(int(headers.get("content-length", 0)))
        return int(status_line.split()[1]), headers, body
