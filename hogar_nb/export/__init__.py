"""Pure writers of other runtimes' configs: Ray Serve config files and KServe manifests.

Nothing here imports the runtime or Ray: an export is a document plus diagnostics
(node and attribute named) for what the target cannot express. See docs/export.md.
"""

from __future__ import annotations

from typing import Any

from .common import Export

__all__ = ["Export", "TARGETS", "export_graph"]

TARGETS = ("ray-serve", "kserve")


def export_graph(graph: Any, target: str, **options: Any) -> Export:
    """Export a :class:`~hogar_nb.core.graph.Graph` to ``target`` (one of :data:`TARGETS`).

    Options: ``ray-serve``: ``host``, ``port``, ``working_dir``; ``kserve``: ``storage_prefix``.
    """
    earg = graph.to_earg()
    if target == "ray-serve":
        from .ray_serve import ray_serve_config

        return ray_serve_config(earg, graph, **options)
    if target == "kserve":
        from .kserve import kserve_manifests

        return kserve_manifests(earg, graph, **options)
    raise ValueError(f"unknown export target {target!r}; expected one of {', '.join(TARGETS)}")
