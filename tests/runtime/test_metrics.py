"""Metrics snapshot, series, Prometheus exposition, load reports and layering."""

from __future__ import annotations

import subprocess
import sys
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

import hogar_nb

from .conftest import chain, wait_for
from .impls import double


def test_snapshot_counts_and_percentiles(no_leaks):
    with hogar_nb.run(chain(double, double)) as dep:
        for i in range(200):
            dep.call(i)
        snap = dep.metrics()
    g = snap.graph
    assert (g.requests, g.ok, g.errors, g.in_flight) == (200, 200, 0, 0)
    assert g.p50_ms is not None and g.p50_ms <= g.p95_ms <= g.p99_ms
    n0 = snap.node("n0")
    assert (n0.requests, n0.replicas_alive, n0.restarts, n0.queue_depth) == (200, 1, 0, 0)
    assert n0.healthy
    with pytest.raises(KeyError, match="no node 'zz'"):
        snap.node("zz")


def test_series_are_sampled_and_bounded(no_leaks):
    with hogar_nb.run(chain(double), sample_interval=0.02) as dep:
        def enough_points():
            for i in range(20):
                dep.call(i)
            return len(dep.metrics().series("rps").t) >= 5
        wait_for(enough_points, what="5 samples of the rps series")
        snap = dep.metrics()
    rps = snap.series("rps")
    assert len(rps.t) == len(rps.values) and rps.t == sorted(rps.t)
    assert max(rps.values) > 0
    for name in ("p50_ms", "p95_ms", "p99_ms", "errors", "queue_depth", "in_flight", "replicas_alive"):
        series = snap.series(name, node="n0")
        assert len(series.t) == len(series.values) >= 5, name
    assert set(snap.series("replicas_alive", node="n0").values) == {1}
    with pytest.raises(ValueError, match="unknown series 'nope'"):
        snap.series("nope")
    from hogar_nb.runtime.metrics import SERIES_LENGTH, Stats
    stats = Stats()
    for i in range(SERIES_LENGTH + 50):
        stats.sample(float(i), 0, 0, 1)
    assert len(stats.series_rows()) == SERIES_LENGTH, "ring buffers never grow past their length"


def test_latency_is_timed_with_a_stride_set_from_the_rate():
    from hogar_nb.runtime.metrics import OBSERVATIONS_PER_SECOND, Stats, percentile_ms
    stats = Stats()
    for _ in range(10):  # below the rate every completion is timed
        stats.succeeded(0.002)
    assert (stats.ok, sum(stats.hist), stats.pending) == (10, 10, 0)

    stats.sample(0.0, 0, 0, 1)
    for _ in range(OBSERVATIONS_PER_SECOND * 8):
        stats.succeeded(0.002)
    stats.sample(1.0, 0, 0, 1)  # 8x the rate it times: one completion in 8 from now on
    assert stats.stride == 8
    for i in range(100):  # batches of 3: each timed batch counts for all pending ones
        stats.succeeded(0.010 if i % 2 else 0.020, 3)
    assert stats.ok == 10 + OBSERVATIONS_PER_SECOND * 8 + 300
    assert sum(stats.hist) + stats.pending == stats.ok, "every completion counted once"
    assert 0 < stats.pending < stats.stride
    assert percentile_ms(stats.hist, 0.5) == pytest.approx(2.0, rel=0.15)

    stats.sample(1001.0, 0, 0, 1)  # a quiet interval: back to timing every completion
    assert stats.stride == 1

def test_prometheus_scrape_parses(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        for i in range(25):
            dep.call(i)
        url = dep.serve_metrics()
        assert url.startswith("http://127.0.0.1:")
        text = urllib.request.urlopen(url, timeout=5).read().decode()
    families = {f.name: f for f in text_string_to_metric_families(text)}
    requests = {s.labels["node"]: s.value for s in families["hogar_requests"].samples
                if s.name == "hogar_requests_total"}
    assert requests["__graph__"] == 25 and requests["n0"] == 25
    buckets = [s for s in families["hogar_latency_seconds"].samples
               if s.name.endswith("_bucket") and s.labels["node"] == "n0"]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 25
    alive = {s.labels["node"]: s.value for s in families["hogar_replicas_alive"].samples}
    assert alive["n0"] == 1


def test_load_report_accounts_for_every_request(no_leaks):
    with hogar_nb.run(chain(double, replicas=2)) as dep:
        dep.inject_fault("n0", "error", rate=0.2, seed=3)
        report = dep.load(rate=400, duration=0.5, payload=lambda i: i, arrival="fixed", seed=1)
    assert report.sent == report.ok + sum(report.errors.values()) and report.lost == 0
    assert 150 <= report.sent <= 210, f"about 200 requests at 400/s for 0.5 s, got {report.sent}"
    assert set(report.errors) == {"error"} and report.errors["error"] > 10
    assert "lost 0" in report.summary()


def test_load_poisson_with_concurrency_cap(no_leaks):
    with hogar_nb.run(chain(double)) as dep:
        report = dep.load(rate=300, duration=0.3, payload=1, concurrency=4, seed=2)
    assert report.lost == 0 and report.ok == report.sent > 30
    assert report.results_sample[0] == 2


def test_metrics_off_still_serves(no_leaks):
    with hogar_nb.run(chain(double), metrics=False) as dep:
        assert dep.call(2) == 4
        assert dep.metrics().graph.requests == 0


def test_runtime_does_not_import_the_notebook_layer():
    code = ("import sys, hogar_nb.runtime.deployment, hogar_nb.runtime.cli, hogar_nb.runtime.loadgen, "
            "hogar_nb.runtime.prometheus; bad = [m for m in ('hogar_nb.jupyter', 'IPython', "
            "'ipywidgets', 'plotly') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"runtime pulled in {proc.stdout.strip()} {proc.stderr}"


def test_public_api_sorted_all():
    import hogar_nb.runtime as rt

    assert rt.__all__ == sorted(rt.__all__)
    assert rt.Deployment is hogar_nb.Deployment
    from hogar_nb.dispatch import backend_run

    assert backend_run("embedded") is rt.run  # what hogar_nb.run starts by default
