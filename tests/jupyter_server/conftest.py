"""A real Jupyter server on 127.0.0.1 (free port, token auth) with the extension that
``pip install`` enabled, and a small JSON client for its ``/hogar-nb/`` endpoints."""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Reply:
    status: int
    body: dict
    content_type: str


@dataclass
class Server:
    url: str
    token: str

    def post(self, endpoint: str, data: bytes | dict | str, token: str | None = "default",
             timeout: float = 60) -> Reply:
        """POST to ``hogar-nb/{endpoint}``; dicts are sent as JSON, bytes and str as they are."""
        raw = json.dumps(data).encode() if isinstance(data, dict) else (
            data.encode() if isinstance(data, str) else data)
        headers = {"Content-Type": "application/json"}
        token = self.token if token == "default" else token
        if token is not None:
            headers["Authorization"] = f"token {token}"
        req = urllib.request.Request(f"{self.url}/hogar-nb/{endpoint}", raw, headers, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return Reply(resp.status, json.loads(resp.read() or b"{}"), resp.headers["Content-Type"])
        except urllib.error.HTTPError as err:
            body = err.read()
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = {"unparsed": body.decode("utf-8", "replace")}
            return Reply(err.code, parsed, err.headers.get("Content-Type", ""))


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("jupyter-server")
    root = base / "root"
    root.mkdir()
    ARTIFACTS.mkdir(exist_ok=True)
    log = ARTIFACTS / "hogar-nb-server-extension.log"
    token = secrets.token_hex(16)
    port = _free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(base / "config"),
           "JUPYTER_RUNTIME_DIR": str(base / "runtime"), "PYTHONUNBUFFERED": "1"}
    cmd = [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
           f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            req = urllib.request.Request(f"{url}/api/status", headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(req, timeout=2) as resp:
                if resp.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the Jupyter server did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.2)
    yield Server(url, token)
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
