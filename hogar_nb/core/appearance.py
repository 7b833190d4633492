"""How the graph looks wherever it is drawn: each kind's shape and colour and the diagnostic
marker colours (pure data, no drawing).

The notebook's graph view and the web console draw with the same data.
"""

from __future__ import annotations

__all__ = [
    "ERROR_COLOUR",
    "KIND_STYLE",
    "MARKER_RULES",
    "SVG_SHAPES",
    "WARNING_COLOUR",
]

ERROR_COLOUR = "#d32f2f"
WARNING_COLOUR = "#f9a825"

#: cytoscape.js rules that mark nodes and edges with diagnostics, and the selection
MARKER_RULES: tuple[dict, ...] = (
    {
        "selector": "node.diag-warning",
        "style": {"border-width": 3, "border-style": "dashed", "border-color": WARNING_COLOUR},
    },
    {
        "selector": "node.diag-error",
        "style": {"border-width": 4, "border-style": "solid", "border-color": ERROR_COLOUR},
    },
    {
        "selector": "edge.diag-warning",
        "style": {"line-style": "dashed", "line-color": WARNING_COLOUR,
                  "target-arrow-color": WARNING_COLOUR, "width": 2.5},
    },
    {
        "selector": "edge.diag-error",
        "style": {"line-color": ERROR_COLOUR, "target-arrow-color": ERROR_COLOUR, "width": 3},
    },
    {
        "selector": "node:selected",
        "style": {"overlay-color": "#1e88e5", "overlay-opacity": 0.25, "overlay-padding": 6},
    },
)

#: kind -> (cytoscape shape, fill colour, what the legend says)
KIND_STYLE: dict[str, tuple[str, str, str]] = {
    "source": ("ellipse", "#2e7d32", "source"),
    "python": ("round-rectangle", "#1565c0", "python"),
    "model": ("barrel", "#6a1b9a", "model"),
    "switch": ("diamond", "#e65100", "switch"),
    "split": ("triangle", "#ad1457", "split"),
    "ensemble": ("hexagon", "#00838f", "ensemble"),
    "sink": ("round-octagon", "#37474f", "sink"),
}

SVG_SHAPES = {
    "ellipse": '<ellipse cx="9" cy="7" rx="8" ry="6"/>',
    "round-rectangle": '<rect x="1" y="1" width="16" height="12" rx="3"/>',
    "barrel": '<rect x="1" y="1" width="16" height="12" rx="6" ry="2"/>',
    "diamond": '<polygon points="9,0 18,7 9,14 0,7"/>',
    "triangle": '<polygon points="9,0 18,14 0,14"/>',
    "hexagon": '<polygon points="4,0 14,0 18,7 14,14 4,14 0,7"/>',
    "round-octagon": '<polygon points="5,0 13,0 18,4 18,10 13,14 5,14 0,10 0,4"/>',
}

