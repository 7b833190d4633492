"""Graphs that steer themselves: the autoscaler (and, beside it, shadow traffic and
rollouts). Everything here reads a deployment's metrics and events and acts through
the Deployment base's ``scale`` and ``reconfigure``; nothing reaches into a backend.

    Autoscaler(dep).start()      scale every ``replicas = auto(...)`` node of ``dep``
    attach_autoscaler(dep)       the same, when the graph has such nodes (``run`` does it)
    ShadowMonitor(dep)           compare each mirror edge's candidate with what it shadows
"""

from __future__ import annotations

from typing import Any

from .autoscaler import Autoscaler, Decision, autoscaled_nodes
from .shadow import ShadowMonitor, ShadowReport, mirror_pairs

__all__ = ["Autoscaler", "Decision", "ShadowMonitor", "ShadowReport", "attach_autoscaler", "autoscaled_nodes",
           "mirror_pairs"]


def attach_autoscaler(dep: Any) -> Autoscaler | None:
    """Start an :class:`Autoscaler` on ``dep`` when its graph has autoscaled nodes;
    it is kept as ``dep.autoscaler`` and ends with the deployment."""
    if not autoscaled_nodes(dep.earg):
        return None
    scaler = Autoscaler(dep).start()
    dep.autoscaler = scaler
    return scaler
