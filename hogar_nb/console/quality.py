"""A served graph's model quality, as the deployment page shows it.

Read from ``GET /hogar/v1/quality`` of the ``hogar serve`` and kept to what the page
draws: for each model node of the deployment's own EARG document, the drift share,
the drifted features, the quality metrics and the label counts, as numbers and short
names. Anything else the server answers is dropped, never shown.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["in_order", "quality_rows"]

METRICS = ("accuracy", "precision", "recall", "f1", "log_loss", "mae", "rmse", "labelled")
OUTCOMES = ("matched", "unknown", "expired", "duplicate")
MOST_FEATURES = 20


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def quality_rows(report: Any, doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per model node of ``doc`` that the report speaks of (empty when the
    report is not a quality report): its variant (``split → arm``) when it is an arm."""
    if not isinstance(report, dict) or not isinstance(report.get("nodes"), dict):
        return []
    models = [n["name"] for n in doc.get("nodes", []) if n.get("kind") == "model"]
    arms: dict[str, str] = {}
    variants = report.get("variants")
    if isinstance(variants, dict):
        for split, by_arm in variants.items():
            if isinstance(by_arm, dict):
                for arm, entry in by_arm.items():
                    node = entry.get("node") if isinstance(entry, dict) else None
                    if node in models and isinstance(split, str) and isinstance(arm, str):
                        arms[node] = f"{split[:100]} → {arm[:100]}"
    rows = []
    for name in models:
        entry = report["nodes"].get(name)
        if not isinstance(entry, dict):
            continue
        drifted = entry.get("drifted") if isinstance(entry.get("drifted"), list) else []
        quality = entry.get("quality") if isinstance(entry.get("quality"), dict) else {}
        labels = entry.get("labels") if isinstance(entry.get("labels"), dict) else {}
        rows.append({
            "node": name,
            "variant": arms.get(name, ""),
            "drift_share": _number(entry.get("drift_share")),
            "drifted": [f[:100] for f in drifted if isinstance(f, str)][:MOST_FEATURES],
            "window": _number(entry.get("rows_in_window")),
            "quality": {m: v for m in METRICS if (v := _number(quality.get(m))) is not None},
            "labels": {o: int(v) for o in OUTCOMES if (v := _number(labels.get(o))) is not None},
        })
    return rows


def in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Stored rows with their metrics and label counts in the page's order again (a
    PostgreSQL ``jsonb`` column keeps an object's keys in an order of its own)."""
    out = []
    for row in rows:
        quality, labels = row.get("quality") or {}, row.get("labels") or {}
        out.append({**row, "quality": {m: quality[m] for m in METRICS if m in quality},
                    "labels": {o: labels[o] for o in OUTCOMES if o in labels}})
    return out
