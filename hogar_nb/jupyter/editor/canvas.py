"""The editor's cytoscape canvas, changed one node or edge at a time.

:meth:`EditorCanvas.sync` builds the elements the graph should show and hands them
to the :class:`~..cytoscape_canvas.CytoscapeCanvas`, which sends only what differs,
so the page never re-runs a layout that would move nodes: every node carries its
position.

In the page the canvas element has the classes ``hogar-graph-canvas`` (so the
helpers written for the graph view find it) and ``hogar-editor-canvas``; its
cytoscape instance is ``element._cyreg.cy``. The view (zoom and pan) is set in the
page from the canvas's real size: the whole graph when shown, resized and on Fit,
and a node added outside the view brings the view along.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

import ipywidgets as widgets

from ..cytoscape_canvas import CytoscapeCanvas
from ..graph_view import edge_label, node_label
from ..subgraph_view import FOLDED_CLASS, Folding
from ..style import CANVAS_CLASS, cytoscape_stylesheet

if TYPE_CHECKING:  # pragma: no cover
    from ...core.graph import Graph
    from .validation import Validation

__all__ = ["EDITOR_CANVAS_CLASS", "EditorCanvas", "edge_id", "edge_label"]

EDITOR_CANVAS_CLASS = "hogar-editor-canvas"
Point = tuple[float, float]
EdgeKey = tuple[str, str]

_EDITOR_RULES = [
    {"selector": "node.editor-selected, edge.editor-selected",
     "style": {"overlay-color": "#1e88e5", "overlay-opacity": 0.25, "overlay-padding": 6}},
    {"selector": "node.connect-source",
     "style": {"border-width": 4, "border-style": "double", "border-color": "#1e88e5"}},
    {"selector": "edge", "style": {"width": 2.5}},  # wider edges are easier to click
]
#: the whole graph, never past 100%; a node added outside the view brings the view along
EDITOR_FRAMING = {"policy": "whole", "fit_policy": "whole", "max_zoom": 1.0, "padding": 30.0, "on_add": "follow"}


def edge_id(key: EdgeKey) -> str:
    return f"{key[0]}->{key[1]}"


class EditorCanvas:
    """Owns the canvas widget and what it shows of the graph: nodes, edges and boxes."""

    def __init__(self, height: str = "440px") -> None:
        self.widget = CytoscapeCanvas(
            [], cytoscape_stylesheet() + _EDITOR_RULES, height=height,
            canvas_class=f"{CANVAS_CLASS} {EDITOR_CANVAS_CLASS}", framing=EDITOR_FRAMING,
            options={"minZoom": 0.1, "maxZoom": 1.6, "wheelSensitivity": 0.3},
            layout=widgets.Layout(flex="1 1 auto", width="100%", min_width="200px", height=height,
                                  border="1px solid #ddd"))
        self.nodes: dict[str, dict] = {}
        self.edges: dict[EdgeKey, dict] = {}
        #: a box per subgraph instance (compound nodes), around the nodes it expanded into
        self.boxes: dict[str, dict] = {}

    def fit(self) -> None:
        """Show the whole graph, at 100% at most, in the canvas as the page sizes it now."""
        self.widget.fit()

    def on(self, target: str, event: str, callback: Callable[[dict], Any]) -> None:
        self.widget.on(target, event, callback)

    def set_grabbable(self, on: bool) -> None:
        """Nodes follow the mouse (move mode) or stay put (connect mode)."""
        self.widget.grabbable = bool(on)

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
        # boxes first: a node's parent is on the canvas before the node; a box is not
        # dragged (its nodes are, one by one, and keep their own positions)
        self.boxes = {box["id"]: {"data": box, "classes": _folded("subgraph", folding.box_drawn(box)),
                                  "grabbable": False} for box in folding.all_boxes}
        for data, where, drawn in folding.stand_ins(positions):
            box = {"data": data, "classes": _folded("subgraph-collapsed", drawn), "grabbable": False}
            if where is not None:
                box["position"] = {"x": where[0], "y": where[1]}
            self.boxes[data["id"]] = box
        self.nodes = {}
        for name, node in graph.nodes.items():
            classes = _folded(" ".join(filter(None, (f"kind-{node.kind}", _diag(validation.node_level(name)),
                                                     marks.get(name)))), folding.shown(name) == name)
            data = {"id": name, "label": node_label(name, resolved.get(name)), "kind": node.kind,
                    "problems": validation.node_problems(name)}
            if node.origin is not None and node.origin.get("use"):
                data["parent"] = f"use:{node.origin['use']}"
            x, y = positions[name]
            self.nodes[name] = {"data": data, "classes": classes, "position": {"x": x, "y": y}}
        # every edge some folding draws: folding changes classes only
        self.edges = {}
        for key, edge in folding.all_edges().items():
            classes = _folded(" ".join(filter(None, ("directed", _diag(validation.edge_level(key)) if edge else None,
                                                     marks.get(edge_id(key))))), key in drawn_edges)
            data = {"id": edge_id(key), "source": key[0], "target": key[1],
                    "label": edge_label(edge) if edge else "",
                    "problems": validation.edge_problems(key) if edge else ""}
            self.edges[key] = {"data": data, "classes": classes}
        self.widget.set_elements([*self.boxes.values(), *self.nodes.values(), *self.edges.values()])

    def state(self) -> dict:
        """What the canvas holds, as plain data (what the tests compare with the page)."""
        shown = {el["data"]["id"]: el for el in self.widget.snapshot()}
        return {
            "nodes": {n: {"classes": shown[n]["classes"].split(), "position": dict(shown[n]["position"]),
                          **shown[n]["data"]} for n in self.nodes},
            "edges": {k: {"classes": shown[edge_id(k)]["classes"].split(), **shown[edge_id(k)]["data"]}
                      for k in self.edges},
        }


def _folded(classes: str, drawn: bool) -> str:
    return classes if drawn else f"{classes} {FOLDED_CLASS}"


def _diag(level: str | None) -> str | None:
    return f"diag-{level}" if level else None
