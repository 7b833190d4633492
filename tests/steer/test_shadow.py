"""Shadow traffic on the embedded engine: every response is the primary's, whatever the
candidate does; the candidate's answers are counted and compared."""

from __future__ import annotations

import hogar_nb
from hogar_nb.steer import ShadowMonitor

from .conftest import wait_for

GRAPH = """graph shadowed
source ingest
python v1 {{ impl = "tests.steer.impls:primary", replicas = 2 }}
python v2 {{ impl = "tests.steer.impls:{candidate}"{extra} }}
sink out
ingest -> v1 -> out
ingest -> v2 {{ mirror = {share} }}
"""

N = 3000


def run(candidate: str, share: str, extra: str = ""):
    return hogar_nb.run(hogar_nb.parse_udgl(GRAPH.format(candidate=candidate, share=share, extra=extra)))


def test_shadow_answers_are_compared_and_never_returned(no_leaks):
    with run("candidate", "100%") as dep:
        shadow = ShadowMonitor(dep)
        results = list(dep.map(range(N), concurrency=64, progress=False))
        assert results == [2 * i for i in range(N)], "every response is the primary's"
        wait_for(lambda: shadow.report().answered + sum(shadow.report().errors.values()) == N,
                 what="every copy's outcome")
        wait_for(lambda: shadow.report().compared == shadow.report().answered, what="every pair")
        r = shadow.report()
        fails = sum(1 for i in range(N) if i % 7 == 0)
        differ = sum(1 for i in range(N) if i % 10 == 0 and i % 7)
        assert (r.candidate, r.primary, r.mirrored) == ("v2", "v1", N)
        assert r.errors == {"error": fails} and r.primary_errors == 0
        assert r.compared == N - fails
        assert r.agreement == (N - fails - differ) / (N - fails)
        assert abs(r.mean_abs_diff - differ / (N - fails)) < 1e-9
        assert r.candidate_p50_ms is not None and r.primary_p99_ms is not None
        m = dep.metrics()
        assert m.graph.errors == 0 and m.graph.ok == N, "the candidate's failures fail no request"
        assert m.node("v2").errors == fails
        shadow.close()


def test_a_sampled_share_is_mirrored(no_leaks):
    with run("candidate", "30%") as dep:
        shadow = ShadowMonitor(dep)
        assert list(dep.map(range(N), concurrency=64, progress=False)) == [2 * i for i in range(N)]
        wait_for(lambda: shadow.subscription.pending == 0 and shadow.report().mirrored
                 == shadow.report().answered + sum(shadow.report().errors.values()), what="every copy")
        assert 0.25 * N < shadow.report().mirrored < 0.35 * N
        shadow.close()


def test_a_saturated_candidate_drops_copies_and_delays_nothing(no_leaks):
    """One slow replica with a queue of 4: nearly every copy is refused at once, counted;
    no request waits for room there or fails."""
    with run("sluggish", "100%", ", max_queue = 4") as dep:
        shadow = ShadowMonitor(dep)
        results = list(dep.map(range(N), concurrency=64, progress=False))
        assert results == [2 * i for i in range(N)]
        wait_for(lambda: shadow.report().mirrored == N, what="every copy sent")
        wait_for(lambda: shadow.report().answered + sum(shadow.report().errors.values()) == N,
                 what="every copy's outcome")
        r = shadow.report()
        assert r.errors.get("overload", 0) > N // 2
        assert dep.metrics().graph.errors == 0
        shadow.close()


def test_mirror_pairs_name_the_primary():
    from hogar_nb.steer import mirror_pairs

    doc = hogar_nb.parse_udgl(GRAPH.format(candidate="candidate", share="25%", extra="")).to_earg()
    assert mirror_pairs(doc) == {"v2": ("ingest", "v1", 0.25)}


def test_a_served_graph_reports_its_shadows(no_leaks):
    import httpx

    with run("candidate", "100%") as dep:
        url = dep.serve_http()
        with httpx.Client(base_url=url, timeout=30) as client:
            for i in range(1, 50):
                assert client.post("/ingest", json=i).json() == 2 * i
            def settled() -> bool:
                v2 = client.get("/hogar/v1/shadow").json()["shadows"]["v2"]
                return v2["answered"] + sum(v2["errors"].values()) == 49 and v2["compared"] == v2["answered"]

            wait_for(settled, what="every copy's outcome")
            v2 = client.get("/hogar/v1/shadow").json()["shadows"]["v2"]
            assert (v2["primary"], v2["mirrored"], v2["errors"]) == ("v1", 49, {"error": 7})
            assert v2["compared"] == 42 and v2["agreement"] == 38 / 42
    plain = hogar_nb.run(hogar_nb.parse_udgl("source s\npython p { impl = \"tests.steer.impls:primary\" }\n"
                                             "sink out\ns -> p -> out\n"))
    try:
        with httpx.Client(base_url=plain.serve_http(), timeout=30) as client:
            assert client.get("/hogar/v1/shadow").json() == {"shadows": {}}
    finally:
        plain.stop()


def test_the_placement_endpoint_on_the_embedded_engine(no_leaks, tmp_path, capsys):
    import json

    import httpx

    from hogar_nb.cli import main

    graph = GRAPH.format(candidate="primary", share="50%", extra="").replace(
        "graph shadowed\n", "graph shadowed\ncluster { workers = 2, cpu = 4 }\n")
    with hogar_nb.run(hogar_nb.parse_udgl(graph)) as dep:
        url = dep.serve_http()
        nodes = httpx.get(url + "/hogar/v1/placement", timeout=30).json()["nodes"]
        planned = dep.earg["placement"]
        assert sorted(planned[f"v1/{i}"] for i in (0, 1)) == ["worker-0", "worker-1"]
        assert nodes == {"v1": {"planned": {"worker-0": 1, "worker-1": 1}, "running": {"local": 2}},
                         "v2": {"planned": {planned["v2/0"]: 1}, "running": {"local": 1}}}
        (tmp_path / "g.udgl").write_text(graph)
        assert main(["analyze", str(tmp_path / "g.udgl"), "--served", url]) == 0
        out = capsys.readouterr().out
        assert f"where the replicas run ({url}):\n  v1: planned worker-0 x1, worker-1 x1; running local x2\n" in out
        assert main(["analyze", str(tmp_path / "g.udgl"), "--served", url, "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["running"] == nodes
    assert main(["analyze", str(tmp_path / "g.udgl"), "--served", url]) == 2  # the server is gone
    assert f"could not read {url}/hogar/v1/placement" in capsys.readouterr().err
