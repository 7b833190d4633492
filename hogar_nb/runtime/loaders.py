"""Model nodes: turn a model node's ``impl`` (+ ``loader``, ``method``) into a factory of
per-replica callables. The artifacts' runtimes live in :mod:`hogar_nb.models`
(imported when a model node starts); this module keeps the runtime's side: picklable
factories, friendly start-up errors, and the node's name in them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..core.kinds import MODEL_METHODS
from .errors import DeploymentConfigError
from .impls import import_target

__all__ = ["LinearModel", "ModelObjectRef", "ModelRef", "loader_names", "model_factory", "register_loader"]


def register_loader(name: str, load: Callable[[Path], Any], extensions: tuple[str, ...] = (),
                    sniff: Callable[[Path], bool] | None = None) -> None:
    """Add a loader (see :func:`hogar_nb.models.register_loader`)."""
    from ..models.registry import register_loader as register

    register(name, load, extensions, sniff)


def loader_names() -> list[str]:
    """The registered loader names, sorted."""
    from ..models.registry import loader_names as names

    return names()


def __getattr__(name: str) -> Any:
    if name == "LinearModel":
        from ..models.linear import LinearModel

        return LinearModel
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _runner(node: str, obj: Any, method: str | None) -> Callable[[Any], Any]:
    from ..models.errors import ModelError
    from ..models.registry import build_runner

    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception as exc:
            raise DeploymentConfigError(f"node {node!r}: constructing {obj.__name__}() failed: {exc!r}") from exc
    try:
        return build_runner(obj, method, node)
    except ModelError as exc:
        raise DeploymentConfigError(f"node {node!r}: {exc}") from None


@dataclass(frozen=True)
class ModelRef:
    """A model artifact to load in each replica (picklable)."""

    node: str
    path: str
    loader: str | None
    method: str | None = None

    def create(self) -> Callable[[Any], Any]:
        from ..models.errors import ModelError
        from ..models.registry import load_model

        try:
            obj = load_model(self.path, self.loader)
        except (ModelError, ImportError) as exc:
            raise DeploymentConfigError(f"node {self.node!r}: {exc}") from None
        return _runner(self.node, obj, self.method)


@dataclass(frozen=True)
class ModelObjectRef:
    """A model given as an object (a notebook name) or as ``"module:attr"``."""

    node: str
    target: Any
    method: str | None = None

    def create(self) -> Callable[[Any], Any]:
        obj = import_target(self.node, self.target) if isinstance(self.target, str) else self.target
        return _runner(self.node, obj, self.method)


def model_factory(node: str, impl: Any, loader: str | None, base_dir: Path,
                  namespace: Any = None, method: str | None = None) -> Any:
    """The factory for a model node; raises a friendly error for unknown formats."""
    from ..models.errors import ModelLoadError
    from ..models.registry import choose_loader, extensions, loader_names as names

    if method is not None and method not in MODEL_METHODS:
        raise DeploymentConfigError(f"model node {node!r}: got {method!r} for method; "
                                    "expected predict, predict_proba or transform")
    if impl is not None and not isinstance(impl, str):
        return ModelObjectRef(node, impl, method)
    if not isinstance(impl, str) or not impl:
        raise DeploymentConfigError(f"model node {node!r} needs an impl (artifact path or module:attr)")
    path = Path(impl)
    suffix = path.suffix.lower()
    if loader is None and ":" in impl and suffix not in extensions():
        import_target(node, impl)  # fail early with a friendly message
        return ModelObjectRef(node, impl, method)
    if loader is None and not suffix and namespace is not None and impl in namespace:
        return ModelObjectRef(node, namespace[impl], method)
    full = path if path.is_absolute() else base_dir / path
    try:
        name = choose_loader(full, loader)
    except ModelLoadError as exc:
        raise DeploymentConfigError(f"model node {node!r}: {exc}") from None
    if name is None:
        raise DeploymentConfigError(
            f"model node {node!r}: unknown file extension {path.suffix or '(none)'!r} for {impl!r}; "
            f"expected one of {', '.join(extensions())} (loaders: {', '.join(names())}), "
            "a `loader`, or a module:attr impl")
    if not full.exists():
        raise DeploymentConfigError(f"model node {node!r}: artifact {str(full)!r} does not exist")
    return ModelRef(node, str(full.resolve()), name if loader is not None else None, method)
