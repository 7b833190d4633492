"""The refresh thread: panels move while load runs, pause holds them, stop/close end it;
a Prometheus endpoint gives the same totals as the deployment it exposes."""

from __future__ import annotations

import pytest
from monitor_helpers import Background, send, start, wait_for

import hogar_nb.jupyter.monitor as mon
from hogar_nb.jupyter.monitor import Dashboard, DeploymentSource, PrometheusSource, monitor

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def dep():
    d = start()
    yield d
    d.stop()


def _points(dash):
    return len(dash.panels.figures["throughput"].data[0].x or ())


def test_panels_gain_points_in_the_background_and_stop_with_the_deployment(dep):
    dash = monitor(dep, interval=0.1, display=False)
    assert dash.live
    with Background(dep, rate=200):
        first = wait_for(lambda: _points(dash) >= 3 and _points(dash), what="first points")
        wait_for(lambda: _points(dash) >= first + 3, what="the trace to grow")
    assert dash.panels.figures["throughput"].data[0].y[-1] is not None
    dep.stop()
    assert "deployment stopped" in repr(dash)  # at once, not at the next refresh
    wait_for(lambda: not dash.live, what="the dashboard to stop after the deployment")
    assert "no longer running" in dash.status.value and "final" in dash.status.value
    count = dash.refreshes
    assert not dash.live and dash.refreshes == count
    # a stopped graph reads as stopped, with its last figures labelled final, never "down"
    levels = dash.graph_view.levels()
    assert levels == {"src": "inline", "n0": "stopped", "n1": "stopped", "out": "inline"}
    final = dash.last_health["n0"]
    assert final.rps > 0 and final.reason == "deployment stopped (was ok)"  # figures of the last run
    assert dash.graph_view.node_data("n0")["label"] == f"n0\nfinal: {final.rps:.1f} rps"
    assert dash.graph_view.canvas.stylesheet[0]["selector"] == "node"
    colours = {r["selector"]: r["style"].get("background-color") for r in dash.graph_view.canvas.stylesheet}
    assert colours['node[health = "stopped"]'] == mon.LEVELS["stopped"][0] != mon.LEVELS["down"][0]


def test_a_young_deployment_fills_the_panels_instead_of_a_sliver(dep):
    dash = monitor(dep, interval=0.1, window=300, display=False)
    try:
        with Background(dep, rate=100):
            wait_for(lambda: _points(dash) >= 5, what="some points")
        wait_for(lambda: dash.refresh() and _points(dash) >= 5, what="a refresh")
        xs = [x for x in dash.panels.figures["throughput"].data[0].x if x is not None]
        for key in ("throughput", "latency", "queues", "replicas"):
            low, high = dash.panels.figures[key].layout.xaxis.range
            assert high == 0 and low <= min(xs) and low > -60, (key, low)  # not -300
        low, _ = dash.behaviour.figure.layout.xaxis.range
        assert -60 < low < 0
    finally:
        dash.close()


def test_pause_holds_the_panels_and_resume_continues(dep):
    dash = Dashboard(DeploymentSource(dep), interval=0.05)
    try:
        wait_for(lambda: dash.refreshes >= 2, what="two refreshes")
        dash.pause()
        assert dash.pause_button.description == "Resume"
        held = dash.refreshes
        ticks = dash.ticks
        wait_for(lambda: dash.ticks >= ticks + 4, what="four ticks while paused")
        assert dash.refreshes in (held, held + 1)  # at most the tick already under way
        assert dash.status.value.startswith("paused")
        dash.resume()
        wait_for(lambda: dash.refreshes >= held + 3, what="refreshes after resume")
    finally:
        dash.close()
    assert not dash.live


def test_close_and_the_close_button_end_the_thread(dep):
    dash = Dashboard(DeploymentSource(dep), interval=0.05)
    wait_for(lambda: dash.refreshes >= 1, what="a refresh")
    dash.close_button.click()
    assert not dash.live and dash.comm is None
    assert dash.plots.comm is None and dash.graph_view.canvas.comm is None


def test_prometheus_endpoint_gives_the_deployment_totals(dep):
    url = dep.serve_metrics()
    source = PrometheusSource(url)
    topo = source.topology()
    assert set(topo.nodes) == {"src", "n0", "n1", "out"}
    assert topo.nodes["n0"].replicas == 2 and topo.nodes["src"].replicas == 0
    source.read()
    dep.inject_fault("n1", "error", rate=1.0, count=5)
    send(dep, 50)
    reading = source.read()
    snap = dep.metrics()
    for key, m in [(None, snap.graph), *snap.nodes.items()]:
        got = reading.totals[key]
        assert (got.requests, got.ok, got.errors_by_cause) == (m.requests, m.ok, m.errors_by_cause), key
        assert got.replicas_alive == m.replicas_alive
        assert list(got.hist) == [n for _b, n in m.histogram]
    t, errors = source.series(reading, "errors", "n1")
    assert errors == [5] and t == [reading.time]


def test_dashboard_on_a_url_draws_from_scrapes(dep):
    url = dep.serve_metrics()
    dash = monitor(url, graph=None, interval=0.1, display=False)
    try:
        with Background(dep, rate=200):
            wait_for(lambda: _points(dash) >= 3 and max(dash.panels.figures["throughput"].data[0].y) > 0,
                     what="scraped throughput points")
        assert dash.source.label == url
        assert dash.graph_view.levels()["n0"] in ("ok", "idle")
    finally:
        dash.close()


def test_as_source_rejects_what_it_cannot_watch():
    with pytest.raises(TypeError, match="cannot monitor int"):
        mon.as_source(3)


def test_deployment_methods_when_the_runtime_offers_them(dep):
    if not hasattr(dep, "monitor"):
        pytest.skip("Deployment.monitor() is not there yet (runtime hook requested)")
    dash = dep.monitor(display=False, interval=0.1)
    try:
        wait_for(lambda: dash.refreshes >= 1, what="a refresh")
    finally:
        dash.close()


def test_out_of_view_the_dashboard_reads_but_sends_nothing_until_back(dep):
    """The page reports the dashboard scrolled away or in a hidden tab: readings and
    health go on, the views are left alone, and are drawn at once when back in view."""
    dash = Dashboard(DeploymentSource(dep), start=False, interval=0.1)
    try:
        dash.refresh()
        sent = _recorded(dash.plots)
        shown = dash.last_reading.time
        dash.visibility.visible = False
        send(dep, 20)
        wait_for(lambda: dash.refresh().totals[None].requests >= 20, what="20 requests read")
        # and a sample of the engine's series taken since the last draw, so there is news to draw
        wait_for(lambda: max(dash.source.series(dash.refresh(), "rps", None)[0], default=0) > shown,
                 what="a sample newer than the last drawn reading")
        assert sent == [] and dash.skipped >= 1
        assert dash.last_reading.totals[None].requests >= 20  # read and rated all the same
        draws = dash.draws
        dash.visibility.visible = True  # as the page's IntersectionObserver reports it
        assert dash.draws == draws + 1 and sent  # drawn at once, not at the next tick
    finally:
        dash.close()


def _recorded(widget) -> list:
    """The custom messages ``widget`` sends to the page from now on (still sent)."""
    sent: list = []
    send = widget.send
    widget.send = lambda content, buffers=None: (sent.append(content), send(content, buffers))
    return sent


def test_one_message_for_the_panels_per_refresh_naming_only_what_changed(dep):
    dash = Dashboard(DeploymentSource(dep), start=False, window=60)
    try:
        send(dep, 20)
        wait_for(lambda: dash.refresh().totals[None].requests >= 20, what="20 requests read")
        dash.refresh()  # slot names settled
        drawn = dash.last_reading.time  # a sample newer than the drawn reading: there is news to draw
        wait_for(lambda: max(dash.source.series(dash.source.read(), "rps", None)[0], default=0) > drawn,
                 what="a sample newer than the last drawn reading")
        panels, graph = _recorded(dash.plots), _recorded(dash.graph_view.canvas)
        dash.graph_view.badge_every = 0.0  # every badge now: every node with replicas changes
        dash.refresh()
        assert len(panels) == 1 and len(graph) <= 1, (panels, graph)
        order = [dash.panels.figures[k] for k in ("throughput", "latency", "errors", "queues", "replicas")]
        changed = {order[int(i)].layout.title.text for i in panels[0]["figures"] if int(i) < len(order)}
        assert "Errors by cause (since start)" not in changed  # no error since: nothing to send
        assert "Throughput (completions/s)" in changed
        dash.refresh()
        dash.refresh()
        assert len(graph) <= 3 and all(set(graph[-1]["nodes"]) <= set(dash.topology.nodes) for _ in graph)
    finally:
        dash.close()
