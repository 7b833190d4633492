"""Delayed labels over real HTTP: 10,000 requests, their labels, the exact offline
accuracy; unknown, expired, duplicate and bad labels counted or refused."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest
from sklearn import metrics

import hogar_nb

from .conftest import iris_traffic

GRAPH = """graph iris
source score {{ route = "/score" }}
model clf {{ impl = "iris.joblib", feedback = true{extra} }}
sink out
score -> clf -> out
"""
TOKEN = "quality-admin-token"


def _wait_scored(client: httpx.Client, labelled: int) -> dict:
    while True:
        report = client.get("/hogar/v1/quality").json()
        if report["nodes"]["clf"]["quality"].get("labelled", 0) >= labelled:
            return report
        time.sleep(0.05)


def test_ten_thousand_labels_give_the_offline_accuracy(iris_dir: Path, tmp_path: Path) -> None:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(11)
    picks = rng.integers(0, len(x), 10_000)
    rows = np.round(x[picks] + rng.normal(0, 0.3, (10_000, 4)), 3)  # noisy: some answers are wrong
    truth = y[picks]
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH.format(extra="")), base_dir=iris_dir)
    try:
        url = dep.serve_http(admin_token=TOKEN)
        ids, answers = [], []
        with httpx.Client(base_url=url, timeout=60) as client:
            for row in rows.tolist():
                r = client.post("/score", json=row)
                assert r.status_code == 200
                ids.append(r.headers["x-request-id"])
                answers.append(r.json())
            assert len(set(ids)) == 10_000
            bodies = [{"request_id": rid, "label": int(label)} for rid, label in zip(ids, truth)]
            outcome = {"matched": 0, "unknown": 0, "expired": 0, "duplicate": 0}
            for i in range(0, len(bodies), 1_000):  # posted in lists of 1,000
                r = client.post("/hogar/v1/feedback", json=bodies[i:i + 1_000])
                assert r.status_code == 202
                assert r.json()["accepted"] == 1_000
                for k in outcome:
                    outcome[k] += r.json()[k]
            assert outcome == {"matched": 10_000, "unknown": 0, "expired": 0, "duplicate": 0}
            r = client.post("/hogar/v1/feedback", json={"request_id": "never-served", "label": 1})
            assert r.status_code == 202 and r.json()["pending"] == 1  # it waits a moment for its prediction
            r = client.post("/hogar/v1/feedback", json=bodies[0])
            assert r.json()["duplicate"] == 1
            report = _wait_scored(client, 10_000)
            while (report := client.get("/hogar/v1/quality").json())["labels"]["unknown"] < 1:
                time.sleep(0.1)
            assert report["labels_pending"] == 0
            model = joblib.load(iris_dir / "iris.joblib")
            offline = model.predict(rows)
            assert answers == offline.tolist()
            quality = report["nodes"]["clf"]["quality"]
            assert quality["labelled"] == 10_000
            assert quality["accuracy"] == metrics.accuracy_score(truth, offline)
            assert 0.5 < quality["accuracy"] < 1.0
            p, rec, f1, _ = metrics.precision_recall_fscore_support(truth, offline, average="macro")
            assert (quality["precision"], quality["recall"], quality["f1"]) == pytest.approx((p, rec, f1), abs=1e-12)
            assert report["labels"] == {"matched": 10_000, "unknown": 1, "expired": 0, "duplicate": 1}
            text = client.get("/metrics").text
            assert f'hogar_model_quality{{graph="iris",metric="accuracy",node="clf"}} {quality["accuracy"]}' in text
            assert 'hogar_feedback_labels_total{graph="iris",node="__graph__",outcome="unknown"} 1.0' in text
            assert f'hogar_feedback_labels_total{{graph="iris",node="clf",outcome="matched"}} 10000.0' in text
    finally:
        dep.stop()


def test_labels_after_the_horizon_are_expired(iris_dir: Path, tmp_path: Path) -> None:
    graph = hogar_nb.parse_udgl(GRAPH.format(extra=", feedback_horizon = 300ms"))
    with hogar_nb.run(graph, base_dir=iris_dir) as dep:
        fut = dep.submit([5.1, 3.5, 1.4, 0.2])
        assert fut.result() == 0
        rid = fut.context.request_id
        dep.quality_monitor().flush()
        time.sleep(0.4)
        dep.quality_monitor().store.purge()
        assert dep.feedback(rid, 0) == {"matched": 0, "unknown": 0, "expired": 1, "duplicate": 0, "pending": 0}
        assert dep.quality()["labels"]["expired"] == 1


def test_a_stopped_monitor_lets_go_and_a_new_one_finds_the_predictions_kept(iris_dir: Path) -> None:
    graph = hogar_nb.parse_udgl(GRAPH.format(extra=""))
    with hogar_nb.run(graph, base_dir=iris_dir) as dep:
        first = dep.quality_monitor()
        before = [dep.submit(row) for row in iris_traffic(50, seed=3).tolist()]
        answers = [f.result() for f in before]
        dep.stop_quality_monitor()
        assert dep.quality_monitor(start=False) is None
        assert not first._thread.is_alive() and dep._engine.walker.captures == {}
        unwatched = dep.submit([5.1, 3.5, 1.4, 0.2])
        assert unwatched.result() == 0
        dep.stop_quality_monitor()  # stopping a stopped monitor does nothing
        second = dep.quality_monitor()
        assert second is not first
        counts = second.feedback([(f.context.request_id, a) for f, a in zip(before, answers)])
        assert counts == {"matched": 50, "unknown": 0, "expired": 0, "duplicate": 0, "pending": 0}
        assert second.feedback([(unwatched.context.request_id, 0)])["pending"] == 1  # nobody kept it


@pytest.mark.parametrize(("body", "message"), [
    (b"{}", "exactly \\\"request_id\\\" and \\\"label\\\""),
    (b"[]", "empty list"),
    (b"not json", "not valid JSON"),
    (b'{"request_id": 3, "label": 1}', "request_id must be a non-empty string"),
    (b'[{"request_id": "a", "label": 1}, {"request_id": "b"}]', "item 1 must be an object"),
    (b'{"request_id": "a", "label": null}', "label must be"),
])
def test_bad_feedback_is_a_400_with_a_json_error(iris_dir: Path, body: bytes, message: str) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH.format(extra="")), base_dir=iris_dir) as dep:
        url = dep.serve_http()
        r = httpx.post(url + "/hogar/v1/feedback", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        assert r.json()["error"]["cause"] == "bad_request"
        assert message.replace("\\", "") in r.json()["error"]["message"]
        assert httpx.post(url + "/score", json=[5.1, 3.5, 1.4, 0.2]).json() == 0  # still serving


def test_capture_over_http_needs_the_admin_token(iris_dir: Path) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH.format(extra="")), base_dir=iris_dir) as dep:
        url = dep.serve_http(admin_token=TOKEN)
        auth = {"authorization": f"Bearer {TOKEN}"}
        assert httpx.post(url + "/hogar/v1/reference/clf", json={"n": 50}).status_code == 401
        r = httpx.post(url + "/hogar/v1/reference/nope", json={"n": 50}, headers=auth)
        assert r.status_code == 404 and "not a model node" in r.json()["error"]["message"]
        r = httpx.post(url + "/hogar/v1/reference/clf", json={"n": "many"}, headers=auth)
        assert r.status_code == 400
        r = httpx.post(url + "/hogar/v1/reference/clf", json={"n": 50}, headers=auth)
        assert r.status_code == 202 and r.json() == {"node": "clf", "capturing": 50, "status": "capturing"}
        for row in iris_traffic(50, seed=9).tolist():
            httpx.post(url + "/score", json=row)
        while (node := httpx.get(url + "/hogar/v1/quality").json()["nodes"]["clf"])["reference"] is None:
            time.sleep(0.05)
        assert node["reference"]["source"] == "traffic"
        assert node["reference"]["features"] == ["x0", "x1", "x2", "x3"]


def test_a_graph_nobody_watches_is_read_without_starting_a_monitor(iris_dir: Path) -> None:
    graph = hogar_nb.parse_udgl('source score\nmodel clf { impl = "iris.joblib" }\nsink out\nscore -> clf -> out\n')
    with hogar_nb.run(graph, base_dir=iris_dir) as dep:
        url = dep.serve_http()
        assert httpx.get(url + "/hogar/v1/quality").json() == {"graph": "graph", "watching": False, "nodes": {},
                                                               "variants": {}}
        r = httpx.post(url + "/hogar/v1/feedback", json={"request_id": "a", "label": 1})
        assert r.status_code == 400 and "feedback = true" in r.json()["error"]["message"]
        assert dep.quality_monitor(start=False) is None
