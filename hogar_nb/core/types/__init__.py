"""Tensor types of a serving graph: what each node takes and gives, inferred from model
artifacts and annotations, and checked along every edge before anything starts.

- :func:`parse_type` / :class:`TensorType`: ``float32[n, 20]``, ``int64[n]``, ``json``
- :func:`node_types`: each node's input and output types, for a Graph or an EARG
  document (what ``hogar analyze``, the notebook and the OIP metadata endpoints show)
- :func:`check_types`: the mismatches, as diagnostics naming both ends
- :func:`payload_problem`: whether a request's payload contradicts a declared type
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from .infer import CODES, NodeTypes, TypeReport
from .payload import payload_problem
from .signatures import Signature
from .tensor import JSON, TensorType, TypeSyntaxError, parse_type

if TYPE_CHECKING:  # pragma: no cover
    from ..diagnostics import Diagnostic
    from ..graph import Graph

__all__ = [
    "CODES",
    "JSON",
    "NodeTypes",
    "Signature",
    "TensorType",
    "TypeReport",
    "TypeSyntaxError",
    "check_types",
    "infer_types",
    "node_types",
    "parse_type",
    "payload_problem",
]


def infer_types(graph: "Graph | Mapping[str, Any]", base_dir: str | Path | None = None, *,
                load_models: bool = False, namespace: Mapping[str, Any] | None = None) -> TypeReport:
    """Types of every node and edge of ``graph`` (a Graph or an EARG document) and the
    mismatches. Model artifacts resolve against ``base_dir`` (a Graph's own folder when
    it was read from a file, else the working directory); pickles are read only with
    ``load_models`` (reading one runs code from it)."""
    from .infer import infer
    from .view import view_of

    if isinstance(graph, Mapping) or base_dir is not None or load_models or namespace is not None:
        return infer(view_of(graph, base_dir, load_models, namespace))
    # the graph's own view: once per revision (check, analyze and export all ask)
    return graph._cached("types", lambda: infer(view_of(graph)))


def node_types(graph: "Graph | Mapping[str, Any]", base_dir: str | Path | None = None, *,
               load_models: bool = False, namespace: Mapping[str, Any] | None = None) -> dict[str, NodeTypes]:
    """``{node: NodeTypes(input, output, origin)}`` for every node (types None when unknown).

    An EARG document that records inferred types (its nodes' ``types``) is read as it is.
    """
    if isinstance(graph, Mapping) and any(isinstance(n, Mapping) and "types" in n for n in graph.get("nodes", [])):
        return {n["name"]: _recorded(n.get("types", {})) for n in graph.get("nodes", []) if isinstance(n, Mapping)}
    return infer_types(graph, base_dir, load_models=load_models, namespace=namespace).nodes


def check_types(graph: "Graph | Mapping[str, Any]", base_dir: str | Path | None = None, *,
                load_models: bool = False, namespace: Mapping[str, Any] | None = None) -> list["Diagnostic"]:
    """The type mismatches of ``graph``: one diagnostic per mismatch, both ends named."""
    return infer_types(graph, base_dir, load_models=load_models, namespace=namespace).diagnostics


def _recorded(types: Mapping[str, Any]) -> NodeTypes:
    def one(key: str) -> TensorType | None:
        text = types.get(key) if isinstance(types, Mapping) else None
        try:
            return parse_type(text) if isinstance(text, str) else None
        except TypeSyntaxError:
            return None

    origin = types.get("origin") if isinstance(types, Mapping) else None
    return NodeTypes(one("input"), one("output"), origin if isinstance(origin, str) else None)
