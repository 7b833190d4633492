"""Live monitoring in the notebook: a health-coloured graph and Plotly panels.

``monitor(dep)`` shows a :class:`Dashboard` that refreshes in place from a
background thread; ``monitor("http://host:port/metrics")`` watches a Prometheus
text endpoint instead; ``report(dep)`` saves a static snapshot into the output.
"""

from __future__ import annotations

from typing import Any

from .behaviour import ResponseSampler
from .dashboard import Dashboard
from .health import LEVELS, HealthRules, NodeHealth
from .prometheus_source import PrometheusSource
from .report import Report, report
from .source import DeploymentSource, Reading, Source
from .targets import as_source

__all__ = [
    "Dashboard",
    "DeploymentSource",
    "HealthRules",
    "LEVELS",
    "NodeHealth",
    "PrometheusSource",
    "Reading",
    "Report",
    "ResponseSampler",
    "Source",
    "as_source",
    "monitor",
    "report",
]


def monitor(target: Any, *, interval: float = 1.0, window: float = 300.0, nodes: Any = None,
            max_nodes: int = 6, field: Any = None, graph: Any = None, rules: HealthRules | None = None,
            display: bool = True, start: bool = True, **kwargs: Any) -> Dashboard:
    """Show a live dashboard of ``target`` (a Deployment or a Prometheus metrics URL).

    ``interval``: seconds between refreshes; ``window``: seconds shown; ``nodes``:
    nodes given their own traces (default: the ``max_nodes`` busiest or least healthy);
    ``field``: what the model behaviour panel plots from each response (key, dotted
    path or callable); ``graph``: the Graph, for edges and timeouts of a URL target.
    """
    dash = Dashboard(as_source(target, graph), interval=interval, window=window, nodes=nodes,
                     max_nodes=max_nodes, field=field, rules=rules, start=False, **kwargs)
    if start:
        dash.refresh()
    if display:
        from IPython.display import display as show

        show(dash)
        dash._shown = True
    if start:
        dash.start()
    return dash
