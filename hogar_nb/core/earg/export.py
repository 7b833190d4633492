"""Graph -> EARG v1 document (a plain dict, deterministic key and item order)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import networkx as nx

from .schema import EARG_VERSION

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph

__all__ = ["checked_earg", "graph_to_earg", "semantic_diagnostics", "stages_and_placement"]


def graph_to_earg(graph: "Graph") -> dict[str, Any]:
    """The EARG document of a graph without errors (call ``graph.validate()`` first).

    Key order: earg, name, description (if set), params, response, nodes, edges,
    stages, then cluster and placement when a cluster is given, then layout when
    some node has a position.
    """
    from ..checks import response_sink

    res = graph.resolution()
    doc: dict[str, Any] = {"earg": EARG_VERSION, "name": graph.name}
    if graph.description:
        doc["description"] = graph.description
    doc["params"] = dict(res.params)
    doc["response"] = response_sink(graph)[0]
    doc["nodes"] = [_node(graph, res.nodes[name].to_earg()) for name in graph.nodes]
    doc["edges"] = [_edge(e) for e in sorted(graph.edges, key=lambda e: e.key)]
    stages, placement = stages_and_placement(graph)
    doc["stages"] = stages
    if res.cluster is not None:
        doc["cluster"] = res.cluster.to_earg()
        doc["placement"] = dict(sorted((placement or {}).items()))
    layout = {n.name: [float(n.position[0]), float(n.position[1])]
              for n in graph.nodes.values() if n.position is not None}
    if layout:
        doc["layout"] = dict(sorted(layout.items()))
    return doc


def _node(graph: "Graph", out: dict[str, Any]) -> dict[str, Any]:
    weights = out.get("weights")
    if isinstance(weights, list):
        # UDGL lists weights in in-edge order; keyed by input they survive edge sorting.
        inputs = graph.predecessors(out["name"])
        out["weights"] = dict(sorted(zip(inputs, weights)))
    return out


def _edge(edge) -> dict[str, Any]:
    out: dict[str, Any] = {"src": edge.src, "dst": edge.dst}
    if edge.when is not None:
        out["when"] = edge.when
    if edge.weight is not None:
        out["weight"] = edge.weight
    return out


def stages_and_placement(graph: "Graph") -> tuple[list[list[str]], dict[str, str] | None]:
    """Topological stages (names sorted in each) and the replica placement."""
    try:
        from ..analysis import analyze  # noqa: F401
    except ImportError:  # TEMPORARY until hogar_nb.core.analysis lands
        return _fallback_stages(graph), _fallback_placement(graph)
    analysis = graph.analyze()
    stages = [sorted(stage) for stage in analysis.stages]
    return stages, analysis.placement


def _fallback_stages(graph: "Graph") -> list[list[str]]:
    g = nx.DiGraph()
    g.add_nodes_from(graph.nodes)
    g.add_edges_from(e.key for e in graph.edges)
    return [sorted(stage) for stage in nx.topological_generations(g)]


def _fallback_placement(graph: "Graph") -> dict[str, str] | None:
    """First fit in declaration order (TEMPORARY: the analysis module does the real packing)."""
    res = graph.resolution()
    cluster = res.cluster
    if cluster is None:
        return None
    free = [[cluster.cpu, cluster.gpu, cluster.memory_bytes] for _ in range(cluster.workers)]
    out: dict[str, str] = {}
    for node in res.nodes.values():
        for i in range(node.replicas):
            for k, w in enumerate(free):
                if w[0] >= node.cpu and w[1] >= node.gpu and (w[2] is None or w[2] >= node.memory_bytes):
                    w[0] -= node.cpu
                    w[1] -= node.gpu
                    if w[2] is not None:
                        w[2] -= node.memory_bytes
                    out[f"{node.name}/{i}"] = f"worker-{k}"
                    break
    return out


def semantic_diagnostics(graph: "Graph") -> list:
    """``graph.check()``.

    TEMPORARY: while ``hogar_nb.core.placement`` is missing, a graph with a cluster is
    checked without the placement check (the cluster's own attributes still are).
    """
    try:
        return graph.check()
    except ModuleNotFoundError as err:
        if err.name not in ("hogar_nb.core.placement", "hogar_nb.core.analysis"):
            raise
    clone = graph.copy()
    clone.cluster = None
    base = clone.resolution().diagnostics
    extra = [d for d in graph.resolution().diagnostics if d not in base]
    return sorted([*clone.check(), *extra], key=_sort_key)


def _sort_key(d):
    from ..diagnostics import sort_key

    return sort_key(d)


def checked_earg(graph: "Graph") -> dict[str, Any]:
    """What ``graph.to_earg()`` returns: the document, or UDGLError if the graph has errors."""
    from ...errors import UDGLError

    diags = semantic_diagnostics(graph)
    if any(d.is_error for d in diags):
        raise UDGLError(diags, graph.source)
    return graph_to_earg(graph)
