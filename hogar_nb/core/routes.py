"""HTTP routes of a graph's sources, written one way for every front and exporter.

A source's route is its ``route`` attribute, else ``/`` + its name; a route has one
leading ``/`` and no trailing one (``/`` alone is the root), so ``score``, ``/score``
and ``/score/`` are the same route, and a request path is matched in the same form.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["normalize_route", "source_routes"]


def normalize_route(path: str) -> str:
    """``path`` with a leading ``/`` and no trailing one (``"/"`` stays ``"/"``)."""
    return "/" + path.strip("/") if path.strip("/") else "/"


def source_routes(earg: Mapping[str, Any]) -> dict[str, str]:
    """``{source name: route}`` for each source node of an EARG document, normalised."""
    routes: dict[str, str] = {}
    for node in earg.get("nodes") or []:
        if isinstance(node, Mapping) and node.get("kind") == "source":
            name = str(node.get("name"))
            routes[name] = normalize_route(str(node.get("route") or name))
    return routes
