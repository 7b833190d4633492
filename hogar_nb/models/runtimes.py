"""The built-in model runtimes: scikit-learn (joblib/pickle), ONNX Runtime, XGBoost.

Each imports its library only when a model of its kind is loaded; a missing library
raises MissingExtraError naming ``pip install hogar_nb[models]``.
"""

from __future__ import annotations

import importlib
import json
import pickle
from pathlib import Path
from typing import Any

from .errors import MissingExtraError, ModelLoadError

__all__ = ["OnnxModel", "load_onnx", "load_pickle", "load_sklearn", "load_xgboost", "looks_like_xgboost_json"]


def require(module: str, what: str) -> Any:
    """Import ``module`` or say which extra provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError(
            f"{what} models need the {module.split('.')[0]!r} package: pip install hogar_nb[models] ({exc})"
        ) from None


def load_pickle(path: Path) -> Any:
    """A pickled object (executes code from the file: load only files you trust)."""
    with path.open("rb") as fh:
        return pickle.load(fh)


def load_sklearn(path: Path) -> Any:
    """A scikit-learn estimator saved with joblib (or plain pickle; both execute code)."""
    try:
        joblib = importlib.import_module("joblib")
    except ImportError:
        return load_pickle(path)
    return joblib.load(path)


class OnnxModel:
    """An ONNX Runtime session on the CPU with scikit-learn's face: ``predict(rows)`` gives
    the first output (a classifier's label), ``predict_proba(rows)`` the probabilities
    output (present only when the model has one). The first input takes the rows; its
    batch dimension may be dynamic (one call per batch) or fixed (one call per slice)."""

    _DTYPES = {"tensor(float)": "float32", "tensor(double)": "float64", "tensor(int64)": "int64",
               "tensor(int32)": "int32", "tensor(float16)": "float16", "tensor(bool)": "bool"}

    def __init__(self, path: Path) -> None:
        ort = require("onnxruntime", "ONNX")
        self.np = require("numpy", "ONNX")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # one replica, one core: scale with replicas
        options.inter_op_num_threads = 1
        try:
            self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ModelLoadError(f"{path}: ONNX Runtime cannot load it: {exc}") from None
        first = self.session.get_inputs()[0]
        self.input = first.name
        self.dtype = self._DTYPES.get(first.type, "float32")
        shape = list(first.shape)
        self.fixed_batch = shape[0] if shape and isinstance(shape[0], int) else None
        if len(shape) == 2 and isinstance(shape[1], int):
            self.n_features_in_ = shape[1]
        outputs = [o.name for o in self.session.get_outputs()]
        self.label_output = outputs[0]
        named = [o for o in outputs if "prob" in o.lower()]
        self.proba_output = named[0] if named else (outputs[1] if len(outputs) > 1 else None)
        if self.proba_output is not None:
            self.predict_proba = self._predict_proba

    def predict(self, matrix: Any) -> Any:
        out = self._run(self.label_output, matrix)
        if out.ndim == 2 and out.shape[1] == 1:
            out = out.ravel()  # a regressor's (n, 1), as scikit-learn's predict gives (n,)
        return out

    def _predict_proba(self, matrix: Any) -> Any:
        assert self.proba_output is not None  # offered only when the model has one
        return self._run(self.proba_output, matrix)

    def _run(self, output: str, matrix: Any) -> Any:
        np = self.np
        x = np.asarray(matrix, dtype=self.dtype)
        step = self.fixed_batch
        if step is not None and len(x) != step:
            return np.concatenate([self._session_run(output, x[i:i + step]) for i in range(0, len(x), step)])
        return self._session_run(output, x)

    def _session_run(self, output: str, x: Any) -> Any:
        np = self.np
        try:
            out = self.session.run([output], {self.input: x})[0]
        except Exception as exc:  # onnxruntime's InvalidArgument and friends: the input is wrong
            raise ValueError(str(exc).splitlines()[0]) from None
        if isinstance(out, list) and out and isinstance(out[0], dict):  # a ZipMap: one dict per row
            keys = sorted(out[0])
            out = [[row[k] for k in keys] for row in out]
        return np.asarray(out)

    def __repr__(self) -> str:
        return f"OnnxModel({self.input!r} -> {self.label_output!r})"


def load_onnx(path: Path) -> OnnxModel:
    return OnnxModel(path)


def looks_like_xgboost_json(path: Path) -> bool:
    """XGBoost's JSON model format (a "learner" object), not the JSON linear model."""
    try:
        with path.open("rb") as fh:
            head = fh.read(65536)
    except OSError:
        return False
    return b'"learner"' in head


def load_xgboost(path: Path) -> Any:
    """An XGBoost model (.ubj, .bst or JSON) as its scikit-learn wrapper, so that
    ``predict`` and ``predict_proba`` mean what they mean in scikit-learn."""
    xgb = require("xgboost", "XGBoost")
    booster = xgb.Booster()
    try:
        booster.load_model(str(path))
        objective = json.loads(booster.save_config())["learner"]["objective"]["name"]
    except Exception as exc:  # XGBoostError and malformed files
        raise ModelLoadError(f"{path}: XGBoost cannot load it: {str(exc).splitlines()[0]}") from None
    if objective.startswith(("binary:", "multi:")):
        model: Any = xgb.XGBClassifier()
    else:
        model = xgb.XGBRegressor()
    model.load_model(str(path))
    return model
