"""The Jupyter layer: ``%%udgl`` / ``%hogar`` magics and the interactive graph view.

Loaded by ``%load_ext hogar_nb``; nothing below ``hogar_nb.jupyter`` is imported by
``import hogar_nb``. Loading registers the magics, the kernel's Tab completion of
``%%udgl`` cells, and a display for :class:`~hogar_nb.core.graph.Graph`, so
``display(g)`` or ``g`` as a cell's last line shows the same view as ``%%udgl``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol

__all__ = ["GraphEditor", "GraphView", "load_ipython_extension", "unload_ipython_extension"]


def __getattr__(name: str) -> Any:
    if name == "GraphView":
        from .graph_view import GraphView

        return GraphView
    if name == "GraphEditor":
        from .editor import GraphEditor

        return GraphEditor
    raise AttributeError(f"module 'hogar_nb.jupyter' has no attribute {name!r}")


def _edit(graph: Any = None, **options: Any) -> Any:
    from .editor import edit

    return edit(graph, **options)


def _monitor(deployment: DeploymentProtocol, **options: Any) -> Any:
    from .monitor import monitor

    return monitor(deployment, **options)


def _report(deployment: DeploymentProtocol, **options: Any) -> Any:
    from .monitor import report

    return report(deployment, **options)


def _waterfall(trace: Any, **options: Any) -> Any:
    from .trace_view import waterfall

    return waterfall(trace, **options)


def _register_frontends() -> None:
    from .._frontends import register_frontend

    register_frontend("edit", _edit)
    register_frontend("monitor", _monitor)
    register_frontend("report", _report)
    register_frontend("waterfall", _waterfall)


_register_frontends()


def _graph_mimebundle(graph: Any) -> dict:
    from .graph_view import GraphView

    return GraphView(graph)._repr_mimebundle_()


def load_ipython_extension(ipython: Any) -> None:
    """Register the magics, the ``%%udgl`` completer and the Graph display on ``ipython``."""
    from ..core.graph import Graph
    from . import completer
    from .magics import HogarMagics

    ipython.register_magics(HogarMagics)
    completer.register(ipython)
    ipython.display_formatter.mimebundle_formatter.for_type(Graph, _graph_mimebundle)


def unload_ipython_extension(ipython: Any) -> None:
    """Remove the completer and the Graph display; IPython has no API to unregister
    magics, they stay."""
    from ..core.graph import Graph
    from . import completer

    completer.unregister(ipython)
    ipython.display_formatter.mimebundle_formatter.pop(Graph, None)
