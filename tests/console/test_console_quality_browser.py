"""Model quality on the console, on PostgreSQL, in headless Chromium: the deployment
page's quality table follows the server's report live (no reload) as a feature drifts;
delayed labels posted to the console (an operator, with the CSRF token) are kept in
PostgreSQL, reach the server and show as accuracy; once the server is gone, the page
still shows the last accuracy (read back from PostgreSQL) and the labels.

Screenshots go to ``test-artifacts/console/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import hogar_nb
from console_processes import PASSWORD, Postgres, console_env, csrf, signed_in, start_console, wait_for

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts" / "console"
GRAPH = """graph iris_live
source score
model clf { impl = "iris.joblib", reference = "train.csv", drift_window = 100, feedback = true }
sink out
score -> clf -> out
"""


@pytest.fixture
def postgres():
    pg = Postgres().start()
    yield pg
    pg.stop()


@pytest.fixture
def served(tmp_path):
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), tmp_path / "iris.joblib")
    (tmp_path / "train.csv").write_text("a,b,c,d\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH), base_dir=tmp_path)
    yield dep, dep.serve_http()
    dep.stop()


def _send(dep, shift: float, n: int, seed: int) -> list:
    """``n`` iris rows, feature a shifted by ``shift`` standard deviations; their futures."""
    x, _ = load_iris(return_X_y=True)
    rng = np.random.default_rng(seed)
    rows = np.round(x[rng.integers(0, 150, n)] + rng.normal(0, 0.05, (n, 4)), 3)
    rows[:, 0] += shift * x[:, 0].std()
    futures = [dep.submit(r) for r in rows.tolist()]
    for f in futures:
        f.result(30)
    return futures


def _cell(page, cls: str) -> str:
    return page.inner_text(f"#quality tr[data-node=clf] td.{cls}")


def test_quality_live_and_labels_kept_in_postgresql(tmp_path, postgres, served, browser) -> None:
    dep, serve_url = served
    env = console_env(tmp_path / "data", db=postgres.url, PYTHONPATH=str(ROOT), HOGAR_CONSOLE_HISTORY_STEP="1")
    console, url = start_console(env, {"ops": "operator", "boss": "admin"})
    try:
        admin = signed_in(url, "boss")
        response = admin.post("/deployments/register/", data={
            "name": "iris_live", "url": serve_url, "admin_token": "",
            "csrfmiddlewaretoken": csrf(admin, "/deployments/")})
        assert response.status_code == 302, response.text[:2000]
        page_path = response.headers["location"]
        pk = int(page_path.rstrip("/").rsplit("/", 1)[1])
        _send(dep, 0.0, 120, seed=1)

        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        ctx = browser.new_context(viewport={"width": 1400, "height": 1100})
        errors: list[str] = []
        ctx.on("page", lambda pg: pg.on("pageerror", lambda e: errors.append(str(e))))
        ctx.set_default_timeout(30000)
        page = ctx.new_page()
        page.goto(url + "/signin/")
        page.fill("input[name=username]", "ops")
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("button[type=submit]")
        page.goto(url + page_path)
        page.evaluate("window.__marker = 'first load'")
        page.wait_for_function("document.querySelector('#quality tr[data-node=clf]') !== null")
        page.wait_for_function("document.getElementById('quality-when').textContent === 'live'")
        wait_for(lambda: _cell(page, "drifted") == "none", 30, "a calm window first")
        calm = dep.quality()["nodes"]["clf"]["drift_share"]
        assert calm < 0.3

        # Feature a drifts by two standard deviations: the table says so without a reload.
        _send(dep, 2.0, 120, seed=2)
        page.wait_for_function(
            "document.querySelector('#quality tr[data-node=clf] td.drifted').textContent.split(', ').includes('a')",
            timeout=30000)
        assert "a" in dep.quality()["nodes"]["clf"]["drifted"]
        assert page.evaluate("window.__marker") == "first load" and page.evaluate("window.hogarLive.qualityUpdates") >= 2
        page.screenshot(path=str(ARTIFACTS / "quality-01-drift-live.png"), full_page=True)

        # Labels through the console: an operator with the CSRF token; 9 right, 1 wrong, 1 unknown.
        futures = _send(dep, 0.0, 10, seed=3)
        labels = [{"request_id": f.context.request_id, "label": int(f.result())} for f in futures]
        labels[0]["label"] = (labels[0]["label"] + 1) % 3
        body = json.dumps([*labels, {"request_id": "never-served", "label": 1}])
        ops = signed_in(url, "ops")
        token = csrf(ops, page_path)
        feedback = f"/deployments/{pk}/feedback"
        refused = ops.post(feedback, content=body, headers={"Content-Type": "application/json"})
        assert refused.status_code == 403  # no CSRF token: refused as any form of the console
        bad = ops.post(feedback, content='[{"request_id": "x"}]', headers={"X-CSRFToken": token})
        assert bad.status_code == 400 and "exactly" in bad.json()["error"]["message"]
        answer = ops.post(feedback, content=body, headers={"X-CSRFToken": token, "Content-Type": "application/json"})
        assert answer.status_code == 202, answer.text[:500]
        got = answer.json()
        assert got["accepted"] == 11 and got["delivered"] == 11
        assert got["counts"]["matched"] == 10 and got["counts"]["unknown"] + got["counts"]["pending"] == 1
        page.wait_for_function(
            "document.querySelector('#quality tr[data-node=clf] td.scores').textContent.startsWith('accuracy 0.9000 · ')",
            timeout=30000)
        assert "labelled 10" in _cell(page, "scores") and "matched 10" in _cell(page, "labels")
        page.wait_for_function("document.querySelector('#console-labels .totals').textContent"
                               ".startsWith('11 received, 0 waiting for the server, 10 matched, 0 unknown')")
        assert ops.get(feedback).json()["labels"]["received"] == 11
        page.screenshot(path=str(ARTIFACTS / "quality-02-accuracy-live.png"), full_page=True)

        # The server goes away; labels posted meanwhile wait in PostgreSQL, and a fresh
        # page load shows the last report from PostgreSQL, marked as such.
        dep.stop()
        waiting = ops.post(feedback, content=json.dumps(labels[:2]), headers={"X-CSRFToken": token})
        assert waiting.status_code == 202 and waiting.json()["undelivered"] == 2
        page.wait_for_function("document.getElementById('dep-state').textContent === 'unreachable'")
        page.reload()
        assert page.inner_text("#quality-when").startswith("as last reported, ")
        assert _cell(page, "scores").startswith("accuracy 0.9000 · ") and "labelled 10" in _cell(page, "scores")
        assert page.inner_text("#console-labels .totals").startswith(
            "13 received, 2 waiting for the server, 10 matched")
        page.screenshot(path=str(ARTIFACTS / "quality-03-server-gone.png"), full_page=True)
        ctx.close()
        assert errors == []
    finally:
        console.stop()
    assert "Traceback" not in console.output(), console.output()
