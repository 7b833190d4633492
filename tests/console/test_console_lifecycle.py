"""The console owns its ``hogar serve`` children: SIGTERM and SIGINT stop them, and a
console started after one that was killed stops what that one left running, so no
deployment runs twice. Real processes, counted with psutil."""

from __future__ import annotations

import hashlib
import html
import re
import signal
import time
from pathlib import Path

import psutil
import pytest

from console_processes import (HOGAR, Process, console_env, csrf, deploy, serving_url, signed_in, start_console, upload,
                               wait_for)

ROOT = Path(__file__).resolve().parents[2]
LIVE = """graph live_{n}
source inp
python dbl {{ impl = "tests.runtime.impls:double", isolation = process }}
sink out
inp -> dbl -> out
"""


def serve_processes(data: Path, deployments: list[str]) -> dict[str, list[psutil.Process]]:
    """The ``hogar serve`` processes (not their replicas) of each deployment of the console
    whose data directory is ``data``, found by their folders."""
    site = data.resolve() / "console.sqlite3.files" / "deployments"  # the default database's site
    tag = hashlib.sha256(str(site).encode()).hexdigest()[:12]  # root's children: /run/hogar-console/TAG
    folders = (f"/{tag}/", f"{site}/")
    found: dict[str, list[psutil.Process]] = {d: [] for d in deployments}
    for proc in psutil.process_iter(["cmdline"]):
        cmd = proc.info["cmdline"] or []
        if "serve" in cmd and "hogar_nb" in cmd:
            for d in deployments:
                if any(arg.endswith(f"{folder}{d}/graph.json") for arg in cmd for folder in folders):
                    found[d].append(proc)
    return found


def started_deployments(url: str) -> list[str]:
    boss = signed_in(url, "boss")
    ids = []
    for n in (1, 2):
        response = upload(boss, LIVE.format(n=n))
        assert response.status_code == 302, response.text[-2000:]
        started = deploy(boss, response.headers["location"])
        serving_url(boss, started.headers["location"])
        ids.append(started.headers["location"].rstrip("/").rsplit("/", 1)[1])
    return ids


def restart(env: dict) -> tuple[Process, str]:
    proc = Process([*HOGAR, "console", "serve", "--port", "0"], env=env)
    return proc, proc.wait_line(r"^console on (http://127\.0\.0\.1:\d+)$", 60)[1]


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_the_console_stops_its_children(tmp_path, sig):
    data = tmp_path / "data"
    env = console_env(data, PYTHONPATH=str(ROOT))
    console, url = start_console(env, {"boss": "admin"})
    try:
        ids = started_deployments(url)
        children = serve_processes(data, ids)
        assert all(len(p) == 1 for p in children.values()), children
        group = [p for procs in children.values() for p in procs]
        replicas = [c for p in group for c in p.children(recursive=True)]
        assert replicas, "each deployment runs a process replica"
        console.proc.send_signal(sig)
        assert console.proc.wait(60) == 0, console.output()
        gone, alive = psutil.wait_procs(group + replicas, timeout=5)
        assert alive == [], alive
        assert not any(serve_processes(data, ids).values())
    finally:
        console.stop()
    assert "Traceback" not in console.output(), console.output()


def test_a_console_started_after_a_killed_one_runs_each_deployment_once(tmp_path):
    data = tmp_path / "data"
    env = console_env(data, PYTHONPATH=str(ROOT))
    console, url = start_console(env, {"boss": "admin"})
    again = None
    try:
        ids = started_deployments(url)
        before = {d: procs[0].pid for d, procs in serve_processes(data, ids).items()}
        console.proc.kill()
        console.proc.wait(10)
        assert all(psutil.pid_exists(pid) for pid in before.values())  # orphans, for now

        again, url = restart(env)
        boss = signed_in(url, "boss")
        for d in ids:
            serving_url(boss, f"/deployments/{d}/")
        now = serve_processes(data, ids)
        assert all(len(procs) == 1 for procs in now.values()), now
        assert not any(psutil.pid_exists(pid) for pid in before.values())
        assert {d: procs[0].pid for d, procs in now.items()} != before
        page = boss.get(f"/deployments/{ids[0]}/").text
        assert "left running" in page

        # Stop from the console: the process and its process replicas end, the other runs on.
        first = now[ids[0]][0]
        group = [first, *wait_for(lambda: first.children(recursive=True), 30, "the process replica")]
        token = csrf(boss, f"/deployments/{ids[0]}/")
        assert boss.post(f"/deployments/{ids[0]}/stop/", data={"csrfmiddlewaretoken": token}).status_code == 302
        assert psutil.wait_procs(group, timeout=30)[1] == []
        assert serve_processes(data, ids) == {ids[0]: [], ids[1]: now[ids[1]]}

        again.proc.send_signal(signal.SIGTERM)
        assert again.proc.wait(60) == 0, again.output()
        assert not any(serve_processes(data, ids).values())
    finally:
        console.stop()
        if again is not None:
            again.stop()


SLOW = """graph slow
source inp
python same { impl = "tests.console.slow_start:same" }
sink out
inp -> same -> out
"""


def test_a_server_killed_during_start_up_is_restarted_under_the_policy_then_fails_saying_why(tmp_path):
    data = tmp_path / "data"
    env = console_env(data, PYTHONPATH=str(ROOT), HOGAR_CONSOLE_RESTART="restart(max = 2, within = 60s, backoff = 100ms)")
    console, url = start_console(env, {"boss": "admin"})
    try:
        boss = signed_in(url, "boss")
        response = upload(boss, SLOW)
        assert response.status_code == 302
        page = deploy(boss, response.headers["location"]).headers["location"]
        dep = page.rstrip("/").rsplit("/", 1)[1]
        killed: list[int] = []
        for _ in range(3):
            proc = wait_for(lambda: next((p for p in serve_processes(data, [dep])[dep] if p.pid not in killed), None),
                            60, "hogar serve to be started (again)")
            assert re.search(r'class="state (starting|restarting)"', boss.get(page).text)
            proc.kill()
            killed.append(proc.pid)
        text = wait_for(lambda: (t := boss.get(page).text) and 'class="state failed"' in t and t, 60,
                        "the deployment to fail")
        error = html.unescape(re.search(r'<pre id="dep-error" class="error">(.*?)</pre>', text, re.S)[1])
        assert "hogar serve was killed by SIGKILL during start-up" in error
        assert "it ended 3 times within 60 s, more than restart(max = 2, within = 60s, backoff = 0.1s) allows" in error
        assert 'server restarts <span id="dep-server-restarts">2<' in text
        assert text.count("starting it again") >= 2  # on the timeline
        time.sleep(1)  # nothing is started after the failure
        assert serve_processes(data, [dep])[dep] == []
    finally:
        assert console.stop() == 0, console.output()
