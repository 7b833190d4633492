"""What an operator applied survives a restart of the console: the server it starts again
runs the changed settings, and the timeline says so."""

from __future__ import annotations

import re
from pathlib import Path

import httpx

from console_processes import allow, console_env, csrf, signed_in, start_console, wait_for

ROOT = Path(__file__).resolve().parents[2]
GRAPH = """graph kept
source inp
python dbl { impl = "tests.runtime.impls:double", timeout = 2s }
sink out
inp -> dbl -> out
"""


def _served(client: httpx.Client, page: str, not_at: str = "") -> str:
    return wait_for(lambda: (m := re.search(r'id="dep-url">(http://127\.0\.0\.1:\d+)<.*id="dep-state" class="state running"'
                                            r'|id="dep-state" class="state running".*id="dep-url">(http://127\.0\.0\.1:\d+)<',
                                            client.get(page).text, re.S)) and (m[1] or m[2]) != not_at
                    and (m[1] or m[2]),
                    90, "the deployment to serve")


def test_applied_changes_run_again_after_a_console_restart(tmp_path):
    env = console_env(tmp_path / "data", PYTHONPATH=str(ROOT))
    console, url = start_console(env, {"ops": "operator", "boss": "admin"})
    try:
        allow(url, "boss", "python", "tests.runtime.impls")  # what operators may deploy
        client = signed_in(url, "ops")
        response = client.post("/graphs/upload/", data={"text": GRAPH, "format": "auto",
                                                        "csrfmiddlewaretoken": csrf(client, "/graphs/upload/")})
        version = response.headers["location"]
        response = client.post(version + "deploy/", data={"csrfmiddlewaretoken": csrf(client, version)})
        page = response.headers["location"]
        serve_url = _served(client, page)
        for attr, value in (("replicas", "2"), ("timeout", "750ms")):
            answer = client.post(page + "reconfigure/", headers={"Accept": "application/json"},
                                 data={"node": "dbl", "attr": attr, "value": value,
                                       "csrfmiddlewaretoken": csrf(client, page)})
            assert answer.status_code == 200, answer.text
        assert httpx.get(serve_url + "/hogar/v1/status").json()["nodes"]["dbl"]["replicas"] == 2
    finally:
        assert console.stop() in (0, -15), console.output()
    assert "Traceback" not in console.output()

    console, url = start_console(env)
    try:
        client = signed_in(url, "ops")
        new_url = _served(client, page, not_at=serve_url)
        status = wait_for(lambda: (s := httpx.get(new_url + "/hogar/v1/status").json())["nodes"]["dbl"]
                          ["replicas_alive"] == 2 and s, 60, "two replicas of dbl")
        assert status["nodes"]["dbl"]["replicas"] == 2
        graph = httpx.get(new_url + "/hogar/v1/graph").json()
        dbl = next(n for n in graph["nodes"] if n["name"] == "dbl")
        assert dbl["replicas"] == 2 and dbl["timeout_ms"] == 750.0
        assert httpx.post(new_url + "/inp", json=21).json() == 42
        text = client.get(page).text
        assert "with the changes applied since it was deployed" in text
        assert "dbl.replicas = 2 by ops" in text
        assert re.search(r'<td class="replicas">2</td>', text)
    finally:
        assert console.stop() in (0, -15), console.output()
    assert "Traceback" not in console.output()
