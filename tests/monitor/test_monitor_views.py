"""What a person reads on the monitor panels and the report: every trace has a name,
an errors panel with nothing to count says "no errors", a gap in a series breaks the
line, the report's time axes span their data, its legends stay off the bars, and its
graph picture survives HTML sanitizing."""

from __future__ import annotations

import base64
import re

import plotly.graph_objects as go

from hogar_nb.jupyter.monitor.panels import break_gaps, window_xy
from hogar_nb.jupyter.monitor.report import fit_time_axis, report
from hogar_nb.jupyter.monitor.static_chart import draw
from monitor_helpers import start, wait_for


def test_a_gap_breaks_the_line_and_steady_samples_do_not() -> None:
    t = [0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 12.0]
    xs, ys = window_xy(t, [1, 2, 3, 4, 5, 6, 7], now=12.0, window_s=60.0, max_points=100)
    assert ys == [1, 2, 3, 4, None, 5, 6, 7]
    assert xs[4] == (3.0 + 10.0) / 2 - 12.0
    assert break_gaps([0.0, 1.0, 2.0, 3.0], [1, 2, 3, 4]) == ([0.0, 1.0, 2.0, 3.0], [1, 2, 3, 4])


def test_panels_name_every_trace_say_no_errors_and_report_fits_its_axes() -> None:
    dep = start(sample_interval=0.1)
    try:
        dash = dep.monitor(display=False, start=False, window=300)
        for i in range(20):
            dep.call(i)
        wait_for(lambda: dash.refresh().totals.get(None) and dash.last_reading.totals[None].requests >= 20,
                 what="20 requests in the metrics")
        for fig in [*dash.panels.figures.values(), dash.behaviour.figure]:
            assert all(t.name for t in fig.data), fig.layout.title.text  # hidden node slots too
        errors = dash.panels.figures["errors"]
        assert [a.text for a in errors.layout.annotations] == ["no errors"]
        assert errors.layout.xaxis.visible is False and errors.layout.yaxis.visible is False

        def sampled_report():  # the series are sampled apart from the counters: wait for a point
            rep = report(dep, display=False, dashboard=dash)
            xs = [x for t in rep.figures["throughput"].data if t.visible is not False and t.x
                  for x in t.x if x is not None]
            return (rep, xs) if xs else None

        rep, xs = wait_for(sampled_report, what="a throughput sample in the report")
        thr = rep.figures["throughput"]
        oldest = min(xs)
        assert thr.layout.xaxis.range[1] == 0 and -60 < thr.layout.xaxis.range[0] <= oldest  # not -300
        header = rep.bundles()[0]["text/html"]
        assert "<svg" not in header  # inline SVG is stripped by sanitizers: an <img> instead
        src = re.search(r'<img class="hogar-report-graph"[^>]* src="data:image/svg\+xml;base64,([^"]+)"', header)
        assert "<svg" in base64.b64decode(src.group(1)).decode() and "n0" in base64.b64decode(src.group(1)).decode()

        dep.inject_fault("n1", "error", rate=1.0)
        for i in range(5):
            try:
                dep.call(i)
            except Exception:  # noqa: BLE001 - the injected errors
                pass
        wait_for(lambda: dash.refresh().totals[None].errors >= 5, what="the errors")
        assert errors.layout.annotations == () and errors.layout.xaxis.visible is True
    finally:
        dep.stop()


def test_fit_time_axis_leaves_bar_charts_alone() -> None:
    fig = go.Figure(layout={"xaxis": {"range": [-300, 0]}})
    fig.add_scatter(x=[-12.0, -6.0, None, -1.0], y=[1, 2, None, 3])
    fit_time_axis(fig)
    assert fig.layout.xaxis.range == (-12.0 * 1.03, 0)
    bars = go.Figure()
    bars.add_bar(x=["end-to-end"], y=[3])
    fit_time_axis(bars)
    assert bars.layout.xaxis.range is None


def test_static_errors_chart_keeps_its_legend_off_the_bars() -> None:
    fig = go.Figure(layout={"title": {"text": "Errors by cause"}, "barmode": "stack"})
    for cause, counts in (("error", [40, 38]), ("timeout", [12, 0]), ("overload", [5, 2])):
        fig.add_bar(x=["end-to-end", "scorer"], y=counts, name=cause)
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    mfig = draw(fig)
    canvas = FigureCanvasAgg(mfig)
    canvas.draw()
    renderer = canvas.get_renderer()
    (legend,) = mfig.legends
    box = legend.get_window_extent(renderer)
    bars = [p.get_window_extent(renderer) for ax in mfig.axes for p in ax.patches]
    assert bars and not any(box.overlaps(b) for b in bars)


def test_every_panel_the_page_is_sent_names_all_its_traces() -> None:
    """Legends never read "trace 0": every figure sent to the page, after the node
    slots were given their nodes, names every one of its traces."""
    dep = start(sample_interval=0.1)
    try:
        dash = dep.monitor(display=False, start=False, window=60)
        sent: list[dict] = []
        send = dash.plots.send
        dash.plots.send = lambda content, buffers=None: (sent.append(content), send(content, buffers))
        for i in range(10):
            dep.call(i)
        wait_for(lambda: dash.refresh().totals[None].requests >= 10, what="10 requests in the metrics")
        dash.refresh()
        figures = [fig for msg in sent for fig in msg["figures"].values()]
        names = [t.get("name") for fig in figures for t in fig["data"]]
        assert any(name in ("n0", "n1") for name in names), "the node slots were named"
        assert names and all(isinstance(name, str) and name for name in names), names
        assert [t.name for t in dash.panels.figures["queues"].data][:2] == ["queued (all)", "in flight (all)"]
    finally:
        dep.stop()


def test_close_closes_the_box_first_then_every_widget_in_it() -> None:
    from hogar_nb.jupyter.monitor.dashboard import _descendants

    dep = start()
    try:
        dash = dep.monitor(display=False, start=False)
        inner = _descendants(dash)
        assert dash.plots in inner and dash.graph_view.canvas in inner
        closed: list[object] = []
        for w in [dash, *inner]:
            w.observe(lambda c, w=w: closed.append(w) if c["new"] is None else None, names="comm")
        dash.close()
        assert closed[0] is dash  # the page drops the views before their models close
        assert all(w.comm is None for w in inner)
    finally:
        dep.stop()


def test_report_is_interactive_where_plotly_renders_and_draws_every_panel_with_data() -> None:
    """Plotly's JupyterLab renderer shows a bundle's image/png rather than the chart, so
    the picture for other places is HTML; a lone latency sample (idle before and
    after) is drawn as a marker, not lost in a line with nothing to join."""
    import math
    import time

    dep = start(sample_interval=0.1)
    try:
        dash = dep.monitor(display=False, start=False, window=60)
        dash.refresh()
        for i in range(30):
            dep.call(i)

        def lone_latency():
            rep = report(dep, display=False, dashboard=dash)
            ys = [y for t in rep.figures["latency"].data for y in (t.y or ()) if y is not None]
            return rep if ys else None

        time.sleep(0.5)  # idle samples after the burst: its latency is a lone point
        rep = wait_for(lone_latency, what="a latency sample in the report")
        for bundle in rep.bundles()[1:]:
            assert "application/vnd.plotly.v1+json" in bundle and "image/png" not in bundle
            assert bundle["text/html"].startswith('<img class="hogar-report-panel"')
        latency = rep.figures["latency"]
        for trace in latency.data:
            ys = list(trace.y or ())
            lone = [i for i, y in enumerate(ys) if y is not None
                    and (i == 0 or ys[i - 1] is None) and (i == len(ys) - 1 or ys[i + 1] is None)]
            if lone:
                assert "markers" in trace.mode, trace.name
        mfig = draw(latency)
        (ax,) = mfig.axes
        drawn = [o for c in ax.collections for o in c.get_offsets().filled(math.nan) if all(map(math.isfinite, o))]
        assert drawn, "the latency picture shows its samples"
    finally:
        dep.stop()
