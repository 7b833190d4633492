"""The waterfall of one trace: a Plotly figure, one row per span, nested by parent."""

from __future__ import annotations

import html
from typing import Any

from ..core.trace_rows import span_rows

__all__ = ["COLOURS", "waterfall"]

#: span category -> (colour, legend label)
COLOURS = {
    "request": ("#37474f", "request"),
    "node": ("#1e88e5", "node"),
    "queue": ("#b0bec5", "queue wait"),
    "attempt": ("#43a047", "attempt"),
    "route": ("#8e24aa", "route"),
    "failed": ("#e53935", "failed"),
}


def _category(span: dict[str, Any]) -> str:
    if span["status"] != "ok":
        return "failed"
    return span["kind"] if span["kind"] in COLOURS else "node"


def _hover(span: dict[str, Any]) -> str:
    lines = [f"<b>{html.escape(span['name'])}</b> ({span['kind']}, {span['status']})",
             f"{span['duration_ms']:.3f} ms"]
    lines += [f"{html.escape(str(k))}: {html.escape(str(v))}" for k, v in span["attributes"].items()]
    return "<br>".join(lines)


def waterfall(trace: dict[str, Any], title: str | None = None) -> Any:
    """A Plotly figure of ``trace`` (the JSON of ``dep.trace(...)`` or
    ``GET /hogar/v1/traces/{id}``): one bar per span from its start to its end, in ms
    from the trace's start, nested by parent, coloured by kind (failed spans red), with
    the attributes on hover."""
    import plotly.graph_objects as go

    spans = trace.get("spans") or []
    if not spans:
        raise ValueError("the trace has no spans")
    rows = span_rows(spans)
    t0 = min(s["start"] for s in spans)
    fig = go.Figure()
    for category, (colour, label) in COLOURS.items():
        mine = [(i, s) for i, (_d, s) in enumerate(rows) if _category(s) == category]
        if not mine:
            continue
        fig.add_trace(go.Bar(
            orientation="h", name=label, marker_color=colour,
            y=[i for i, _ in mine], base=[(s["start"] - t0) * 1000.0 for _, s in mine],
            x=[max(s["duration_ms"], 0.001) for _, s in mine],
            customdata=[_hover(s) for _, s in mine], hovertemplate="%{customdata}<extra></extra>"))
    labels = ["\u2003" * depth + s["name"] for depth, s in rows]
    fig.update_layout(
        title=title or f"trace {trace.get('trace_id', '')}", barmode="overlay", bargap=0.25,
        height=max(240, 28 * len(rows) + 120), xaxis_title="ms since the request started",
        yaxis={"tickmode": "array", "tickvals": list(range(len(rows))), "ticktext": labels,
               "autorange": "reversed"},
        legend={"orientation": "h", "y": 1.02, "yanchor": "bottom"}, margin={"l": 10, "r": 10, "t": 60, "b": 40},
        template="plotly_white")
    return fig
