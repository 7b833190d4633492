"""An alert rule of a served graph reaches the console's timeline as an alert, with its
rule and value, when it fires and when it resolves; the deployment page shows the
model quality the server reports (a real HTTP server)."""

from __future__ import annotations

import time

import joblib
import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import hogar_nb
from hogar_nb.console.collector import Collector, Hub
from hogar_nb.console.models import Deployment, TimelineEvent

pytestmark = pytest.mark.django_db(transaction=True)

GRAPH = """graph alerting
source score
model clf { impl = "iris.joblib", reference = "train.csv", drift_window = 100, feedback = true }
sink out
score -> clf -> out
alert drifted { when = drift_share(clf) > 0.3 }
"""


def test_alerts_show_on_the_timeline_and_quality_on_the_page(tmp_path, users, client) -> None:
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), tmp_path / "iris.joblib")
    (tmp_path / "train.csv").write_text("a,b,c,d\n" + "\n".join(",".join(map(str, r)) for r in x) + "\n")
    rng = np.random.default_rng(71)
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH), base_dir=tmp_path)
    collector = Collector(Hub(), interval=0.1, step=0.0, retention=3600)
    try:
        url = dep.serve_http()
        record = Deployment.objects.create(name="alerting", kind=Deployment.REGISTERED, url=url, earg=dep.earg,
                                           state="running")
        for shift in (2.0, 0.0):  # two features shifted: the alert fires; a calm window: it resolves
            rows = np.round(x[rng.integers(0, 150, 100)] + rng.normal(0, 0.05, (100, 4)), 3)
            rows[:, [0, 2]] += shift * x[:, [0, 2]].std(axis=0)
            for row in rows.tolist():
                dep.call(row)
            want = 1 if shift else 2
            # the collector reads events when replicas change, else every 10 s
            while TimelineEvent.objects.filter(deployment=record, kind="alert").count() < want:
                collector.poll_once()
                time.sleep(0.2)
        futures = [dep.submit([5.1, 3.5, 1.4, 0.2]) for _ in range(10)]
        labels = [(f.context.request_id, 0) for f in futures if f.result() == 0]
        assert dep.quality_monitor().feedback(labels)["matched"] == 10
        dep.quality_monitor().evaluate()
        client.force_login(users["viewer"])
        page = client.get(f"/deployments/{record.pk}/").content.decode()
        assert '<table class="list quality" id="quality">' in page
        row = page[page.index('<tr data-node="clf">', page.index('id="quality"')):]
        row = row[:row.index("</tr>")]
        now = dep.quality()["nodes"]["clf"]  # what the server reports is what the page shows
        assert f'<td class="drift-share">{now["drift_share"]:.2f}</td>' in row
        assert f'<td class="drifted">{", ".join(now["drifted"]) or "none"}</td>' in row
        assert "accuracy 1 · " in row and "labelled 10" in row and "matched 10 · " in row
    finally:
        collector.stop()
        dep.stop()
    alerts = list(TimelineEvent.objects.filter(deployment=record, kind="alert").order_by("time"))
    assert [a.text.split(":")[0] for a in alerts] == ["alert firing", "alert resolved"]
    assert "drifted: drift_share(clf) > 0.3 (now 0.5)" in alerts[0].text
    assert all(a.node == "clf" for a in alerts)
