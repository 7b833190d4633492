"""The graph view: a cytoscape canvas, a legend and a detail panel for one Graph.

The view only draws what the core computed: kinds and edges from the Graph, badges
and the detail panel from its resolution, markers from its diagnostics.

In the page, the canvas element has the CSS class :data:`~.style.CANVAS_CLASS`; the
cytoscape instance on it is ``element._cyreg.cy`` (cytoscape.js keeps its instance
there), which the browser tests use.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING, Any, Iterable

import ipywidgets as widgets

from ..errors import GraphEditError
from .cytoscape_canvas import CytoscapeCanvas
from .graph_layout import Drawing, layered_drawing, segment_data
from .node_details import udgl_rows
from .style import CANVAS_CLASS, DETAILS_CLASS, READABLE_ZOOM, KIND_STYLE, cytoscape_stylesheet, legend_html
from .subgraph_view import FOLDED_CLASS, Folding, SubgraphPanel, instance_of, subgraph_boxes

if TYPE_CHECKING:  # pragma: no cover
    from ..core.diagnostics import Diagnostic
    from ..core.graph import Graph

__all__ = ["GraphView", "node_label", "subgraph_boxes"]

_PLACEHOLDER = '<div style="color:#777;font-size:12px;line-height:1.35">Click a node to see its resolved attributes.</div>'


def node_label(name: str, resolved: Any) -> str:
    """``name`` plus a badge line: replicas and per-replica resources when they matter."""
    if resolved is None:
        return name
    from ..core.values import format_size

    badges = []
    if resolved.replicas != 1:
        badges.append(f"×{resolved.replicas}")
    if resolved.cpu:
        badges.append(f"{resolved.cpu:g} cpu")
    if resolved.gpu:
        badges.append(f"{resolved.gpu:g} gpu")
    if resolved.memory_bytes:
        badges.append(format_size(resolved.memory_bytes))
    return f"{name}\n{' · '.join(badges)}" if badges else name


def edge_label(edge: Any) -> str:
    """An edge's label on the canvas: its switch condition or its split share."""
    if edge.when is not None:
        return "*" if edge.when == "*" else f'when "{edge.when}"'
    if edge.weight is not None:
        return f"{edge.weight * 100:g}%"
    return ""


_MIN_HEIGHT, _MAX_HEIGHT = 220, 640  # px of the canvas when its height follows the drawing
#: layouts cytoscape.js has built in, besides "layered" (drawn in the kernel, the default)
LAYOUTS = ("breadthfirst", "circle", "concentric", "cose", "grid", "random")


class GraphView(widgets.VBox):
    """A Graph drawn left to right, with a legend and a click-to-inspect side panel.

    ``diagnostics`` defaults to ``graph.check()``; nodes and edges they name are
    outlined (red for errors, dashed amber for warnings). ``layout`` is "layered"
    (ranks left to right with edges routed around the nodes, the default) or a
    layout cytoscape.js has built in (:data:`LAYOUTS`, e.g. "breadthfirst"). Labels keep a
    readable size: the canvas grows with the drawing (``height`` None) up to
    640 px, and a larger graph is panned rather than shrunk. ``types`` labels every
    edge with the type it carries (clicking an edge or a node shows its types anyway).
    """

    def __init__(
        self,
        graph: "Graph",
        diagnostics: Iterable["Diagnostic"] | None = None,
        *,
        layout: str = "layered",
        height: str | None = None,
        types: bool = False,
    ) -> None:
        self.graph = graph
        self.show_types = types
        self.diagnostics = list(graph.check() if diagnostics is None else diagnostics)
        try:
            self._resolved = dict(graph.resolution().nodes)
        except Exception:  # a graph too broken to resolve is still drawn
            self._resolved = {}
        self.drawing: Drawing | None = None
        self.collapsed: set[str] = set()  # subgraph instances drawn as one node
        self.canvas = self._make_canvas(layout, height)
        # the details go under the canvas, so the drawing has the output's whole width
        self.details = widgets.HTML(_PLACEHOLDER, layout=widgets.Layout(width="100%"))
        self.details.add_class(DETAILS_CLASS)
        self.subgraph = SubgraphPanel(self.toggle_instance)
        header = widgets.HTML(self._header_html())
        legend = widgets.HTML(legend_html(sorted({n.kind for n in graph.nodes.values()}) or None))
        self.canvas.layout.width = "100%"
        super().__init__([header, legend, self.canvas, self.subgraph, self.details],
                         layout=widgets.Layout(width="100%"))
        self.add_class("hogar-graph-view")
        self.canvas.on("node", "tap", self._on_node_click)
        self.canvas.on("edge", "tap", self._on_edge_click)

    # ------------------------------------------------------------------ building
    def _marks(self) -> tuple[dict[str, str], dict[tuple[str, str], str]]:
        nodes: dict[str, str] = {}
        edges: dict[tuple[str, str], str] = {}
        for d in self.diagnostics:
            level = "error" if d.is_error else "warning"
            if d.node is not None and nodes.get(d.node) != "error":
                nodes[d.node] = level
            if d.edge is not None and edges.get(tuple(d.edge)) != "error":
                edges[tuple(d.edge)] = level
        return nodes, edges

    def _types(self) -> Any:
        """The graph's inferred types (computed once, when first shown)."""
        if not hasattr(self, "_type_report"):
            from ..core.types import TypeReport, infer_types

            try:
                self._type_report = infer_types(self.graph)
            except Exception:  # a graph too broken to resolve is still drawn, untyped
                self._type_report = TypeReport()
        return self._type_report

    def _make_canvas(self, layout: str, height: str | None) -> CytoscapeCanvas:
        if layout != "layered" and layout not in LAYOUTS:
            raise GraphEditError(f"got {layout!r} for layout; expected \"layered\" or one of {', '.join(LAYOUTS)}")
        all_placed = bool(self.graph.nodes) and all(n.position is not None for n in self.graph.nodes.values())
        self._labels = {name: node_label(name, self._resolved.get(name)) for name in self.graph.nodes}
        if layout == "layered" and not all_placed:
            self.drawing = layered_drawing(self.graph.nodes, [e.key for e in self.graph.edges], self._labels)
        self._positions = (self.drawing.positions if self.drawing is not None else
                           {name: n.position for name, n in self.graph.nodes.items() if n.position is not None})
        if height is None:
            drawn = self.drawing.height if self.drawing is not None else 400.0
            height = f"{int(min(max(drawn + 40, _MIN_HEIGHT), _MAX_HEIGHT))}px"
        if self.drawing is not None or all_placed or layout == "layered":
            arrange = {"name": "preset", "fit": False}  # framed in the page from the canvas's real size
        else:
            arrange = {"name": layout, "directed": True, "fit": False, "animate": False}
        # the view is framed readable: a large graph is panned rather than shrunk
        return CytoscapeCanvas(self._elements(Folding(self.graph)), cytoscape_stylesheet(), height=height,
                               layout_options=arrange, canvas_class=CANVAS_CLASS,
                               framing={"policy": "readable", "min_zoom": READABLE_ZOOM},
                               options={"minZoom": 0.05, "maxZoom": 4.0, "wheelSensitivity": 0.3},
                               layout=widgets.Layout(width="100%"))

    def _elements(self, folding: Folding) -> list[dict]:
        """The canvas's elements: every box, node, instance node and edge any folding
        draws, those ``folding`` does not draw in the class ``folded``."""
        node_marks, edge_marks = self._marks()
        positions = self._positions
        elements = [{"data": data, "classes": _folded("subgraph", folding.box_drawn(data))}
                    for data in folding.all_boxes]
        for data, where, drawn in folding.stand_ins(positions):
            stand_in: dict[str, Any] = {"data": data, "classes": _folded("subgraph-collapsed", drawn)}
            if where is not None:
                stand_in["position"] = {"x": where[0], "y": where[1]}
            elements.append(stand_in)
        for name, node in self.graph.nodes.items():
            classes = f"kind-{node.kind}"
            if name in node_marks:
                classes += f" diag-{node_marks[name]}"
            data = {"id": name, "label": self._labels[name], "kind": node.kind}
            if node.origin is not None and node.origin.get("use"):
                data["parent"] = f"use:{node.origin['use']}"
            element: dict[str, Any] = {"data": data, "classes": _folded(classes, folding.shown(name) == name)}
            if name in positions:
                element["position"] = {"x": positions[name][0], "y": positions[name][1]}
            elements.append(element)
        routes = self.drawing.routes if self.drawing is not None else {}
        drawn_edges = folding.edges()
        for key, edge in folding.all_edges().items():
            classes = "directed"
            data = {"id": f"{key[0]}->{key[1]}", "source": key[0], "target": key[1], "label": ""}
            if edge is not None:
                if edge.key in edge_marks:
                    classes += f" diag-{edge_marks[edge.key]}"
                label = edge_label(edge)
                if self.show_types and self._types().edges.get(edge.key) is not None:
                    label = " · ".join(filter(None, (label, str(self._types().edges[edge.key]))))
                data["label"] = label
                if edge.key in routes:
                    classes += " routed"
                    data.update(segment_data(positions[edge.src], positions[edge.dst], routes[edge.key]))
            elements.append({"data": data, "classes": _folded(classes, key in drawn_edges)})
        return elements

    # ------------------------------------------------------------------ subgraphs
    def collapse(self, instance: str) -> None:
        """Draw subgraph ``instance`` as one node, its outside edges drawn to and from it."""
        self._fold(self.collapsed | {instance})

    def expand(self, instance: str) -> None:
        """Draw subgraph ``instance``'s nodes again, in their box."""
        self._fold(self.collapsed - {instance})

    def toggle_instance(self, instance: str) -> None:
        (self.expand if instance in self.collapsed else self.collapse)(instance)

    def _fold(self, collapsed: set[str]) -> None:
        """Redraw with ``collapsed`` folded: only classes change (see subgraph_view)."""
        folding = Folding(self.graph, collapsed)
        self.collapsed = set(folding.collapsed)
        self.canvas.set_elements(self._elements(folding))
        self.subgraph.show(self.subgraph.instance, folding, self.graph.base_dir)

    def _header_html(self) -> str:
        g = self.graph
        n_err = sum(d.is_error for d in self.diagnostics)
        n_warn = sum(d.severity == "warning" for d in self.diagnostics)
        status = (
            f'<span style="color:#d32f2f">{n_err} error{"s" * (n_err != 1)}</span>'
            if n_err
            else '<span style="color:#2e7d32">no errors</span>'
        )
        if n_warn:
            status += f', <span style="color:#b28704">{n_warn} warning{"s" * (n_warn != 1)}</span>'
        desc = f' <span style="color:#666">— {escape(g.description)}</span>' if g.description else ""
        return (
            f'<div class="hogar-graph-header" style="font-family:sans-serif;font-size:13px">'
            f"<b>{escape(g.name)}</b>{desc}: {len(g.nodes)} nodes, {len(g.edges)} edges, {status}</div>"
        )

    # ------------------------------------------------------------------ details
    def select(self, name: str) -> None:
        """Show a node's resolved attributes in the side panel (what a click does)."""
        self.details.value = self._node_html(name)

    def _on_node_click(self, event: dict) -> None:
        name = (event.get("data") or {}).get("id")
        instance = instance_of(name)
        if instance is not None:  # a subgraph's box, or the node a collapsed one is drawn as
            self.subgraph.show(instance, Folding(self.graph, self.collapsed), self.graph.base_dir)
        elif name in self.graph.nodes:
            self.select(name)

    def _on_edge_click(self, event: dict) -> None:
        data = event.get("data") or {}
        self.details.value = self._edge_html(data.get("source"), data.get("target"))

    def _diag_html(self, diags: list["Diagnostic"]) -> str:
        if not diags:
            return ""
        rows = "".join(
            f'<li style="color:{"#d32f2f" if d.is_error else "#8a6d00"}">'
            f"{escape(d.severity)}[{escape(d.code)}]"
            f"{f' line {d.line}' if d.line is not None else ''}: {escape(d.message)}"
            f"{f'<br><i>hint: {escape(d.hint)}</i>' if d.hint else ''}</li>"
            for d in diags
        )
        return f'<ul class="hogar-node-diagnostics" style="padding-left:16px;margin:4px 0">{rows}</ul>'

    def _node_html(self, name: str) -> str:
        node = self.graph.nodes[name]
        resolved = self._resolved.get(name)
        if resolved is not None:
            rows_data = udgl_rows(resolved, node.attrs)
        else:  # unresolved: what the text says
            rows_data = [(key, _fmt(value), "") for key, value in node.attrs.items()]
        rows = "".join(
            f'<div data-attr="{escape(attr)}" style="overflow-wrap:anywhere">'
            f'<span style="color:#555">{escape(attr)} =</span> <code>{escape(value)}</code>'
            + (f'<div class="hogar-earg-key" style="color:#999;font-size:10px" title="EARG key">'
               f'EARG {escape(key)}</div>' if key and key != attr else "")
            + "</div>"
            for attr, value, key in rows_data
        )
        colour = KIND_STYLE.get(node.kind, ("", "#555", ""))[1]
        template = f" (template <code>{escape(node.template)}</code>)" if node.template else ""
        ins = ", ".join(escape(s) for s in self.graph.predecessors(name)) or "—"
        outs = ", ".join(escape(s) for s in self.graph.successors(name)) or "—"
        diags = [d for d in self.diagnostics if d.node == name]
        typed = self._types().nodes.get(name)
        types = "".join(
            f'<div class="hogar-type">{word} <code>{escape(str(t))}</code></div>'
            for word, t in (("takes", typed.input if typed else None), ("gives", typed.output if typed else None))
            if t is not None)
        return (
            f'<div data-node="{escape(name)}" style="font-family:sans-serif;font-size:12px;line-height:1.35">'
            f'<div style="font-size:14px"><b>{escape(name)}</b> '
            f'<span style="color:{colour}">{escape(node.kind)}</span>{template}</div>'
            f"{self._diag_html(diags)}{types}"
            f'<div style="display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));'
            f'gap:2px 14px;margin-top:4px">{rows}</div>'
            f'<div style="margin-top:4px">in: {ins}<br>out: {outs}</div></div>'
        )

    def _edge_html(self, src: str | None, dst: str | None) -> str:
        edge = next((e for e in self.graph.edges if e.src == src and e.dst == dst), None)
        if edge is None:
            return _PLACEHOLDER
        diags = [d for d in self.diagnostics if d.edge is not None and tuple(d.edge) == edge.key]
        extra = []
        if edge.when is not None:
            extra.append(f"when = <code>{escape(edge.when)}</code>")
        if edge.weight is not None:
            extra.append(f"weight = <code>{edge.weight * 100:g}%</code>")
        carried = self._types().edges.get(edge.key)
        if carried is not None:
            extra.append(f'type <code class="hogar-type">{escape(str(carried))}</code>')
        return (
            f'<div style="font-family:sans-serif;font-size:12px;line-height:1.35"><div style="font-size:14px">'
            f"<b>{escape(edge.src)} → {escape(edge.dst)}</b></div>{self._diag_html(diags)}"
            f"<div>{'<br>'.join(extra) or 'plain edge'}</div></div>"
        )

    # ------------------------------------------------------------------ display
    def _repr_mimebundle_(self, **kwargs: Any) -> dict:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is not None:
            bundle["text/plain"] = self.text()
        return bundle

    def text(self) -> str:
        """What frontends without widgets show: the graph's nodes and edges."""
        g = self.graph
        lines = [repr(g)]
        for name, node in g.nodes.items():
            lines.append(f"  {node.kind:<8} {node_label(name, self._resolved.get(name)).replace(chr(10), '  ')}")
        for e in g.edges:
            label = edge_label(e)
            lines.append(f"  {e.src} -> {e.dst}{'  ' + label if label else ''}")
        return "\n".join(lines)


def _folded(classes: str, drawn: bool) -> str:
    return classes if drawn else f"{classes} {FOLDED_CLASS}"


def _fmt(value: Any, key: str = "") -> str:
    if value is None:
        return "—"
    if key.endswith("_bytes") and isinstance(value, int) and value > 0:
        from ..core.values import format_size

        return f"{value} ({format_size(value)})"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_fmt(v) for v in value) + "]"
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    return str(value)
