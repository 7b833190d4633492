"""A canary split: drift and quality of each arm side by side."""

from __future__ import annotations

import time
from pathlib import Path

import joblib
import numpy as np
from sklearn import metrics
from sklearn.tree import DecisionTreeClassifier

import hogar_nb

from .conftest import iris_traffic

GRAPH = """graph canary
source score
split ab
model stable { impl = "iris.joblib", reference = "train.csv", drift_window = 200, feedback = true }
model candidate { impl = "stump.joblib", reference = "train.csv", drift_window = 200, feedback = true }
sink out
score -> ab
ab -> stable { weight = 70% }
ab -> candidate { weight = 30% }
stable -> out
candidate -> out
"""


def test_each_arm_is_judged_on_its_own_traffic(iris_dir: Path) -> None:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    joblib.dump(DecisionTreeClassifier(max_depth=1, random_state=0).fit(x, y), iris_dir / "stump.joblib")
    rng = np.random.default_rng(21)
    picks = rng.integers(0, len(x), 1_000)
    rows = np.round(x[picks] + rng.normal(0, 0.05, (1_000, 4)), 3)
    models = {"stable": joblib.load(iris_dir / "iris.joblib"), "candidate": joblib.load(iris_dir / "stump.joblib")}
    with hogar_nb.run(hogar_nb.parse_udgl(GRAPH), base_dir=iris_dir) as dep:
        arm_of: dict[str, str] = {}
        seen: dict[str, list[int]] = {"stable": [], "candidate": []}
        sub = dep.subscribe(lambda e: arm_of.__setitem__(e.context.request_id, e.choice) if e.kind == "routed"
                            else None)
        futures = [dep.submit(row) for row in rows.tolist()]
        answers = [f.result() for f in futures]
        ids = [f.context.request_id for f in futures]
        while len(arm_of) < 1_000:
            time.sleep(0.02)
        sub.close()
        for i, rid in enumerate(ids):
            seen[arm_of[rid]].append(i)
            assert answers[i] == int(models[arm_of[rid]].predict(rows[i:i + 1])[0])
        assert 200 < len(seen["candidate"]) < 400
        monitor = dep.quality_monitor()
        counts = monitor.feedback([(rid, int(label)) for rid, label in zip(ids, y[picks])])
        assert counts["matched"] == 1_000
        monitor.evaluate()  # one round now, as the monitor's thread does every second
        report = dep.quality()
        arms = report["variants"]["ab"]
        assert set(arms) == {"stable", "candidate"}
        for arm, idx in seen.items():
            expected = metrics.accuracy_score(y[picks][idx], models[arm].predict(rows[idx]))
            assert arms[arm]["node"] == arm
            assert arms[arm]["quality"]["accuracy"] == expected
            assert arms[arm]["quality"]["labelled"] == len(idx)
            assert arms[arm]["labels"]["matched"] == len(idx)
            assert report["nodes"][arm]["rows_seen"] == len(idx)
        assert arms["stable"]["quality"]["accuracy"] > arms["candidate"]["quality"]["accuracy"]
        assert arms["stable"]["drifted"] == [] and arms["candidate"]["drifted"] == []
        for row in iris_traffic(600, seed=22, shift={3: 2.0}).tolist():
            dep.call(row)
        monitor.evaluate()
        arms = dep.quality()["variants"]["ab"]
        assert arms["stable"]["drifted"] == ["petal_width"] and arms["candidate"]["drifted"] == ["petal_width"]
