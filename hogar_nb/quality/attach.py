"""Attaching a quality monitor to a running deployment (light: no numpy until needed)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["attach", "wants_quality"]


def wants_quality(doc: Mapping[str, Any] | None) -> bool:
    """Whether a graph asks to be watched from its start: a model node with a
    ``quality`` entry, or an alert rule."""
    if not doc:
        return False
    return bool(doc.get("alerts")) or any(n.get("quality") for n in doc.get("nodes") or [])


def attach(dep: Any, **options: Any) -> Any:
    """A new :class:`~hogar_nb.quality.monitor.QualityMonitor` of ``dep`` (its alert
    rules attached); ``options``: ``store``, ``interval``."""
    from .monitor import QualityMonitor

    monitor = QualityMonitor(dep, **options)
    rules = (dep.earg or {}).get("alerts")
    if rules:
        from .alerts import AlertEngine

        monitor.alerts = AlertEngine(monitor, rules)
    return monitor
