"""The HTTP front on the wire, read with a plain socket, where its connections hold
what is written during one turn of the event loop (hogar_nb.serving.coalesce):
pipelined requests are answered whole and in order, ``Expect: 100-continue`` is
answered while the server waits for the body, and a refused body is answered before
the connection closes."""

from __future__ import annotations

import concurrent.futures
import json
import logging
import re
import socket
from urllib.parse import urlsplit

import pytest

from tests.serving.conftest import make_earg, served


@pytest.fixture(scope="module")
def address():
    earg = make_earg({"src": {"kind": "source"}, "f": {"impl": "tests.serving.impls:ident"},
                      "out": {"kind": "sink", "response": True}}, ["src -> f", "f -> out"])
    with served(earg, max_body=50_000) as (_dep, client):
        url = urlsplit(str(client.base_url))
        yield url.hostname, url.port


def _request(body: bytes, *extra: str) -> bytes:
    head = ["POST /src HTTP/1.1", "Host: test", "Content-Type: application/json",
            f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _responses(sock: socket.socket, n: int) -> list[tuple[bytes, bytes]]:
    """``n`` responses (head, body) read from ``sock`` (Content-Length framed)."""
    data, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"the connection closed after {len(out)} responses"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n")
                      if line.lower().startswith(b"content-length:"))
        while len(data) < length:
            data += sock.recv(65536)
        out.append((head, data[:length]))
        data = data[length:]
    return out


def test_pipelined_requests_are_answered_in_order(address):
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(b"".join(_request(json.dumps([i]).encode()) for i in range(50)))
        answers = _responses(sock, 50)
    assert [json.loads(body) for _head, body in answers] == [[i] for i in range(50)]
    assert all(head.startswith(b"HTTP/1.1 200") for head, _body in answers)


def test_expect_100_continue_is_answered_before_the_body_is_sent(address):
    body = json.dumps(list(range(100))).encode()
    with socket.create_connection(address, timeout=30) as sock:
        request = _request(body, "Expect: 100-continue")
        sock.sendall(request[:-len(body)])
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        [(head, answer)] = _responses(sock, 1)
    assert head.startswith(b"HTTP/1.1 200") and json.loads(answer) == list(range(100))


def _send_whole(address, body: bytes, chunked: bool = False, *extra: str) -> tuple[bytes, bytes]:
    """Send ``body`` (framed by Content-Length, or chunked) whole, as a client that does
    not read until it has sent everything; the answer read to EOF."""
    head = ["POST /src HTTP/1.1", "Host: test", "Content-Type: application/json", *extra]
    if chunked:
        head.append("Transfer-Encoding: chunked")
        pieces = [body[i:i + 16_384] for i in range(0, len(body), 16_384)]
        body = b"".join(b"%x\r\n%b\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    else:
        head.append(f"Content-Length: {len(body)}")
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    answer_head, _, answer = data.partition(b"\r\n\r\n")
    return answer_head, answer


def test_a_body_over_the_limit_is_answered_then_the_connection_closes(address):
    """Closing with the client's bytes unread would reset the connection, and a reset
    can reach the client before it has read the answer: the server drops what the
    client still sends for a moment, so every client of a storm reads its 413, whether
    the body's size was declared (refused before reading) or not (refused at the limit)."""
    cases = [(b"[" + b"1," * (size // 2) + b"1]", chunked)
             for size in (60_000, 200_000, 1_000_000, 3_000_000) for chunked in (False, True)] * 4
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda case: _send_whole(address, *case), cases))
    for (body, chunked), (head, answer) in zip(cases, answers):
        assert head.startswith(b"HTTP/1.1 413") and b"connection: close" in head.lower(), (len(body), chunked, head)
        assert json.loads(answer)["error"]["cause"] == "too_large"
    head, answer = _send_whole(address, b"[1, 2]", True, "Connection: close")
    assert head.startswith(b"HTTP/1.1 200") and json.loads(answer) == [1, 2], "the server serves on"


def _normalised(head: bytes) -> bytes:
    """A response head without what differs between two answers to the same request:
    the date and the root span's id."""
    return re.sub(rb"(?m)^(date: ).*$", rb"\1-", re.sub(rb"(traceparent: 00-[0-9a-f]{32}-)[0-9a-f]{16}", rb"\1-", head))


@pytest.mark.parametrize("extra", [(), ("Connection: close",), ("tracestate: vendor=abc",)])
def test_an_answer_written_at_once_is_byte_for_byte_uvicorns(address, monkeypatch, extra):
    """The data plane writes its answer in one go (serving.direct_send); the bytes are
    the ones uvicorn's send writes for the same two ASGI messages."""
    import hogar_nb.serving.dataplane as dataplane

    # the suite's log capture listens on uvicorn's access log; `hogar serve` has none,
    # and a connection that logs access is answered through uvicorn's send
    monkeypatch.setattr(logging.getLogger("uvicorn.access"), "handlers", [])
    trace = "traceparent: 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    request = _request(b"[1, 2]", "x-request-id: same-id", trace, *extra)
    answers, wrote = [], []
    real = dataplane.send_at_once
    for direct in (True, False):
        if direct:
            monkeypatch.setattr(dataplane, "send_at_once", lambda *args: wrote.append(real(*args)) or wrote[-1])
        else:
            monkeypatch.setattr(dataplane, "send_at_once", lambda *args: False)
        with socket.create_connection(address, timeout=30) as sock:
            sock.sendall(request)
            [(head, body)] = _responses(sock, 1)
            if extra == ("Connection: close",):
                assert sock.recv(65536) == b"", "the server closes the connection after its answer"
        answers.append((_normalised(head), body))
    assert wrote == [True], "the first answer was written at once"
    assert answers[0] == answers[1]
    head, body = answers[0]
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and body == b"[1,2]"
    assert b"x-request-id: same-id" in head and b"traceparent: 00-0af7651916cd43dd8448eb211c80319c-" in head
    assert (b"connection: close" in head) == (extra == ("Connection: close",))


def test_a_client_that_sends_while_the_answer_is_written_gets_every_answer(address):
    """Pipelined and interleaved: requests sent in pieces while answers go out."""
    with socket.create_connection(address, timeout=30) as sock:
        for round_ in range(20):
            batch = b"".join(_request(json.dumps([round_, i]).encode()) for i in range(5))
            for cut in range(0, len(batch), 37):
                sock.sendall(batch[cut:cut + 37])
            answers = _responses(sock, 5)
            assert [json.loads(body) for _h, body in answers] == [[round_, i] for i in range(5)]
