"""What every exporter shares: the result type, node-located diagnostics, names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..core.diagnostics import Diagnostic

__all__ = ["Export", "Problems", "dns_name", "yaml_documents"]


@dataclass
class Export:
    """An export's documents (to write as YAML) and what could not be expressed."""

    target: str
    documents: list[dict[str, Any]]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: the model repository the documents expect: its path for each file -> the local artifact
    repository: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)

    def to_yaml(self) -> str:
        return yaml_documents(self.documents)


class Problems:
    """Collects diagnostics placed at a node's attribute (or the node) of a graph."""

    def __init__(self, graph: Any, prefix: str) -> None:
        self.graph = graph
        self.prefix = prefix
        self.items: list[Diagnostic] = []

    def add(self, severity: str, code: str, node: str | None, attr: str | None, message: str,
            hint: str | None = None) -> None:
        span = None
        if node is not None and self.graph is not None and node in self.graph:
            n = self.graph.node(node)
            span = (n.attr_spans.get(attr) if attr else None) or n.span
        where = f"node {node!r}" if node else "graph"
        if attr:
            where += f", attribute `{attr}`"
        self.items.append(Diagnostic.at(code, f"{self.prefix}: {where}: {message}", span,
                                        severity=severity, hint=hint, node=node))  # type: ignore[arg-type]

    def error(self, code: str, node: str | None, attr: str | None, message: str, hint: str | None = None) -> None:
        self.add("error", code, node, attr, message, hint)

    def warning(self, code: str, node: str | None, attr: str | None, message: str, hint: str | None = None) -> None:
        self.add("warning", code, node, attr, message, hint)


def dns_name(*parts: str) -> str:
    """A Kubernetes object name (RFC 1123 label) made of ``parts``."""
    text = "-".join(parts).lower().replace("_", "-")
    text = re.sub(r"[^a-z0-9-]+", "-", text).strip("-")
    return re.sub(r"-{2,}", "-", text)[:63].rstrip("-") or "graph"


def yaml_documents(docs: list[dict[str, Any]]) -> str:
    """``docs`` as one YAML stream (``---`` between documents), keys in given order."""
    import yaml

    return "---\n".join(yaml.safe_dump(d, sort_keys=False, default_flow_style=False) for d in docs)
