"""Alert rules: a drift alert fires after its `for`, resolves when the window is
calm again, shows in events and the event stream, and reaches a webhook."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

import hogar_nb

from .conftest import iris_traffic


@pytest.fixture()
def webhook() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A JSON receiver on 127.0.0.1: (its URL, the bodies it got)."""
    got: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            got.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook", got
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def _graph(url: str) -> str:
    return f"""graph iris
source score
model clf {{ impl = "iris.joblib", reference = "train.csv", drift_window = 200 }}
sink out
score -> clf -> out
alert drifted {{ when = drift_share(clf) > 0.3, for = 300ms, severity = critical, webhook = "{url}" }}
alert failing {{ when = error_rate(graph) > 10% }}
"""


def _until(fn: Any) -> Any:
    while not (value := fn()):
        time.sleep(0.05)
    return value


def test_a_drift_alert_fires_and_resolves(iris_dir: Path, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    url, got = webhook
    with hogar_nb.run(hogar_nb.parse_udgl(_graph(url)), base_dir=iris_dir) as dep:
        monitor = dep.quality_monitor()
        assert [s.name for s in monitor.alerts.states] == ["drifted", "failing"]
        for row in iris_traffic(200, seed=31, shift={0: 2.0, 2: 2.0}).tolist():  # two of four features
            dep.call(row)
        rules = _until(lambda: (r := dep.quality()["alerts"]["rules"]) and r[0]["state"] != "ok" and r)
        assert rules[0]["value"] == 0.5
        firing = _until(lambda: [e for e in dep.events if e.cause == "alert"])
        assert [(e.node, e.action) for e in firing] == [("clf", "firing")]
        assert "drifted: drift_share(clf) > 0.3 (now 0.5)" == firing[0].detail
        assert firing[0].time - rules[0]["since"] >= 0.3
        for row in iris_traffic(200, seed=32).tolist():  # a calm window
            dep.call(row)
        events = _until(lambda: (e := [x for x in dep.events if x.cause == "alert"]) and len(e) == 2 and e)
        assert [e.action for e in events] == ["firing", "resolved"]
        _until(lambda: len(got) == 2)
        assert [(g["alert"], g["action"], g["severity"], g["graph"]) for g in got] == [
            ("drifted", "firing", "critical", "iris"), ("drifted", "resolved", "critical", "iris")]
        # the receiver has both; the sender counts one once its POST has returned
        report = _until(lambda: (r := dep.quality()["alerts"])["webhook"]["sent"] == 2 and r)
        assert [t["action"] for t in report["transitions"]] == ["firing", "resolved"]
        assert report["webhook"] == {"sent": 2, "failed": 0}
        assert report["rules"][1]["state"] == "ok"  # no request failed
        served = dep.serve_http()
        listed = httpx.get(served + "/hogar/v1/events").json()
        assert [(e["cause"], e["action"]) for e in listed] == [("alert", "firing"), ("alert", "resolved")]


def test_an_error_rate_alert_over_bad_payloads(iris_dir: Path, webhook: tuple[str, list[dict[str, Any]]]) -> None:
    from hogar_nb.runtime.deployment import run as run_embedded  # starts no monitor by itself

    url, _ = webhook
    with run_embedded(hogar_nb.parse_udgl(_graph(url)), base_dir=iris_dir) as dep:
        monitor = dep.quality_monitor(interval=3600.0)  # rounds only when the test asks
        monitor.evaluate()
        failed = 0
        for i in range(200):
            try:
                dep.call([1.0, 2.0] if i % 4 == 0 else [5.1, 3.5, 1.4, 0.2])  # one in four the wrong width
            except hogar_nb.HogarError:
                failed += 1
        assert failed == 50
        monitor.evaluate()
        rule = dep.quality()["alerts"]["rules"][1]
        assert rule["state"] == "firing" and rule["value"] == pytest.approx(0.25)
        for _ in range(50):
            dep.call([5.1, 3.5, 1.4, 0.2])
        monitor.evaluate()
        assert dep.quality()["alerts"]["rules"][1]["state"] == "ok"


def test_a_webhook_that_refuses_is_counted(iris_dir: Path) -> None:
    graph = hogar_nb.parse_udgl(_graph("http://127.0.0.1:9/nowhere"))
    with hogar_nb.run(graph, base_dir=iris_dir) as dep:
        for row in iris_traffic(200, seed=33, shift={0: 2.0, 2: 2.0}).tolist():
            dep.call(row)
        report = _until(lambda: (r := dep.quality()["alerts"])["webhook"]["failed"] and r)
        assert report["webhook"]["sent"] == 0 and "127.0.0.1:9" in report["webhook"]["last_error"]
        assert dep.call([5.1, 3.5, 1.4, 0.2]) == 0
