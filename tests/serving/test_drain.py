"""A drain that runs out of time: requests still in flight get the JSON 503 ``stopped``
body (never uvicorn's plain-text 500 and a traceback), and the stop keeps to the
timeout. Every request is counted."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.serving.conftest import chain, impl, wait_for
from tests.serving.rawhttp import post_many

ROOT = Path(__file__).resolve().parents[2]

GRAPH = """\
graph sleepy

source api { route = "/score" }
python work { impl = "drain_impls:sleepy", replicas = 8 }
sink out { response = true }
api -> work -> out
"""

IMPLS = """\
import time

def sleepy(x):
    time.sleep(x)
    return {"slept": x}
"""


def _cut(answers: list[tuple[int, bytes]], drain: str = "drain timeout of 1 s passed") -> tuple[int, int]:
    """(answered 200, answered 503 stopped); fails on any other answer."""
    ok = stopped = 0
    for status, raw in answers:
        body = json.loads(raw)
        if status == 200:
            ok += 1
            continue
        assert status == 503 and body["error"]["cause"] == "stopped", (status, raw[:200])
        assert drain in body["error"]["message"]
        stopped += 1
    return ok, stopped


def test_sigterm_with_64_requests_in_flight_cuts_them_at_the_drain_timeout(tmp_path):
    (tmp_path / "sleepy.udgl").write_text(GRAPH)
    (tmp_path / "drain_impls.py").write_text(IMPLS)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HOGAR_ADMIN_TOKEN", None)
    err_log = tmp_path / "stderr.txt"
    with open(err_log, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "sleepy.udgl"),
                                 "--port", "0", "--drain-timeout", "1"], stdout=subprocess.PIPE,
                                stderr=err, text=True, env=env, cwd=tmp_path)
    try:
        url = proc.stdout.readline().split()[-1]
        host, port = url.removeprefix("http://").split(":")
        requests = [("/score", b"0.01" if i < 8 else b"5") for i in range(64)]

        async def storm() -> tuple[list[tuple[int, bytes]], float]:
            answers = asyncio.ensure_future(post_many(host, int(port), requests, 64))
            deadline = time.monotonic() + 30
            while True:  # every request admitted: 8 running, the others queued
                status = await asyncio.to_thread(lambda: httpx.get(url + "/hogar/v1/status").json())
                if status["graph"]["requests"] >= 64 and status["nodes"]["work"]["in_flight"] == 8:
                    break
                assert time.monotonic() < deadline, status["graph"]
                await asyncio.sleep(0.05)
            t0 = time.monotonic()
            proc.send_signal(signal.SIGTERM)
            done = await answers
            await asyncio.to_thread(proc.wait, 60)
            return done, time.monotonic() - t0

        answers, exited = asyncio.run(storm())
        assert len(answers) == 64
        assert _cut(answers) == (8, 56)
        assert proc.returncode == 0
        assert exited < 1 + 3, f"exit took {exited:.1f} s with --drain-timeout 1"
        assert "Traceback" not in err_log.read_text(), err_log.read_text()[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_stop_with_a_timeout_cuts_the_requests_serve_http_holds():
    import hogar_nb

    dep = hogar_nb.run(chain(impl("slow_for"), replicas=4))
    url = dep.serve_http(drain_timeout=30)
    answers: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def call(seconds: float) -> None:
        resp = httpx.post(url + "/src", json=seconds, timeout=60)
        with lock:
            answers.append((resp.status_code, resp.content))

    threads = [threading.Thread(target=call, args=(5.0,)) for _ in range(16)]
    for t in threads:
        t.start()
    wait_for(lambda: dep.metrics().graph.requests >= 16, 30, "every request admitted")
    t0 = time.monotonic()
    dep.stop(timeout=1)
    stopped = time.monotonic() - t0
    for t in threads:
        t.join(30)
    assert len(answers) == 16 and _cut(answers, "stopped before the request finished") == (0, 16)
    assert stopped < 1 + 3, f"stop(timeout=1) took {stopped:.1f} s"
