"""A rollout gated on accuracy from delayed labels, over real HTTP: labels posted to
``/hogar/v1/feedback`` judge each arm; a worse candidate is rolled back with its cause,
an equal one waits at its first step for its labels and then reaches 100%."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import joblib
import numpy as np
import pytest

import hogar_nb

GRAPH = """graph canary
source score {{ route = "/score" }}
split ab
model stable {{ impl = "stable.joblib", feedback = true }}
model cand   {{ impl = "{candidate}", feedback = true }}
sink out
score -> ab
ab -> stable {{ weight = 100% }}
ab -> cand   {{ weight = 0% }}
stable -> out
cand -> out
"""
TOKEN = "rollout-quality-token"
GATES = {"steps": [0.25, 1.0], "step_time": 0.3, "step_requests": 10, "gate_interval": 0.3,
         "max_p99_ratio": 50.0, "quality_metric": "accuracy", "max_quality_drop": 0.05, "min_labels": 30}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    folder = tmp_path_factory.mktemp("arms")
    x, y = load_iris(return_X_y=True)
    joblib.dump(DecisionTreeClassifier(max_depth=4, random_state=0).fit(x, y), folder / "stable.joblib")
    joblib.dump(DecisionTreeClassifier(max_depth=1, random_state=0).fit(x, y), folder / "stump.joblib")
    return folder


def _traffic(n: int, seed: int) -> tuple[list[list[float]], list[int]]:
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    picks = np.random.default_rng(seed).integers(0, len(x), n)
    return x[picks].tolist(), [int(v) for v in y[picks]]


class Client:
    """Requests and their labels over HTTP; every answer counted."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(base_url=url, timeout=30)
        self.answered = 0
        self.matched = 0

    def admin(self, **body) -> dict:
        r = self.http.post("/hogar/v1/admin/rollout", json=body, headers={"authorization": f"Bearer {TOKEN}"})
        assert r.status_code == 200, r.text
        return r.json()

    def requests(self, rows: list[list[float]]) -> list[str]:
        ids = []
        for row in rows:
            r = self.http.post("/score", json=row)
            assert r.status_code == 200, r.text
            ids.append(r.headers["x-request-id"])
            self.answered += 1
        return ids

    def labels(self, ids: list[str], truth: list[int]) -> None:
        r = self.http.post("/hogar/v1/feedback", json=[{"request_id": i, "label": t} for i, t in zip(ids, truth)])
        assert r.status_code == 202, r.text
        self.matched += r.json()["matched"] + r.json()["pending"]


def _serve(models: Path, candidate: str):
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH.format(candidate=candidate)), base_dir=models)
    return dep, Client(dep.serve_http(admin_token=TOKEN))


def test_a_less_accurate_candidate_is_rolled_back_with_its_cause(models: Path, no_leaks) -> None:
    dep, client = _serve(models, "stump.joblib")
    try:
        status = client.admin(split="ab", action="start", candidate="cand", **GATES)
        assert status["state"] == "running" and status["weight"] == 0.25
        rows, truth = _traffic(4_000, seed=5)
        deadline = time.monotonic() + 120
        i = 0
        while (status := client.admin(split="ab", action="status"))["state"] == "running":
            assert time.monotonic() < deadline and i < len(rows), "no verdict after 4,000 labelled requests"
            ids = client.requests(rows[i:i + 40])
            client.labels(ids, truth[i:i + 40])  # the labels come after their answers
            i += 40
        assert status["state"] == "rolled_back" and status["weight"] == 0.0
        assert status["cause"].startswith("the candidate's accuracy ")
        quality = status["quality"]
        assert quality["metric"] == "accuracy"
        assert quality["candidate"]["labelled"] >= 30 and quality["stable"]["labelled"] >= 30
        assert quality["candidate"]["value"] < quality["stable"]["value"] - 0.05
        assert [m["weight"] for m in status["moves"]] == [0.25, 0.0]
        assert status["moves"][-1]["why"] == f"rolled back at 25%: {status['cause']}"
        assert [e.cause for e in dep.events if e.cause == "rollout"] == ["rollout", "rollout"]
        # the rolled-back split sends everything to the stable arm; every request was answered
        ids = client.requests(rows[:200])
        assert client.answered == i + 200 and len(set(ids)) == 200
        scores = dep.quality_monitor().arm_scores("ab")
        assert scores["stable"]["accuracy"] > scores["cand"]["accuracy"]
    finally:
        client.http.close()
        dep.stop()


def test_a_step_waits_for_labels_and_an_equal_candidate_reaches_100_percent(models: Path, no_leaks) -> None:
    dep, client = _serve(models, "stable.joblib")
    try:
        client.admin(split="ab", action="start", candidate="cand", **GATES)
        rows, truth = _traffic(3_000, seed=6)
        unlabelled = client.requests(rows[:300])  # enough requests and time for a step, but no label yet
        time.sleep(4 * GATES["step_time"])
        status = client.admin(split="ab", action="status")
        assert (status["state"], status["step"], status["weight"]) == ("running", 0, 0.25)
        assert status["quality"]["candidate"]["labelled"] == 0
        client.labels(unlabelled, truth[:300])
        i = 300
        deadline = time.monotonic() + 120
        while (status := client.admin(split="ab", action="status"))["state"] == "running":
            assert time.monotonic() < deadline and i < len(rows), "not promoted after 3,000 labelled requests"
            ids = client.requests(rows[i:i + 40])
            client.labels(ids, truth[i:i + 40])
            i += 40
        assert status["state"] == "promoted" and status["weight"] == 1.0, status
        quality = status["quality"]
        assert quality["candidate"]["value"] >= quality["stable"]["value"] - 0.05  # the same model on both arms
        assert quality["candidate"]["labelled"] >= 30
        assert client.answered == i
    finally:
        client.http.close()
        dep.stop()


def test_a_quality_gate_needs_labelled_arms(no_leaks) -> None:
    graph = """graph canary
source s
split c
python stable { impl = "tests.steer.impls:primary" }
python cand   { impl = "tests.steer.impls:primary" }
sink out
s -> c
c -> stable { weight = 100% }
c -> cand   { weight = 0% }
stable -> out
cand -> out
"""
    from hogar_nb.steer import RolloutError

    with hogar_nb.run(hogar_nb.parse_udgl(graph)) as dep:
        with pytest.raises(RolloutError, match="needs labels for both arms.*`feedback = true` follows 'cand' and"):
            dep.rollout("c", candidate="cand", quality_metric="accuracy")
        with pytest.raises(RolloutError, match="got 'auc' for quality_metric; expected one of accuracy"):
            dep.rollout("c", candidate="cand", quality_metric="auc")
        assert dep.rollouts == {}
