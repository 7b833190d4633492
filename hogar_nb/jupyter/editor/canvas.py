"""The editor's ipycytoscape canvas, changed one node or edge at a time.

:meth:`EditorCanvas.sync` compares the canvas with the graph and adds, removes or
updates only what differs, so the frontend never re-runs a layout that would move
nodes: the layout is cytoscape's "preset" and every node carries its position.

In the page the canvas element has the classes ``hogar-graph-canvas`` (so the
helpers written for the graph view find it) and ``hogar-editor-canvas``; its
cytoscape instance is ``element._cyreg.cy``. The view (zoom and pan) is set in the
page by a :class:`~..viewport.CanvasViewport` from the canvas's real size.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import ipycytoscape
import ipywidgets as widgets

from ..graph_view import edge_label, node_label
from ..subgraph_view import FOLDED_CLASS, Folding
from ..style import CANVAS_CLASS, cytoscape_stylesheet
from ..viewport import CanvasViewport

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph
    from .validation import Validation

__all__ = ["EDITOR_CANVAS_CLASS", "EditorCanvas", "edge_id", "edge_label"]

EDITOR_CANVAS_CLASS = "hogar-editor-canvas"
Point = tuple[float, float]
EdgeKey = tuple[str, str]
_SEQ = iter(range(1, 1 << 62))

_EDITOR_RULES = [
    {"selector": "node.editor-selected, edge.editor-selected",
     "style": {"overlay-color": "#1e88e5", "overlay-opacity": 0.25, "overlay-padding": 6}},
    {"selector": "node.connect-source",
     "style": {"border-width": 4, "border-style": "double", "border-color": "#1e88e5"}},
    {"selector": "edge", "style": {"width": 2.5}},  # wider edges are easier to click
]


def edge_id(key: EdgeKey) -> str:
    return f"{key[0]}->{key[1]}"


class EditorCanvas:
    """Owns the CytoscapeWidget and the ipycytoscape elements mirroring the graph."""

    def __init__(self, height: str = "440px") -> None:
        self.widget = ipycytoscape.CytoscapeWidget(
            layout=widgets.Layout(flex="1 1 auto", width="100%", min_width="200px", height=height,
                                  border="1px solid #ddd"))
        self.nodes: dict[str, ipycytoscape.Node] = {}
        self.edges: dict[EdgeKey, ipycytoscape.Edge] = {}
        #: a box per subgraph instance (compound nodes), around the nodes it expanded into
        self.boxes: dict[str, ipycytoscape.Node] = {}
        with self.widget.hold_sync():
            self.widget.set_style(cytoscape_stylesheet() + _EDITOR_RULES)
            # every node carries its position; the view is the page's business (see below)
            self.widget.set_layout(name="preset", fit=False, animate=False)
            self.widget.min_zoom = 0.1
            self.widget.max_zoom = 1.6  # a small graph is not blown up to fill the canvas
            self.widget.wheel_sensitivity = 0.3
        self.widget.add_class(CANVAS_CLASS)
        self.widget.add_class(EDITOR_CANVAS_CLASS)
        target = f"hogar-editor-canvas-{next(_SEQ)}"
        self.widget.add_class(target)
        # framed in the page from the canvas's real size, again on resize, and when a new
        # node lands outside the view; otherwise adding nodes never moves the view
        self.viewport = CanvasViewport(target, policy="whole", fit_policy="whole", on_layout="follow",
                                       max_zoom=1.0, min_nodes=0, padding=30.0)

    def fit(self) -> None:
        """Show the whole graph, at 100% at most, in the canvas as the page sizes it now."""
        self.viewport.fit()

    def on(self, target: str, event: str, callback: Callable[[dict], Any]) -> None:
        self.widget.on(target, event, callback)

    def set_grabbable(self, on: bool) -> None:
        """Nodes follow the mouse (move mode) or stay put (connect mode)."""
        self.widget.auto_ungrabify = not on

    # ------------------------------------------------------------------ sync
    def sync(self, graph: "Graph", positions: dict[str, Point], validation: "Validation",
             marks: dict[str, str] | None = None, collapsed: frozenset[str] | set[str] = frozenset()) -> None:
        """Make the canvas show ``graph``; ``marks`` adds classes (selection, connect source);
        the subgraph instances in ``collapsed`` are drawn as one node each."""
        marks = marks or {}
        try:
            resolved = dict(graph.resolution().nodes)
        except Exception:  # noqa: BLE001 - a graph too broken to resolve is still drawn
            resolved = {}
        folding = Folding(graph, collapsed)
        drawn_edges = folding.edges()
        keys = folding.all_edges()  # every edge some folding draws: folding changes classes only
        cy = self.widget.graph
        with self.widget.hold_sync():
            for key in [k for k in self.edges if k not in keys]:
                cy.remove_edge(self.edges.pop(key))
            for name in [n for n in self.nodes if n not in graph.nodes]:
                cy.remove_node(self.nodes.pop(name))
            boxes = {box["id"]: (box, _folded("subgraph", folding.box_drawn(box)), None)
                     for box in folding.all_boxes}
            boxes.update({data["id"]: (data, _folded("subgraph-collapsed", drawn), where)
                          for data, where, drawn in folding.stand_ins(positions)})
            for box_id in [b for b in self.boxes if b not in boxes]:
                cy.remove_node(self.boxes.pop(box_id))
            # boxes first: a node's parent is on the canvas before the node; a box is not
            # dragged (its nodes are, one by one, and keep their own positions)
            new_boxes = []
            for box_id, (data, classes, where) in boxes.items():
                if box_id not in self.boxes:
                    self.boxes[box_id] = ipycytoscape.Node(data=data, classes=classes, grabbable=False)
                    if where is not None:
                        self.boxes[box_id].position = {"x": where[0], "y": where[1]}
                    new_boxes.append(self.boxes[box_id])
                    continue
                if dict(self.boxes[box_id].data) != data:
                    self.boxes[box_id].data = data
                if self.boxes[box_id].classes != classes:
                    self.boxes[box_id].classes = classes
                if where is not None and (self.boxes[box_id].position.get("x"),
                                          self.boxes[box_id].position.get("y")) != where:
                    self.boxes[box_id].position = {"x": where[0], "y": where[1]}
            if new_boxes:
                cy.add_nodes(new_boxes)
            new_nodes = []
            for name, node in graph.nodes.items():
                classes = _folded(" ".join(filter(None, (f"kind-{node.kind}", _diag(validation.node_level(name)),
                                                         marks.get(name)))), folding.shown(name) == name)
                data = {"id": name, "label": node_label(name, resolved.get(name)), "kind": node.kind,
                        "problems": validation.node_problems(name)}
                if node.origin is not None and node.origin.get("use"):
                    data["parent"] = f"use:{node.origin['use']}"
                x, y = positions[name]
                cy_node = self.nodes.get(name)
                if cy_node is None:
                    cy_node = ipycytoscape.Node(data=data, classes=classes, position={"x": x, "y": y})
                    self.nodes[name] = cy_node
                    new_nodes.append(cy_node)
                    continue
                if dict(cy_node.data) != data:
                    cy_node.data = data
                if cy_node.classes != classes:
                    cy_node.classes = classes
                if (cy_node.position.get("x"), cy_node.position.get("y")) != (x, y):
                    cy_node.position = {"x": x, "y": y}
            if new_nodes:
                cy.add_nodes(new_nodes)
            new_edges = []
            for key, edge in keys.items():
                classes = _folded(" ".join(filter(None, ("directed", _diag(validation.edge_level(key)) if edge else None,
                                                         marks.get(edge_id(key))))), key in drawn_edges)
                data = {"id": edge_id(key), "source": key[0], "target": key[1],
                        "label": edge_label(edge) if edge else "",
                        "problems": validation.edge_problems(key) if edge else ""}
                cy_edge = self.edges.get(key)
                if cy_edge is None:
                    cy_edge = ipycytoscape.Edge(data=data, classes=classes)
                    self.edges[key] = cy_edge
                    new_edges.append(cy_edge)
                    continue
                if dict(cy_edge.data) != data:
                    cy_edge.data = data
                if cy_edge.classes.strip() != classes:
                    cy_edge.classes = classes
            if new_edges:
                cy.add_edges(new_edges, directed=True)

    def state(self) -> dict:
        """What the canvas holds, as plain data (what the tests compare with the page)."""
        return {
            "nodes": {n: {"classes": c.classes.split(), "position": dict(c.position), **dict(c.data)}
                      for n, c in self.nodes.items()},
            "edges": {k: {"classes": c.classes.split(), **dict(c.data)} for k, c in self.edges.items()},
        }


def _folded(classes: str, drawn: bool) -> str:
    return classes if drawn else f"{classes} {FOLDED_CLASS}"


def _diag(level: str | None) -> str | None:
    return f"diag-{level}" if level else None
