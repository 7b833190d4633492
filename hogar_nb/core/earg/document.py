"""Graph -> EARG v1 document (a plain dict, deterministic key and item order)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any


from .schema import EARG_VERSION

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph

__all__ = ["checked_earg", "graph_to_earg", "stages_and_placement"]


def graph_to_earg(graph: "Graph") -> dict[str, Any]:
    """The EARG document of a graph without errors (call ``graph.validate()`` first).

    Key order: earg, name, description and trace_sample (if set), params, response, nodes, edges,
    stages, then cluster and placement when a cluster is given, then layout when
    some node has a position.
    """
    from ..checks import response_sink

    res = graph.resolution()
    doc: dict[str, Any] = {"earg": EARG_VERSION, "name": graph.name}
    if graph.description:
        doc["description"] = graph.description
    if "trace_sample" in res.graph_attrs:
        doc["trace_sample"] = res.graph_attrs["trace_sample"]
    doc["params"] = dict(res.params)
    doc["response"] = response_sink(graph)[0]
    inputs: dict[str, list[str]] = {}
    for e in graph.edges:
        inputs.setdefault(e.dst, []).append(e.src)
    doc["nodes"] = [_node(res.nodes[name].to_earg(), inputs) for name in graph.nodes]
    for entry in doc["nodes"]:
        origin = graph.nodes[entry["name"]].origin
        if origin is not None:
            entry["origin"] = dict(origin)
    _record_types(graph, doc["nodes"])
    doc["edges"] = [_edge(e) for e in sorted(graph.edges, key=lambda e: e.key)]
    stages, placement = stages_and_placement(graph)
    doc["stages"] = stages
    if res.cluster is not None:
        doc["cluster"] = res.cluster.to_earg()
        doc["placement"] = dict(sorted((placement or {}).items()))
    if graph.alerts:
        from ..alerts import alerts_to_earg

        doc["alerts"] = alerts_to_earg(graph)
    layout = {n.name: [float(n.position[0]), float(n.position[1])]
              for n in graph.nodes.values() if n.position is not None}
    if layout:
        doc["layout"] = dict(sorted(layout.items()))
    return doc


def _record_types(graph: "Graph", nodes: list[dict[str, Any]]) -> None:
    """Each node's inferred types (those known) under its ``types`` key."""
    from ..types import infer_types

    found = infer_types(graph).nodes
    for entry in nodes:
        types = found.get(entry["name"])
        recorded = types.to_dict() if types is not None else {}
        if recorded:
            entry["types"] = recorded


def _node(out: dict[str, Any], inputs: dict[str, list[str]]) -> dict[str, Any]:
    weights = out.get("weights")
    if isinstance(weights, list):
        # UDGL lists weights in in-edge order; keyed by input they survive edge sorting.
        out["weights"] = dict(sorted(zip(inputs.get(out["name"], []), weights)))
    return out


def _edge(edge) -> dict[str, Any]:
    out: dict[str, Any] = {"src": edge.src, "dst": edge.dst}
    if edge.when is not None:
        out["when"] = edge.when
    if edge.weight is not None:
        out["weight"] = edge.weight
    if edge.mirror is not None:
        out["mirror"] = edge.mirror
    return out


def stages_and_placement(graph: "Graph") -> tuple[list[list[str]], dict[str, str] | None]:
    """Topological stages (names sorted in each) and the replica placement."""
    analysis = graph.analyze()
    stages = [sorted(stage) for stage in analysis.stages]
    return stages, analysis.placement


def checked_earg(graph: "Graph") -> dict[str, Any]:
    """What ``graph.to_earg()`` returns: the document, or UDGLError if the graph has errors."""
    from ...errors import UDGLError

    diags = graph.check()
    if any(d.is_error for d in diags):
        raise UDGLError(diags, graph.source)
    return graph_to_earg(graph)
