"""A registered server that sends malformed metrics: the console warns once and shows the
deployment as ``bad data``, then ``running`` again once the data reads. A real console
polling a loopback server that answers as a hogar serve would, but for its histogram."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from console_processes import console_env, signed_in, start_console, wait_for
from test_console_register import register

ROOT = Path(__file__).resolve().parents[2]
LIVE = 'graph live\nsource inp\npython dbl { impl = "tests.runtime.impls:double" }\nsink out\ninp -> dbl -> out\n'


@pytest.fixture
def mimic():
    """A server answering a real hogar serve's graph and status; ``state["bad"]`` breaks the histogram."""
    import hogar_nb

    real = hogar_nb.run(hogar_nb.parse_udgl(LIVE))
    url = real.serve_http()
    graph = httpx.get(url + "/hogar/v1/graph").json()
    status = httpx.get(url + "/hogar/v1/status").json()
    real.stop()
    state = {"bad": False, "polls": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            if self.path == "/hogar/v1/graph":
                body = graph
            elif self.path == "/hogar/v1/status":
                state["polls"] += 1
                body = json.loads(json.dumps(status))
                if state["bad"]:
                    body["graph"]["histogram"] = [[None, "many"], "not a bucket", 3]
                    body["nodes"]["dbl"]["histogram"] = {"oops": 1}
            elif self.path == "/hogar/v1/events":
                body = []
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", state
    server.shutdown()
    server.server_close()


def test_malformed_metrics_are_one_warning_and_a_state(tmp_path, mimic):
    url_served, state = mimic
    console, url = start_console(console_env(tmp_path / "data", PYTHONPATH=str(ROOT)), {"boss": "admin"})
    try:
        boss = signed_in(url, "boss")
        page = register(boss, "mimic", url_served).headers["location"]
        wait_for(lambda: 'class="state running"' in boss.get(page).text, 30, "the first readings")
        state["bad"] = True
        polls = state["polls"]
        text = wait_for(lambda: (t := boss.get(page).text) and 'class="state bad data"' in t and t, 30, "bad data")
        assert "the console cannot read this deployment&#x27;s metrics" in text
        wait_for(lambda: state["polls"] >= polls + 8, 60, "eight polls of bad data")
        state["bad"] = False
        wait_for(lambda: 'class="state running"' in boss.get(page).text, 30, "readable data again")
    finally:
        assert console.stop() == 0, console.output()
    out = console.output()
    assert "Traceback" not in out, out
    assert len(re.findall(r"sends data the console cannot read", out)) == 1, out
    assert "sends readable data again" in out
