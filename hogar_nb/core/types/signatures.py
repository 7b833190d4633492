"""What a model takes and gives, read from its artifact without running it.

| artifact                      | read how                                  | when                      |
|-------------------------------|-------------------------------------------|---------------------------|
| ``.onnx``                     | the ``onnx`` package's protobuf (no session) | always                 |
| XGBoost ``.json``             | the JSON itself (``num_feature``, objective) | always                 |
| JSON linear model             | its ``weights``                           | always                    |
| ``.ubj``, ``.bst``            | ``xgboost.Booster`` (no pickle)           | always                    |
| ``.joblib``, ``.pkl``, ``.pickle`` | joblib / pickle: **executes code**   | only with ``load_models`` |
| an object (a notebook name)   | its attributes                            | always                    |

``load_models`` is what ``hogar check --load-models`` and the check before start ask
for; editors' lint never does, so it never runs code from a file.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .tensor import TensorType

__all__ = ["PICKLE_SUFFIXES", "Signature", "artifact_signature", "object_signature"]

PICKLE_SUFFIXES = (".joblib", ".pkl", ".pickle")
_ONNX_DTYPES = {1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64",
                8: "bytes", 9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64"}


@dataclass(frozen=True)
class Signature:
    """A model's input type and its output type for each method it answers."""

    input: TensorType | None
    outputs: dict[str, TensorType] = field(default_factory=dict)
    origin: str = ""  # "onnx", "xgboost", "sklearn", "linear", "object"
    classifier: bool = False

    def output(self, method: str | None) -> TensorType | None:
        return self.outputs.get(method or "predict")


def artifact_signature(path: Path, loader: str | None = None, load_models: bool = False) -> Signature | None:
    """The signature of the artifact at ``path``, or None when it cannot be read (quietly:
    a missing or unreadable file is the check before start's to report)."""
    from ..source import files_allowed

    if not files_allowed():
        return None  # a graph without a folder of its own (an upload) names no file here
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return _cached(str(path), stat.st_mtime_ns, stat.st_size, loader, load_models)


@functools.lru_cache(maxsize=8192)
def _cached(path: str, _mtime: int, _size: int, loader: str | None, load_models: bool) -> Signature | None:
    p = Path(path)
    suffix = p.suffix.lower()
    kind = loader or {".onnx": "onnx", ".json": "json", ".ubj": "xgboost", ".bst": "xgboost"}.get(
        suffix, "sklearn" if suffix in PICKLE_SUFFIXES else None)
    try:
        if kind == "onnx":
            return _onnx(p)
        if kind in ("json", "xgboost") and suffix == ".json":
            return _json_model(p)
        if kind == "xgboost":
            return _xgboost_binary(p)
        if kind == "sklearn" and load_models:
            return object_signature(_unpickle(p))
    except Exception:  # noqa: BLE001 - a file the loader cannot read has no signature here
        return None
    return None


def _unpickle(path: Path) -> Any:
    try:
        import joblib  # type: ignore[import-untyped]
    except ImportError:  # pragma: no cover - scikit-learn brings joblib
        import pickle

        with path.open("rb") as fh:
            return pickle.load(fh)
    return joblib.load(path)


# ----------------------------------------------------------------------- ONNX
def _onnx(path: Path) -> Signature | None:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    graph = model.graph
    weights = {i.name for i in graph.initializer}
    inputs = [i for i in graph.input if i.name not in weights]
    if not inputs:
        return None
    first = _onnx_tensor(inputs[0].type)
    outs = [(o.name, o.type) for o in graph.output]
    outputs: dict[str, TensorType] = {}
    if outs:
        label = _onnx_tensor(outs[0][1])
        if label is not None and label.rank == 2 and label.shape[1] == 1:
            label = TensorType(label.dtype, label.shape[:1])  # the runtime gives (n,) as predict does
        if label is not None:
            outputs["predict"] = label
    probs = [o for o in outs if "prob" in o[0].lower()] or outs[1:2]
    classifier = bool(probs)
    if probs:
        proba = _onnx_tensor(probs[0][1])
        if proba is None:  # a ZipMap: a sequence of maps, one per row, keyed by class
            classes = _zipmap_classes(graph)
            proba = TensorType("float32", ("n", classes if classes is not None else "_"))
        outputs["predict_proba"] = proba
    return Signature(first, outputs, "onnx", classifier)


def _onnx_tensor(type_proto: Any) -> TensorType | None:
    if not type_proto.HasField("tensor_type"):
        return None
    tensor = type_proto.tensor_type
    dtype = _ONNX_DTYPES.get(tensor.elem_type)
    if dtype is None:
        return None
    if not tensor.HasField("shape"):
        return TensorType(dtype, ("n", "_"))
    dims: list[int | str] = []
    for i, d in enumerate(tensor.shape.dim):
        if i == 0:
            dims.append("n")  # the batch, dynamic or fixed: the runtime slices a fixed one
        elif d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.dim_param:
            dims.append(d.dim_param if d.dim_param.isidentifier() else "_")
        else:
            dims.append("_")
    return TensorType(dtype, tuple(dims))


def _zipmap_classes(graph: Any) -> int | None:
    for node in graph.node:
        if node.op_type == "ZipMap":
            for attr in node.attribute:
                if attr.name == "classlabels_int64s":
                    return len(attr.ints)
                if attr.name == "classlabels_strings":
                    return len(attr.strings)
    return None


# -------------------------------------------------------------------- XGBoost
def _json_model(path: Path) -> Signature | None:
    with path.open("rb") as fh:
        doc = json.load(fh)
    if isinstance(doc, dict) and isinstance(doc.get("learner"), dict):
        learner = doc["learner"]
        params = learner.get("learner_model_param", {})
        objective = learner.get("objective", {}).get("name", "")
        return _xgboost(int(params.get("num_feature", 0)) or None, int(float(params.get("num_class", 0))),
                        str(objective))
    if isinstance(doc, dict) and isinstance(doc.get("weights"), list):  # the JSON linear model
        return Signature(TensorType("number", ("n", len(doc["weights"]))),
                         {"predict": TensorType("float64", ("n",))}, "linear")
    return None


def _xgboost_binary(path: Path) -> Signature | None:
    import warnings

    import xgboost

    booster = xgboost.Booster()
    with warnings.catch_warnings():  # a file format it guesses at: the loader reports it at start
        warnings.simplefilter("ignore")
        booster.load_model(str(path))
    config = json.loads(booster.save_config())["learner"]
    num_class = int(float(config.get("learner_model_param", {}).get("num_class", 0)))
    return _xgboost(booster.num_features(), num_class, config["objective"]["name"])


def _xgboost(features: int | None, num_class: int, objective: str) -> Signature:
    width: int | str = features if features else "_"
    inp = TensorType("number", ("n", width))
    if objective.startswith("binary:") or objective.startswith("multi:"):
        classes = max(num_class, 2) if objective.startswith("multi:") else 2
        return Signature(inp, {"predict": TensorType("int64", ("n",)),
                               "predict_proba": TensorType("float32", ("n", classes))}, "xgboost", True)
    return Signature(inp, {"predict": TensorType("float32", ("n",))}, "xgboost")


# -------------------------------------------------------------- scikit-learn
def object_signature(model: Any) -> Signature | None:
    """The signature of a loaded estimator (scikit-learn's attributes, XGBoost's wrapper)."""
    n: Any = getattr(model, "n_features_in_", None)
    if not hasattr(n, "__index__"):
        return None
    inp = TensorType("number", ("n", int(n)))
    outputs: dict[str, TensorType] = {}
    classes: Any = getattr(model, "classes_", None)
    classifier = classes is not None and callable(getattr(model, "predict_proba", None))
    if callable(getattr(model, "predict", None)):
        if classes is not None:
            outputs["predict"] = TensorType(_label_dtype(classes), ("n",))
        else:
            outputs["predict"] = TensorType("float64", ("n", *_outputs_dims(model)))
    if classifier:
        outputs["predict_proba"] = TensorType("float64", ("n", len(classes)))
    if callable(getattr(model, "transform", None)):
        outputs["transform"] = TensorType("float64", ("n", _transform_width(model)))
    return Signature(inp, outputs, "sklearn", classifier)


def _label_dtype(classes: Any) -> str:
    kind = getattr(getattr(classes, "dtype", None), "kind", "O")
    return {"i": "int64", "u": "int64", "f": "float64", "b": "bool"}.get(kind, "bytes")


def _outputs_dims(model: Any) -> tuple[int, ...]:
    coef = getattr(model, "coef_", None)
    shape: Any = getattr(coef, "shape", ())
    return (int(shape[0]),) if len(shape) == 2 and shape[0] > 1 else ()


def _transform_width(model: Any) -> int | str:
    for attr in ("n_features_out_", "n_components_", "n_components"):
        value: Any = getattr(model, attr, None)
        if hasattr(value, "__index__"):
            return int(value)
    try:
        return len(model.get_feature_names_out())
    except Exception:  # noqa: BLE001 - not every transformer can name its outputs
        return "_"
