"""Where nodes go: a layered left-to-right layout and free spots for new nodes.

Computed in Python so the editor always knows every position and the canvas can
use cytoscape's "preset" layout: nothing moves unless the user or "auto-layout" moves it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph

__all__ = ["COLUMN", "ROW", "free_spot", "layered_positions"]

COLUMN = 150.0  # horizontal distance between layers
ROW = 90.0  # vertical distance between nodes of a layer
ORIGIN = (60.0, 60.0)

Point = tuple[float, float]


def _layers(graph: "Graph") -> list[list[str]]:
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(e.key for e in graph.edges)
    order = {n: i for i, n in enumerate(graph.nodes)}
    if not nx.is_directed_acyclic_graph(g):  # with a cycle, keep edges that go forward in declaration order
        g.remove_edges_from([(u, v) for u, v in list(g.edges) if order[u] >= order[v]])
    return [sorted(layer, key=order.__getitem__) for layer in nx.topological_generations(g)]


def layered_positions(graph: "Graph") -> dict[str, Point]:
    """Each node's position: one column per topological layer, centred rows."""
    layers = _layers(graph)
    tallest = max((len(layer) for layer in layers), default=0)
    out: dict[str, Point] = {}
    for col, layer in enumerate(layers):
        top = ORIGIN[1] + (tallest - len(layer)) * ROW / 2
        for row, name in enumerate(layer):
            out[name] = (ORIGIN[0] + col * COLUMN, top + row * ROW)
    return out


def free_spot(taken: dict[str, Point], near: Point | None = None) -> Point:
    """A spot no node occupies: right of ``near`` (then below it), else right of everything."""
    def busy(p: Point) -> bool:
        return any(abs(p[0] - q[0]) < COLUMN / 2 and abs(p[1] - q[1]) < ROW / 2 for q in taken.values())

    if near is None:
        if not taken:
            return ORIGIN
        right = max(p[0] for p in taken.values())
        near = (right, min(p[1] for p in taken.values() if p[0] == right))
    x, y = near[0] + COLUMN, near[1]
    for step in range(200):  # y, y + ROW, y - ROW, y + 2 ROW, ...
        offset = (step + 1) // 2 * ROW * (1 if step % 2 else -1)
        if not busy((x, y + offset)):
            return (x, y + offset)
    return (x, y)
