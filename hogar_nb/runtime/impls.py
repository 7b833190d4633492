"""Resolve a node's ``impl`` into a picklable factory of per-replica callables."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from .errors import DeploymentConfigError

__all__ = ["ImportRef", "Shipped", "as_callable", "import_target", "resolve_target", "shipped"]


def import_target(node: str, spec: str) -> Any:
    """Import ``"module:attr"`` (``attr`` may be dotted)."""
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr or module_name.startswith(".") or "" in attr.split("."):
        raise DeploymentConfigError(
            f"node {node!r}: impl {spec!r} is not of the form \"module:attr\" (an absolute module "
            "name, a colon, then a name in it)")
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise DeploymentConfigError(
            f"node {node!r}: cannot import module {module_name!r} for impl {spec!r}: {exc}"
        ) from exc
    except Exception as exc:  # a syntax error or a failing import in the user's module
        raise DeploymentConfigError(
            f"node {node!r}: importing module {module_name!r} for impl {spec!r} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise DeploymentConfigError(
                f"node {node!r}: module {module_name!r} has no attribute {attr!r} (impl {spec!r})"
            ) from None
    return obj


def resolve_target(node: str, impl: Any, namespace: Mapping[str, Any] | None) -> Any:
    """The object an impl names: a callable, ``"module:attr"`` or a namespace name."""
    if not isinstance(impl, str):
        if impl is None:
            raise DeploymentConfigError(f"node {node!r} has no impl")
        return impl
    if ":" in impl:
        return import_target(node, impl)
    if namespace is not None and impl in namespace:
        return namespace[impl]
    raise DeploymentConfigError(undefined_name(node, impl, namespace))


def in_notebook() -> bool:
    """True inside a Jupyter kernel (the advice for a missing name differs)."""
    import sys

    ipython = sys.modules.get("IPython")  # never imported here: only looked up
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def undefined_name(node: str, impl: str, namespace: Mapping[str, Any] | None) -> str:
    """Why a bare-name impl has nothing to run, with advice that fits where the user is."""
    if in_notebook():
        where = ("is not defined in the notebook: define it (a function, a class, or an object "
                 "with a predict method) in a cell above" if namespace is not None else
                 "names a notebook object, but no namespace was given: pass namespace=globals() "
                 "to run(), or use %%udgl --run")
        return f"node {node!r}: impl {impl!r} {where}, or write it as \"module:attr\""
    if namespace is not None:
        return (f"node {node!r}: impl {impl!r} is not in the namespace given to run(); add it, or "
                f"write it as \"module:attr\"")
    return (f"node {node!r}: impl {impl!r} is a bare name, which only a notebook can resolve; "
            f"write it as \"module:attr\" (a module importable from the graph file's folder or "
            f"PYTHONPATH), e.g. impl = \"mymodule:{impl}\"")


def as_callable(node: str, obj: Any) -> Callable[[Any], Any]:
    """An instance's ``predict`` if it has one, else the object itself if callable."""
    predict = getattr(obj, "predict", None)
    if callable(predict):
        return predict
    if callable(obj):
        return obj
    raise DeploymentConfigError(
        f"node {node!r}: impl {obj!r} is neither callable nor has a predict method"
    )


@dataclass(frozen=True)
class ImportRef:
    """An impl target: a ``"module:attr"`` string (imported lazily) or an object.

    ``create()`` instantiates a class once per replica, otherwise returns the
    callable. Picklable when the target is a string or an importable object.
    """

    node: str
    target: Any
    namespace: Any = None

    def create(self) -> Callable[[Any], Any]:
        obj = resolve_target(self.node, self.target, self.namespace)
        if isinstance(obj, type):
            try:
                obj = obj()
            except Exception as exc:
                raise DeploymentConfigError(
                    f"node {self.node!r}: constructing {obj.__name__}() failed: {exc!r}"
                ) from exc
        return as_callable(self.node, obj)

    def for_process(self) -> "ImportRef":
        """A copy without the namespace (only the target crosses the process boundary)."""
        target = self.target
        if isinstance(target, str) and ":" not in target:
            target = resolve_target(self.node, target, self.namespace)
        return ImportRef(self.node, target)


@dataclass(frozen=True)
class Shipped:
    """A factory serialised with cloudpickle, for a process replica: functions and
    classes defined in a notebook (``__main__``) travel by value, as Ray ships them."""

    node: str
    blob: bytes

    def create(self) -> Callable[[Any], Any]:
        import pickle

        return pickle.loads(self.blob).create()


def shipped(node: str, factory: Any) -> Shipped:
    """``factory`` serialised for a process replica, or DeploymentConfigError saying why not."""
    import cloudpickle

    try:
        return Shipped(node, cloudpickle.dumps(factory))
    except Exception as exc:
        raise DeploymentConfigError(
            f"node {node!r}: its impl cannot be shipped to a process replica (isolation = process): "
            f"{type(exc).__name__}: {exc}. Use an impl that can be pickled, an importable "
            f"\"module:attr\", or isolation = thread"
        ) from exc
