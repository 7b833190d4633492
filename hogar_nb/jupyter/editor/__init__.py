"""The drag-and-drop graph editor: ``hogar_nb.edit(graph)`` or ``graph.edit()``.

It edits the Graph object it is given in place (a new one when given nothing, or
the graph of an EARG/UDGL file when given a path), so the notebook variable always
shows the edited graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .widget import GraphEditor

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph

__all__ = ["GraphEditor", "edit", "open_graph"]


def open_graph(source: "Graph | str | Path | None") -> tuple["Graph", str | None]:
    """The Graph to edit and, for an EARG file, the path to save it back to."""
    from ...core.graph import Graph

    if source is None:
        return Graph(), None
    if isinstance(source, Graph):
        return source, None
    path = Path(source)
    if path.suffix.lower() == ".udgl":
        from ...core.udgl import parse_udgl

        return parse_udgl(path.read_text(encoding="utf-8")), None
    from ...core.earg import load_earg

    return load_earg(path), str(path)


def edit(graph: "Graph | str | Path | None" = None, *, path: str | None = None,
         variable: str | None = None, height: str = "440px") -> GraphEditor:
    """An editor widget for ``graph`` (a Graph, an EARG/``.udgl`` path, or None for a new graph).

    ``path``: where "Save EARG" writes (default: the file opened, else
    ``<name>.earg.yaml``); ``variable``: the name :meth:`GraphEditor.to_cell` binds.
    """
    g, opened = open_graph(graph)
    return GraphEditor(g, path=path or opened, variable=variable, height=height)
