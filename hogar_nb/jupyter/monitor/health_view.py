"""The graph coloured by live node health, with a legend and rps / queue badges.

Drawn on a :class:`~..live_graph.LiveGraph`: each node carries ``data.health`` (a key
of :data:`~.health.LEVELS`) and a two-line label; the stylesheet colours nodes by
selector on ``health``. The layout is computed once in the kernel (left to right by
rank); a refresh sends the nodes whose data changed, all in one message.
"""

from __future__ import annotations

import html
import time
from typing import Any, Callable

import ipywidgets as widgets

from ..graph_layout import layered_drawing
from ..live_graph import LiveGraph
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
            "min-zoomed-font-size": 6,  # labels too small to read are not drawn
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

    def __init__(self, topology: Topology, height: str = "320px", badge_every: float = 2.0) -> None:
        self.topology = topology
        edges = [(s, d) for s, d in topology.edges if s in topology.nodes and d in topology.nodes]
        positions = layered_drawing(topology.nodes, edges).positions
        elements: list[dict] = []
        for name, info in topology.nodes.items():
            level = "inline" if info.replicas == 0 else "idle"
            x, y = positions.get(name, (0.0, 0.0))
            elements.append({"data": {"id": name, "label": name, "health": level, "kind": info.kind, "reason": ""},
                             "position": {"x": x, "y": y}})
        elements += [{"data": {"id": f"{s}->{d}", "source": s, "target": d}} for s, d in edges]
        self.canvas = LiveGraph(elements, stylesheet(), height=height, canvas_class=CANVAS_CLASS,
                                options={"minZoom": 0.05, "maxZoom": 4.0, "wheelSensitivity": 0.3},
                                deferred_offscreen=["label"])
        self.legend = widgets.HTML(legend_html())
        self.detail = widgets.HTML("")
        super().__init__([self.canvas, self.legend, self.detail])
        self.canvas.on_node_click(self._on_click)
        self.health: dict[str, NodeHealth] = {}
        #: node name -> its slowest recent spans (``TraceStore.node_spans``), listed on a click
        self.node_spans: Callable[[str], list[dict[str, Any]]] | None = None
        self.badge_every = badge_every
        self._badged = -badge_every

    def update(self, health: dict[str, NodeHealth], final: bool = False) -> None:
        """Recolour the nodes whose health changed at once; relabel those whose badge
        alone changed at most every ``badge_every`` seconds (a new label is a new text
        to lay out in the page), or now if ``final``. All of it goes in one message."""
        self.health = health
        now = time.monotonic()
        badges = final or now - self._badged >= self.badge_every
        if badges:
            self._badged = now
        changes: dict[str, dict] = {}
        for name, h in health.items():
            if name not in self.topology.nodes:
                continue
            data = self.canvas.node_data(name)
            changed = data.get("health") != h.level or data.get("reason") != h.reason
            if not (changed or badges):
                continue
            text = badge(h)
            label = f"{name}\n{text}" if text else name
            if changed or data.get("label") != label:
                changes[name] = {"health": h.level, "label": label, "reason": h.reason}
        self.canvas.set_nodes(changes)  # one message for every node that changed

    def levels(self) -> dict[str, str]:
        """Current level of each node, as shown."""
        return {name: self.canvas.node_data(name).get("health", "") for name in self.topology.nodes}

    def node_data(self, name: str) -> dict:
        """A node's data as shown: ``health``, ``label``, ``reason``..."""
        return self.canvas.node_data(name)

    def _on_click(self, data: dict) -> None:
        name = data.get("id")
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
