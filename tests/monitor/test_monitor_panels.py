"""The figures' data follow the engine: traces equal the engine's series, bars its counts."""

from __future__ import annotations

import base64
import io
import re
import time

import pytest
from monitor_helpers import SCORER, Background, send, start, wait_for
from PIL import Image

from hogar_nb.jupyter.monitor import Dashboard, DeploymentSource, HealthRules, report
from hogar_nb.jupyter.monitor.panels import window_xy
from hogar_nb.jupyter.monitor.static_chart import figure_png

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def dep():
    d = start()
    yield d
    d.stop()


def _expected(reading, metric, node, dash):
    s = reading.raw.series(metric, node)
    return window_xy(s.t, s.values, reading.time, dash.window, dash.panels.max_points)


def test_traces_equal_the_engine_series(dep):
    dash = Dashboard(DeploymentSource(dep), start=False)
    with Background(dep, rate=300):
        wait_for(lambda: len(dep.metrics().series("rps").values) >= 8
                 and dep.metrics().series("rps").values[-1] > 0, what="a few samples under load")
        reading = dash.refresh()
    figs = dash.panels.figures
    assert dash.panels.shown == ["n0", "n1"]
    thr = figs["throughput"].data
    assert [t.name for t in thr] == ["end-to-end", "n0", "n1"]
    assert (list(thr[0].x), list(thr[0].y)) == _expected(reading, "rps", None, dash)
    assert (list(thr[2].x), list(thr[2].y)) == _expected(reading, "rps", "n1", dash)
    assert len(thr[0].x) >= 8 and max(y for y in thr[0].y if y is not None) > 50  # ~300/s offered; None: a gap
    lat = figs["latency"].data
    for trace, metric in zip(lat[:3], ("p50_ms", "p95_ms", "p99_ms")):
        assert (list(trace.x), list(trace.y)) == _expected(reading, metric, None, dash)
    assert lat[3].name == "n0 p99" and list(lat[3].y) == _expected(reading, "p99_ms", "n0", dash)[1]
    q = figs["queues"].data
    assert list(q[0].y) == _expected(reading, "queue_depth", None, dash)[1]
    assert list(q[1].y) == _expected(reading, "in_flight", None, dash)[1]
    rep = figs["replicas"].data
    assert list(rep[0].y) == _expected(reading, "replicas_alive", "n0", dash)[1]
    assert set(rep[0].y) - {None} == {2}  # None: a gap in the sampling on a busy machine
    assert all(-dash.window <= x <= 0 for x in thr[0].x)


def test_errors_bars_equal_the_snapshot_counts(dep):
    dash = Dashboard(DeploymentSource(dep), start=False)
    dep.inject_fault("n1", "error", rate=1.0, count=7)
    send(dep, 40)
    reading = dash.refresh()
    snap = reading.raw
    bars = {t.name: dict(zip(t.x, t.y)) for t in dash.panels.figures["errors"].data}
    assert snap.node("n1").errors_by_cause == {"error": 7}
    assert bars == {"error": {"end-to-end": snap.graph.errors_by_cause["error"], "n1": 7}}
    assert dash.last_reading.totals[None].requests == snap.graph.requests == 40


def test_health_colours_follow_faults_and_recover(dep):
    rules = HealthRules(horizon_s=0.3)
    dash = Dashboard(DeploymentSource(dep), start=False, rules=rules)
    send(dep, 20)
    dash.refresh()
    assert dash.graph_view.levels() == {"src": "inline", "n0": "ok", "n1": "ok", "out": "inline"}
    label = dash.graph_view.node_data("n0")["label"]
    assert "rps" in label and "q 0" in label
    dep.inject_fault("n1", "error", rate=1.0)
    send(dep, 20)
    dash.refresh()
    assert dash.graph_view.levels()["n1"] == "failing"
    assert dash.last_health["n1"].error_rate == 1.0
    assert dash.graph_view.levels()["n0"] == "ok"
    dep.clear_faults()

    def healed():
        send(dep, 10)
        dash.refresh()
        return dash.graph_view.levels()["n1"] == "ok"

    wait_for(healed, what="n1 to turn healthy again once the fault is cleared")


def test_slow_node_is_degraded_against_its_timeout(dep):
    dash = Dashboard(DeploymentSource(dep), start=False, rules=HealthRules(horizon_s=0.3))
    assert dash.topology.nodes["n0"].timeout_ms == 2000
    dep.inject_fault("n0", "slow", rate=1.0, delay_ms=1200)
    send(dep, 4)
    dash.refresh()
    h = dash.last_health["n0"]
    assert h.level == "degraded" and "timeout" in h.reason and h.p99_ms >= 1000


def test_recovery_events_are_markers_on_the_replicas_panel(dep):
    dash = Dashboard(DeploymentSource(dep), start=False)
    dep.inject_fault("n0", "crash", count=1)
    send(dep, 10)
    wait_for(lambda: dep.metrics().events, what="a recovery event")
    dash.refresh()
    markers = dash.panels.figures["replicas"].data[-1]
    event = dash.last_reading.raw.events[0]
    assert markers.name == "recovery events" and len(markers.x) == 1
    assert markers.x[0] == pytest.approx(event.time - dash.last_reading.time)
    assert markers.hovertext[0].startswith(f"n0[{event.replica}] {event.cause}")
    assert "n0" in dash.panels.shown_replicas


def test_window_selector_bounds_every_trace(dep):
    dash = Dashboard(DeploymentSource(dep), start=False, window=300)
    with Background(dep, rate=200):
        wait_for(lambda: len(dep.metrics().series("rps").t) >= 12, what="12 samples")
    dash.window = 0.5  # shorter than the history: only the newest few points remain
    dash.refresh()
    x = dash.panels.figures["throughput"].data[0].x
    assert 1 <= len(x) <= 6 and all(-0.5 <= v <= 0 for v in x)
    assert tuple(dash.panels.figures["throughput"].layout.xaxis.range) == (-0.5, 0)
    dash.window = 300
    dash.refresh()
    assert len(dash.panels.figures["throughput"].data[0].x) >= 12


def test_behaviour_panel_shows_the_response_distribution_drifting():
    dep = start(SCORER)
    try:
        dash = Dashboard(DeploymentSource(dep), start=False, field="score", window=3)
        send(dep, 30, payload=lambda i: i % 10, track=dash.track)          # scores 0.00 .. 0.09
        early = time.time()
        wait_for(lambda: time.time() > early + 0.25, what="the next 0.1 s bucket")
        send(dep, 30, payload=lambda i: 90 + i % 10, track=dash.track)     # scores 0.90 .. 0.99
        dash.refresh()
        fig = dash.behaviour.figure
        samples = sorted(fig.data[0].y)
        assert samples == sorted([i % 10 / 100 for i in range(30)] + [(90 + i % 10) / 100 for i in range(30)])
        medians = [m for m in fig.data[2].y if m is not None]
        assert medians[0] < 0.1 and medians[-1] > 0.9  # drift is visible in the median line
        assert "60 samples" in fig.layout.title.text
    finally:
        dep.stop()


def test_report_is_a_static_copy_of_the_panels(dep):
    dep.inject_fault("n1", "error", rate=1.0)
    send(dep, 15)
    rep = report(dep, display=False)
    assert set(rep.figures) == {"throughput", "latency", "errors", "queues", "replicas", "behaviour"}
    errors = rep.figures["errors"].data[0]
    assert dict(zip(errors.x, errors.y)) == {"end-to-end": 15, "n1": 15}
    bundles = rep.bundles()
    assert "application/vnd.plotly.v1+json" in bundles[1]
    # each panel also as a picture in HTML, for viewers that run no JavaScript; no
    # image/png, which Plotly's JupyterLab renderer would show instead of the chart
    assert all("image/png" not in b and b["text/html"].startswith("<img") for b in bundles[1:])
    errors_html = bundles[1 + list(rep.figures).index("errors")]["text/html"]
    png = Image.open(io.BytesIO(base64.b64decode(re.search(r'base64,([^"]+)"', errors_html).group(1))))
    assert png.size == (480, 260)
    colours = {c for _n, c in png.convert("RGB").getcolors(maxcolors=1 << 16)}
    assert (0x63, 0x6E, 0xFA) in colours  # the `error` bars, in Plotly's first colour
    header = bundles[0]["text/html"]
    picture = base64.b64decode(re.search(r'src="data:image/svg\+xml;base64,([^"]+)"', header).group(1)).decode()
    assert "<svg" in picture and ">n1<" in picture and "#d62728" in picture  # n1 drawn as failing
    assert rep.health["n1"].level == "failing"


def test_static_chart_draws_the_traces_it_is_given():
    import plotly.graph_objects as go

    empty = Image.open(io.BytesIO(figure_png(go.Figure(layout={"title": {"text": "Throughput"}}))))
    fig = go.Figure(layout={"title": {"text": "Throughput"}, "xaxis": {"range": [-60, 0], "ticksuffix": " s"}})
    fig.add_scatter(x=[-50, -30, -10], y=[1, 5, 2], name="end-to-end", line={"width": 3, "color": "black"})
    fig.add_scatter(x=[-40], y=[0], mode="markers", name="recovery", marker={"symbol": "x", "color": "#d62728"})
    fig.add_scatter(x=[-20, -5], y=[3, None], name="hidden", visible=False, line={"color": "#00ff00"})
    drawn = Image.open(io.BytesIO(figure_png(fig, width_px=300, height_px=200)))
    assert drawn.size == (300, 200) and empty.size == (480, 260)
    colours = {c for _n, c in drawn.convert("RGB").getcolors(maxcolors=1 << 16)}
    assert (0, 0, 0) in colours and (0xD6, 0x27, 0x28) in colours  # the line and the marker
    assert (0, 0xFF, 0) not in colours  # invisible traces stay hidden
