"""The console in headless Chromium against real ``hogar console serve`` and ``hogar serve``
processes: sign in, upload, diagnostics, deploy, live panels, a fault, scaling, stop.

Screenshots go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import httpx
import pytest

from console_processes import PASSWORD, console_env, signed_in, start_console, wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
DESIGN = ROOT / "tests" / "core" / "cases" / "valid" / "design_example.udgl"
LIVE = """graph live_demo "doubles, then adds one"
source inp
python dbl { impl = "tests.runtime.impls:double", timeout = 2s, recovery = restart(max = 1000, backoff = 50ms) }
python inc { impl = "tests.runtime.impls:inc" }
sink out
inp -> dbl -> inc -> out
"""


class Traffic:
    """Requests to a served route from a thread until stopped; every outcome is counted."""

    def __init__(self, url: str, limit: int = 20000) -> None:
        self.url, self.limit = url, limit
        self.ok = self.failed = 0
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        with httpx.Client(timeout=5.0) as client:
            for i in range(self.limit):
                if self.stopped.wait(0.01):
                    return
                try:
                    response = client.post(self.url, json=i)
                except httpx.HTTPError:
                    self.failed += 1
                    continue
                if response.status_code == 200:
                    assert response.json() == 2 * i + 1
                    self.ok += 1
                else:
                    self.failed += 1

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)


@pytest.fixture
def console(tmp_path):
    env = console_env(tmp_path / "data", PYTHONPATH=str(ROOT))
    proc, url = start_console(env, {"ops": "operator"})
    yield url
    proc.stop()
    assert "Traceback" not in proc.output(), proc.output()


@pytest.fixture
def page(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.set_default_timeout(20000)
    pg.set_default_navigation_timeout(60000)  # an upload runs hogar check in a child process
    yield pg
    context.close()
    assert errors == []


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_console_flow(console, page):
    page.goto(console + "/deployments/")
    assert "/signin/" in page.url
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert page.url.endswith("/deployments/")

    # Upload the design example: drawn in the notebook's shapes, a click shows resolved attributes.
    page.goto(console + "/graphs/upload/")
    page.set_input_files("input[name=file]", str(DESIGN))
    with page.expect_navigation():
        page.click("text=Check and save")
    page.wait_for_function("window.hogarCy && window.hogarCy.nodes().length === 9")
    assert page.evaluate("hogarCy.getElementById('xgb').style('shape')") == "barrel"
    page.evaluate("() => { hogarCy.getElementById('xgb').emit('tap'); }")  # returns nothing to serialise
    details = page.inner_text("#details")
    assert "replicas\t4" in details and "timeout_ms\t250" in details
    _shot(page, "01-graph")

    # A bad upload: the diagnostics box with line, caret and hint.
    page.goto(console + "/graphs/upload/")
    page.fill("textarea[name=text]", DESIGN.read_text().replace("blend -> gate", "blend -> gaet"))
    page.click("text=Check and save")
    box = page.wait_for_selector(".hogar-diagnostics")
    text = box.inner_text()
    assert "error[" in text and "^" in text and "hint: did you mean `gate`?" in text
    _shot(page, "02-diagnostics")

    # Deploy a graph this machine can run, with fault injection allowed.
    page.fill("textarea[name=text]", LIVE)
    with page.expect_navigation():
        page.click("text=Check and save")
    page.check("input[name=allow_faults]")
    with page.expect_navigation():
        page.click("text=Deploy this version")
    dep_url = page.url
    http = signed_in(console, "ops")
    serve_url = wait_for(lambda: (m := re.search(r'id="dep-url">(http://127\.0\.0\.1:\d+)<',
                                                  http.get(dep_url.replace(console, "")).text)) and m[1],
                         60, "the deployment to serve")
    traffic = Traffic(serve_url + "/inp")
    try:
        page.goto(dep_url)
        page.wait_for_function("window.hogarLive && window.hogarLive.samples >= 3", timeout=30000)
        page.wait_for_function(
            "document.getElementById('panel-throughput').data[0].y.some(v => v > 0)", timeout=20000)
        page.wait_for_function("hogarCy.getElementById('dbl').hasClass('health-ok')", timeout=20000)
        points = page.evaluate("document.getElementById('panel-latency').data[2].y.length")
        page.wait_for_function(f"document.getElementById('panel-latency').data[2].y.length > {points}")
        _shot(page, "03-live")

        # A crash fault: the node turns red and the restarts reach the timeline.
        page.select_option("#fault-form select[name=node]", "dbl")
        page.select_option("#fault-form select[name=kind]", "crash")
        page.click("#fault-form button.danger")
        page.wait_for_selector("#action-status.success")
        page.wait_for_function(
            "['health-failing', 'health-down'].some(c => hogarCy.getElementById('dbl').hasClass(c))", timeout=30000)
        page.wait_for_selector("#events tr.event.recovery", timeout=20000)
        page.wait_for_function(
            "document.getElementById('panel-replicas').data.at(-1).x.length > 1", timeout=20000)
        assert page.evaluate("hogarCy.getElementById('dbl').style('background-color')") in (
            "rgb(214,39,40)", "rgb(92,10,10)")
        _shot(page, "04-fault")
        page.click("#fault-form button[name=clear]")
        page.wait_for_function("document.getElementById('action-status').textContent === 'faults cleared'")

        # Scale dbl from 1 to 3 replicas: the metrics show three alive.
        assert page.inner_text("table.settings tr[data-node=dbl] td.replicas") == "1"
        page.select_option("#reconfigure-form select[name=node]", "dbl")
        page.select_option("#reconfigure-form select[name=attr]", "replicas")
        page.fill("#reconfigure-form input[name=value]", "3")
        page.once("dialog", lambda dialog: dialog.accept())  # three may be more than this machine's CPUs
        page.click("#reconfigure-form button")
        page.wait_for_function("document.getElementById('action-status').textContent === 'dbl.replicas is now 3'")
        page.wait_for_function(
            "document.querySelector('table.settings tr[data-node=dbl] td.alive').textContent === '3/3'",
            timeout=30000)
        page.wait_for_function(
            "document.getElementById('panel-replicas').data[0].y.at(-1) === 3", timeout=20000)
        assert page.locator("#events tr.event.reconfigure").count() >= 1
        _shot(page, "05-scaled")
    finally:
        traffic.stop()
    assert traffic.ok > 100

    # The console supervises what it started: a killed server is started again.
    pid = int(re.search(r"\(pid (\d+)\)", page.inner_text("#events")).group(1))
    os.kill(pid, signal.SIGKILL)
    old_url = serve_url
    serve_url = wait_for(lambda: (m := re.search(r'id="dep-url">(http://127\.0\.0\.1:\d+)<.*id="dep-server-restarts">1<',
                                                  http.get(dep_url.replace(console, "")).text)) and m[1] != old_url
                         and m[1], 60, "the restarted server")
    assert httpx.post(serve_url + "/inp", json=20).json() == 41
    page.reload()

    # Stop (once confirmed): the server goes away and the page says so.
    page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        page.click("#stop-form button")
    assert page.inner_text("#dep-state") == "stopped"
    wait_for(lambda: _refused(serve_url), 20, "the stopped server to close its port")
    _shot(page, "06-stopped")


def _refused(url: str) -> bool:
    try:
        httpx.get(url + "/v2/health/live", timeout=1.0)
    except httpx.HTTPError:
        return True
    return False
