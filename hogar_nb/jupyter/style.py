"""Colours, shapes and the cytoscape stylesheet of the graph view (no logic)."""

from __future__ import annotations

from html import escape

from ..core import appearance as _appearance
from .graph_layout import LABEL_FONT_PX, NODE_SIZE

__all__ = [
    "CANVAS_CLASS",
    "DETAILS_CLASS",
    "ERROR_COLOUR",
    "KIND_STYLE",
    "READABLE_ZOOM",
    "WARNING_COLOUR",
    "cytoscape_stylesheet",
    "legend_html",
]

#: CSS class of the cytoscape container; ``el._cyreg.cy`` on it is the cytoscape instance.
CANVAS_CLASS = "hogar-graph-canvas"
#: CSS class of the side panel that shows a clicked node's resolved attributes.
DETAILS_CLASS = "hogar-node-details"

#: the graph view is never framed below this zoom: 12 px labels stay at least 10 px on screen
READABLE_ZOOM = 0.85

ERROR_COLOUR, WARNING_COLOUR = _appearance.ERROR_COLOUR, _appearance.WARNING_COLOUR

#: kind -> (cytoscape shape, fill colour, what the legend says)
KIND_STYLE = _appearance.KIND_STYLE
_SVG_SHAPES = _appearance.SVG_SHAPES


def cytoscape_stylesheet() -> list[dict]:
    """The stylesheet: one rule per kind, edge labels, and diagnostic markers."""
    rules: list[dict] = [
        {
            "selector": "node",
            "style": {
                "label": "data(label)",
                "text-wrap": "wrap",
                "text-valign": "bottom",
                "text-margin-y": 4,
                "font-size": LABEL_FONT_PX,
                "font-family": "sans-serif",
                "color": "#222",
                "width": NODE_SIZE[0],
                "height": NODE_SIZE[1],
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
                "font-size": LABEL_FONT_PX - 1,
                "color": "#455a64",
                "text-background-color": "#fff",
                "text-background-opacity": 0.85,
                "text-background-padding": 1,
            },
        },
        {  # laid out in Python: bend points that keep the edge off other nodes
            "selector": "edge.routed",
            "style": {"curve-style": "segments", "segment-weights": "data(sw)",
                      "segment-distances": "data(sd)", "edge-distances": "node-position",
                      # the condition or share at the middle of the edge's own run, above
                      # it: runs into a node are shared by every edge into it (a label
                      # near the target sits on a neighbour's run, under the target's
                      # box), and so are the runs out of a switch or split
                      "text-margin-y": -8},
        },
        {  # a subgraph instance: a box around its nodes, named at its top
            "selector": "node.subgraph",
            "style": {"shape": "round-rectangle", "background-color": "#eceff1", "background-opacity": 0.5,
                      "border-width": 1, "border-style": "dashed", "border-color": "#90a4ae",
                      "text-valign": "top", "text-margin-y": -4, "padding": 12, "color": "#546e7a"},
        },
        {"selector": ".folded", "style": {"display": "none"}},  # inside a collapsed subgraph
        {  # a collapsed subgraph instance: one node where its nodes were
            "selector": "node.subgraph-collapsed",
            "style": {"shape": "round-rectangle", "background-color": "#cfd8dc", "border-width": 2,
                      "border-style": "dashed", "border-color": "#607d8b", "width": 120, "height": 44,
                      "label": "data(label)", "text-valign": "center", "text-halign": "center",
                      "color": "#37474f", "font-size": 11, "text-wrap": "wrap", "text-max-width": 112},
        },
        *_appearance.MARKER_RULES,
    ]
    return rules


def legend_html(kinds: list[str] | None = None) -> str:
    """A one-line legend: each kind's shape and colour, then the diagnostic markers."""
    items = []
    for kind, (shape, colour, label) in KIND_STYLE.items():
        if kinds is not None and kind not in kinds:
            continue
        svg = (
            f'<svg width="18" height="14" viewBox="0 0 18 14" style="vertical-align:middle">'
            f'<g fill="{colour}">{_SVG_SHAPES[shape]}</g></svg>'
        )
        items.append(f'<span style="margin-right:10px">{svg} {escape(label)}</span>')
    items.append(
        f'<span style="margin-right:10px"><span style="display:inline-block;width:12px;height:10px;'
        f'border:3px solid {ERROR_COLOUR};vertical-align:middle"></span> error</span>'
    )
    items.append(
        f'<span><span style="display:inline-block;width:12px;height:10px;'
        f'border:3px dashed {WARNING_COLOUR};vertical-align:middle"></span> warning</span>'
    )
    return f'<div class="hogar-legend" style="font-size:12px;font-family:sans-serif">{"".join(items)}</div>'
