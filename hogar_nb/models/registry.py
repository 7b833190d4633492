"""Which runtime loads an artifact: by the ``loader`` attribute, else by the file.

| files                                   | loader    | runtime                              |
|-----------------------------------------|-----------|--------------------------------------|
| ``.joblib``, ``.pkl``, ``.pickle``      | sklearn   | joblib (scikit-learn estimators)     |
| ``.onnx``                               | onnx      | ONNX Runtime, CPU                    |
| ``.ubj``, ``.bst``, XGBoost's ``.json`` | xgboost   | XGBoost (its scikit-learn wrapper)   |
| other ``.json``                         | json      | a linear model ``{"weights", "bias"}`` |

Pickle and joblib files execute code when they are loaded: load only files you trust.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .errors import ModelLoadError
from .linear import load_linear_json
from .runtimes import load_onnx, load_pickle, load_sklearn, load_xgboost, looks_like_xgboost_json

__all__ = ["build_runner", "choose_loader", "extensions", "load_model", "loader_names", "register_loader"]


_LOADERS: dict[str, Callable[[Path], Any]] = {}
_BY_EXTENSION: dict[str, list[tuple[str, Callable[[Path], bool] | None]]] = {}


def register_loader(name: str, load: Callable[[Path], Any], extensions: tuple[str, ...] = (),
                    sniff: Callable[[Path], bool] | None = None) -> None:
    """Add (or replace) a loader: ``load(path)`` returns a model object with ``predict``
    (and maybe ``predict_proba``), which runs batched like the built-in runtimes, or a
    plain callable, which is called like a python node's impl.

    ``extensions`` (e.g. ``(".pt",)``) pick this loader for those files. When several
    loaders claim an extension, the latest registered whose ``sniff(path)`` is true wins,
    else the latest registered without ``sniff``.
    """
    _LOADERS[name] = load
    for ext in extensions:
        claims = [c for c in _BY_EXTENSION.get(ext.lower(), []) if c[0] != name]
        _BY_EXTENSION[ext.lower()] = [(name, sniff), *claims]


def loader_names() -> list[str]:
    """The registered loader names, sorted."""
    return sorted(_LOADERS)


def extensions() -> list[str]:
    """The file extensions some loader claims, sorted."""
    return sorted(_BY_EXTENSION)


def choose_loader(path: str | Path, loader: str | None = None) -> str | None:
    """The loader for ``path``: ``loader`` if given (checked), else by extension and content."""
    if loader is not None:
        if loader not in _LOADERS:
            raise ModelLoadError(f"unknown loader {loader!r}; loaders are {', '.join(loader_names())}")
        return loader
    path = Path(path)
    claims = _BY_EXTENSION.get(path.suffix.lower(), [])
    for name, sniff in claims:
        if sniff is not None and sniff(path):
            return name
    plain = [name for name, sniff in claims if sniff is None]
    return plain[0] if plain else None


def load_model(path: str | Path, loader: str | None = None) -> Any:
    """Load the artifact at ``path`` with its loader (the model object, not yet batched)."""
    path = Path(path)
    name = choose_loader(path, loader)
    if name is None:
        raise ModelLoadError(f"no loader for {path.name!r}; known extensions: {', '.join(extensions())} "
                             "(or set the node's `loader`)")
    try:
        return _LOADERS[name](path)
    except ModelLoadError:
        raise
    except ImportError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"cannot load {str(path)!r} with loader {name!r}: {exc}") from exc


def build_runner(model: Any, method: str | None = None, name: str = "model") -> Any:
    """The per-replica callable for a loaded model: a batched ModelRunner for objects
    with ``predict``/``predict_proba``, the callable itself otherwise."""
    from .runner import METHODS, MethodPredictor, ModelRunner

    method = method or "predict"
    if method not in METHODS:
        raise ModelLoadError(f"got {method!r} for method; expected one of {', '.join(METHODS)}")
    if callable(getattr(model, "predict", None)) or callable(getattr(model, method, None)):
        return ModelRunner(MethodPredictor(model, method), name)
    if callable(model):
        return model
    raise ModelLoadError(f"{type(model).__name__} has no {method}() method and is not callable")


register_loader("json", load_linear_json, (".json",))
register_loader("pickle", load_pickle)
register_loader("sklearn", load_sklearn, (".joblib", ".pkl", ".pickle"))
register_loader("onnx", load_onnx, (".onnx",))
register_loader("xgboost", load_xgboost, (".json",), sniff=looks_like_xgboost_json)
register_loader("xgboost", load_xgboost, (".ubj", ".bst"))
