"""Model runtimes: load an artifact once per replica and predict on a batch of rows.

Built in: scikit-learn (``.joblib``, ``.pkl``, ``.pickle``), ONNX Runtime (``.onnx``),
XGBoost (``.ubj``, ``.bst`` and XGBoost's JSON, recognised by content) and a tiny JSON
linear model; :func:`register_loader` adds others. The heavy libraries are the
optional extra ``hogar_nb[models]`` and load only when a node needs them.
Submodules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import MissingExtraError, ModelError, ModelInputError, ModelLoadError

if TYPE_CHECKING:  # pragma: no cover
    from .linear import LinearModel
    from .registry import build_runner, choose_loader, load_model, loader_names, register_loader
    from .runner import ModelRunner

__all__ = [
    "LinearModel",
    "MissingExtraError",
    "ModelError",
    "ModelInputError",
    "ModelLoadError",
    "ModelRunner",
    "build_runner",
    "choose_loader",
    "load_model",
    "loader_names",
    "register_loader",
]

_WHERE = {
    "LinearModel": "linear",
    "ModelRunner": "runner",
    "build_runner": "registry",
    "choose_loader": "registry",
    "load_model": "registry",
    "loader_names": "registry",
    "register_loader": "registry",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'hogar_nb.models' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
