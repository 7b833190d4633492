"""Registering a server is for admins, and only a ``hogar serve`` can be registered: the
console never shows what another kind of server answers (no server-side request forgery
that reads a loopback service's secrets). A real console and real loopback services."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from console_processes import console_env, csrf, signed_in, start_console

ROOT = Path(__file__).resolve().parents[2]
SECRET = "db_password=hunter2"


class Foreign(BaseHTTPRequestHandler):
    """A loopback service that is not a hogar serve: secrets in plain text, JSON of another shape."""

    def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
        if self.path.startswith("/json/"):
            body, ctype, code = json.dumps({"nodes": SECRET, "secret": SECRET}).encode(), "application/json", 200
        elif self.path.startswith("/error/"):
            body, ctype, code = SECRET.encode(), "text/plain", 500
        elif self.path.startswith("/jsonerror/"):
            body, ctype, code = json.dumps({"error": SECRET}).encode(), "application/json", 404
        else:
            body, ctype, code = SECRET.encode(), "text/plain", 200
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def foreign():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Foreign)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def register(client, name: str, url: str):
    token = csrf(client, "/deployments/")
    # The first graph the console checks loads the EARG schema: slow on a busy machine.
    return client.post("/deployments/register/", data={"name": name, "url": url, "admin_token": "",
                                                        "csrfmiddlewaretoken": token}, timeout=120)


def test_only_admins_register_and_only_a_hogar_serve(tmp_path, foreign):
    import hogar_nb

    console, url = start_console(console_env(tmp_path / "data", PYTHONPATH=str(ROOT)),
                                 {"ops": "operator", "boss": "admin"})
    served = hogar_nb.run(hogar_nb.parse_udgl(
        'graph real\nsource inp\npython dbl { impl = "tests.runtime.impls:double" }\nsink out\ninp -> dbl -> out\n'))
    try:
        ops, boss = signed_in(url, "ops"), signed_in(url, "boss")
        assert "Register a running hogar serve" not in ops.get("/deployments/").text
        assert register(ops, "x", foreign).status_code == 403

        for path in ("/", "/json/", "/error/", "/jsonerror/"):
            response = register(boss, "foreign", foreign + path)
            assert response.status_code == 302
            page = boss.get(response.headers["location"]).text
            assert "is not a hogar serve" in page, page[-2000:]
            assert "hunter2" not in page and "db_password" not in page
        assert "foreign" not in boss.get("/deployments/").text

        real = served.serve_http()
        response = register(boss, "real", real)
        assert response.status_code == 302 and response.headers["location"].startswith("/deployments/")
        page = boss.get(response.headers["location"]).text
        assert "real" in page and real in page
        assert ">register<" in boss.get("/audit/").text
    finally:
        served.stop()
        assert console.stop() == 0, console.output()
    assert "hunter2" not in console.output()
