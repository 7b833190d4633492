"""The admin API: off by default, bearer token, scale/reconfigure, fault injection."""

from __future__ import annotations

import os

import pytest

from hogar_nb.core.replica_limits import THREADS_PER_CPU

from tests.serving.conftest import chain, impl, served, wait_for

TOKEN = "s3cret-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}


def test_admin_paths_are_404_when_off(echo):
    _dep, client = echo
    for path in ("scale", "reconfigure", "faults", "clear-faults"):
        resp = client.post(f"/hogar/v1/admin/{path}", json={}, headers=AUTH)
        assert resp.status_code == 404 and resp.json()["error"]["cause"] == "not_found"


@pytest.fixture
def admin():
    with served(chain(impl("ident"), impl("ident")), admin_token=TOKEN) as pair:
        yield pair


@pytest.mark.parametrize("headers", [{}, {"authorization": "Bearer nope"}, {"authorization": TOKEN}])
def test_admin_needs_the_bearer_token(admin, headers):
    _dep, client = admin
    resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 2}, headers=headers)
    assert resp.status_code == 401 and resp.json()["error"]["cause"] == "unauthorized"


def test_fault_paths_need_allow_fault_injection(admin):
    _dep, client = admin
    assert client.post("/hogar/v1/admin/faults", json={"node": "n0"}, headers=AUTH).status_code == 404


@pytest.mark.parametrize("body, status, needle", [
    ({"replicas": 2}, 400, "node"),
    ({"node": "zz", "replicas": 2}, 404, "no node"),
    ({"node": "n0", "replicas": "many"}, 400, "integer"),
    ([1], 400, "object"),
])
def test_scale_rejects_bad_bodies(admin, body, status, needle):
    _dep, client = admin
    resp = client.post("/hogar/v1/admin/scale", json=body, headers=AUTH)
    assert resp.status_code == status and needle in resp.json()["error"]["message"]


def test_reconfigure_rejects_unknown_attributes(admin):
    _dep, client = admin
    resp = client.post("/hogar/v1/admin/reconfigure", json={"node": "n0", "attrs": {"impl": "x"}}, headers=AUTH)
    assert resp.status_code == 400 and "impl" in resp.json()["error"]["message"]
    resp = client.post("/hogar/v1/admin/reconfigure", json={"node": "n0"}, headers=AUTH)
    assert resp.status_code == 400


def test_fault_injection_and_clear():
    with served(chain(impl("ident"), retries=1), admin_token=TOKEN, allow_fault_injection=True) as (dep, client):
        resp = client.post("/hogar/v1/admin/faults", json={"node": "n0", "kind": "error", "rate": 1.0},
                           headers=AUTH)
        assert resp.status_code == 200 and resp.json()["fault"]["kind"] == "error"
        failed = client.post("/src", json=1)
        assert failed.status_code == 500 and failed.json()["error"]["node"] == "n0"
        assert client.post("/hogar/v1/admin/clear-faults", headers=AUTH).json() == {"cleared": True}
        assert client.post("/src", json=1).json() == 1
        bad = client.post("/hogar/v1/admin/faults", json={"node": "n0", "kind": "melt"}, headers=AUTH)
        assert bad.status_code == 400
        bad = client.post("/hogar/v1/admin/faults", json={"node": "n0", "rate": 3}, headers=AUTH)
        assert bad.status_code == 400
        client.post("/hogar/v1/admin/faults", json={"node": "n0", "kind": "crash", "count": 1}, headers=AUTH)
        assert client.post("/src", json=2).json() == 2  # retried on a fresh replica
        wait_for(lambda: client.get("/hogar/v1/events").json(), 10, "the crash to be recorded")


def test_scale_and_reconfigure_change_the_running_node(admin):
    dep, client = admin
    resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 3}, headers=AUTH)
    assert resp.status_code in (200, 202), resp.text  # 202: still starting after half a second
    assert resp.json()["replicas"] == 3 or resp.json()["target"] == 3
    wait_for(lambda: dep.metrics().nodes["n0"].replicas_alive == 3, 30, "three replicas")
    resp = client.post("/hogar/v1/admin/reconfigure", headers=AUTH,
                       json={"node": "n1", "attrs": {"batch": 8, "batch_wait": "2ms", "timeout": "250ms"}})
    assert resp.status_code == 200, resp.text
    settings = resp.json()
    assert (settings["batch"], settings["batch_wait_ms"], settings["timeout_ms"]) == (8, 2.0, 250.0)
    assert client.get("/hogar/v1/graph").json()["nodes"][2]["batch"]["max_size"] == 8
    assert client.post("/src", json=5).json() == 5
    kinds = [e["action"] for e in client.get("/hogar/v1/events").json()]
    assert "scale" in kinds and "reconfigure" in kinds
    bad = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 0}, headers=AUTH)
    assert bad.status_code == 400 and "replicas" in bad.json()["error"]["message"]
    bad = client.post("/hogar/v1/admin/reconfigure", json={"node": "n0", "attrs": {"timeout": "-1s"}},
                      headers=AUTH)
    assert bad.status_code == 400
    source = client.post("/hogar/v1/admin/scale", json={"node": "src", "replicas": 2}, headers=AUTH)
    assert source.status_code == 404


def test_scale_past_what_the_machine_holds_is_refused_naming_the_bound(admin):
    dep, client = admin
    most = THREADS_PER_CPU * os.cpu_count()
    resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 10_000}, headers=AUTH)
    assert resp.status_code == 400, resp.text
    message = resp.json()["error"]["message"]
    assert message.startswith("got 10000 for replicas of node 'n0'")
    assert f"at most {most} thread replicas per node" in message
    resp = client.post("/hogar/v1/admin/reconfigure", json={"node": "n0", "attrs": {"replicas": most + 1}},
                       headers=AUTH)
    assert resp.status_code == 400 and f"at most {most}" in resp.json()["error"]["message"]
    assert dep.metrics().nodes["n0"].replicas == 1, "nothing changed"


def test_scale_past_what_the_cluster_holds_is_refused_naming_the_bound():
    earg = chain(impl("ident"), impl("ident"), replicas=2,
                 resources={"cpu": 2, "gpu": 0, "memory_bytes": 0})
    earg["cluster"] = {"workers": 2, "cpu": 8, "gpu": 0, "memory_bytes": None}
    with served(earg, admin_token=TOKEN) as (dep, client):
        resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 7}, headers=AUTH)
        assert resp.status_code == 400
        message = resp.json()["error"]["message"]
        assert "room for at most 6 replicas" in message and "each asks for 2 cpu" in message
        assert "other nodes take 4 of 16" in message
        resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 6}, headers=AUTH)
        assert resp.status_code in (200, 202), resp.text
        wait_for(lambda: dep.metrics().nodes["n0"].replicas_alive == 6, 30, "six replicas")


def test_a_large_scale_answers_at_once_and_shows_its_progress_as_events():
    with served(chain(impl("slow_start")), admin_token=TOKEN) as (dep, client):
        resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 41}, headers=AUTH)
        assert resp.status_code == 202, resp.text
        body = resp.json()
        assert body["status"] == "scaling" and body["target"] == 41 and body["replicas_alive"] < 41
        answered = [client.post("/src", json=i).json() for i in range(20)]  # served meanwhile
        assert answered == list(range(20))
        wait_for(lambda: dep.metrics().nodes["n0"].replicas_alive == 41, 60, "41 replicas")
        steps = [e["detail"] for e in client.get("/hogar/v1/events").json() if e["action"] == "scale"]
        assert steps == [f"replicas {a} -> {b}" for a, b in zip(range(1, 41, 4), range(5, 42, 4))]
        resp = client.post("/hogar/v1/admin/scale", json={"node": "n0", "replicas": 2}, headers=AUTH)
        assert resp.status_code == 200 and resp.json()["replicas"] == 2


def test_the_console_client_reads_the_error_wire_form(admin):
    """The console's client turns each refusal's body into its cause and message."""
    from hogar_nb.console.serve_client import ServeClient, ServeError

    _dep, client = admin
    serve = ServeClient(str(client.base_url), TOKEN, timeout=30)
    with pytest.raises(ServeError) as err:
        serve.scale("zz", 2)
    assert (err.value.status, err.value.cause) == (404, "not_found") and "no node 'zz'" in str(err.value)
    with pytest.raises(ServeError) as err:
        serve.reconfigure("n0", {"timeout": "soon"})
    assert (err.value.status, err.value.cause) == (400, "bad_request")
    assert "node 'n0'" in str(err.value) and "timeout" in str(err.value)
    assert serve.scale("n0", 2)["replicas"] == 2
