"""Model quality on both backends: the monitor reads the walker's capture of model
nodes on the embedded engine and the walker's events on Ray, and drift and delayed
labels work alike on both."""

from __future__ import annotations

import time
from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn import metrics
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import hogar_nb

GRAPH = """graph iris_quality
source score
model clf { impl = "iris.joblib", reference = "train.csv", drift_window = 300, feedback = true }
sink out
score -> clf -> out
"""


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """The model and its reference; each test its own, so each its own feedback file."""
    path = tmp_path
    x, y = load_iris(return_X_y=True)
    joblib.dump(LogisticRegression(max_iter=1_000).fit(x, y), path / "iris.joblib")
    (path / "train.csv").write_text("a,b,c,d\n" + "\n".join(",".join(repr(float(v)) for v in r) for r in x) + "\n")
    return path


@pytest.mark.parametrize("backend", ["embedded", "ray"])
def test_drift_and_labels_alike_on_both_backends(backend: str, folder: Path, request: pytest.FixtureRequest) -> None:
    options = {}
    if backend == "ray":
        request.getfixturevalue("local_ray")
        options["backend"] = "ray"
    x, y = load_iris(return_X_y=True)
    rng = np.random.default_rng(41)
    picks = rng.integers(0, len(x), 300)
    rows = np.round(x[picks] + rng.normal(0, 0.05, (300, 4)), 3)
    rows[:, 1] += 2 * x[:, 1].std()  # b shifted by two standard deviations
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH), base_dir=folder, **options)
    try:
        futures = [dep.submit(r) for r in rows.tolist()]
        answers = [f.result(timeout=120) for f in futures]
        monitor = dep.quality_monitor()
        while monitor.nodes["clf"].seen < 300:  # on Ray the events come in batches
            time.sleep(0.05)
        counts = monitor.feedback([(f.context.request_id, int(t)) for f, t in zip(futures, y[picks])])
        # a label may come before its request's last event reached the driver: it waits for it
        assert counts["matched"] + counts["pending"] == 300 and counts["unknown"] == 0
        while monitor.labels_pending:
            monitor.evaluate()
            time.sleep(0.05)
        assert monitor.store.label_outcomes() == {"matched": 300, "unknown": 0, "expired": 0, "duplicate": 0}
        monitor.evaluate()
        node = dep.quality()["nodes"]["clf"]
        assert node["drifted"] == ["b"] and node["rows_in_window"] == 300
        assert node["quality"]["labelled"] == 300
        assert node["quality"]["accuracy"] == metrics.accuracy_score(y[picks], answers)
    finally:
        dep.stop()
