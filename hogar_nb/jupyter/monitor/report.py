"""A static snapshot of the dashboard, kept in the notebook output when it is shared.

Each panel is kept as the Plotly JSON mimetype (an interactive chart wherever a
Plotly renderer is installed: JupyterLab, Notebook 7, VS Code, no kernel needed)
with an HTML picture of it for places that run no JavaScript (GitHub, nbviewer,
nbconvert), and the health graph as an SVG image with a table of node health, so the saved
notebook still shows them (an image, not inline SVG, which sanitizers remove).
"""

from __future__ import annotations

import base64
import html
import time
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio

from .health import LEVELS, NodeHealth, badge
from .health_view import legend_html
from .source import Topology
from .static_chart import figure_png

__all__ = ["Report", "fit_time_axis", "health_img", "health_svg", "report"]


def _layers(topology: Topology) -> dict[str, int]:
    """Longest-path layer of each node (sources at 0); cycles are cut."""
    preds: dict[str, list[str]] = {n: [] for n in topology.nodes}
    for s, d in topology.edges:
        if s in preds and d in preds:
            preds[d].append(s)
    layer: dict[str, int] = {}

    def depth(n: str, seen: frozenset[str]) -> int:
        if n in layer:
            return layer[n]
        ps = [p for p in preds[n] if p not in seen]
        layer[n] = 1 + max((depth(p, seen | {n}) for p in ps), default=-1)
        return layer[n]

    for n in topology.nodes:
        depth(n, frozenset())
    return layer


def health_svg(topology: Topology, health: dict[str, NodeHealth]) -> str:
    """The graph as an SVG: nodes in layers left to right, filled by health level."""
    layer = _layers(topology)
    columns: dict[int, list[str]] = {}
    for n in topology.nodes:
        columns.setdefault(layer[n], []).append(n)
    w, h, gx, gy = 130, 40, 40, 14
    pos = {n: (10 + c * (w + gx), 10 + r * (h + gy)) for c, ns in columns.items() for r, n in enumerate(ns)}
    width = 20 + len(columns) * (w + gx) - gx
    height = 20 + max((len(ns) for ns in columns.values()), default=1) * (h + gy) - gy
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'font-family="sans-serif" font-size="10">',
             '<defs><marker id="a" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" '
             'markerHeight="6" orient="auto"><path d="M0,0L10,5L0,10z" fill="#999"/></marker></defs>']
    for s, d in topology.edges:
        if s in pos and d in pos:
            (x1, y1), (x2, y2) = pos[s], pos[d]
            parts.append(f'<line x1="{x1 + w}" y1="{y1 + h / 2}" x2="{x2}" y2="{y2 + h / 2}" '
                         f'stroke="#999" marker-end="url(#a)"/>')
    for n, (x, y) in pos.items():
        hl = health.get(n)
        level = hl.level if hl else "idle"
        fill = LEVELS[level][0]
        ink = "white" if level in ("failing", "down") else "#111"
        text = "" if hl is None else html.escape(badge(hl))
        parts.append(f'<g><title>{html.escape(n)}: {level}{" - " + html.escape(hl.reason) if hl else ""}</title>'
                     f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="6" fill="{fill}" stroke="#555"/>'
                     f'<text x="{x + w / 2}" y="{y + 16}" text-anchor="middle" fill="{ink}" '
                     f'font-weight="bold">{html.escape(n[:22])}</text>'
                     f'<text x="{x + w / 2}" y="{y + 30}" text-anchor="middle" fill="{ink}">{text}</text></g>')
    parts.append("</svg>")
    return "".join(parts)


def fit_time_axis(fig: go.Figure) -> None:
    """Let a time panel's x axis span its data (from the oldest point to now) rather
    than the dashboard's whole window, in which a young deployment is a sliver."""
    if fig.layout.xaxis.range is None:
        return  # not a time axis (the errors bars)
    xs = [x for t in fig.data if t.visible is not False and t.x is not None for x in t.x
          if isinstance(x, (int, float))]
    if not xs:
        return
    oldest = min(min(xs), -1.0)
    fig.layout.xaxis.range = [oldest * 1.03, 0]


def health_img(topology: Topology, health: dict[str, NodeHealth]) -> str:
    """The health graph as an ``<img>`` of its SVG: HTML sanitizers (JupyterLab and
    Notebook 7 showing a saved, untrusted notebook) drop inline ``<svg>`` but keep images."""
    svg = health_svg(topology, health)
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return (f'<img class="hogar-report-graph" alt="graph coloured by node health" '
            f'src="data:image/svg+xml;base64,{data}">')


def _table(health: dict[str, NodeHealth]) -> str:
    rows = []
    for n, h in health.items():
        if h.level == "inline":
            continue
        err = f"{h.error_rate:.1%}" if h.error_rate is not None else ""
        p99 = f"{h.p99_ms:.1f}" if h.p99_ms is not None else ""
        rows.append(f'<tr><td>{html.escape(n)}</td><td style="background:{LEVELS[h.level][0]}">{h.level}</td>'
                    f"<td>{html.escape(h.reason)}</td><td>{h.rps:.1f}</td><td>{h.queue_depth}</td>"
                    f"<td>{h.replicas_alive}/{h.replicas}</td><td>{err}</td><td>{p99}</td></tr>")
    head = ("<tr><th>node</th><th>health</th><th>why</th><th>rps</th><th>queue</th>"
            "<th>replicas</th><th>errors</th><th>p99 ms</th></tr>")
    return f'<table style="font-size:11px">{head}{"".join(rows)}</table>'


@dataclass
class Report:
    """The snapshot: static figures by panel name, the health graph and a summary."""

    title: str
    time: float
    figures: dict[str, go.Figure]
    health: dict[str, NodeHealth]
    topology: Topology

    def header_html(self) -> str:
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time))
        return (f'<div class="hogar-monitor-report"><h4>{html.escape(self.title)} at {when}</h4>'
                f"{health_img(self.topology, self.health)}{legend_html()}{_table(self.health)}</div>")

    def bundles(self) -> list[dict[str, Any]]:
        """One display bundle for the header, then one per figure.

        A figure's picture is an ``<img>`` in HTML, not an ``image/png`` entry: Plotly's
        JupyterLab renderer shows a bundle's PNG instead of the chart when it has one
        (interactive only once the mouse enters it), while every renderer without
        Plotly (nbconvert, GitHub, nbviewer) takes the HTML, which needs no JavaScript.
        """
        out: list[dict[str, Any]] = [{"text/html": self.header_html(), "text/plain": self.title}]
        for name, fig in self.figures.items():
            png = base64.b64encode(figure_png(fig)).decode("ascii")
            out.append({
                "application/vnd.plotly.v1+json": fig.to_plotly_json() | {"config": {"displaylogo": False}},
                "text/html": (f'<img class="hogar-report-panel" alt="{html.escape(name)} panel" '
                              f'src="data:image/png;base64,{png}">'),
                "text/plain": f"<{name} panel>",
            })
        return out

    def html(self) -> str:
        """A standalone HTML page of the snapshot (Plotly loaded from its CDN)."""
        body = self.header_html() + "".join(
            pio.to_html(f, include_plotlyjs="cdn" if i == 0 else False, full_html=False)
            for i, f in enumerate(self.figures.values()))
        return f"<!doctype html><html><head><meta charset='utf-8'></head><body>{body}</body></html>"

    def _ipython_display_(self) -> None:
        from IPython.display import display

        for bundle in self.bundles():
            display(bundle, raw=True)


def report(target: Any, *, display: bool = True, dashboard: Any = None, **opts: Any) -> Report | None:
    """The panels as they are now, as static outputs that stay in the saved notebook.

    ``target`` is a Deployment or a metrics URL; an open dashboard of it (or the one
    passed) is used as is, so health reflects its recent readings. Displays and
    returns None by default; ``display=False`` returns the :class:`Report`.
    """
    from .dashboard import Dashboard, open_dashboard
    from .targets import as_source

    dash = dashboard if dashboard is not None else open_dashboard(target)
    if dash is not None:
        dash.refresh()
    own = dash is None
    if dash is None:
        dash = Dashboard(as_source(target, opts.pop("graph", None)), start=False, **opts)
        dash.refresh()
    figures = {name: go.Figure(fig) for name, fig in dash.panels.figures.items()}
    figures["behaviour"] = go.Figure(dash.behaviour.figure)
    for fig in figures.values():
        fig.update_layout(width=None, autosize=True)
        fit_time_axis(fig)
    if dash.quality is not None:  # the Model quality group, when the deployment's quality is watched
        figures["drift"] = go.Figure(dash.quality.drift)
        figures["quality"] = go.Figure(dash.quality.quality)
        for name in ("drift", "quality"):
            figures[name].update_layout(width=None, autosize=True)
    rep = Report(f"HOGAR monitor: {dash.source.label}", dash.last_reading.time, figures,
                 dict(dash.last_health), dash.topology)
    if own:
        dash.close()
    if not display:
        return rep
    rep._ipython_display_()
    return None
