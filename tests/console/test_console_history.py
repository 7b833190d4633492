"""The collector against a real HTTP server: samples with health, a downsampled history in the
database that a restarted console still shows, expiry past the retention, recovery events."""

from __future__ import annotations

import time

import pytest

from hogar_nb.console.collector import Collector, Hub
from hogar_nb.console.models import Deployment, MetricPoint, TimelineEvent
from hogar_nb.console.sampling import downsample

pytestmark = pytest.mark.django_db(transaction=True)

LIVE = """graph live_demo
source inp
python dbl { impl = "tests.runtime.impls:double", timeout = 2s }
sink out
inp -> dbl -> out
"""


@pytest.fixture
def served():
    import hogar_nb

    dep = hogar_nb.run(hogar_nb.parse_udgl(LIVE))
    url = dep.serve_http(admin_token="console-test-token", allow_fault_injection=True)
    yield dep, url
    dep.stop()


def test_history_is_stored_downsampled_and_expires(served, users, client):
    dep, url = served
    record = Deployment.objects.create(name="live", kind=Deployment.REGISTERED, url=url, earg=dep.earg,
                                       admin_token="console-test-token", state="running")
    expired = MetricPoint.objects.create(deployment=record, time=time.time() - 7200, data={"t": 0, "rps": 1})
    collector = Collector(Hub(), interval=0.1, step=0.0, retention=3600)
    try:
        for round_ in range(4):
            for i in range(20):
                assert dep.call(i) == 2 * i
            if round_ == 2:
                dep.inject_fault("dbl", kind="error", rate=1.0, count=1)
                with pytest.raises(Exception):
                    dep.call(1)
                dep.clear_faults()
                dep.inject_fault("dbl", kind="crash", rate=1.0, count=1)
                with pytest.raises(Exception):  # no retries: the request fails, the replica restarts
                    dep.call(2)
            collector.poll_once()
    finally:
        collector.stop()
    assert not MetricPoint.objects.filter(pk=expired.pk).exists()
    rows = list(MetricPoint.objects.filter(deployment=record).order_by("time").values_list("data", flat=True))
    assert len(rows) == 4
    levels = [r["nodes"]["dbl"]["level"] for r in rows]
    assert all(level in ("ok", "idle", "degraded", "failing") for level in levels[:2] + levels[3:]), levels
    # polled just after the crash: the node's one replica may still be restarting
    assert levels[2] in ("ok", "idle", "degraded", "failing", "down"), levels
    assert sum(r["done"] for r in rows) >= 60
    assert sum(r["errors"] for r in rows) == 2
    assert sum(r["by_cause"].get("error", 0) for r in rows) == 1 and sum(r["by_cause"].get("crash", 0) for r in rows) == 1
    recovery = TimelineEvent.objects.filter(deployment=record, kind="recovery")
    assert recovery.count() >= 1 and "crash" in recovery.first().text
    record.refresh_from_db()
    assert record.state == "running" and record.summary["rps"] >= 0

    # A console started again has none of this in memory: the page reads the database.
    client.force_login(users["viewer"])
    history = client.get(f"/deployments/{record.pk}/history").json()
    assert [p["t"] for p in history["points"]] == [r["t"] for r in rows]
    assert any(e["kind"] == "recovery" for e in history["events"])


def test_downsampling_keeps_rates_worst_latencies_and_all_errors():
    samples = [{"t": float(i), "rps": 10.0 * i, "p50": 1.0, "p95": 2.0, "p99": float(i), "done": 10,
                "errors": i, "by_cause": {"crash": i} if i else {}, "queue": i, "restarts": 0,
                "nodes": {"a": {"level": "ok", "reason": "healthy", "replicas": 1, "alive": 1, "queue": 0,
                                "rps": 1.0, "p99": 1.0}}}
               for i in range(4)]
    row = downsample(samples)
    assert row["t"] == 3.0 and row["rps"] == 15.0 and row["p99"] == 3.0
    assert row["errors"] == 6 and row["by_cause"] == {"crash": 6} and row["done"] == 40
    assert row["error_rate"] == 6 / 40 and row["queue"] == 3
    assert row["nodes"]["a"] == {"level": "ok", "replicas": 1, "alive": 1}
    assert downsample([]) == {}


def test_throughput_is_what_was_served_between_readings(served):
    """A client capped at 40 requests a second that sends them in one burst: the server's
    own rate covers its last half second (80/s or 0/s here); the console's samples count
    the completions between two readings over the server's time between them."""
    from hogar_nb.console.sampling import LiveState
    from hogar_nb.console.serve_client import ServeClient

    dep, url = served
    client = ServeClient(url)
    state = LiveState(dep.earg)
    state.update(client.status(), time.time())
    sent = []
    for second in range(5):
        started = time.monotonic()
        for i in range(40):
            assert dep.call(i) == 2 * i
        sent.append(40)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - started)))
        # A console poll that comes late (a busy machine): the console's clock is off by 0.7 s.
        sample = state.update(client.status(), time.time() + (0.7 if second % 2 else 0.0))
        assert sample["dt"] > 0
        assert sample["rps"] * sample["dt"] == pytest.approx(sent[-1], abs=0.05), sample
        assert sample["rps"] <= 40 / 0.9
    assert sum(s["rps"] * s["dt"] for s in list(state.samples)[1:]) == pytest.approx(200, abs=0.2)


def test_errors_per_second_agree_live_and_from_history():
    """The errors panel draws errors per second: a stored row (sums over its seconds) gives
    the same figure as the live samples it was made of."""
    samples = [{"t": float(i), "dt": 1.0 if i % 2 else 0.5, "rps": 10.0, "done": 10, "errors": 3,
                "by_cause": {"crash": 2, "timeout": 1}, "nodes": {}} for i in range(10)]
    row = downsample(samples)
    seconds = sum(s["dt"] for s in samples)
    assert row["dt"] == seconds
    assert row["by_cause"]["crash"] / row["dt"] == pytest.approx(sum(s["by_cause"]["crash"] for s in samples) / seconds)
    assert row["errors"] / row["dt"] == pytest.approx(30 / 7.5)
    assert row["rps"] == pytest.approx(100 / 7.5, abs=0.001)


def test_register_a_running_server_and_change_it_live(served, users, client):
    from hogar_nb.console.models import AuditEntry

    dep, url = served
    client.force_login(users["admin"])
    response = client.post("/deployments/register/", {"name": "external", "url": url + "/",
                                                      "admin_token": "console-test-token"})
    assert response.status_code == 302
    record = Deployment.objects.get(name="external")
    assert response["Location"] == f"/deployments/{record.pk}/"
    assert record.url == url and record.earg["name"] == "live_demo" and record.kind == Deployment.REGISTERED

    change = f"/deployments/{record.pk}/reconfigure/"
    answer = client.post(change, {"node": "dbl", "attr": "replicas", "value": "3", "confirm": "1"},
                         HTTP_ACCEPT="application/json")
    assert answer.status_code == 200, answer.json()
    assert answer.json()["result"]["replicas"] == 3
    assert dep.metrics().nodes["dbl"].replicas == 3
    from hogar_nb.console.reconfig import capacity_warning

    warning = capacity_warning(record.earg, "dbl", 3, here=True)
    answer = client.post(change, {"node": "dbl", "attr": "batch_wait", "value": "5ms"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and answer.json()["result"]["batch_wait_ms"] == 5.0
    assert [e.text for e in record.timeline.filter(kind="reconfigure").order_by("time")] == [
        "dbl.replicas = 3 by admin" + (f", confirmed over capacity ({warning})" if warning else ""),
        "dbl.batch_wait = 5ms by admin"]
    assert AuditEntry.objects.filter(action="reconfigure", target="external").count() == 2
    assert [dep.call(i) for i in range(10)] == [2 * i for i in range(10)]

    # A wrong token is the server's 401, passed on without a change being recorded.
    response = client.post("/deployments/register/", {"name": "wrong", "url": url, "admin_token": "not-the-token"})
    wrong = Deployment.objects.get(name="wrong")
    answer = client.post(f"/deployments/{wrong.pk}/reconfigure/", {"node": "dbl", "attr": "retries", "value": "1"},
                         HTTP_ACCEPT="application/json")
    assert answer.status_code == 400 and "401" in answer.json()["error"]["message"]
    assert not wrong.timeline.exists()
    # A URL where nothing answers cannot be registered.
    response = client.post("/deployments/register/", {"name": "nothing", "url": "http://127.0.0.1:9"}, follow=True)
    assert "cannot register http://127.0.0.1:9" in response.content.decode()
    assert not Deployment.objects.filter(name="nothing").exists()


def test_scaling_past_the_machine_or_the_cluster_waits_for_a_confirmation(served, users, client):
    from hogar_nb.console.reconfig import capacity_warning, machine_cpus

    dep, url = served
    client.force_login(users["admin"])  # registering a server is an admin's
    client.post("/deployments/register/", {"name": "here", "url": url, "admin_token": "console-test-token"})
    client.force_login(users["operator"])
    record = Deployment.objects.get(name="here")
    change = f"/deployments/{record.pk}/reconfigure/"
    too_many = machine_cpus() + 1
    answer = client.post(change, {"node": "dbl", "attr": "replicas", "value": str(too_many)},
                         HTTP_ACCEPT="application/json")
    assert answer.status_code == 409 and answer.json()["error"]["confirm"] is True
    message = answer.json()["error"]["message"]
    assert f"dbl × {too_many} asks for {too_many} CPUs" in message and f"this machine has {machine_cpus()}" in message
    assert dep.metrics().nodes["dbl"].replicas == 1 and not record.timeline.exists()
    answer = client.post(change, {"node": "dbl", "attr": "replicas", "value": str(too_many), "confirm": "1"},
                         HTTP_ACCEPT="application/json")
    assert answer.status_code == 200 and dep.metrics().nodes["dbl"].replicas == too_many
    assert "confirmed over capacity" in record.timeline.get(kind="reconfigure").text
    # Within what the machine holds: applied at once.
    answer = client.post(change, {"node": "dbl", "attr": "replicas", "value": "1"}, HTTP_ACCEPT="application/json")
    assert answer.status_code == 200

    # The graph's cluster is a bound too, wherever the deployment runs.
    earg = {"nodes": [{"name": "a", "kind": "python", "replicas": 2, "resources": {"cpu": 2}},
                      {"name": "b", "kind": "model", "replicas": 1, "resources": {"cpu": 1}},
                      {"name": "s", "kind": "source", "resources": {"cpu": 0}}],
            "cluster": {"workers": 3, "cpu": 8}}
    assert capacity_warning(earg, "a", 11, here=False) == ""  # 23 of 24 CPUs
    assert capacity_warning(earg, "a", 12, here=False) == (
        "a × 12 asks for 24 CPUs, the graph for 25 in all; its cluster has 24 (3 workers × 8 CPUs): "
        "replicas will compete for CPUs and respond slowly")
    assert "this machine has 2" in capacity_warning(earg, "a", 1, here=True, cpus=2)
    assert capacity_warning(earg, "a", 1, here=True, cpus=4) == ""


def test_a_server_that_cannot_start_is_reported_with_its_output(users):
    import secrets
    from pathlib import Path

    import hogar_nb
    from hogar_nb.console.supervisor import Supervisor

    design = Path(__file__).resolve().parent.parent / "core" / "cases" / "valid" / "design_example.udgl"
    earg = hogar_nb.parse_udgl(design.read_text()).to_earg()  # its impls exist nowhere
    record = Deployment.objects.create(name="broken", kind=Deployment.MANAGED, earg=earg,
                                       admin_token=secrets.token_urlsafe(16), state="starting")
    assert Supervisor(start_timeout=60).launch(record.pk) is False
    record.refresh_from_db()
    assert record.state == "failed" and record.desired == "stopped"
    assert "hogar serve could not start the graph (exited with code 2 during start-up" in record.error
    assert "fraud" in record.error
    assert record.timeline.filter(kind="failed").exists()


def test_large_graphs_come_with_layered_positions():
    from hogar_nb.console.drawing import LAYOUT_IN_BROWSER_UP_TO, elements

    n = LAYOUT_IN_BROWSER_UP_TO + 10
    doc = {"nodes": [{"name": f"n{i}", "kind": "python"} for i in range(n)],
           "edges": [{"src": f"n{i}", "dst": f"n{i + 1}"} for i in range(n - 1)] + [{"src": "n0", "dst": "n2"}]}
    nodes = [e for e in elements(doc) if e["group"] == "nodes"]
    xs = {e["data"]["id"]: e["position"]["x"] for e in nodes}
    assert all(xs[f"n{i}"] < xs[f"n{i + 1}"] for i in range(n - 1))
    small = {"nodes": doc["nodes"][:3], "edges": doc["edges"][:2]}
    assert all("position" not in e for e in elements(small))


SUSPENDING = """graph crash_loop
source inp
python dbl { impl = "tests.runtime.impls:double", recovery = restart(max = 2, within = 60s, backoff = 5s) }
sink out
inp -> dbl -> out
"""


def test_a_suspended_node_reads_as_suspended_on_the_console():
    import httpx

    import hogar_nb
    from hogar_nb.console.sampling import LiveState

    dep = hogar_nb.run(hogar_nb.parse_udgl(SUSPENDING))
    try:
        url = dep.serve_http()
        live = LiveState(dep.earg)
        assert live.update(httpx.get(url + "/hogar/v1/status").json(), time.time())["nodes"]["dbl"]["level"] != "suspended"
        dep.inject_fault("dbl", kind="crash", rate=1.0)
        deadline = time.monotonic() + 10
        while not any(e.action == "suspend" for e in dep.events):
            assert time.monotonic() < deadline, "the crash loop did not suspend the node"
            with pytest.raises(Exception):
                dep.call(1, timeout=2)
        status = httpx.get(url + "/hogar/v1/status").json()
        assert status["nodes"]["dbl"]["state"] in ("suspended", "half_open")
        assert live.update(status, time.time())["nodes"]["dbl"]["level"] == "suspended"
    finally:
        dep.stop()
