"""hogar_nb: author, check, export, run and monitor ML serving graphs, Jupyter-native.

``import hogar_nb`` is light: the core loads on first use and the Jupyter layer only
on ``%load_ext hogar_nb``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import dispatch as _dispatch  # noqa: F401  (registers the HTTP front of deployments)
from ._version import __version__
from .errors import (
    DiagnosticError,
    EARGError,
    GraphEditError,
    HogarError,
    HogarRuntimeError,
    UDGLError,
)

if TYPE_CHECKING:  # pragma: no cover
    from .core.diagnostics import Diagnostic
    from .core.earg import dump_earg, earg_schema, load_earg, loads_earg
    from .core.graph import Graph
    from .core.model import Edge, Node
    from .core.udgl import parse_udgl
    from .dispatch import run
    from .runtime import Deployment

__all__ = sorted(
    [
        "Deployment",
        "Diagnostic",
        "DiagnosticError",
        "EARGError",
        "Edge",
        "Graph",
        "GraphEditError",
        "HogarError",
        "HogarRuntimeError",
        "Node",
        "UDGLError",
        "__version__",
        "dump_earg",
        "earg_schema",
        "edit",
        "load_earg",
        "loads_earg",
        "monitor",
        "parse_udgl",
        "run",
    ]
)

_LAZY = {
    "Diagnostic": "hogar_nb.core.diagnostics",
    "Graph": "hogar_nb.core.graph",
    "Node": "hogar_nb.core.model",
    "Edge": "hogar_nb.core.model",
    "parse_udgl": "hogar_nb.core.udgl",
    "dump_earg": "hogar_nb.core.earg",
    "load_earg": "hogar_nb.core.earg",
    "loads_earg": "hogar_nb.core.earg",
    "earg_schema": "hogar_nb.core.earg",
    "run": "hogar_nb.dispatch",
    "Deployment": "hogar_nb.runtime",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hogar_nb' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


def edit(graph: "Graph | None" = None, **options: Any) -> Any:
    """Open ``graph`` (or a new one) in the drag-and-drop editor widget."""
    from .jupyter.editor import edit as _edit

    return _edit(graph, **options)


def monitor(target: Any, **options: Any) -> Any:
    """Live panels for a Deployment, or a Prometheus URL such as ``dep.serve_metrics()``'s
    (``monitor("http://127.0.0.1:9100/metrics", graph=g)``); needs the Jupyter extra."""
    from .jupyter.monitor import monitor as _monitor

    return _monitor(target, **options)


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext hogar_nb``: register the magics and the Graph display."""
    from .jupyter import load_ipython_extension as _load

    _load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    from .jupyter import unload_ipython_extension as _unload

    _unload(ipython)
