"""Delayed labels posted to the console: kept in its database, refused with a JSON 400
when malformed, and delivered by the collector once an unreachable server answers
(a real ``hogar serve`` over HTTP)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import joblib
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import hogar_nb
from console_processes import free_port
from hogar_nb.console.collector import Collector, Hub
from hogar_nb.console.models import Deployment, FeedbackBatch, FeedbackLabel, QualitySnapshot

pytestmark = pytest.mark.django_db(transaction=True)

GRAPH = """graph labelled
source score
model clf { impl = "iris.joblib", feedback = true }
sink out
score -> clf -> out
"""


def _post(client, pk: int, body) -> tuple[int, dict]:
    text = body if isinstance(body, str) else json.dumps(body)
    response = client.post(f"/deployments/{pk}/feedback", data=text, content_type="application/json")
    return response.status_code, response.json()


def test_labels_wait_in_the_database_until_the_server_answers(tmp_path, as_role) -> None:
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), tmp_path / "iris.joblib")
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH), base_dir=tmp_path)
    collector = Collector(Hub(), interval=0.1, step=0.0, retention=3600, quality_every=0.0)
    try:
        url = dep.serve_http()
        closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        record = Deployment.objects.create(name="labelled", kind=Deployment.REGISTERED, url=closed,
                                           earg=dep.earg, state="running")
        plain = Deployment.objects.create(name="plain", kind=Deployment.REGISTERED, url=closed,
                                          earg={"nodes": [{"name": "f", "kind": "python"}]}, state="running")
        futures = [dep.submit(row) for row in x[::3].tolist()]  # 50 requests
        labels = [{"request_id": f.context.request_id, "label": int(t)} for f, t in zip(futures, y[::3])]
        [f.result(10) for f in futures]

        viewer = as_role("viewer")
        status, body = _post(viewer, record.pk, labels)
        assert status == 403 and body["error"]["message"] == "this needs the operator role"
        ops = as_role("operator")
        for bad, why in (("{", "not JSON"), ([], "empty list"), ([{"request_id": "r"}], "exactly"),
                         ({"request_id": "", "label": 1}, "non-empty string"),
                         ({"request_id": "r", "label": {"a": 1}}, "a class, a number")):
            status, body = _post(ops, record.pk, bad)
            assert status == 400 and why in body["error"]["message"], body
        status, body = _post(ops, plain.pk, labels)
        assert status == 400 and "keeps no predictions" in body["error"]["message"]
        assert FeedbackBatch.objects.count() == 0

        # The server cannot be reached: the labels are kept, undelivered.
        status, body = _post(ops, record.pk, labels)
        assert status == 202 and body == {"accepted": 50, "delivered": 0, "undelivered": 50, "counts": {}}
        assert FeedbackLabel.objects.filter(batch__deployment=record).count() == 50
        batch = FeedbackBatch.objects.get()
        assert batch.delivered is None and "did not answer" in batch.error

        # It answers again: the collector delivers them, and the quality it reads is kept.
        Deployment.objects.filter(pk=record.pk).update(url=url)
        collector.poll_once()
        batch.refresh_from_db()
        assert batch.delivered is not None and batch.counts["matched"] == 50 and batch.error == ""
        collector.poll_once()  # the server scored the labels meanwhile, or does so by the next read
        dep.quality_monitor().evaluate()
        collector.poll_once()
        rows = QualitySnapshot.objects.filter(deployment=record).latest("time").rows
        offline = sum(int(f.result()) == t for f, t in zip(futures, y[::3])) / 50
        assert rows[0]["node"] == "clf" and rows[0]["quality"]["accuracy"] == pytest.approx(offline, abs=1e-12)
        assert rows[0]["labels"]["matched"] == 50
        status, body = _post(ops, record.pk, labels[:5])  # the same requests again
        assert status == 202 and body["counts"]["duplicate"] == 5
        totals = viewer.get(f"/deployments/{record.pk}/feedback").json()["labels"]
        assert totals["received"] == 55 and totals["undelivered"] == 0
        assert totals["matched"] == 50 and totals["duplicate"] == 5
    finally:
        collector.stop()
        dep.stop()


def test_a_started_server_keeps_its_predictions_across_its_restarts(tmp_path, monkeypatch) -> None:
    """The folder a deployment's process runs in is emptied at each start; the one its
    feedback store lives in (HOGAR_FEEDBACK_DIR) is not, and goes with the deployment."""
    import os

    from hogar_nb.console.isolation import child_spec, feedback_dir
    from hogar_nb.console.supervisor import Supervisor
    from hogar_nb.quality.feedback import FeedbackStore, default_store_path

    monkeypatch.setenv("HOGAR_CONSOLE_RUN", str(tmp_path / "run"))
    spec = child_spec(7)
    kept = Path(spec.env["HOGAR_FEEDBACK_DIR"])
    assert kept == feedback_dir(7) and kept.is_dir() and not kept.is_relative_to(spec.folder)
    assert kept.stat().st_mode & 0o777 == 0o700
    if os.geteuid() == 0:  # the deployment's own user owns it, as it owns its folder
        assert (kept.stat().st_uid, kept.stat().st_gid) == (spec.uid, spec.gid)
    monkeypatch.setenv("HOGAR_FEEDBACK_DIR", str(kept))
    path = default_store_path("iris", tmp_path / "graph-folder")
    assert path == kept / "iris.feedback.sqlite"
    store = FeedbackStore(path)
    store.add_predictions([("r1", "clf", 2, time.time())])
    store.close()
    (spec.folder / "graph.json").write_text("{}")

    again = child_spec(7)  # the next start of the same deployment
    assert not (again.folder / "graph.json").exists()
    store = FeedbackStore(path)
    assert store.add_labels([("r1", 2)])["matched"] == 1
    store.close()
    Supervisor().forget(7)
    assert not kept.exists()
