"""A served iris model watched live: drift against its reference file, a captured
reference, per-variant reports."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import hogar_nb
from hogar_nb.quality.errors import QualityError

from .conftest import iris_traffic

WINDOW = 500


def _graph(extra: str = "") -> str:
    return f"""graph iris
source score
model clf {{ impl = "iris.joblib", reference = "train.csv", drift_window = {WINDOW}{extra} }}
sink out
score -> clf -> out
"""


def _settled(dep, rows: int) -> dict:
    """The report once the monitor has computed drift over ``rows`` input rows."""
    monitor = dep.quality_monitor()
    while True:
        report = dep.quality()
        node = report["nodes"]["clf"]
        if node["rows_seen"] >= rows and monitor.nodes["clf"].evaluated_at >= rows:
            return report
        time.sleep(0.05)


def test_one_shifted_feature_drifts_within_one_window_and_the_others_do_not(iris_dir: Path) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(_graph()), base_dir=iris_dir) as dep:
        for row in iris_traffic(WINDOW, seed=1).tolist():
            dep.call(row)
        calm = _settled(dep, WINDOW)["nodes"]["clf"]
        assert calm["drifted"] == [] and calm["drift_share"] == 0.0
        assert all(f["scores"]["psi"] < 0.2 for f in calm["features"])
        for row in iris_traffic(WINDOW, seed=2, shift={2: 2.0}).tolist():  # petal_length + 2 sd
            dep.call(row)
        shifted = _settled(dep, 2 * WINDOW)["nodes"]["clf"]
        by_name = {f["feature"]: f for f in shifted["features"]}
        assert shifted["drifted"] == ["petal_length"]
        assert by_name["petal_length"]["scores"]["psi"] > 0.2
        assert by_name["petal_length"]["pvalues"]["ks"] < 1e-6
        assert all(by_name[f]["scores"]["psi"] < 0.2 for f in ("sepal_length", "sepal_width", "petal_width"))
        assert shifted["drift_share"] == pytest.approx(0.25)
        assert shifted["rows_in_window"] == WINDOW
        assert dep.quality()["events_dropped"] == 0


def test_batches_of_rows_count_row_by_row(iris_dir: Path) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(_graph()), base_dir=iris_dir) as dep:
        rows = iris_traffic(400, seed=3, shift={0: 2.0}).tolist()
        for i in range(0, 400, 40):
            assert len(dep.call(rows[i:i + 40])) == 40
        node = _settled(dep, 400)["nodes"]["clf"]
        assert node["rows_seen"] == 400 and node["drifted"] == ["sepal_length"]


def test_a_reference_captured_from_traffic_replaces_the_file(iris_dir: Path) -> None:
    with hogar_nb.run(hogar_nb.parse_udgl(_graph()), base_dir=iris_dir) as dep:
        fut = dep.capture_reference("clf", n=300)
        shifted = iris_traffic(300, seed=4, shift={1: 2.0}).tolist()
        for row in shifted:
            dep.call(row)
        ref = fut.result(timeout=60)
        assert ref.source == "traffic" and ref.names == ["sepal_length", "sepal_width", "petal_length", "petal_width"]
        assert ref.features["sepal_width"].count == 300
        assert set(ref.outputs) == {"output"}  # the classes it answered
        for row in iris_traffic(WINDOW, seed=5, shift={1: 2.0}).tolist():  # like the captured traffic: no drift
            dep.call(row)
        node = _settled(dep, 300 + WINDOW)["nodes"]["clf"]
        assert node["reference"]["source"] == "traffic" and node["drifted"] == []
        assert {f["feature"] for f in node["outputs"]} == {"output"}
        with pytest.raises(QualityError, match="not a model node"):
            dep.capture_reference("out")
        with pytest.raises(QualityError, match="expected an integer between 10"):
            dep.capture_reference("clf", n=5)


def test_bad_payloads_mixed_with_good_ones_leave_the_watch_working(iris_dir: Path) -> None:
    bad = ["five", [1.0, 2.0], {"a": 1}, [[1.0, "x", 3.0, 4.0]], [], None, [float("nan")] * 4]
    good = iris_traffic(WINDOW, seed=6).tolist()
    with hogar_nb.run(hogar_nb.parse_udgl(_graph()), base_dir=iris_dir) as dep:
        ok = failed = 0
        for i, row in enumerate(good):
            for payload in ([bad[i % len(bad)]] if i % 5 == 0 else []) + [row]:
                try:
                    dep.call(payload)
                    ok += 1
                except hogar_nb.HogarError:
                    failed += 1
        assert ok == WINDOW and failed == WINDOW // 5  # every request counted: each bad one refused alone
        monitor = dep.quality_monitor()
        monitor.evaluate()
        report = dep.quality()
        assert "last_error" not in report
        node = report["nodes"]["clf"]
        assert node["drifted"] == [] and node["rows_in_window"] == WINDOW
        assert {f["feature"] for f in node["features"]} == {"sepal_length", "sepal_width", "petal_length",
                                                            "petal_width"}
        assert all(f["count"] <= WINDOW for f in node["features"])


def test_serve_metrics_carries_the_drift_families(iris_dir: Path) -> None:
    import httpx

    with hogar_nb.run(hogar_nb.parse_udgl(_graph()), base_dir=iris_dir) as dep:
        for row in iris_traffic(WINDOW, seed=7, shift={2: 2.0}).tolist():
            dep.call(row)
        _settled(dep, WINDOW)
        text = httpx.get(dep.serve_metrics()).text
        assert 'hogar_drift_score{feature="petal_length",graph="iris",metric="psi",node="clf"}' in text
        assert 'hogar_drift_score{feature="__share__",graph="iris",metric="share",node="clf"} 0.25' in text


def test_answers_the_monitor_could_not_take_are_counted_in_the_report_and_metrics(iris_dir: Path) -> None:
    import httpx

    plain = "graph iris\nsource score\nmodel clf { impl = \"iris.joblib\" }\nsink out\nscore -> clf -> out\n"
    rows = iris_traffic(3_000, seed=8).tolist()
    with hogar_nb.run(hogar_nb.parse_udgl(plain), base_dir=iris_dir) as dep:
        monitor = dep.quality_monitor(queue=50, interval=3600.0)
        monitor.capture_reference("clf", n=5_000)  # keeps every input it takes
        with monitor._take_lock:  # the monitor's thread cannot take meanwhile: its queue fills
            answers = list(dep.map(rows, concurrency=64))
        assert len(answers) == 3_000
        monitor.take()
        report = dep.quality()
        seen, dropped = report["nodes"]["clf"]["rows_seen"], report["events_dropped"]
        assert dropped >= 3_000 - 2 * 50 and seen + dropped == 3_000  # every request counted once
        text = httpx.get(dep.serve_metrics()).text
        assert f'hogar_quality_dropped_total{{graph="iris"}} {float(dropped)}' in text
