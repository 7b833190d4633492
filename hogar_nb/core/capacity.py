"""Graph passes behind the analysis: stages, traffic shares, critical path, capacity.

Everything here runs once over a networkx DiGraph in topological order, so a graph
of thousands of nodes is analysed in milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import networkx as nx

from .model import ResolvedNode

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__ = ["NodeCapacity", "build_digraph", "capacities", "critical_path", "stages", "traffic_shares"]

_ROOT = "\0root"  # a virtual node in front of every source (not a valid node name)


@dataclass(frozen=True)
class NodeCapacity:
    """How many requests per second one node can take, and how many of the graph's reach it.

    ``capacity_rps`` = replicas x batch_size / latency (None without a latency estimate);
    ``traffic_share`` is the fraction of the graph's requests that reach the node
    (None when it cannot be computed, e.g. the graph has a cycle); ``max_graph_rps``
    is the graph's request rate at which this node is saturated.
    """

    node: str
    kind: str
    replicas: int
    batch_size: int
    latency_ms: float | None
    capacity_rps: float | None
    traffic_share: float | None
    max_graph_rps: float | None

    def to_dict(self) -> dict:
        return {
            "kind": self.kind,
            "replicas": self.replicas,
            "batch_size": self.batch_size,
            "latency_ms": self.latency_ms,
            "capacity_rps": self.capacity_rps,
            "traffic_share": self.traffic_share,
            "max_graph_rps": self.max_graph_rps,
        }


def build_digraph(graph: "Graph") -> nx.DiGraph:
    """Nodes in declaration order; edges naming unknown nodes are left out."""
    g: nx.DiGraph[str] = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    nodes = graph.nodes
    g.add_edges_from(e.key for e in graph.edges if e.src in nodes and e.dst in nodes)
    return g


def stages(g: nx.DiGraph) -> list[list[str]] | None:
    """Topological generations, names sorted in each; None when the graph has a cycle."""
    try:
        return [sorted(stage) for stage in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:
        return None


def _split_fractions(graph: "Graph", kinds: Mapping[str, str]) -> dict[tuple[str, str], float]:
    """The fraction of a split's traffic each of its edges carries.

    Edges without a weight (an error the checks report) share what the others leave.
    """
    out: dict[tuple[str, str], float] = {}
    by_split: dict[str, list] = {}
    for e in graph.edges:
        if kinds.get(e.src) == "split":
            by_split.setdefault(e.src, []).append(e)
    for edges in by_split.values():
        given = sum(e.weight for e in edges if e.weight is not None)
        unweighted = [e for e in edges if e.weight is None]
        rest = max(0.0, 1.0 - given) / len(unweighted) if unweighted else 0.0
        for e in edges:
            out[e.key] = e.weight if e.weight is not None else rest
    return out


def traffic_shares(graph: "Graph", g: nx.DiGraph, order: list[str], kinds: Mapping[str, str]) -> dict[str, float]:
    """The fraction of the graph's requests reaching each node (``order`` is topological).

    1.0 at sources; a split's edges carry their weight; each edge of a switch is assumed
    to carry the switch's whole share (the worst case); an ensemble takes the largest
    share of its inputs; any other fan-in sums its inputs' shares. A request reaches a
    node at most once (duplicate delivery is an error), so a fan-in's share is capped by
    the share of its immediate dominator: the switch branches that meet again at
    ``out`` count once, not once per branch.
    """
    fractions = _split_fractions(graph, kinds)
    sources = [n for n in order if kinds.get(n) == "source"]
    idom: dict[str, str] = {}
    if sources:
        g.add_edges_from((_ROOT, s) for s in sources)
        try:
            idom = nx.immediate_dominators(g, _ROOT)
        finally:
            g.remove_node(_ROOT)
    share: dict[str, float] = {_ROOT: float(len(sources))}
    pred = g.pred
    for n in order:
        if kinds.get(n) == "source":
            share[n] = 1.0
            continue
        parts = [share[p] * fractions.get((p, n), 1.0) for p in pred[n]]
        if not parts:
            share[n] = 0.0
        elif kinds.get(n) == "ensemble":
            share[n] = max(parts)
        else:
            total = sum(parts)
            dom = idom.get(n)
            share[n] = min(total, share[dom]) if dom is not None and len(parts) > 1 else total
    del share[_ROOT]
    return share


def critical_path(g: nx.DiGraph, order: list[str], latency: Mapping[str, float | None]) -> tuple[list[str], float]:
    """The path from an entry to an exit with the largest sum of latency estimates.

    Nodes without an estimate count 0; among equal sums the path with more nodes wins,
    then the one met first in ``order``.
    """
    rank = {n: i for i, n in enumerate(order)}
    best: dict[str, tuple[float, int]] = {}
    back: dict[str, str | None] = {}
    pred = g.pred
    for n in order:
        own = latency.get(n) or 0.0
        top: tuple[float, int] | None = None
        via = None
        for p in sorted(pred[n], key=rank.__getitem__):
            if top is None or best[p] > top:
                top, via = best[p], p
        best[n] = (own, 1) if top is None else (top[0] + own, top[1] + 1)
        back[n] = via
    ends = [n for n in order if not g.succ[n]]
    if not ends:
        return [], 0.0
    end = ends[0]
    for n in ends[1:]:
        if best[n] > best[end]:
            end = n
    path: list[str] = []
    at: str | None = end
    while at is not None:
        path.append(at)
        at = back[at]
    path.reverse()
    return path, best[end][0]


def capacities(nodes: Mapping[str, ResolvedNode], shares: Mapping[str, float] | None) -> dict[str, NodeCapacity]:
    """Per node: replicas x batch / latency, its traffic share and the graph rate it allows."""
    out: dict[str, NodeCapacity] = {}
    for name, n in nodes.items():
        cap = None
        if n.latency_ms is not None and n.latency_ms > 0:
            cap = n.replicas * n.batch_size / (n.latency_ms / 1000.0)
        share = None if shares is None else shares.get(name)
        limit = cap / share if cap is not None and share else None
        out[name] = NodeCapacity(name, n.kind, n.replicas, n.batch_size, n.latency_ms, cap, share, limit)
    return out
