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

__all__ = ["GraphEditor", "edit", "open_graph", "read_udgl"]


def open_graph(source: "Graph | str | Path | None") -> tuple["Graph", str | None]:
    """The Graph to edit and, for an EARG file, the path to save it back to.

    A ``.udgl`` file with errors still opens: its graph as far as it was understood,
    which the editor shows with its problems marked, as it does any graph with
    errors (:func:`read_udgl` also returns what could not be drawn).
    """
    from ...core.graph import Graph

    if source is None:
        return Graph(), None
    if isinstance(source, Graph):
        return source, None
    path = Path(source)
    if path.suffix.lower() == ".udgl":
        return read_udgl(path)[0], None
    from ...core.earg import load_earg

    return load_earg(path), str(path)


def read_udgl(path: Path) -> tuple["Graph", list]:
    """The graph of a ``.udgl`` file and its diagnostics; an empty graph when the text
    does not parse (the diagnostics say why)."""
    from ...core.graph import Graph
    from ...core.udgl import compile_udgl

    graph, diags = compile_udgl(path.read_text(encoding="utf-8"))
    if graph is None:
        graph = Graph()
    graph.adopt_name(path.name.split(".")[0])
    return graph, diags


def edit(graph: "Graph | str | Path | None" = None, *, path: str | None = None,
         variable: str | None = None, height: str = "440px") -> GraphEditor:
    """An editor widget for ``graph`` (a Graph, an EARG/``.udgl`` path, or None for a new graph).

    ``path``: where "Save EARG" writes (default: the file opened, else
    ``<name>.earg.yaml``); with no ``graph``, an existing ``path`` is opened.
    ``variable``: the name :meth:`GraphEditor.to_cell` binds.
    """
    if graph is None and path is not None and Path(path).is_file():
        graph = path
    diags: list = []
    if isinstance(graph, (str, Path)) and Path(graph).suffix.lower() == ".udgl":
        g, diags = read_udgl(Path(graph))
        opened = None
    else:
        g, opened = open_graph(graph)
    editor = GraphEditor(g, path=path or opened, variable=variable, height=height)
    unread = [d for d in diags if d.is_error] if not g.nodes else []
    if unread:  # nothing to draw: say why in the editor instead of a traceback
        first = unread[0]
        editor.say(f"{Path(str(graph)).name} does not parse (line {first.line}): {first.message}", error=True)
    return editor
