"""The dashboard's "Model quality" group, drawn from a deployment's quality monitor.

Drift per feature is a heat strip over time for each watched model node (one row per
feature, the colour its score on the node's ``drift_metric``); quality over time is
one line per model node (each arm of a split is its own node), on the first metric
the node reports of accuracy, F1, RMSE and MAE. Both read the monitor's bounded
histories: a refresh costs the same however long the graph runs.
"""

from __future__ import annotations

import time
from typing import Any

import ipywidgets as widgets
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from .plot_panels import PlotPanels

__all__ = ["QUALITY_METRICS_SHOWN", "QualityPanels"]

QUALITY_METRICS_SHOWN = ("accuracy", "f1", "rmse", "mae")
MAX_NODES = 4  # heat strips drawn; the rest are in dep.quality()


class QualityPanels:
    """Two figures (``drift`` and ``quality``) and the box that shows them."""

    def __init__(self, monitor: Any, window_s: float = 300.0, height: int = 320) -> None:
        self.monitor = monitor
        self.window_s = window_s
        watched = [n for n, w in monitor.nodes.items() if w.reference is not None or w.settings.feedback]
        self.nodes = (watched or list(monitor.nodes))[:MAX_NODES]
        rows = max(len(self.nodes), 1)
        fig = make_subplots(rows=rows, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                            subplot_titles=[f"{n}: drift per feature" for n in self.nodes] or ["no model node"])
        for i, _node in enumerate(self.nodes, start=1):
            fig.add_trace(go.Heatmap(z=[], x=[], y=[], coloraxis="coloraxis", hoverongaps=False), row=i, col=1)
        fig.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=30), title="Drift (score over time)",
                          coloraxis=dict(colorscale="YlOrRd", cmin=0.0, colorbar=dict(title="score")))
        self.drift = go.Figure(fig)
        quality = go.Figure()
        for node in self.nodes:
            quality.add_trace(go.Scatter(x=[], y=[], mode="lines+markers", name=node))
        quality.update_layout(height=height, margin=dict(l=60, r=20, t=40, b=30),
                              title="Model quality from labels, per node and variant",
                              xaxis_title="seconds before now", yaxis_title="")
        self.quality = go.Figure(quality)
        self.plots = PlotPanels([self.drift, self.quality])
        self.box = widgets.VBox([widgets.HTML("<b>Model quality</b>"), self.plots])
        self.box.add_class("hogar-quality")
        self.draws = 0

    def update(self, now: float | None = None) -> None:
        """Redraw both figures from the monitor's histories."""
        now = time.time() if now is None else now
        start = now - self.window_s
        with self.drift.batch_update():
            for trace, node in zip(self.drift.data, self.nodes):
                history = [h for h in list(self.monitor.nodes[node].history) if h[0] >= start]
                features = list(history[-1][2]) if history else []
                trace.x = [t - now for t, _s, _f in history]
                trace.y = features
                trace.z = [[scores.get(f) for _t, _s, scores in history] for f in features]
        with self.quality.batch_update():
            for trace, node in zip(self.quality.data, self.nodes):
                history = [h for h in list(self.monitor.nodes[node].quality_history) if h[0] >= start]
                metric = next((m for m in QUALITY_METRICS_SHOWN if history and m in history[-1][1]), None)
                trace.name = f"{node} {metric}" if metric else node
                trace.x = [t - now for t, _s in history] if metric else []
                trace.y = [s.get(metric) for _t, s in history] if metric else []
        self.plots.sync()
        self.draws += 1
