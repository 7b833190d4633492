"""Graph-aware shares of a cluster's budget: the bottleneck on the critical path first.

When the graph's ``cluster`` cannot give every node the replicas it asks for, the
replicas go one at a time to the node on the critical path (by observed latency,
computed with :func:`hogar_nb.core.capacity.critical_path`) with the highest
pressure (requests in flight or queued per replica, over its target), then to
the others by pressure. Nodes never lose replicas to make room: a grant only uses
what the cluster has free.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import networkx as nx

from ..core.capacity import critical_path
from .decide import Want

__all__ = ["Budget", "critical_nodes"]

_DIMS = ("cpu", "gpu", "memory_bytes")


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def critical_nodes(earg: Mapping[str, Any], latency_ms: Mapping[str, float | None]) -> list[str]:
    """The critical path of the running graph by each node's observed latency."""
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(n["name"] for n in earg.get("nodes") or [])
    g.add_edges_from((e["src"], e["dst"]) for e in earg.get("edges") or [])
    try:
        order = list(nx.topological_sort(g))
    except nx.NetworkXUnfeasible:
        return []
    path, _ms = critical_path(g, order, latency_ms)
    return path


class Budget:
    """What the cluster of an EARG document holds, per dimension (None: no cluster)."""

    def __init__(self, earg: Mapping[str, Any]) -> None:
        cluster = earg.get("cluster")
        self.total: dict[str, float] | None = None
        if isinstance(cluster, Mapping):
            workers = _number(cluster.get("workers"))
            self.total = {d: workers * _number(cluster.get(d)) for d in _DIMS if cluster.get(d) is not None}
        self.each = {n["name"]: {d: _number((n.get("resources") or {}).get(d)) for d in _DIMS}
                     for n in earg.get("nodes") or []}

    def free(self, replicas: Mapping[str, int]) -> dict[str, float] | None:
        if self.total is None:
            return None
        return {d: t - sum(self.each.get(n, {}).get(d, 0.0) * r for n, r in replicas.items())
                for d, t in self.total.items()}

    def grant(self, wants: Sequence[Want], replicas: Mapping[str, int],
              critical: Sequence[str]) -> list[tuple[Want, int, str]]:
        """Each want with the count granted and, when the budget cut it, the words why.

        ``replicas``: every worker node's current count (the cluster's use)."""
        downs = [(w, w.replicas, "") for w in wants if not w.up]
        ups = [w for w in wants if w.up]
        free = self.free(replicas)
        if free is None or not ups:
            return downs + [(w, w.replicas, "") for w in ups]
        on_path = set(critical)
        granted = {w.node: w.current for w in ups}
        target = {w.node: w.replicas for w in ups}
        per = {w.node: w for w in ups}
        while True:
            open_ = [w for w in ups if granted[w.node] < target[w.node] and self._fits(free, w.node)]
            if not open_:
                break
            best = max(open_, key=lambda w: (w.node in on_path,
                                             per[w.node].pressure * w.current / granted[w.node]))
            granted[best.node] += 1
            for d in free:
                free[d] -= self.each[best.node][d]
        out = list(downs)
        for w in ups:
            why = ""
            if granted[w.node] < w.replicas:
                short = [d for d in free if self.each[w.node][d] > free[d] + 1e-9]
                dims = ", ".join("memory" if d == "memory_bytes" else d for d in short) or "resources"
                why = (f"; the cluster's {dims} budget gave {granted[w.node] - w.current} of the "
                       f"{w.replicas - w.current} asked for"
                       + (" (nodes on the critical path first)" if on_path else ""))
            if granted[w.node] > w.current:
                out.append((w, granted[w.node], why))
        return out

    def _fits(self, free: Mapping[str, float], node: str) -> bool:
        return all(self.each[node][d] <= free[d] + 1e-9 for d in free)
