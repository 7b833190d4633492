"""The live deployment page in headless Chromium against a real ``hogar console serve``: the
deployment's state, server URL, error and controls arrive through the live stream, in every
open tab, without a reload.

Screenshots go to ``test-artifacts/console/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from console_processes import PASSWORD, allow, console_env, start_console

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
LIVE = """graph live_state
source inp
python dbl { impl = "tests.runtime.impls:double" }
python inc { impl = "tests.runtime.impls:inc" }
sink out
inp -> dbl -> inc -> out
"""
MISSING = LIVE.replace("graph live_state", "graph missing_impl").replace(
    "tests.runtime.impls:double", "no_such_module_for_hogar:double")


@pytest.fixture
def console(tmp_path):
    env = console_env(tmp_path / "data", PYTHONPATH=str(ROOT))
    proc, url = start_console(env, {"ops": "operator", "boss": "admin"})
    allow(url, "boss", "python", "tests.runtime.impls", "no_such_module_for_hogar")  # what operators may deploy
    yield url
    proc.stop()
    assert "Traceback" not in proc.output(), proc.output()


@pytest.fixture
def context(browser):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    ctx.on("page", lambda pg: pg.on("pageerror", lambda e: errors.append(str(e))))
    ctx.set_default_timeout(30000)
    ctx.set_default_navigation_timeout(60000)  # an upload runs hogar check in a child process
    yield ctx
    ctx.close()
    assert errors == []


def sign_in(page, console: str) -> None:
    page.goto(console + "/signin/")
    page.fill("input[name=username]", "ops")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")


def upload_and_deploy(page, console: str, text: str) -> str:
    """Upload ``text``, press Deploy, and return the deployment page's URL (left open)."""
    page.goto(console + "/graphs/upload/")
    page.fill("textarea[name=text]", text)
    with page.expect_navigation():
        page.click("text=Check and save")
    with page.expect_navigation():
        page.click("text=Deploy this version")
    assert "/deployments/" in page.url
    return page.url


def test_state_url_errors_and_controls_arrive_live_in_every_tab(console, context):
    a = context.new_page()
    sign_in(a, console)
    dep_url = upload_and_deploy(a, console, LIVE)
    a.evaluate("window.__marker = 'first load'")  # gone if the page were reloaded

    # Deploy: the page goes from starting to running and shows the server's URL, no reload.
    a.wait_for_function("document.getElementById('dep-state').textContent === 'running'", timeout=60000)
    a.wait_for_function("/^http:\\/\\/127\\.0\\.0\\.1:\\d+$/.test(document.getElementById('dep-url').textContent)")
    assert a.is_visible("#live-controls") and not a.is_visible("#stopped-controls")
    assert a.evaluate("window.__marker") == "first load"
    _shot(a, "live-01-running")

    # Scale dbl to 3: the drawing's badge and the node panel follow the table.
    asked: list[str] = []
    a.wait_for_function("window.hogarLive.ready")
    a.evaluate("() => { hogarCy.getElementById('dbl').emit('tap'); }")
    assert "replicas\t1" in a.inner_text("#details")
    a.select_option("#reconfigure-form select[name=node]", "dbl")
    a.select_option("#reconfigure-form select[name=attr]", "replicas")
    a.fill("#reconfigure-form input[name=value]", "3")
    plotly_loads: list[str] = []
    a.on("request", lambda r: plotly_loads.append(r.url) if "plotly" in r.url else None)
    # More replicas than this machine has CPUs: nothing happens until the operator confirms.
    from hogar_nb.console.reconfig import machine_cpus

    a.fill("#reconfigure-form input[name=value]", str(machine_cpus() + 40))
    a.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.dismiss()))
    a.click("#reconfigure-form button")
    a.wait_for_selector("#action-status.error")
    assert f"this machine has {machine_cpus()}" in asked[-1] and "Apply it anyway?" in asked[-1]
    assert a.inner_text("#action-status").startswith("not applied: dbl × ")
    assert a.inner_text("table.settings tr[data-node=dbl] td.replicas") == "1"
    a.fill("#reconfigure-form input[name=value]", "3")
    a.once("dialog", lambda dialog: dialog.accept())  # three may be more than this machine's CPUs
    a.click("#reconfigure-form button")
    a.wait_for_selector("#action-status.progress, #action-status.success")
    a.wait_for_function("document.getElementById('action-status').textContent === 'dbl.replicas is now 3'")
    a.wait_for_function(
        "document.querySelector('table.settings tr[data-node=dbl] td.alive').textContent === '3/3'", timeout=30000)
    a.wait_for_function("hogarCy.getElementById('dbl').data('label') === 'dbl\\n×3'")
    a.evaluate("() => { hogarCy.getElementById('dbl').emit('tap'); }")
    assert "replicas\t3" in a.inner_text("#details")
    assert a.inner_text("table.settings tr[data-node=dbl] td.replicas") == "3"
    # Applied in place: no page load, plotly not fetched again; a timeout reads as a person writes it.
    a.fill("#reconfigure-form input[name=value]", "1500ms")
    a.select_option("#reconfigure-form select[name=attr]", "timeout")
    a.click("#reconfigure-form button")
    a.wait_for_function("document.querySelector('table.settings tr[data-node=dbl] td.timeout').textContent === '1.5 s'")
    assert plotly_loads == [] and a.evaluate("window.__marker") == "first load"
    head = a.request.get(console + a.evaluate("document.querySelector('.panels').dataset.plotly"))
    assert head.ok and "immutable" in head.headers["cache-control"] and "max-age=31536000" in head.headers["cache-control"]
    _shot(a, "live-01b-scaled")

    # Stop in another tab: the first tab says stopped and offers restart/remove instead.
    b = context.new_page()
    b.goto(dep_url, wait_until="domcontentloaded")
    b.wait_for_function("window.hogarLive && window.hogarLive.ready")
    asked.clear()

    def accept(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    b.on("dialog", accept)
    with b.expect_navigation():
        b.click("#stop-form button")
    assert asked and asked[0].startswith("Stop live_state?")
    a.wait_for_function("document.getElementById('dep-state').textContent === 'stopped'")
    a.wait_for_selector("#live-controls", state="hidden")
    a.wait_for_selector("#stopped-controls", state="visible")
    assert a.evaluate("window.__marker") == "first load"
    _shot(a, "live-02-stopped-elsewhere")

    # A deployment whose impl module is missing: the import error shows live, and it is failed.
    dep2 = upload_and_deploy(a, console, MISSING)
    assert dep2 != dep_url
    a.evaluate("window.__marker = 'second'")
    a.wait_for_function("document.getElementById('dep-state').textContent === 'failed'", timeout=60000)
    a.wait_for_function("!document.getElementById('dep-error').hidden")
    assert "no_such_module_for_hogar" in a.inner_text("#dep-error")
    assert a.is_visible("#stopped-controls") and not a.is_visible("#live-controls")
    assert a.evaluate("window.__marker") == "second"
    # Its empty charts span the last minutes, not January 2000.
    a.wait_for_function("window.hogarLive.ready")
    ticks = a.evaluate("[...document.querySelectorAll('#panel-throughput .xtick text')].map(t => t.textContent)")
    assert ticks and not any("2000" in t for t in ticks), ticks
    _shot(a, "live-03-failed")

    # Remove the failed one (asked first): gone from the list.
    a.on("dialog", lambda dialog: dialog.accept())
    with a.expect_navigation():
        a.click("#remove-form button")
    assert a.url.endswith("/deployments/") and "removed missing_impl" in a.inner_text("ul.messages")
    assert "missing_impl" not in a.inner_text("table.deployments")

    # Start the stopped one again: running, live, in place.
    a.goto(dep_url, wait_until="domcontentloaded")
    with a.expect_navigation():
        a.click("#restart-form button")
    a.wait_for_function("document.getElementById('dep-state').textContent === 'running'", timeout=60000)
    a.wait_for_selector("#live-controls", state="visible", timeout=60000)
    assert a.locator("#events tr.event.start").count() >= 2


def _shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
