"""A tiny JSON linear model: ``{"weights": [...], "bias": b}``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import ModelLoadError

__all__ = ["LinearModel", "load_linear_json"]


class LinearModel:
    """``predict(rows)``: one ``dot(weights, row) + bias`` per row (a 1-D row gives one number)."""

    def __init__(self, weights: list[float], bias: float = 0.0) -> None:
        self.weights = [float(w) for w in weights]
        self.bias = float(bias)
        self.n_features_in_ = len(self.weights)

    def _one(self, xs: Any) -> float:
        if len(xs) != len(self.weights):
            raise ValueError(f"linear model expects {len(self.weights)} numbers, got {len(xs)}")
        return sum(w * float(x) for w, x in zip(self.weights, xs)) + self.bias

    def predict(self, xs: Any) -> Any:
        rows = list(xs)
        if rows and hasattr(rows[0], "__len__"):
            return [self._one(row) for row in rows]
        return self._one(rows)


def load_linear_json(path: Path) -> LinearModel:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"{path}: not a JSON linear model: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("weights"), list):
        raise ModelLoadError(f"{path}: expected a JSON linear model {{\"weights\": [...], \"bias\": b}}")
    return LinearModel(doc["weights"], doc.get("bias", 0.0))
