"""What can be monitored: a Deployment, a Prometheus metrics URL or a Source, as a Source."""

from __future__ import annotations

from typing import Any

from .prometheus_source import PrometheusSource
from .source import DeploymentSource, Source

__all__ = ["as_source"]


def as_source(target: Any, graph: Any = None) -> Source:
    """A source for a Deployment, a Prometheus URL, or an existing source."""
    if isinstance(target, str):
        return PrometheusSource(target, graph=graph)
    if hasattr(target, "metrics") and hasattr(target, "running"):
        return DeploymentSource(target, graph=graph)
    if hasattr(target, "read") and hasattr(target, "topology"):
        return target
    raise TypeError(f"cannot monitor {type(target).__name__}: expected a Deployment, a URL or a Source")
