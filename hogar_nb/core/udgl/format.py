"""Canonical UDGL text for a graph: what ``hogar fmt`` prints and ``Graph.to_udgl()`` returns.

Sections come in a fixed order (header, params, defaults, templates, nodes, edges,
cluster); node kinds are aligned; attributes keep the order they were written in.
Reading the text back gives a graph with the same EARG.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Mapping

from ..values import format_string, format_value

if TYPE_CHECKING:  # pragma: no cover
    from ..graph import Graph

__all__ = ["format_graph"]

_WIDTH = 100


def _attrs(attrs: Mapping[str, Any], indent: str = "") -> str:
    if not attrs:
        return ""
    parts = [f"{k} = {format_value(v)}" for k, v in attrs.items()]
    one_line = "{ " + ", ".join(parts) + " }"
    if len(indent) + len(one_line) <= _WIDTH:
        return one_line
    inner = "".join(f"{indent}    {p},\n" for p in parts)
    return "{\n" + inner + indent + "}"


def _edge_attrs(edge) -> dict[str, Any]:
    """``when``/``weight`` as written where they refer to a ``$param``, else resolved."""
    from ..values import ParamRef, Percent, contains

    out: dict[str, Any] = {}
    for key in ("when", "weight", "mirror"):
        written = edge.attrs.get(key)
        if written is not None and contains(written, ParamRef):
            out[key] = written
        elif getattr(edge, key) is not None:
            out[key] = edge.when if key == "when" else Percent(getattr(edge, key))
    return out


def format_graph(graph: "Graph") -> str:
    """The canonical UDGL text of ``graph``."""
    blocks: list[list[str]] = []
    if graph.attrs:  # the settings' block holds the description too
        described = {"description": graph.description} if graph.description else {}
        blocks.append([f"graph {graph.name} {_attrs({**described, **graph.attrs})}"])
    elif graph.header or graph.description:
        head = f"graph {graph.name}"
        if graph.description:
            head += f" {format_string(graph.description)}"
        blocks.append([head])
    if graph.params:
        blocks.append([f"param {k} = {format_value(v)}" for k, v in graph.params.items()])
    if graph.defaults:
        blocks.append([f"defaults {_attrs(graph.defaults)}"])
    if graph.templates:
        blocks.append([
            f"template {t.name} = {t.kind}" + (f" {_attrs(t.attrs)}" if t.attrs else "")
            for t in graph.templates.values()
        ])
    if graph.nodes:
        width = max(len(n.template or n.kind) for n in graph.nodes.values())
        name_width = max(len(n.name) for n in graph.nodes.values())
        lines = []
        for n in graph.nodes.values():
            kind = (n.template or n.kind).ljust(width)
            line = f"{kind} {n.name}"
            if n.attrs:
                line = f"{kind} {n.name.ljust(name_width)} {_attrs(n.attrs, '')}"
            lines.append(line.rstrip())
        blocks.append(lines)
    if graph.edges:
        blocks.append(_edge_lines(graph))
    if graph.cluster is not None:
        blocks.append([f"cluster {_attrs(graph.cluster) or '{ }'}"])
    if graph.alerts:
        blocks.append([f"alert {a.name} {_attrs(a.attrs) or '{ }'}" for a in graph.alerts.values()])
    return "\n\n".join("\n".join(b) for b in blocks) + "\n"


def _edge_lines(graph: "Graph") -> list[str]:
    """Edges in their order: consecutive plain edges from one node become a fan-out
    (``a -> [b, c]``), and plain one-in/one-out runs become a chain (``a -> b -> c``)."""
    items: list[tuple[list[str], dict[str, Any]]] = []  # [src, dst...] groups
    for e in graph.edges:
        attrs = _edge_attrs(e)
        last = items[-1] if items else None
        if last and not attrs and not last[1] and last[0][0] == e.src and len(last[0]) >= 2:
            last[0].append(e.dst)
        else:
            items.append(([e.src, e.dst], attrs))
    out_degree: dict[str, int] = {}
    in_degree: dict[str, int] = {}
    for e in graph.edges:
        out_degree[e.src] = out_degree.get(e.src, 0) + 1
        in_degree[e.dst] = in_degree.get(e.dst, 0) + 1
    lines: list[str] = []
    chain: list[str] = []
    for names, attrs in items:
        src, dsts = names[0], names[1:]
        if (not attrs and len(dsts) == 1 and chain and chain[-1] == src
                and out_degree[src] == 1 and in_degree[src] == 1):
            chain.append(dsts[0])
            continue
        if chain:
            lines.append(" -> ".join(chain))
            chain = []
        target = dsts[0] if len(dsts) == 1 else "[" + ", ".join(dsts) + "]"
        if attrs:
            lines.append(f"{src} -> {target} {_attrs(attrs)}")
        elif len(dsts) == 1:
            chain = [src, dsts[0]]
        else:
            lines.append(f"{src} -> {target}")
    if chain:
        lines.append(" -> ".join(chain))
    return lines
