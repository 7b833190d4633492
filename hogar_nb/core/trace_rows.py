"""The rows of a trace's waterfall, for every view that draws one (notebook, console).

A trace is the JSON of ``GET /hogar/v1/traces/{trace_id}``; its spans become rows in
depth-first order, each under its parent, siblings by start time.
"""

from __future__ import annotations

from typing import Any

__all__ = ["span_rows"]


def span_rows(spans: list[dict[str, Any]]) -> list[tuple[int, dict[str, Any]]]:
    """(depth, span) for every span: roots first (spans whose parent is not in the
    trace), each span's children right under it by start time."""
    ids = {s["span_id"] for s in spans}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in spans:
        parent = s["parent_id"] if s["parent_id"] in ids else None
        children.setdefault(parent, []).append(s)
    for group in children.values():
        group.sort(key=lambda s: (s["start"], s["kind"] != "queue"))
    out: list[tuple[int, dict[str, Any]]] = []
    stack = [(0, s) for s in reversed(children.get(None, []))]
    while stack:
        depth, span = stack.pop()
        out.append((depth, span))
        stack.extend((depth + 1, c) for c in reversed(children.get(span["span_id"], [])))
    return out
