"""The console's trace page in headless Chromium, against a real ``hogar console serve``
and a real traced deployment on 127.0.0.1: from the live page to the failed request's
waterfall, one row per span, the failed attempt red, its attributes on hover."""

from __future__ import annotations

from pathlib import Path

import pytest

import hogar_nb
from console_processes import PASSWORD, console_env, csrf, signed_in, start_console
from tests.runtime.conftest import chain, wait_for

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

ROOT = Path(__file__).resolve().parents[2]


def test_a_failed_requests_waterfall_from_the_live_page(tmp_path, browser) -> None:
    console, url = start_console(console_env(tmp_path / "data", PYTHONPATH=str(ROOT)), {"boss": "admin"})
    served = hogar_nb.run(chain("tests.runtime.impls:fail_on_negative", "tests.runtime.impls:double"))
    page = None
    try:
        served.enable_tracing(export=False)
        futures = [served.submit(x) for x in (3, -2, 5)]
        [f.exception(10) for f in futures]
        wait_for(lambda: len(served.traces()) == 3, 10, "three traces")
        boss = signed_in(url, "boss")
        response = boss.post("/deployments/register/", data={
            "name": "traced", "url": served.serve_http(), "admin_token": "",
            "csrfmiddlewaretoken": csrf(boss, "/deployments/")}, timeout=120)
        assert response.status_code == 302, response.text[:2000]
        dep_path = response.headers["location"]

        page = browser.new_page()
        page.set_default_timeout(60000)
        page.goto(url + "/signin/")
        page.fill("input[name=username]", "boss")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(url + dep_path)
        with page.expect_navigation():
            page.click("#traces-link")
        failed = futures[1].context.trace_id
        with page.expect_navigation():
            page.locator(f'a[href$="/traces/{failed}/"]').first.click()
        rows = page.locator("#waterfall .span-row")
        assert rows.count() == len(served.trace(failed)["spans"])
        names = [n.strip() for n in page.locator("#waterfall .span-name").all_text_contents()]
        assert names[:2] == ["g src", "n0"] and "n0 attempt 0" in names
        red = page.locator("#waterfall .span-bar.failed")
        assert red.count() >= 2  # the request and its failed attempt
        assert all(red.nth(i).bounding_box()["width"] >= 1 for i in range(red.count()))
        attempt = page.locator('#waterfall .span-row[data-kind="attempt"][data-status="error"]').first
        assert "hogar.outcome: error" in attempt.get_attribute("title")
        assert "negative input -2" in attempt.get_attribute("title")
    finally:
        if page is not None:
            page.close()
        served.stop()
        assert console.stop() == 0, console.output()
    assert "Traceback" not in console.output()
