"""The monitor's "slowest and failed requests": pick one to open its waterfall.

Reads the deployment's trace store (``dep.tracing``); renders only. The waterfall is
a plain Plotly figure drawn by a :class:`~.plot_panels.PlotPanels`, as the
monitor's other panels are: plotly.js is imported once per page, and a pick sends
one figure.
"""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as widgets

from ..trace_view import waterfall
from .plot_panels import PlotPanels

__all__ = ["TracesPanel", "WATERFALL_WIDTH", "node_spans_html"]

WATERFALL_WIDTH = 900  # px; its height follows its rows


def _row(t: dict[str, Any]) -> str:
    status = "failed" if t["status"] != "ok" else "ok"
    cause = f" ({t['cause']})" if t.get("cause") else ""
    return f"{t['duration_ms']:9.2f} ms  {status}{cause}  {t['trace_id']}  {t['request_id']}"


class TracesPanel(widgets.VBox):
    """The failed requests, newest first, then the slowest, from ``tracing``'s store;
    choosing one shows its waterfall below. :meth:`refresh` re-reads the store."""

    def __init__(self, tracing: Any, limit: int = 20) -> None:
        self.tracing = tracing
        self.limit = limit
        self.title = widgets.HTML("<b>Slowest and failed requests</b> (pick one for its waterfall)")
        self.table = widgets.Select(options=[], rows=8, layout=widgets.Layout(width="100%"))
        self.table.add_class("hogar-traces-table")
        self.table.observe(self._on_pick, names="value")
        self.figure: Any = None  # the picked trace's waterfall (a plotly Figure)
        self.plot = PlotPanels([], layout=widgets.Layout(display="none"))
        self.plot.add_class("hogar-waterfall")
        self.view = widgets.Box([])
        self.rows: list[dict[str, Any]] = []
        super().__init__([self.title, self.table, self.plot, self.view])
        self.refresh()

    def refresh(self) -> None:
        """The failed traces, then the slowest ones not failed, as the table's rows."""
        store = self.tracing.store
        failed = store.summaries("error", self.limit)
        seen = {(t["trace_id"], t["span_id"]) for t in failed}
        slow = [t for t in store.summaries("slow", self.limit) if (t["trace_id"], t["span_id"]) not in seen]
        rows = failed + slow
        if [(t["trace_id"], t["span_id"]) for t in rows] == [(t["trace_id"], t["span_id"]) for t in self.rows]:
            return
        picked = self.table.value
        self.rows = rows
        self.table.options = [(_row(t), t["trace_id"]) for t in rows]
        if picked in {t["trace_id"] for t in rows}:
            self.table.value = picked

    def show_trace(self, trace_id: str) -> Any:
        """Show the waterfall of ``trace_id``; returns the figure (None if not kept)."""
        doc = self.tracing.store.trace_json(trace_id)
        if doc is None:
            self.view.children = [widgets.HTML(f"trace {html.escape(trace_id)} is no longer kept")]
            self.plot.layout.display = "none"
            self.figure = None
            return None
        self.figure = waterfall(doc)
        self.figure.update_layout(width=WATERFALL_WIDTH)
        self.view.children = []
        self.plot.layout.display = None
        self.plot.show([self.figure])
        return self.figure

    def _on_pick(self, change: dict) -> None:
        if change["new"]:
            self.show_trace(change["new"])


def node_spans_html(node: str, spans: list[dict[str, Any]]) -> str:
    """The slowest recent spans of ``node`` (``TraceStore.node_spans``) as an HTML list."""
    if not spans:
        return f"<br><i>no traced request of {html.escape(node)} kept</i>"
    items = "".join(
        f"<li>{s['duration_ms']:.2f} ms {'ok' if s['status'] == 'ok' else 'failed'}: trace "
        f"<code>{s['trace_id']}</code>, request {html.escape(s['request_id'])}, "
        f"{s['attributes'].get('hogar.attempts', 1)} attempt(s)</li>" for s in spans)
    return f"<br>Slowest recent spans of <b>{html.escape(node)}</b>:<ul class='hogar-node-spans'>{items}</ul>"
