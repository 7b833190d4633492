"""Model quality from (prediction, label) pairs, with scikit-learn's metrics.

Classifiers: accuracy, macro precision / recall / F1, and log-loss when the node
answers class probabilities (``method = predict_proba``; labels are then column
indices 0..k-1). Regressors: MAE and RMSE. The task is the node's ``task`` attribute,
or inferred from the predictions: probability vectors and labels (strings, integers,
booleans) make a classifier, other numbers a regressor. A request's prediction for
several rows is matched row by row with a list of labels of the same length.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["TASKS", "infer_task", "pairs_by_row", "quality_scores"]

TASKS = ("classification", "regression")


def pairs_by_row(pairs: Sequence[tuple[Any, Any]], proba: bool = False) -> tuple[list[Any], list[Any], int]:
    """Flatten requests into rows: ``(predictions, labels, mismatched)``; a pair whose
    label count differs from its prediction's rows is counted in ``mismatched``."""
    preds: list[Any] = []
    labels: list[Any] = []
    bad = 0
    for pred, label in pairs:
        multi = isinstance(pred, list) and pred and (isinstance(pred[0], list) if proba else True)
        if multi:
            if not isinstance(label, list) or len(label) != len(pred):
                bad += 1
                continue
            preds.extend(pred)
            labels.extend(label)
        elif isinstance(label, list) and len(label) == 1:
            preds.append(pred)
            labels.append(label[0])
        else:
            preds.append(pred)
            labels.append(label)
    return preds, labels, bad


def _is_proba(pred: Any) -> bool:
    return isinstance(pred, list) and len(pred) >= 2 and all(isinstance(p, float) for p in pred)


def infer_task(predictions: Sequence[Any]) -> str:
    """``classification`` or ``regression``, from what the model answered."""
    for pred in predictions:
        while isinstance(pred, list) and pred and isinstance(pred[0], list):
            pred = pred[0]
        if _is_proba(pred) or isinstance(pred, (str, bool, int)):
            return "classification"
        if isinstance(pred, list) and pred and isinstance(pred[0], (str, bool, int)):
            return "classification"
        if isinstance(pred, float) or (isinstance(pred, list) and pred and isinstance(pred[0], float)):
            return "regression"
    return "classification"


def quality_scores(pairs: Sequence[tuple[Any, Any]], task: str | None = None) -> dict[str, float]:
    """The metrics of the labelled pairs (empty with none); always ``labelled``: the
    rows scored, and ``mismatched``: requests whose labels did not fit the prediction."""
    import numpy as np
    from sklearn import metrics

    if not pairs:
        return {"labelled": 0}
    task = task or infer_task([p for p, _ in pairs])
    first = pairs[0][0]
    while isinstance(first, list) and first and isinstance(first[0], list):
        first = first[0]
    proba = task == "classification" and _is_proba(first)
    preds, labels, bad = pairs_by_row(pairs, proba)
    out: dict[str, float] = {"labelled": len(preds), "mismatched": bad}
    if not preds:
        return out
    if task == "regression":
        y, p = np.asarray(labels, dtype=float), np.asarray(preds, dtype=float)
        out["mae"] = float(metrics.mean_absolute_error(y, p))
        out["rmse"] = float(metrics.root_mean_squared_error(y, p))
        return out
    if proba:
        probs = np.asarray(preds, dtype=float)
        y_true = np.asarray(labels, dtype=int)
        y_pred = probs.argmax(axis=1)
        out["log_loss"] = float(metrics.log_loss(y_true, probs, labels=list(range(probs.shape[1]))))
    else:
        true_l = [_label(v) for v in labels]
        pred_l = [_label(v) for v in preds]
        if {type(v) for v in true_l} != {type(v) for v in pred_l} or not all(
                isinstance(v, (int, str)) for v in (*true_l, *pred_l)):  # "1" vs 1, or mixed: as text
            true_l, pred_l = [str(v) for v in true_l], [str(v) for v in pred_l]
        y_true, y_pred = np.asarray(true_l), np.asarray(pred_l)
    out["accuracy"] = float(metrics.accuracy_score(y_true, y_pred))
    p, r, f, _ = metrics.precision_recall_fscore_support(y_true, y_pred, average="macro", zero_division=0)
    out.update(precision=float(p), recall=float(r), f1=float(f))
    return out


def _label(value: Any) -> Any:
    """Integers written as floats (1.0) are the integer labels they stand for."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
