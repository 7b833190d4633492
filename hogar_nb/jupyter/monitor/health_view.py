"""The graph coloured by live node health, with a legend and rps / queue badges.

Built on ipycytoscape: each node carries ``data.health`` (a key of
:data:`~.health.LEVELS`) and a two-line label; the stylesheet colours nodes by
selector on ``health``. Updates change only the nodes whose data changed.
"""

from __future__ import annotations

import html
import time
from typing import Any, Callable

import ipycytoscape
import ipywidgets as widgets

from .health import LEVELS, STOPPED, NodeHealth, badge
from .source import Topology
from .traces_panel import node_spans_html

__all__ = ["CANVAS_CLASS", "HealthView", "legend_html"]

#: CSS class of the canvas box (browser tests find the cytoscape instance under it).
CANVAS_CLASS = "hogar-monitor-graph"


def stylesheet() -> list[dict]:
    style: list[dict] = [
        {"selector": "node", "style": {
            "label": "data(label)", "text-wrap": "wrap", "text-valign": "center",
            "font-size": "10px", "width": "label", "height": "label", "padding": "8px",
            "shape": "round-rectangle", "border-width": 1, "border-color": "#555",
            "background-color": LEVELS["idle"][0], "color": "#111"}},
        {"selector": "edge", "style": {
            "curve-style": "bezier", "target-arrow-shape": "triangle", "width": 1.5,
            "line-color": "#999", "target-arrow-color": "#999"}},
    ]
    for level, (colour, _meaning) in LEVELS.items():
        rule: dict = {"background-color": colour}
        if level in ("failing", "down"):
            rule.update({"color": "white", "border-width": 3, "border-color": "#300"})
        elif level == STOPPED:
            rule.update({"color": "#333", "border-style": "dashed", "border-color": "#888"})
        elif level == "suspended":
            rule.update({"color": "white", "border-width": 3, "border-style": "dashed", "border-color": "#2a0a3d"})
        style.append({"selector": f'node[health = "{level}"]', "style": rule})
    return style


def legend_html() -> str:
    items = "".join(
        f'<span style="display:inline-flex;align-items:center;margin-right:12px">'
        f'<span style="width:12px;height:12px;background:{c};border:1px solid #555;'
        f'display:inline-block;margin-right:4px"></span><b>{level}</b>&nbsp;{html.escape(m)}</span>'
        for level, (c, m) in LEVELS.items())
    return (f'<div class="hogar-monitor-legend" style="font-size:11px;line-height:1.8">{items}'
            f'<br>Badges: completions/s and queue depth over the last seconds; '
            f'once stopped, the final completions/s.</div>')


class HealthView(widgets.VBox):
    """A cytoscape view of ``topology`` whose node colours follow :meth:`update`."""

    def __init__(self, topology: Topology, height: str = "320px", layout: str = "dagre",
                 badge_every: float = 2.0) -> None:
        self.topology = topology
        self.canvas = ipycytoscape.CytoscapeWidget()
        self.canvas.layout.height = height
        self.canvas.add_class(CANVAS_CLASS)
        self._nodes: dict[str, ipycytoscape.Node] = {}
        nodes = []
        for name, info in topology.nodes.items():
            level = "inline" if info.replicas == 0 else "idle"
            node = ipycytoscape.Node(data={"id": name, "label": name, "health": level,
                                           "kind": info.kind, "reason": ""})
            self._nodes[name] = node
            nodes.append(node)
        self.canvas.graph.add_nodes(nodes)
        edges = [ipycytoscape.Edge(data={"source": s, "target": d}) for s, d in topology.edges
                 if s in self._nodes and d in self._nodes]
        if edges:
            self.canvas.graph.add_edges(edges, directed=True)
        options = {"rankDir": "LR", "nodeSep": 20, "rankSep": 50} if layout == "dagre" else {}
        self.canvas.set_layout(name=layout if edges else "grid", **options)
        self.canvas.set_style(stylesheet())
        self.legend = widgets.HTML(legend_html())
        self.detail = widgets.HTML("")
        super().__init__([self.canvas, self.legend, self.detail])
        self.canvas.on("node", "click", self._on_click)
        self.health: dict[str, NodeHealth] = {}
        #: node name -> its slowest recent spans (``TraceStore.node_spans``), listed on a click
        self.node_spans: Callable[[str], list[dict[str, Any]]] | None = None
        self.badge_every = badge_every
        self._badged = -badge_every

    def update(self, health: dict[str, NodeHealth], final: bool = False) -> None:
        """Recolour the nodes whose health changed at once; relabel those whose badge
        alone changed at most every ``badge_every`` seconds (each node is a message to
        the page: on a large graph, every badge every second is a flood), or now if
        ``final``."""
        self.health = health
        now = time.monotonic()
        badges = final or now - self._badged >= self.badge_every
        if badges:
            self._badged = now
        for name, h in health.items():
            node = self._nodes.get(name)
            if node is None:
                continue
            data = node.data
            changed = data.get("health") != h.level or data.get("reason") != h.reason
            if not (changed or badges):
                continue
            text = badge(h)
            label = f"{name}\n{text}" if text else name
            if changed or data.get("label") != label:
                node.data = {**data, "health": h.level, "label": label, "reason": h.reason}

    def levels(self) -> dict[str, str]:
        """Current level of each node, as shown."""
        return {name: node.data.get("health", "") for name, node in self._nodes.items()}

    def _on_click(self, event: dict) -> None:
        name = event.get("data", {}).get("id")
        h = self.health.get(name)
        spans = node_spans_html(name, self.node_spans(name)) if self.node_spans is not None and name else ""
        if h is None:
            if spans:
                self.detail.value = f"<b>{html.escape(name)}</b>{spans}"
            return
        p99 = f"{h.p99_ms:.1f} ms" if h.p99_ms is not None else "n/a"
        err = f"{h.error_rate:.1%}" if h.error_rate is not None else "n/a"
        self.detail.value = (f"<b>{html.escape(name)}</b>: {h.level} ({html.escape(h.reason)}); "
                             f"{h.rps:.1f} rps, queue {h.queue_depth}, in flight {h.in_flight}, "
                             f"replicas {h.replicas_alive}/{h.replicas}, errors {err}, p99 {p99}{spans}")
