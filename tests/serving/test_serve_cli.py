"""`hogar serve FILE` as a user runs it: one line once it answers, a clean drain on SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from hogar_nb.core.replica_limits import THREADS_PER_CPU
from tests.serving.rawhttp import post_many

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


def _start(tmp_path: Path, *args: str, graph: str = GRAPH, impls: str = IMPLS,
           err_log: Path | None = None) -> tuple[subprocess.Popen, str]:
    """Start hogar serve; its stderr is a pipe, or ``err_log`` when it may log more
    than a pipe holds while nobody reads it."""
    (tmp_path / "slowpoke.udgl").write_text(graph)
    (tmp_path / "serve_impls.py").write_text(impls)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("HOGAR_ADMIN_TOKEN", None)
    with contextlib.ExitStack() as files:
        err = subprocess.PIPE if err_log is None else files.enter_context(open(err_log, "w"))
        proc = subprocess.Popen([sys.executable, "-m", "hogar_nb", "serve", str(tmp_path / "slowpoke.udgl"),
                                 "--port", "0", *args], stdout=subprocess.PIPE, stderr=err,
                                text=True, env=env, cwd=tmp_path)
    line = proc.stdout.readline()
    if not line:
        proc.kill()
        raise AssertionError(f"hogar serve printed nothing: {proc.stderr.read() if proc.stderr else ''}")
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


PROCESS_GRAPH = """\
graph picky

source api { route = "/score" }
python check { impl = "serve_impls:check", isolation = process, timeout = 2s }
sink out { response = true }
api -> check -> out
"""

PROCESS_IMPLS = """\
def check(x):
    if x < 0:
        raise ValueError(f"negative input {x}")
    return {"echo": x}
"""


def test_a_storm_of_raising_calls_on_process_replicas_then_sigterm(tmp_path):
    """5,000 requests over HTTP, one in four raising in a process replica: every good
    one answered, every bad one a 500 naming the impl's error, none lost; the replicas
    live on, and SIGTERM afterwards stops the server at once."""
    err_log = tmp_path / "stderr.txt"  # each 500 is logged: more than a pipe holds
    proc, line = _start(tmp_path, graph=PROCESS_GRAPH, impls=PROCESS_IMPLS, err_log=err_log)
    try:
        url = line.split()[-1]
        host, port = url.removeprefix("http://").split(":")
        bad = {i for i in range(5000) if i % 4 == 3}
        requests = [("/score", str(-i if i in bad else i).encode()) for i in range(5000)]
        answers = asyncio.run(post_many(host, int(port), requests, 64))
        assert len(answers) == 5000
        for i, (status, raw) in enumerate(answers):
            body = json.loads(raw)
            if i in bad:
                assert status == 500 and body["error"]["cause"] == "error", (i, body)
                assert f"raised ValueError('negative input {-i}')" in body["error"]["message"]
            else:
                assert (status, body) == (200, {"echo": i}), i
        status = httpx.get(url + "/hogar/v1/status").json()
        # one replica: of two, outlier ejection may rightly replace one that drew five bad payloads in a row
        assert status["nodes"]["check"]["replicas_alive"] == 1 and status["nodes"]["check"]["restarts"] == 0
        assert httpx.get(url + "/hogar/v1/events").json() == [], "no replica died"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        exited = time.monotonic() - t0
        err = err_log.read_text()
        assert proc.returncode == 0, err[-2000:]
        # each failed request is logged once, with the impl's traceback; nothing else failed
        assert sum("failed at node 'check'" in line for line in err.splitlines()) == len(bad), err[-2000:]
        assert err.count("Traceback") == len(bad), err[-2000:]
        assert exited < 10, f"SIGTERM took {exited:.1f} s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


ROWS_GRAPH = """\
graph rows

source api
python f { impl = "serve_impls:ident", replicas = 2 }
sink out
api -> f -> out
"""


def _rss_mib(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1]) // 1024


def test_infer_rows_past_max_rows_are_413_and_leave_memory_and_other_clients_alone(tmp_path):
    """The attack: v2 requests of shape [100000, 1] (0.5 MB each) took 12.8 s each, starved
    other clients and left RSS high. Mixed here with 500 plain requests, each counted."""
    proc, line = _start(tmp_path, "--max-rows", "64", graph=ROWS_GRAPH, impls="def ident(x):\n    return x\n")
    try:
        url = line.split()[-1]
        host, port = url.removeprefix("http://").split(":")

        def rows(n: int) -> bytes:
            return json.dumps({"inputs": [{"name": "x", "shape": [n, 1], "datatype": "INT64",
                                           "data": [[i] for i in range(n)]}]}).encode()

        assert httpx.post(url + "/v2/models/rows/infer", content=rows(64)).status_code == 200
        before = _rss_mib(proc.pid)
        attack = rows(100_000)
        requests = [("/v2/models/rows/infer", attack) if i % 25 == 0 else ("/api", str(i).encode())
                    for i in range(500)]
        answers = asyncio.run(post_many(host, int(port), requests, 16))
        for i, (status, raw) in enumerate(answers):
            if i % 25 == 0:
                error = json.loads(raw)["error"]
                assert status == 413 and "has 100000 rows" in error and "at most 64 rows" in error, raw[:300]
            else:
                assert (status, json.loads(raw)) == (200, i)
        assert httpx.post(url + "/v2/models/rows/infer", content=rows(65)).status_code == 413
        grown = _rss_mib(proc.pid) - before
        assert grown < 100, f"RSS grew by {grown} MiB"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


SLOW_START_IMPLS = """\
import time

class Loader:
    def __init__(self):
        time.sleep(1.0)

    def __call__(self, x):
        return x
"""

SLOW_START_GRAPH = """\
graph loading

source api
python f { impl = "serve_impls:Loader" }
sink out
api -> f -> out
"""


def test_sigterm_during_a_large_scale_exits_at_once(tmp_path):
    token = tmp_path / "token"
    token.write_text("a-long-admin-token\n")
    proc, line = _start(tmp_path, "--admin-token-file", str(token), "--drain-timeout", "1",
                        graph=SLOW_START_GRAPH, impls=SLOW_START_IMPLS)
    try:
        url = line.split()[-1]
        target = min(100, THREADS_PER_CPU * os.cpu_count())
        resp = httpx.post(url + "/hogar/v1/admin/scale", json={"node": "f", "replicas": target},
                          headers={"authorization": "Bearer a-long-admin-token"}, timeout=30)
        assert resp.status_code == 202 and resp.json()["target"] == target, resp.text
        assert httpx.post(url + "/api", json=7).json() == 7, "served while it scales"
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        exited = time.monotonic() - t0
        assert proc.returncode == 0 and "Traceback" not in err, err[-2000:]
        assert exited < 1 + 4, f"SIGTERM during a scale took {exited:.1f} s"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_a_serving_process_freezes_what_it_loaded_and_collects_less_often():
    """hogar serve calls quiet_collector once it listens: the objects loaded by then are
    frozen (never scanned again) and the first generation's threshold is raised."""
    code = ("import gc, json, sklearn.linear_model\n"
            "from hogar_nb.serving.server import GC_THRESHOLD, quiet_collector\n"
            "before = gc.get_freeze_count()\n"
            "quiet_collector()\n"
            "print(json.dumps([before, gc.get_freeze_count(), gc.get_threshold(), list(GC_THRESHOLD)]))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr
    before, frozen, threshold, wanted = json.loads(done.stdout)
    assert before == 0 and frozen > 10_000 and threshold == wanted and wanted[0] > 700
