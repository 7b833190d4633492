"""Payloads checked against declared types at the HTTP boundary, before any replica runs.

A source's declared type (its ``input``, or ``output``) and the ``input`` declared by
each node the source feeds directly are what a request's payload must fit; a payload
that contradicts one is answered 422 naming that node.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..core.types import TensorType, TypeSyntaxError, parse_type, payload_problem

__all__ = ["PayloadTypes"]


class PayloadTypes:
    """For each source, the declared types its payloads must fit, by node."""

    def __init__(self, doc: Mapping[str, Any] | None) -> None:
        self.by_source: dict[str, list[tuple[str, TensorType]]] = {}
        if not isinstance(doc, Mapping):
            return
        nodes: dict[str, Mapping[str, Any]] = {
            n["name"]: n for n in doc.get("nodes", []) if isinstance(n, Mapping) and isinstance(n.get("name"), str)}
        for name, node in nodes.items():
            if node.get("kind") != "source":
                continue
            checks = [(name, t) for t in (_declared(node, "input") or _declared(node, "output"),) if t]
            for edge in doc.get("edges", []):
                if edge.get("src") == name and edge.get("dst") in nodes:
                    t = _declared(nodes[edge["dst"]], "input")
                    if t is not None:
                        checks.append((edge["dst"], t))
            if checks:
                self.by_source[name] = checks

    def problem(self, source: str, payload: Any) -> tuple[str, str] | None:
        """``(node, message)`` for the first declared type ``payload`` contradicts."""
        for node, expected in self.by_source.get(source, ()):
            wrong = payload_problem(expected, payload)
            if wrong is not None:
                return node, f"the payload does not fit node `{node}`'s input: {wrong}"
        return None


def _declared(node: Mapping[str, Any], key: str) -> TensorType | None:
    text = node.get(key)
    if not isinstance(text, str):
        return None
    try:
        t = parse_type(text)
    except TypeSyntaxError:
        return None
    return None if t.untyped else t
