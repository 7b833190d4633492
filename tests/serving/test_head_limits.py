"""Request heads are bounded: an oversized or over-counted head gets 431 with a JSON
error at the limit, not after parsing all of it, and other clients go on being served."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from pathlib import Path

import pytest

from tests.serving.conftest import chain, impl, served
from tests.serving.rawhttp import Conn, post_many


@pytest.fixture(scope="module")
def server():
    with served(chain(impl("ident")), max_header_bytes=8192, max_headers=20) as pair:
        yield pair


def test_a_head_past_the_limit_is_refused_before_it_ends(server):
    _dep, client = server
    with Conn(client) as sock:
        # 64 KiB of one header and no end of the head: the answer comes without it
        sock.sendall(b"POST /src HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 65536)
        status, headers, body = sock.answer()
    assert status == 431 and headers["connection"] == "close"
    error = json.loads(body)["error"]
    assert error["cause"] == "too_large" and "larger than 8192 bytes" in error["message"]
    assert "--max-header-bytes" in error["message"] and error["request_id"] == headers["x-request-id"]
    assert client.post("/src", json=1).json() == 1


def test_a_long_request_line_counts_toward_the_head(server):
    _dep, client = server
    with Conn(client) as sock:
        sock.sendall(b"GET /" + b"p" * 20000 + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _headers, body = sock.answer()
    assert status == 431 and json.loads(body)["error"]["cause"] == "too_large"


@pytest.mark.parametrize("fields, status", [(20, 200), (21, 431), (5000, 431)])
def test_header_fields_are_counted(server, fields, status):
    _dep, client = server
    extra = b"".join(b"X-%d: 1\r\n" % i for i in range(fields - 2))  # with Host and Content-Length
    with Conn(client) as sock:
        sock.sendall(b"POST /src HTTP/1.1\r\nHost: x\r\n" + extra + b"Content-Length: 1\r\n\r\n7")
        got, _headers, body = sock.answer()
    assert got == status, body
    if status == 431:
        assert "more than 20 header fields" in json.loads(body)["error"]["message"]
    else:
        assert json.loads(body) == 7


def test_a_head_just_under_the_limit_and_pipelined_requests_are_served(server):
    _dep, client = server
    head = b"POST /src HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n"
    pad = b"X-Pad: " + b"p" * (8192 - len(head) - 12) + b"\r\n"
    request = head + pad + b"\r\n" + b"5"
    with Conn(client) as sock:
        sock.sendall(request * 3)  # three heads of nearly the limit in one write
        answers = [sock.answer() for _ in range(3)]
    assert [(s, json.loads(b)) for s, _h, b in answers] == [(200, 5)] * 3


def _thread_cpu(thread: threading.Thread) -> float:
    """CPU seconds (user + system) a thread of this process has used, from /proc."""
    fields = Path(f"/proc/self/task/{thread.native_id}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def test_a_100_mb_header_costs_little_and_other_clients_are_served():
    """The attack that cost 51 s of CPU: a 100 MB header, with 2,000 requests from
    other clients meanwhile, each counted."""
    with served(chain(impl("ident"), replicas=2)) as (dep, client):
        server_thread = next(t for t in threading.enumerate() if t.name == f"hogar-http-{dep.name}")
        cpu0 = _thread_cpu(server_thread)
        refused: list[tuple[int, bytes]] = []

        def attack() -> None:
            with Conn(client) as sock:
                sock.sendall(b"POST /src HTTP/1.1\r\nHost: x\r\nX-Big: ")
                try:
                    for _ in range(1600):  # 100 MiB
                        sock.sendall(b"b" * 65536)
                except OSError:  # the server stopped reading after the linger
                    pass
                status, _headers, body = sock.answer()
                refused.append((status, body))

        attacker = threading.Thread(target=attack)
        attacker.start()
        requests = [("/src", str(i).encode()) for i in range(2000)]
        answers = asyncio.run(post_many(client.base_url.host, client.base_url.port, requests, 8))
        attacker.join(60)
        cpu = _thread_cpu(server_thread) - cpu0
        assert [(s, json.loads(b)) for s, b in answers] == [(200, i) for i in range(2000)]
        assert refused and refused[0][0] == 431, refused
        assert json.loads(refused[0][1])["error"]["cause"] == "too_large"
        assert cpu < 10, f"the server spent {cpu:.1f} s of CPU"  # parsing all of it took 51 s


@pytest.mark.parametrize("bad", [
    b"GET /src HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n",  # a control character in a value
    b"GET /src HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n",  # a space in a field name
    b"BREW /src HTCPCP/1.0\r\n\r\n",  # not HTTP/1.x
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # TLS to a plain port
])
def test_a_request_the_parser_cannot_read_gets_a_json_400(server, bad):
    _dep, client = server
    answered = 0
    for _ in range(50):  # bad heads among good requests: each bad one refused alone
        with Conn(client) as sock:
            sock.sendall(bad)
            status, headers, body = sock.answer()
        assert status == 400 and headers["connection"] == "close"
        assert headers["content-type"] == "application/json"
        error = json.loads(body)["error"]
        assert error["cause"] == "bad_request" and "not valid HTTP/1.1" in error["message"]
        assert error["request_id"] == headers["x-request-id"]
        answered += client.post("/src", json=answered).json() == answered
    assert answered == 50
