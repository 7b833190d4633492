"""What type inference reads of a graph: its nodes' kinds and typed attributes, its
edges, and where each was written. Built from a :class:`Graph` or an EARG document,
so that the check before start (which has only the document) and the editors (which
have the graph) infer the same types."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .signatures import Signature, artifact_signature, object_signature
from .tensor import TensorType, TypeSyntaxError, parse_type

if TYPE_CHECKING:  # pragma: no cover
    from ..diagnostics import Span
    from ..graph import Graph

__all__ = ["EdgeView", "GraphView", "NodeView", "view_of"]


@dataclass
class NodeView:
    name: str
    kind: str
    impl: Any = None
    method: str | None = None
    loader: str | None = None
    combine: Any = None
    declared_input: TensorType | None = None
    declared_output: TensorType | None = None
    span: "Span | None" = None
    spans: dict[str, "Span"] = field(default_factory=dict)


@dataclass
class EdgeView:
    src: str
    dst: str
    span: "Span | None" = None


@dataclass
class GraphView:
    nodes: dict[str, NodeView]
    edges: list[EdgeView]
    base_dir: Path
    namespace: Mapping[str, Any] | None = None
    load_models: bool = False
    _signatures: dict[str, Signature | None] = field(default_factory=dict)

    def signature(self, node: NodeView) -> Signature | None:
        """The model's signature, read from its artifact (or object) when it can be."""
        if node.kind != "model" or node.impl is None:
            return None
        if node.name not in self._signatures:
            self._signatures[node.name] = self._signature(node)
        return self._signatures[node.name]

    def _signature(self, node: NodeView) -> Signature | None:
        impl = node.impl
        if not isinstance(impl, str):
            return object_signature(impl)
        if self.namespace is not None and impl in self.namespace and not Path(impl).suffix:
            return object_signature(self.namespace[impl])
        if ":" in impl and not Path(impl).suffix:
            return None  # "module:attr": importing it is the check before start's business
        path = Path(impl)
        full = path if path.is_absolute() else self.base_dir / path
        return artifact_signature(full, node.loader, self.load_models)


def _type(value: Any) -> TensorType | None:
    if isinstance(value, TensorType):
        return value
    if isinstance(value, str):
        try:
            return parse_type(value)
        except TypeSyntaxError:
            return None  # reported where it was written
    return None


def view_of(graph: "Graph | Mapping[str, Any]", base_dir: str | Path | None = None,
            load_models: bool = False, namespace: Mapping[str, Any] | None = None) -> GraphView:
    """The view of a :class:`Graph` or of an EARG document (a mapping)."""
    if isinstance(graph, Mapping):
        return _from_document(graph, base_dir, load_models, namespace)
    if base_dir is None:
        base_dir = getattr(graph, "base_dir", None)
    res = graph.resolution()
    nodes: dict[str, NodeView] = {}
    for name, node in graph.nodes.items():
        r = res.nodes.get(name)
        if r is None:
            continue
        spans = dict(node.attr_spans)
        nodes[name] = NodeView(
            name, r.kind, r.impl, r.extra.get("method"), r.extra.get("loader"), r.extra.get("combine"),
            _type(r.extra.get("input")), _type(r.extra.get("output")), node.span, spans)
    edges = [EdgeView(e.src, e.dst, e.span) for e in graph.edges if e.src in nodes and e.dst in nodes]
    return GraphView(nodes, edges, Path(base_dir) if base_dir is not None else Path.cwd(),
                     namespace if namespace is not None else graph.namespace, load_models)


def _from_document(doc: Mapping[str, Any], base_dir: str | Path | None, load_models: bool,
                   namespace: Mapping[str, Any] | None) -> GraphView:
    nodes: dict[str, NodeView] = {}
    for n in doc.get("nodes", []):
        if not isinstance(n, Mapping) or not isinstance(n.get("name"), str):
            continue
        nodes[n["name"]] = NodeView(
            n["name"], str(n.get("kind")), n.get("impl"), n.get("method"), n.get("loader"), n.get("combine"),
            _type(n.get("input")), _type(n.get("output")))
    edges = [EdgeView(e["src"], e["dst"]) for e in doc.get("edges", [])
             if isinstance(e, Mapping) and e.get("src") in nodes and e.get("dst") in nodes]
    return GraphView(nodes, edges, Path(base_dir) if base_dir is not None else Path.cwd(), namespace, load_models)
