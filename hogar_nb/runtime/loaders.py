"""Model loaders: turn a model node's ``impl`` (+ ``loader``) into a per-replica callable.

Built in: ``"module:attr"`` (imported), ``json`` (a tiny linear model
``{"weights": [...], "bias": b}``) and ``pickle`` (``.pkl`` / ``.pickle``). Add more
with :func:`register_loader`. Factories are small picklable objects so process
replicas can rebuild the model in their own process.
"""

from __future__ import annotations

import json
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import DeploymentConfigError
from .impls import ImportRef, as_callable

__all__ = ["LinearModel", "ModelRef", "loader_names", "model_factory", "register_loader"]

_LOADERS: dict[str, Callable[[Path], Any]] = {}
_EXTENSIONS: dict[str, str] = {".json": "json", ".pkl": "pickle", ".pickle": "pickle"}


def register_loader(name: str, load: Callable[[Path], Any], extensions: tuple[str, ...] = ()) -> None:
    """Add a loader: ``load(path)`` returns an object with ``.predict`` or a callable."""
    _LOADERS[name] = load
    for ext in extensions:
        _EXTENSIONS[ext.lower()] = name


def loader_names() -> list[str]:
    """The registered loader names, sorted."""
    return sorted(_LOADERS)


class LinearModel:
    """``predict(xs)`` = dot(weights, xs) + bias; a list of rows gives a list."""

    def __init__(self, weights: list[float], bias: float = 0.0) -> None:
        self.weights = [float(w) for w in weights]
        self.bias = float(bias)

    def _one(self, xs: Any) -> float:
        if len(xs) != len(self.weights):
            raise ValueError(f"linear model expects {len(self.weights)} numbers, got {len(xs)}")
        return sum(w * float(x) for w, x in zip(self.weights, xs)) + self.bias

    def predict(self, xs: Any) -> Any:
        if xs and isinstance(xs[0], (list, tuple)):
            return [self._one(row) for row in xs]
        return self._one(xs)


def _load_json(path: Path) -> LinearModel:
    doc = json.loads(path.read_text())
    if not isinstance(doc, dict) or not isinstance(doc.get("weights"), list):
        raise DeploymentConfigError(
            f"{path}: expected a JSON linear model {{\"weights\": [...], \"bias\": b}}"
        )
    return LinearModel(doc["weights"], doc.get("bias", 0.0))


def _load_pickle(path: Path) -> Any:
    with path.open("rb") as fh:
        return pickle.load(fh)


register_loader("json", _load_json, (".json",))
register_loader("pickle", _load_pickle, (".pkl", ".pickle"))


@dataclass(frozen=True)
class ModelRef:
    """A model artifact to load in each replica (picklable)."""

    node: str
    path: str
    loader: str

    def create(self) -> Callable[[Any], Any]:
        try:
            obj = _LOADERS[self.loader](Path(self.path))
        except DeploymentConfigError:
            raise
        except Exception as exc:
            raise DeploymentConfigError(
                f"node {self.node!r}: cannot load model {self.path!r} with loader "
                f"{self.loader!r}: {exc}"
            ) from exc
        return as_callable(self.node, obj)


def model_factory(node: str, impl: Any, loader: str | None, base_dir: Path) -> Any:
    """The factory for a model node; raises a friendly error for unknown formats."""
    if callable(impl):
        return ImportRef(node, impl)
    if not isinstance(impl, str) or not impl:
        raise DeploymentConfigError(f"model node {node!r} needs an impl (artifact path or module:attr)")
    path = Path(impl)
    if loader is None and ":" in impl and not path.suffix.lower() in _EXTENSIONS:
        return ImportRef(node, impl)
    name = loader or _EXTENSIONS.get(path.suffix.lower())
    if name is None or name not in _LOADERS:
        known = ", ".join(sorted(_EXTENSIONS))
        what = f"loader {loader!r}" if loader else f"file extension {path.suffix or '(none)'!r}"
        raise DeploymentConfigError(
            f"model node {node!r}: unknown {what} for {impl!r}; expected one of "
            f"{known} (loaders: {', '.join(loader_names())}) or a module:attr impl"
        )
    full = path if path.is_absolute() else base_dir / path
    if not full.exists():
        raise DeploymentConfigError(f"model node {node!r}: artifact {str(full)!r} does not exist")
    return ModelRef(node, str(full.resolve()), name)
