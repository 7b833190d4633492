"""`hogar serve FILE` as a user runs it: one line once it answers, a clean drain on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

GRAPH = """\
graph slowpoke

source api { route = "/score" }
python work { impl = "serve_impls:slow", replicas = 8 }
sink out { response = true }
api -> work -> out
"""

IMPLS = """\
import time

def slow(x):
    time.sleep(1.0)
    return {"echo": x}
"""


def _start(tmp_path: Path, *args: str) -> tuple[subprocess.Popen, str]:
    (tmp_path / "slowpoke.udgl").write_text(GRAPH)
    (tmp_path / "serve_impls.py").write_text(IMPLS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HOGAR_ADMIN_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "slowpoke.udgl"),
                             "--port", "0", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=tmp_path)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"hogar serve printed nothing: {proc.stderr.read()}")
    return proc, line


def test_serve_prints_one_line_answers_and_drains_on_sigterm(tmp_path):
    proc, line = _start(tmp_path)
    try:
        assert line.startswith("serving slowpoke on http://127.0.0.1:")
        url = line.split()[-1]
        assert httpx.post(url + "/score", json=1).json() == {"echo": 1}
        answers: list[int] = []

        def call(i: int) -> None:
            answers.append(httpx.post(url + "/score", json=i, timeout=30).status_code)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        import time

        deadline = time.monotonic() + 10
        while httpx.get(url + "/hogar/v1/status").json()["graph"]["in_flight"] < 8:
            assert time.monotonic() < deadline, "requests did not reach the graph"
        proc.send_signal(signal.SIGTERM)
        for t in threads:
            t.join(30)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err
        assert answers == [200] * 8
        assert out == "" and "Traceback" not in err
        assert err.rstrip().endswith("stopped slowpoke")  # says when it stops
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + "/v2/health/live")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_serve_on_a_taken_port_and_bad_options_say_why(tmp_path):
    proc, line = _start(tmp_path)
    try:
        port = line.split(":")[-1].strip()
        taken = subprocess.run([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "slowpoke.udgl"),
                                "--port", port], capture_output=True, text=True, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
        assert taken.returncode == 2 and "cannot listen on 127.0.0.1:" in taken.stderr
        assert "Traceback" not in taken.stderr
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
        assert proc.returncode == 0
    bad = subprocess.run([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "slowpoke.udgl"),
                          "--allow-fault-injection"], capture_output=True, text=True, cwd=tmp_path,
                         env={k: v for k, v in os.environ.items() if k != "HOGAR_ADMIN_TOKEN"}, timeout=60)
    assert bad.returncode == 2 and "--admin-token-file" in bad.stderr
    missing = subprocess.run([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "nope.udgl")],
                             capture_output=True, text=True, timeout=60)
    assert missing.returncode == 2 and "nope.udgl" in missing.stderr and "Traceback" not in missing.stderr


def test_serve_admin_token_from_file(tmp_path):
    token = tmp_path / "token"
    token.write_text("a-long-admin-token\n")
    proc, line = _start(tmp_path, "--admin-token-file", str(token), "--allow-fault-injection")
    try:
        url = line.split()[-1]
        auth = {"authorization": "Bearer a-long-admin-token"}
        resp = httpx.post(url + "/hogar/v1/admin/faults", json={"node": "work", "kind": "error"}, headers=auth)
        assert resp.status_code == 200
        failed = httpx.post(url + "/score", json=1, headers={"x-request-id": "req-500-once"})
        assert failed.status_code == 500
        assert httpx.post(url + "/hogar/v1/admin/clear-faults", headers={"authorization": "Bearer x"}).status_code == 401
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    logged = [line for line in err.splitlines() if "req-500-once" in line]
    assert len(logged) == 1 and "ERROR" in logged[0] and "at node 'work'" in logged[0], err
    assert "Traceback" in err  # the impl's exception, for the operator (never in the response)
