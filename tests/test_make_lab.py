"""`make lab` ends its output with the URL to open, token included, and that URL works."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_prints_the_url_to_open_last() -> None:
    port = _free_port()
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}"], cwd=ROOT, stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL, text=True, start_new_session=True,
    )
    try:
        line = proc.stdout.readline().strip()  # the only line make prints itself
        assert line.startswith(f"Open JupyterLab at: http://127.0.0.1:{port}/lab?token=")
        url = line.split(": ", 1)[1]
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as resp:
                    assert resp.status == 200 and b"JupyterLab" in resp.read()
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None and time.monotonic() < deadline, "JupyterLab did not answer"
                time.sleep(0.2)
        with pytest.raises(urllib.error.HTTPError) as info:  # the token is what lets one in
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents", timeout=5)
        assert info.value.code == 403
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_make_lab_refuses_a_busy_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        proc = subprocess.run(["make", "--no-print-directory", "lab", f"PORT={port}"], cwd=ROOT,
                              capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0 and f"port {port} is in use" in proc.stderr
