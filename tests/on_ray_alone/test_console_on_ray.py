"""The console deploys a graph on Ray, in headless Chromium: the version page's Ray
choice starts a ``hogar serve --backend ray`` (with a local Ray of its own, run as the
console's unprivileged user) that serves the graph; rolling the deployment back to an
earlier version serves that version on Ray; stopping it stops its Ray too.

It runs in a loopback-only network namespace of its own (``make test``'s last pytest),
without the Ray tests' shared cluster: with two clusters in one namespace the server's
driver could not register with its raylet."""

from __future__ import annotations

import hashlib
import re
import sys
from pathlib import Path

import httpx
import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "console"))

from console_processes import PASSWORD, console_env, csrf, signed_in, start_console, upload, wait_for  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]

GRAPH = """graph on_ray
source s {{ route = "/score" }}
python n {{ impl = "tests.on_ray.impls:{impl}", cpu = 0.1 }}
sink out
s -> n -> out
"""


def _ray_processes(data: Path, pk: str) -> list[psutil.Process]:
    """The Ray head processes of deployment ``pk``'s server: its Ray's files lie in the
    server's own folder (``/run/hogar-console/TAG/PK/``, its TMPDIR)."""
    site = data.resolve() / "console.sqlite3.files" / "deployments"  # the default database's site
    marker = f"/{hashlib.sha256(str(site).encode()).hexdigest()[:12]}/{pk}/"
    found = []
    for p in psutil.process_iter(["cmdline"]):
        cmd = " ".join(p.info["cmdline"] or [])
        if marker in cmd and ("raylet" in cmd or "gcs_server" in cmd):
            found.append(p)
    return found


def test_the_console_deploys_a_graph_on_ray(tmp_path, browser) -> None:
    console, url = start_console(console_env(tmp_path / "data", PYTHONPATH=str(ROOT)), {"boss": "admin"})
    page = None
    try:
        boss = signed_in(url, "boss")
        versions = []
        for impl in ("inc", "double"):  # v1 adds one, v2 doubles
            response = upload(boss, GRAPH.format(impl=impl))
            assert response.status_code == 302, response.text[-2000:]
            versions.append(response.headers["location"])
        version = versions[1]
        page = browser.new_page()
        page.set_default_timeout(60000)
        page.goto(url + "/signin/")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(url + version)
        page.select_option("#deploy-backend", "ray")
        with page.expect_navigation():
            page.click("#deploy-form button[type=submit]")
        dep_path = "/" + page.url.split("/", 3)[3]
        assert page.locator("#dep-backend").inner_text() == "Ray Serve"

        def serving(not_url: str | None = None) -> str:
            def up():
                text = boss.get(dep_path).text
                assert 'class="state failed"' not in text, text[-3000:]
                m = re.search(r'id="dep-url">(http://127\.0\.0\.1:\d+)<', text)
                return m and 'class="state running"' in text and m[1] != not_url and m[1]

            try:
                return wait_for(up, 300, "the Ray deployment to serve", 0.5)
            except AssertionError:
                state = re.search(r'id="dep-state" class="state (\w+)"', boss.get(dep_path).text)
                raise AssertionError(f"no Ray server after 300 s (state {state and state[1]}); the console "
                                     "said:\n" + console.output()[-4000:]) from None

        served = serving()
        assert [httpx.post(served + "/score", json=i, timeout=60).json() for i in range(20)] == [
            2 * i for i in range(20)]
        running = httpx.get(served + "/hogar/v1/placement", timeout=30).json()["nodes"]["n"]["running"]
        assert len(running) == 1 and next(iter(running)).startswith("node:"), running  # a Ray node, not "local"
        page.goto(url + dep_path)  # the page says where the replica runs: the Ray node, and no plan
        assert page.locator('#placement tr[data-node="n"] td.running').inner_text() == f"{next(iter(running))} ×1"
        assert page.locator('#placement tr[data-node="n"] td.planned').inner_text() == "—"
        pk = dep_path.strip("/").split("/")[1]
        assert _ray_processes(tmp_path / "data", pk), "the server runs its graph on a Ray of its own"

        # roll back to v1, the difference shown first: v1 is served, on Ray again
        page.goto(url + dep_path)
        assert page.locator('a.switch[data-version="1"]').inner_text() == "Roll back to v1"
        with page.expect_navigation():
            page.click('a.switch[data-version="1"]')
        assert page.locator("h1").inner_text().endswith("roll back from v2 to v1")
        diff = page.locator("#switch-diff").inner_text().splitlines()
        assert any(line.startswith("-") and "tests.on_ray.impls:double" in line for line in diff), diff
        assert any(line.startswith("+") and "tests.on_ray.impls:inc" in line for line in diff), diff
        with page.expect_navigation():
            page.click("#switch-confirm")
        served = serving(not_url=served)
        assert [httpx.post(served + "/score", json=i, timeout=60).json() for i in range(20)] == [
            i + 1 for i in range(20)]
        running = httpx.get(served + "/hogar/v1/placement", timeout=30).json()["nodes"]["n"]["running"]
        assert len(running) == 1 and next(iter(running)).startswith("node:"), running
        page.goto(url + dep_path)
        assert page.locator("#dep-backend").inner_text() == "Ray Serve"
        assert page.locator("#revisions tr.current td.version").inner_text() == "v1"
        assert _ray_processes(tmp_path / "data", pk), "the rolled back server runs on a Ray of its own"
        page.goto(url + dep_path)
        page.once("dialog", lambda d: d.accept())
        with page.expect_navigation():
            page.click("#stop-form button[type=submit]")
        wait_for(lambda: not _ray_processes(tmp_path / "data", pk), 120, "the server's Ray to stop with it")
    finally:
        if page is not None:
            page.close()
        assert console.stop() == 0, console.output()
    assert "Traceback" not in console.output()
