"""ModelRunner: one call per batch, whatever ``batch`` is.

Each request's payload is a row of numbers (answered with that row's output) or a list
of rows (answered with a list). The runner stacks every row of the batch into one 2-D
array, calls the model once, and splits the result back per request, so a model sees
the same 2-D input with ``batch = 1`` and ``batch = 32``, and outputs are plain
JSON-ready values. A payload the model cannot take fails alone (ModelInputError, HTTP
422); the others in its batch are answered.
"""

from __future__ import annotations

from typing import Any

from .convert import as_rows, jsonable
from .errors import ModelInputError, ModelLoadError

__all__ = ["METHODS", "ModelRunner", "Predictor"]

METHODS = ("predict", "predict_proba", "transform")


class Predictor:
    """A loaded model with one entry point: ``__call__(matrix) -> array`` of per-row outputs.

    ``n_features`` (when known) lets bad rows be refused before the call.
    """

    n_features: int | None = None

    def __call__(self, matrix: Any) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


class MethodPredictor(Predictor):
    """Any object with ``predict`` / ``predict_proba`` (scikit-learn, XGBoost, your own)."""

    def __init__(self, model: Any, method: str) -> None:
        fn = getattr(model, method, None)
        if not callable(fn):
            raise ModelLoadError(f"{type(model).__name__} has no {method}() method")
        self.model = model
        self.fn = fn
        n: Any = getattr(model, "n_features_in_", None)
        self.n_features = int(n) if hasattr(n, "__index__") else None

    def __repr__(self) -> str:
        return f"{type(self.model).__name__}.{self.fn.__name__}"

    def __call__(self, matrix: Any) -> Any:
        return self.fn(matrix)


class ModelRunner:
    """The per-replica callable of a model node (the runtime always hands it a batch)."""

    __hogar_batch__ = True  # the runtime passes a list of payloads, even with batch = 1

    def __init__(self, predictor: Predictor, name: str = "model") -> None:
        import numpy

        self.np = numpy
        self.predictor = predictor
        self.name = name

    def __call__(self, payloads: list[Any]) -> list[Any]:
        np = self.np
        parts: list[Any] = []
        slots: list[tuple[int, int, bool] | BaseException] = []
        start = 0
        for payload in payloads:
            try:
                rows, single = as_rows(np, payload, self.predictor.n_features)
            except ModelInputError as exc:
                slots.append(exc)
                continue
            parts.append(rows)
            slots.append((start, start + len(rows), single))
            start += len(rows)
        if not parts:
            return list(slots)
        try:
            out = self._predict(np.concatenate(parts) if len(parts) > 1 else parts[0], start)
        except ModelInputError:
            if len(parts) == 1:
                raise
            return self._one_by_one(payloads)
        return [s if isinstance(s, BaseException) else
                jsonable(out[s[0]] if s[2] else out[s[0]:s[1]]) for s in slots]

    def _predict(self, matrix: Any, n: int) -> Any:
        try:
            out = self.predictor(matrix)
        except (ValueError, TypeError) as exc:  # the model's own check of shape and types
            raise ModelInputError(f"the model rejected the input: {exc}") from exc
        if isinstance(out, list):
            out = self.np.asarray(out)
        if len(out) != n:
            raise ModelLoadError(f"the model returned {len(out)} outputs for {n} rows")
        return out

    def _one_by_one(self, payloads: list[Any]) -> list[Any]:
        """A batch the model refused as a whole: find the payloads it refuses alone."""
        results: list[Any] = []
        for payload in payloads:
            try:
                results.append(self([payload])[0])
            except ModelInputError as exc:
                results.append(exc)
        return results

    def __repr__(self) -> str:
        return f"<ModelRunner {self.name} {self.predictor!r}>"
