"""The monitor's slowest and failed requests, and a click on a node of the live
graph listing that node's slowest recent spans, on a traced deployment."""

from __future__ import annotations

import time
from typing import Any

import plotly.graph_objects as go

import hogar_nb
import hogar_nb.jupyter  # noqa: F401  (registers the monitor)
from hogar_nb.runtime.errors import RequestError
from monitor_helpers import wait_for


def slow_or_bad(x: Any) -> Any:
    """Fails for multiples of 10; sleeps 30 ms for 7."""
    if x % 10 == 0:
        raise ValueError(f"no {x}")
    if x == 7:
        time.sleep(0.03)
    return x + 1


GRAPH = """\
graph traced { trace_sample = 100% }
source src
python f { impl = slow_or_bad, timeout = 2s }
python g { impl = plus, timeout = 2s }
sink out
src -> f -> g -> out
"""
IMPLS = {"slow_or_bad": slow_or_bad, "plus": lambda x: x + 1}


def test_failed_and_slowest_requests_open_their_waterfall_and_a_node_click_lists_its_spans() -> None:
    dep = hogar_nb.run(hogar_nb.parse_udgl(GRAPH, namespace=IMPLS), namespace=IMPLS, sample_interval=0.1)
    try:
        futures = [dep.submit(x) for x in range(1, 41)]
        for x, fut in zip(range(1, 41), futures):
            if x % 10 == 0:
                assert isinstance(fut.exception(10), RequestError)
            else:
                assert fut.result(10) == x + 2
        wait_for(lambda: dep.tracing.store.added == 40, what="every request traced")
        dash = dep.monitor(display=False, start=False)
        panel = dash.traces
        assert panel is not None
        failed = {f.context.trace_id for x, f in zip(range(1, 41), futures) if x % 10 == 0}
        ids = [value for _label, value in panel.table.options]
        slow = [t for t in dep.traces("slow", 20) if t["status"] == "ok"]  # the panel's limit: 20 of each
        assert [t["duration_ms"] for t in slow] == sorted((t["duration_ms"] for t in slow), reverse=True)
        assert [t["trace_id"] for t in dep.traces("error")] == ids[:4]  # failed ones, newest first
        assert set(ids[:4]) == failed and ids[4:] == [t["trace_id"] for t in slow]  # then the slowest
        assert len(ids) == len(set(ids))
        slowest = ids[4]
        assert "failed (error)" in panel.table.options[0][0]
        assert panel.plot.figures == [] and panel.plot.layout.display == "none"
        sent = panel.plot.sent
        panel.table.value = slowest  # the pick opens its waterfall, a plain figure drawn by the panels widget
        assert type(panel.figure) is go.Figure and panel.plot.figures == [panel.figure]
        assert panel.plot.sent == sent + 1 and panel.plot.layout.display is None
        assert panel.plot.sizes == [[panel.figure.layout.width, panel.figure.layout.height]]
        names = {t for bar in panel.figure.data for t in bar.y}
        assert len(names) == len(dep.trace(slowest)["spans"]) and panel.figure.layout.title.text.endswith(slowest)
        # what the page sends for a click on node f
        dash.graph_view.canvas._handle_custom_msg({"event": "tap", "target": "node", "data": {"id": "f"}}, [])
        detail = dash.graph_view.detail.value
        spans = dep.tracing.store.node_spans("f", 5)
        assert len(spans) == 5 and spans[0]["duration_ms"] >= 30  # x = 7 sleeps 30 ms in f
        assert [s["duration_ms"] for s in spans] == sorted((s["duration_ms"] for s in spans), reverse=True)
        assert all(s["name"] == "f" and s["kind"] == "node" for s in spans)
        assert [detail.index(s["trace_id"]) for s in spans] == sorted(detail.index(s["trace_id"]) for s in spans)
        # a request failed since reaches the table on the next refresh, first
        assert isinstance(dep.submit(50).exception(10), RequestError)
        wait_for(lambda: dep.tracing.store.added == 41, what="the new failure traced")
        panel.refresh()
        assert panel.table.options[0][1] == dep.traces("error", 1)[0]["trace_id"] not in failed
        dash.close()
    finally:
        dep.stop()
