"""What the mouse does on the canvas: select, move, connect, and point at problems.

A node's ``mouseup`` carries the node's position, so in move mode it says where the
node was dropped; in connect mode (nodes not grabbable) a ``mousedown`` on one node
and a ``mouseup`` on another draw an edge, and two clicks do too.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from ..subgraph_view import Folding, instance_of

if TYPE_CHECKING:  # pragma: no cover
    from .widget import GraphEditor

__all__ = ["CanvasInteraction"]

Point = tuple[float, float]


class CanvasInteraction:
    """Canvas event handlers of :class:`~.widget.GraphEditor` (a mixin)."""

    @staticmethod
    def _event_node(event: dict) -> tuple[str | None, Point | None]:
        data = event.get("data") or {}
        pos = event.get("position")
        point = (float(pos["x"]), float(pos["y"])) if pos and "x" in pos else None
        return data.get("id"), point

    def _on_node_mousedown(self: "GraphEditor", event: dict) -> None:
        self._pressed = self._event_node(event)[0]

    def _on_node_mouseup(self: "GraphEditor", event: dict) -> None:
        name = self._event_node(event)[0]
        pressed, self._pressed = self._pressed, None
        if name not in self.graph.nodes:
            return
        if not self.connect_mode:
            self._keep_drop(event)
        elif pressed is not None and pressed != name and pressed in self.graph.nodes:
            self.connect_source = None
            self.connect(pressed, name)  # dragged from one node to another
        elif self.connect_source is None:
            self.connect_source = name
            self.selection = ("node", name)
            self.say(f"from `{name}`: now click (or drag to) the target node")
            self.refresh()
        elif self.connect_source != name:
            src, self.connect_source = self.connect_source, None
            self.connect(src, name)
        else:
            self.connect_source = None
            self.refresh()

    def _keep_drop(self: "GraphEditor", event: dict) -> None:
        name, point = self._event_node(event)
        if name in self.graph.nodes and point is not None:
            old = self.positions[name]
            if abs(old[0] - point[0]) > 0.5 or abs(old[1] - point[1]) > 0.5:
                self.move(name, *point)

    def _on_node_click(self: "GraphEditor", event: dict) -> None:
        name = self._event_node(event)[0]
        instance = instance_of(name)
        if instance is not None:  # a subgraph's box, or the node a collapsed one is drawn as
            self.subgraph.show(instance, Folding(self.graph, self.collapsed), self.graph.base_dir)
        elif not self.connect_mode and name in self.graph.nodes:
            self.select(("node", name))

    def toggle_instance(self: "GraphEditor", instance: str) -> None:
        """Collapse subgraph ``instance`` into one node, or expand it back into its box."""
        self.collapsed ^= {instance}
        if self.selection is not None and self.selection[0] == "node" and self.selection[1] in self.graph.nodes \
                and Folding(self.graph, self.collapsed).shown(self.selection[1]) != self.selection[1]:
            self.selection = None  # the selected node went into the collapsed box
        self.refresh()

    def _on_hover(self: "GraphEditor", event: dict) -> None:
        self.hovered = (event.get("data") or {}).get("id")
        self.show_hovered()

    def _on_hover_end(self: "GraphEditor", event: dict) -> None:
        self.hovered = None
        self.show_hovered()

    def show_hovered(self: "GraphEditor") -> None:
        """The problems of the element under the mouse (kept current as the graph changes)."""
        state = self.canvas.state()
        element = state["nodes"].get(self.hovered) or next(
            (e for e in state["edges"].values() if e["id"] == self.hovered), None) if self.hovered else None
        problems = (element or {}).get("problems") or ""  # the element's diagnostics, one per line
        if not problems:
            self.hover.value = ""
            return
        what = str(self.hovered).replace("->", " → ")
        self.hover.value = (f'<div class="hogar-editor-hover" style="font-size:12px;background:#fff3f3;'
                            f'padding:2px 6px"><b>{escape(what)}</b>: '
                            f'{"<br>".join(escape(line) for line in problems.splitlines())}</div>')

    def _on_edge_click(self: "GraphEditor", event: dict) -> None:
        data = event.get("data") or {}
        key = (data.get("source"), data.get("target"))
        if self._exists(("edge", key)):
            self.select(("edge", key))
