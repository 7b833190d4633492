"""The feedback store on a real SQLite file, and scores against scikit-learn's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics

from hogar_nb.quality.feedback import FeedbackStore, default_store_path
from hogar_nb.quality.scores import infer_task, quality_scores


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_predictions_of_every_shape_come_back_as_they_were_served(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "f.sqlite", horizon=60.0, clock=clock)
    served = [np.int64(2), np.float32(0.1), np.array([0.2, 0.8]), "setosa", {"p": [1, 2]},
              0.30000000000000004, None, [np.float64(1.5), np.int32(-3)], 12345678901234567890]
    store.add_predictions([(f"r{i}", "m", p, clock.now) for i, p in enumerate(served)])
    store.add_labels([(f"r{i}", i) for i in range(len(served))])
    plain = [2, float(np.float32(0.1)), [0.2, 0.8], "setosa", {"p": [1, 2]}, 0.30000000000000004, None,
             [1.5, -3], 12345678901234567890]
    assert [p for p, _y in store.labelled("m")] == plain


def test_labels_join_predictions_and_every_outcome_is_counted(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "f.sqlite", horizon=60.0, clock=clock)
    store.add_predictions([(f"r{i}", "clf", i % 3, clock.now) for i in range(100)])
    got = store.add_labels([(f"r{i}", i % 3 if i < 80 else 0) for i in range(90)] + [("nobody", 1)])
    assert got == {"matched": 90, "unknown": 1, "expired": 0, "duplicate": 0}
    assert store.add_labels([("r0", 2)]) == {"matched": 0, "unknown": 0, "expired": 0, "duplicate": 1}
    pairs = store.labelled("clf")
    assert len(pairs) == 90 and pairs[0] == (0, 0)  # the first label stays
    clock.now += 61
    store.purge()
    assert store.add_labels([("r95", 2), ("r96", 1), ("nobody2", 0)]) == {
        "matched": 0, "unknown": 1, "expired": 2, "duplicate": 0}
    assert store.labelled("clf") == []
    assert store.label_outcomes() == {"matched": 90, "unknown": 2, "expired": 2, "duplicate": 1}
    assert store.label_outcomes("clf") == {"matched": 90, "unknown": 0, "expired": 0, "duplicate": 1}
    clock.now += 61  # past two horizons an id is forgotten: its label is unknown
    store.purge()
    assert store.add_labels([("r97", 1)])["unknown"] == 1
    assert store.counts()["predictions"] == 0 and store.counts()["purged"] == 100
    store.close()


def test_the_store_is_bounded_by_rows_and_survives_a_reopen(tmp_path: Path) -> None:
    clock = Clock()
    store = FeedbackStore(tmp_path / "f.sqlite", max_rows=1_000, clock=clock)
    for batch in range(5):
        clock.now += 1
        store.add_predictions([(f"b{batch}-{i}", "m", 0.5, clock.now) for i in range(500)])
        store.purge()
    assert store.counts()["predictions"] == 1_000 and store.evicted == 1_500
    store.close()
    again = FeedbackStore(tmp_path / "f.sqlite", clock=clock)
    assert again.add_labels([("b4-0", 0.25), ("b0-0", 1.0)]) == {
        "matched": 1, "unknown": 1, "expired": 0, "duplicate": 0}
    again.close()


def test_the_default_file_sits_beside_the_graph(tmp_path: Path) -> None:
    assert default_store_path("fraud", tmp_path) == tmp_path / ".hogar" / "fraud.feedback.sqlite"


def test_classifier_scores_are_sklearns() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 500)
    p = np.where(rng.random(500) < 0.8, y, rng.integers(0, 3, 500))
    scores = quality_scores(list(zip(p.tolist(), y.tolist())))
    prec, rec, f1, _ = metrics.precision_recall_fscore_support(y, p, average="macro", zero_division=0)
    assert scores == pytest.approx({"labelled": 500, "mismatched": 0, "accuracy": metrics.accuracy_score(y, p),
                                    "precision": prec, "recall": rec, "f1": f1}, abs=1e-12)


def test_probabilities_give_log_loss_and_rows_match_label_lists() -> None:
    rng = np.random.default_rng(4)
    probs = rng.dirichlet([1, 1, 1], 200)
    y = rng.integers(0, 3, 200)
    pairs = [(probs[i:i + 2].tolist(), y[i:i + 2].tolist()) for i in range(0, 200, 2)]
    pairs.append((probs[:2].tolist(), [1]))  # a label count that does not fit
    scores = quality_scores(pairs)
    assert scores["labelled"] == 200 and scores["mismatched"] == 1
    assert scores["log_loss"] == pytest.approx(metrics.log_loss(y, probs, labels=[0, 1, 2]), abs=1e-12)
    assert scores["accuracy"] == pytest.approx(metrics.accuracy_score(y, probs.argmax(axis=1)), abs=1e-12)


def test_regression_scores_are_sklearns() -> None:
    rng = np.random.default_rng(5)
    y = rng.normal(size=300)
    p = y + rng.normal(scale=0.3, size=300)
    assert infer_task(p.tolist()) == "regression"
    scores = quality_scores(list(zip(p.tolist(), y.tolist())))
    assert scores["mae"] == pytest.approx(metrics.mean_absolute_error(y, p), abs=1e-12)
    assert scores["rmse"] == pytest.approx(metrics.root_mean_squared_error(y, p), abs=1e-12)
    assert quality_scores([]) == {"labelled": 0}
