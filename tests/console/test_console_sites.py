"""Two consoles on two databases in one data folder: each keeps its deployments' files (graph,
admin token) with its own database, so neither overwrites the other's."""

from __future__ import annotations

import json
import os
import re
import signal
from pathlib import Path

import psutil

from console_processes import allow, console_env, csrf, signed_in, start_console, wait_for

ROOT = Path(__file__).resolve().parents[2]
GRAPH = """graph site_{n}
source inp
python dbl {{ impl = "tests.runtime.impls:double" }}
sink out
inp -> dbl -> out
"""


def _deploy(url: str, n: int):
    client = signed_in(url, "ops")
    token = csrf(client, "/graphs/upload/")
    response = client.post("/graphs/upload/", data={"text": GRAPH.format(n=n), "format": "auto",
                                                    "csrfmiddlewaretoken": token})
    assert response.status_code == 302, response.text[:1000]
    version = response.headers["location"]
    response = client.post(version + "deploy/", data={"csrfmiddlewaretoken": csrf(client, version)})
    assert response.status_code == 302, response.text[:1000]
    page = response.headers["location"]
    wait_for(lambda: 'id="dep-url">http' in client.get(page).text, 60, f"console {n}'s deployment to serve")
    return client, page


def _change(client, page: str, value: str):
    return client.post(page + "reconfigure/", headers={"Accept": "application/json"},
                       data={"node": "dbl", "attr": "retries", "value": value,
                             "csrfmiddlewaretoken": csrf(client, page)})


def test_two_consoles_keep_their_files_beside_their_own_databases(tmp_path):
    data = tmp_path / "data"
    consoles = []
    try:
        for n in (1, 2):
            db = tmp_path / f"db{n}" / "console.sqlite3"
            db.parent.mkdir()
            env = console_env(data, db=f"sqlite:///{db}", PYTHONPATH=str(ROOT))
            consoles.append(start_console(env, {"ops": "operator", "boss": "admin"}))
            allow(consoles[-1][1], "boss", "python", "tests.runtime.impls")  # what operators may deploy
        sessions = [_deploy(url, n) for n, (_, url) in enumerate(consoles, 1)]
        tokens = []
        for n in (1, 2):
            site = tmp_path / f"db{n}" / "console.sqlite3.files" / "deployments" / "1"
            pid = json.loads((site / "pid").read_text())["pid"]
            # the server's own folder: beside the database, or (as root) one it alone may read
            folder = Path(psutil.Process(pid).cwd())
            token = folder / "admin-token"
            assert token.stat().st_mode & 0o777 == 0o600
            assert '"site_%d"' % n in (folder / "graph.json").read_text()
            tokens.append(token.read_text())
        assert tokens[0] != tokens[1]
        assert not (data / "deployments").exists()

        # Console 1's server, killed and started again by its console, reads its own token:
        # the console's admin calls still go through.
        client, page = sessions[0]
        pid = int(re.search(r"\(pid (\d+)\)", client.get(page).text)[1])
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: 'id="dep-server-restarts">1<' in (text := client.get(page).text)
                 and 'id="dep-state" class="state running"' in text, 60, "the server started again")
        answer = _change(client, page, "2")
        assert answer.status_code == 200, answer.text
        assert _change(*sessions[1], "1").status_code == 200
    finally:
        for proc, _ in consoles:
            proc.stop()
    for proc, _ in consoles:
        assert "Traceback" not in proc.output(), proc.output()
