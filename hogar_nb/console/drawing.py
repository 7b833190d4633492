"""What the browser draws: cytoscape.js elements, stylesheet and legends, from an EARG document.

Shapes and colours come from :mod:`hogar_nb.core.appearance` and health colours from
:mod:`hogar_nb.core.health`, the same data the notebook's views use.
"""

from __future__ import annotations

from typing import Any

from ..core.appearance import ERROR_COLOUR, KIND_STYLE, MARKER_RULES, SVG_SHAPES, WARNING_COLOUR
from ..core.health import LEVELS
from .diffing import flatten
from .text import readable as _fmt

__all__ = ["elements", "health_legend", "kind_legend", "stylesheet"]


def _badges(node: dict) -> str:
    out = []
    if (node.get("replicas") or 1) != 1:
        out.append(f"×{node['replicas']}")
    gpu = _gpu_badge(node)
    if gpu:
        out.append(gpu)
    return " · ".join(out)


def _gpu_badge(node: dict) -> str:
    res = node.get("resources") or {}
    return f"{res['gpu']:g} gpu" if res.get("gpu") else ""


#: graphs up to this many nodes are laid out by dagre in the browser
LAYOUT_IN_BROWSER_UP_TO = 40


def positions(doc: dict, dx: float = 130.0, dy: float = 80.0) -> dict[str, dict[str, float]]:
    """Left-to-right layers (topological generations), each centred: computed here once, so
    the browser draws a large graph without running a layout. Empty for a cyclic document."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(n["name"] for n in doc.get("nodes", []))
    g.add_edges_from((e["src"], e["dst"]) for e in doc.get("edges", []))
    try:
        layers = [sorted(layer, key=list(g.nodes).index) for layer in nx.topological_generations(g)]
    except nx.NetworkXUnfeasible:
        return {}
    return {name: {"x": i * dx, "y": (j - (len(layer) - 1) / 2) * dy}
            for i, layer in enumerate(layers) for j, name in enumerate(layer)}


def elements(doc: dict, diagnostics: list | None = None) -> list[dict]:
    """Nodes (with their resolved EARG attributes as ``attrs`` rows, and a position) and edges."""
    marks: dict[str, str] = {}
    edge_marks: dict[str, str] = {}
    for d in diagnostics or []:
        level = "error" if d.is_error else "warning"
        if d.node and marks.get(d.node) != "error":
            marks[d.node] = level
        if d.edge and edge_marks.get("->".join(d.edge)) != "error":
            edge_marks["->".join(d.edge)] = level
    out: list[dict] = []
    # dagre (in the browser) draws small graphs best; large ones get layers computed here.
    where = positions(doc) if len(doc.get("nodes", [])) > LAYOUT_IN_BROWSER_UP_TO else {}
    for node in doc.get("nodes", []):
        name, kind = node["name"], node.get("kind", "python")
        badge = _badges(node)
        attrs = [[k, _fmt(v)] for k, v in flatten({k: v for k, v in node.items() if k != "name"}).items()]
        classes = f"kind-{kind}" + (f" diag-{marks[name]}" if name in marks else "")
        element = {"group": "nodes", "classes": classes,
                   "data": {"id": name, "label": f"{name}\n{badge}" if badge else name, "kind": kind,
                            "attrs": attrs, "replicas": node.get("replicas") or 1, "gpu": _gpu_badge(node)}}
        if name in where:
            element["position"] = where[name]
        out.append(element)
    for edge in doc.get("edges", []):
        key = f"{edge['src']}->{edge['dst']}"
        label = ""
        if edge.get("when") is not None:
            label = "*" if edge["when"] == "*" else f'when "{edge["when"]}"'
        elif edge.get("weight") is not None:
            label = f"{edge['weight'] * 100:g}%"
        classes = "directed" + (f" diag-{edge_marks[key]}" if key in edge_marks else "")
        out.append({"group": "edges", "classes": classes,
                    "data": {"id": key, "source": edge["src"], "target": edge["dst"], "label": label}})
    return out


def _base_stylesheet() -> list[dict]:
    """One rule per kind (the notebook's shapes and colours), edge labels, diagnostic markers."""
    rules: list[dict] = [
        {
            "selector": "node",
            "style": {
                "label": "data(label)",
                "text-wrap": "wrap",
                "text-valign": "bottom",
                "text-margin-y": 4,
                "font-size": 10,
                "font-family": "sans-serif",
                "color": "#222",
                "width": 34,
                "height": 26,
                "border-width": 1,
                "border-color": "#fff",
            },
        },
    ]
    for kind, (shape, colour, _) in KIND_STYLE.items():
        rules.append(
            {"selector": f"node.kind-{kind}", "style": {"shape": shape, "background-color": colour}}
        )
    rules += [
        {
            "selector": "edge",
            "style": {
                "width": 1.5,
                "line-color": "#90a4ae",
                "curve-style": "bezier",
                "target-arrow-shape": "triangle",
                "target-arrow-color": "#90a4ae",
                "arrow-scale": 0.9,
                "label": "data(label)",
                "font-size": 9,
                "color": "#455a64",
                "text-background-color": "#fff",
                "text-background-opacity": 0.85,
                "text-background-padding": 1,
            },
        },
        *MARKER_RULES,
    ]
    return rules


def stylesheet(health: bool = False) -> list[dict]:
    """The notebook view's stylesheet; with ``health``, a rule per health level on top."""
    rules = _base_stylesheet()
    if health:
        rules.append({"selector": "node", "style": {"border-width": 4}})
        for level, (colour, _) in LEVELS.items():
            rules.append({"selector": f"node.health-{level}", "style": {"border-color": colour,
                                                                       "background-color": colour}})
        rules.append({"selector": "node:selected", "style": {"overlay-color": "#1e88e5",
                                                              "overlay-opacity": 0.25}})
    return rules


def kind_legend(kinds: list[str] | None = None) -> list[dict[str, str]]:
    """Legend rows: kind, colour, SVG shape markup (trusted constant data)."""
    return [{"kind": kind, "colour": colour, "svg": SVG_SHAPES[shape], "label": label}
            for kind, (shape, colour, label) in KIND_STYLE.items() if kinds is None or kind in kinds]


def health_legend() -> list[dict[str, str]]:
    return [{"level": level, "colour": colour, "meaning": meaning} for level, (colour, meaning) in LEVELS.items()]


MARKER_COLOURS = {"error": ERROR_COLOUR, "warning": WARNING_COLOUR}
