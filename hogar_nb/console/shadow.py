"""A served graph's shadow traffic (and its replicas' placement), as the deployment page
shows them.

Read from ``GET /hogar/v1/shadow`` of the ``hogar serve`` and kept to what the page
draws: for each mirror edge's candidate of the deployment's own EARG document, the
node it shadows and the two side by side — copies, answers, errors, agreement of
their answers, mean absolute difference and both sides' p50/p99 latency. Anything
else the server answers is dropped, never shown.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["mirror_candidates", "placement_rows", "shadow_rows"]

COUNTS = ("mirrored", "answered", "primary_errors", "compared")
FIGURES = ("agreement", "mean_abs_diff", "candidate_p50_ms", "candidate_p99_ms", "primary_p50_ms",
           "primary_p99_ms")


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def mirror_candidates(doc: dict[str, Any]) -> list[str]:
    """The nodes that mirror edges of ``doc`` copy requests to."""
    return sorted({e["dst"] for e in doc.get("edges", []) if e.get("mirror") is not None})


def shadow_rows(report: Any, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per mirror candidate of ``doc`` that the report speaks of (empty when
    the report is not a shadow report)."""
    shadows = report.get("shadows") if isinstance(report, dict) else None
    if not isinstance(shadows, dict):
        return []
    nodes = {n["name"] for n in doc.get("nodes", [])}
    rows = []
    for name in mirror_candidates(doc):
        entry = shadows.get(name)
        if not isinstance(entry, dict):
            continue
        primary = entry.get("primary")
        errors = entry.get("errors") if isinstance(entry.get("errors"), dict) else {}
        row: dict[str, Any] = {
            "candidate": name,
            "primary": primary if primary in nodes or primary == "response" else "—",
            "share": _number(entry.get("share")),
            "errors": int(sum(v for v in errors.values() if _number(v) is not None)),
        }
        for key in COUNTS:
            value = _number(entry.get(key))
            row[key] = int(value) if value is not None else 0
        for key in FIGURES:
            row[key] = _number(entry.get(key))
        rows.append(row)
    return rows


def placement_rows(report: Any, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """From ``GET /hogar/v1/placement``: one row per worker node of ``doc``, the machines
    its replicas were planned on and those they run on, as ``{machine: count}``."""
    nodes = report.get("nodes") if isinstance(report, dict) else None
    if not isinstance(nodes, dict):
        return []

    def counts(value: Any) -> dict[str, int]:
        if not isinstance(value, dict):
            return {}
        return {str(k)[:100]: int(v) for k, v in value.items() if _number(v) is not None}

    rows = []
    for name in sorted(n["name"] for n in doc.get("nodes", [])):
        entry = nodes.get(name)
        if isinstance(entry, dict):
            rows.append({"node": name, "planned": counts(entry.get("planned")), "running": counts(entry.get("running"))})
    return rows
