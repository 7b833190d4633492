"""Differences between two graph versions: canonical UDGL text and structure."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["StructuralDiff", "flatten", "structural_diff", "text_diff"]


def text_diff(old: str, new: str, old_label: str, new_label: str) -> list[tuple[str, str]]:
    """Unified diff lines as (kind, text): kind is "add", "del", "hunk", "head" or "same"."""
    out = []
    for line in difflib.unified_diff(old.splitlines(), new.splitlines(), old_label, new_label, lineterm=""):
        if line.startswith(("---", "+++")):
            kind = "head"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "same"
        out.append((kind, line))
    return out


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts as dotted keys: ``{"recovery": {"policy": "restart"}}`` -> ``recovery.policy``."""
    out: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                out.update(flatten(item, f"{prefix}{key}."))
            else:
                out[f"{prefix}{key}"] = item
    return out


@dataclass
class StructuralDiff:
    nodes_added: list[str] = field(default_factory=list)
    nodes_removed: list[str] = field(default_factory=list)
    edges_added: list[str] = field(default_factory=list)
    edges_removed: list[str] = field(default_factory=list)
    #: (what, attribute, old, new); what is a node name, "a -> b" or "graph"
    changed: list[tuple[str, str, Any, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.nodes_added or self.nodes_removed or self.edges_added
                    or self.edges_removed or self.changed)


def _by_name(doc: dict) -> dict[str, dict]:
    return {n["name"]: {k: v for k, v in n.items() if k != "name"} for n in doc.get("nodes", [])}


def _edges(doc: dict) -> dict[str, dict]:
    return {f"{e['src']} -> {e['dst']}": {k: v for k, v in e.items() if k not in ("src", "dst")}
            for e in doc.get("edges", [])}


def _changes(what: str, old: dict, new: dict) -> list[tuple[str, str, Any, Any]]:
    a, b = flatten(old), flatten(new)
    return [(what, key, a.get(key), b.get(key)) for key in sorted(set(a) | set(b)) if a.get(key) != b.get(key)]


def structural_diff(old: dict, new: dict) -> StructuralDiff:
    """Nodes and edges added or removed, and attributes changed, between two EARG documents."""
    diff = StructuralDiff()
    top = {k: v for k, v in old.items() if k not in ("nodes", "edges")}
    top_new = {k: v for k, v in new.items() if k not in ("nodes", "edges")}
    diff.changed += _changes("graph", top, top_new)
    on, nn = _by_name(old), _by_name(new)
    diff.nodes_added = sorted(set(nn) - set(on))
    diff.nodes_removed = sorted(set(on) - set(nn))
    for name in sorted(set(on) & set(nn)):
        diff.changed += _changes(name, on[name], nn[name])
    oe, ne = _edges(old), _edges(new)
    diff.edges_added = sorted(set(ne) - set(oe))
    diff.edges_removed = sorted(set(oe) - set(ne))
    for key in sorted(set(oe) & set(ne)):
        diff.changed += _changes(key, oe[key], ne[key])
    return diff
