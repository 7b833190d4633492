"""The quality report: what ``GET /hogar/v1/quality`` and ``dep.quality()`` answer."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .monitor import QualityMonitor

__all__ = ["quality_report", "split_variants"]


def split_variants(edges: list[tuple[str, str]], kinds: dict[str, Any], watched: set[str]) -> dict[str, dict]:
    """``{split: {arm: model node}}``: for each split, each successor's first model node
    under watch along its branch (the arm itself, or the first one after it)."""
    succ: dict[str, list[str]] = {}
    for src, dst in edges:
        succ.setdefault(src, []).append(dst)
    out: dict[str, dict] = {}
    for split in (n for n, k in kinds.items() if k == "split"):
        arms = {}
        for arm in succ.get(split, []):
            seen, stack = set(), [arm]
            while stack:
                node = stack.pop(0)
                if node in seen:
                    continue
                seen.add(node)
                if node in watched:
                    arms[arm] = node
                    break
                stack.extend(succ.get(node, []))
        if arms:
            out[split] = arms
    return out


def quality_report(monitor: QualityMonitor) -> dict[str, Any]:
    """Per model node: its windows, drift per feature, quality scores and label
    counts; per split, the same of each arm side by side; and the graph's totals."""
    store = monitor.store
    nodes: dict[str, Any] = {}
    for name, watch in monitor.nodes.items():
        entry = watch.report()
        if store is not None and name in monitor.feedback_nodes:
            entry["labels"] = store.label_outcomes(name)
            entry["feedback_horizon_s"] = watch.settings.horizon
        nodes[name] = entry
    variants = {
        split: {arm: {"node": node, "drift_share": nodes[node]["drift_share"], "drifted": nodes[node]["drifted"],
                      "quality": nodes[node]["quality"], "labels": nodes[node].get("labels")}
                for arm, node in arms.items()}
        for split, arms in split_variants(monitor.edges, monitor.kinds, set(monitor.nodes)).items()
    }
    out: dict[str, Any] = {"graph": monitor.dep.name, "nodes": nodes, "variants": variants,
                           "events_dropped": monitor.dropped, "evaluations": monitor.evaluations}
    if store is not None:
        out["labels"] = store.label_outcomes()
        out["store"] = {"path": store.path, **store.counts()}
    if monitor.alerts is not None:
        out["alerts"] = monitor.alerts.report()
    if monitor.last_error:
        out["last_error"] = monitor.last_error
    return out
