"""Graph analysis on hand-checked graphs: stages, critical path, capacity arithmetic,
traffic shares through splits, switches and ensembles, the bottleneck, resources,
placement, the report, best-effort on broken graphs, and speed on 5,000 nodes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hogar_nb import parse_udgl
from hogar_nb.core.analysis import analyze
from hogar_nb.core.graph import Graph
from hogar_nb.core.model import Edge
from hogar_nb.core.udgl import compile_udgl

DESIGN = Path(__file__).parent / "cases" / "valid" / "design_example.udgl"
GiB = 2**30


def design() -> Graph:
    return parse_udgl(DESIGN.read_text())


def design_with_latencies() -> Graph:
    g = design()
    for node, latency in (("features", "10ms"), ("xgb", "8ms"), ("nn", "5ms"), ("review_v2", "20ms")):
        g.set_attr(node, "latency", latency)
    return g


def split_graph() -> Graph:
    """src -> f -> sp -> {a 70%, b 30%} -> out."""
    g = Graph("t")
    g.add_node("src", "source")
    g.add_node("f", "python", impl="m:f", replicas=2, batch=4, latency="10ms")
    g.add_node("sp", "split")
    g.add_node("a", "python", impl="m:a", latency="5ms")
    g.add_node("b", "python", impl="m:b", latency="2ms", cpu=2, memory="1GiB", replicas=3)
    g.add_node("out", "sink")
    g.connect("src", "f")
    g.connect("f", "sp")
    g.connect("sp", "a", weight="70%")
    g.connect("sp", "b", weight="30%")
    g.connect("a", "out")
    g.connect("b", "out")
    return g


def test_design_example_stages_and_shares() -> None:
    a = analyze(design())
    assert a.stages == [["ingest"], ["features"], ["nn", "xgb"], ["blend"], ["gate"], ["canary"], ["review_v2"], ["out"]]
    shares = {n: c.traffic_share for n, c in a.capacity.items()}
    assert shares["review_v2"] == pytest.approx(0.1)
    assert shares["canary"] == 1.0  # a switch's edge is assumed to carry all of its traffic
    assert shares["out"] == 1.0  # gate -> out, canary -> out, review_v2 -> out meet once per request
    assert all(c.capacity_rps is None for c in a.capacity.values())  # no latency estimates
    assert a.bottleneck is None and a.max_rate_rps is None


def test_design_example_resources_and_placement() -> None:
    a = analyze(design())
    assert (a.resources.cpu, a.resources.gpu, a.resources.memory_bytes, a.resources.replicas) == (9, 2, 8 * GiB, 14)
    p = a.placement_result
    assert p.ok and a.placement == p.assignment and len(a.placement) == 14
    assert p.assignment["nn/0"] != p.assignment["nn/1"]  # one GPU per worker, one replica each
    assert len({p.assignment[f"xgb/{i}"] for i in range(4)}) == 3  # spread over all 3 workers
    assert sum(u["gpu"] for u in p.usage.values()) == 2
    assert all(u["cpu"] <= 8 for u in p.usage.values())


def test_design_example_with_latencies_bottleneck_and_critical_path() -> None:
    a = analyze(design_with_latencies())
    caps = a.capacity
    assert caps["features"].capacity_rps == pytest.approx(2 * 32 / 0.010)  # 6400
    assert caps["xgb"].capacity_rps == pytest.approx(4 / 0.008)  # 500
    assert caps["nn"].capacity_rps == pytest.approx(2 / 0.005)  # 400
    assert caps["review_v2"].max_graph_rps == pytest.approx(50 / 0.1)  # 50 req/s for 10% of traffic
    assert (a.bottleneck, a.max_rate_rps) == ("nn", pytest.approx(400.0))
    assert a.critical_path == ["ingest", "features", "xgb", "blend", "gate", "canary", "review_v2", "out"]
    assert a.critical_path_ms == pytest.approx(38.0)


def test_capacity_and_split_share_arithmetic() -> None:
    a = analyze(split_graph())
    c = a.capacity
    assert c["f"].capacity_rps == pytest.approx(800.0)  # 2 replicas x batch 4 / 10ms
    assert c["a"].traffic_share == pytest.approx(0.7) and c["b"].traffic_share == pytest.approx(0.3)
    assert c["a"].max_graph_rps == pytest.approx(200 / 0.7)
    assert c["b"].capacity_rps == pytest.approx(1500.0) and c["b"].max_graph_rps == pytest.approx(5000.0)
    assert c["out"].traffic_share == pytest.approx(1.0)
    assert c["src"].capacity_rps is None and c["src"].max_graph_rps is None
    assert a.bottleneck == "a" and a.max_rate_rps == pytest.approx(285.714285714)
    assert a.critical_path == ["src", "f", "sp", "a", "out"] and a.critical_path_ms == pytest.approx(15.0)
    assert (a.resources.cpu, a.resources.memory_bytes, a.resources.replicas) == (9, 3 * GiB, 9)
    assert a.placement is None and a.placement_result is None  # no cluster


def test_nested_splits_multiply_and_ensembles_take_the_largest_input() -> None:
    g = Graph("t")
    g.add_node("src", "source")
    g.add_node("s1", "split")
    g.add_node("s2", "split")
    for n in ("p", "q", "r"):
        g.add_node(n, "python", impl=f"m:{n}", latency="10ms")
    g.add_node("ens", "ensemble")
    g.add_node("out", "sink")
    g.connect("src", "s1")
    g.connect("s1", "p", weight="40%")
    g.connect("s1", "s2", weight="60%")
    g.connect("s2", "q", weight="50%")
    g.connect("s2", "r", weight="50%")
    for n in ("p", "q", "r"):
        g.connect(n, "ens")
    g.connect("ens", "out")
    c = analyze(g).capacity
    assert [c[n].traffic_share for n in ("p", "q", "r")] == pytest.approx([0.4, 0.3, 0.3])
    assert c["ens"].traffic_share == pytest.approx(0.4)
    assert c["q"].max_graph_rps == pytest.approx(100 / 0.3)
    assert analyze(g).bottleneck == "p"


def test_switch_branches_each_carry_the_whole_share() -> None:
    g = Graph("t")
    g.add_node("src", "source")
    g.add_node("sw", "switch", impl="m:route")
    g.add_node("x", "python", impl="m:x", latency="4ms")
    g.add_node("y", "python", impl="m:y", latency="2ms")
    g.add_node("out", "sink")
    g.connect("src", "sw")
    g.connect("sw", "x", when="fast")
    g.connect("sw", "y", when="*")
    g.connect("x", "out")
    g.connect("y", "out")
    a = analyze(g)
    assert a.capacity["x"].traffic_share == 1.0 and a.capacity["y"].traffic_share == 1.0
    assert a.capacity["out"].traffic_share == 1.0
    assert (a.bottleneck, a.max_rate_rps) == ("x", pytest.approx(250.0))
    assert a.critical_path == ["src", "sw", "x", "out"] and a.critical_path_ms == pytest.approx(4.0)


def test_equal_limits_pick_the_first_declared_node() -> None:
    g = Graph("t")
    g.add_node("src", "source")
    g.add_node("b", "python", impl="m:b", latency="10ms")
    g.add_node("a", "python", impl="m:a", latency="10ms")
    g.connect("src", "b")
    g.connect("b", "a")
    assert analyze(g).bottleneck == "b"


def test_placement_failure_is_reported_not_raised() -> None:
    g = split_graph()
    g.set_cluster(workers=2, cpu=4, gpu=0, memory="2GiB")  # 9 cpus wanted, 8 there
    a = analyze(g)
    assert a.placement is None
    assert not a.placement_result.ok
    [f] = a.placement_result.failures
    assert f.node == "a" and f.replicas == (0,)
    assert f.message == (
        "1 of 1 replica of `a` cannot be placed: each needs cpu=1 but no worker has that much free "
        "(the most free on one worker is cpu=0); the graph needs cpu=9 in all, and the 2 workers have cpu=8"
    )
    assert len(a.placement_result.assignment) == 8
    assert "FAILED, 1 replica cannot be placed" in a.summary()
    assert f.message in a.summary()


def test_cluster_without_memory_is_unconstrained() -> None:
    g = split_graph()
    g.set_cluster(workers=3, cpu=4)
    a = analyze(g)
    assert a.placement_result.ok and a.cluster.memory_bytes is None
    assert "memory unconstrained" in a.summary()


def test_summary_reads_well() -> None:
    g = design_with_latencies()
    text = analyze(g).summary()
    assert text.startswith("fraud_scoring: 9 nodes, 11 edges, 8 stages\n")
    assert "  3  nn, xgb\n" in text
    assert ("critical path: ingest -> features -> xgb -> blend -> gate -> canary -> review_v2 -> out  (38 ms)"
            in text)
    assert "bottleneck: `nn` limits the graph to 400.0 requests/s" in text
    assert "resources: cpu 9, gpu 2, memory 8GiB in 14 replicas" in text
    assert "cluster: 3 workers x cpu 8, gpu 1, memory 32GiB" in text
    lines = text.splitlines()
    header = next(i for i, ln in enumerate(lines) if ln.lstrip().startswith("node "))
    features = next(ln for ln in lines if ln.lstrip().startswith("features "))
    assert "6,400.0" in features and "10ms" in features and "100%" in features
    # numbers are right-aligned under their headers
    assert lines[header].index("capacity req/s") + len("capacity req/s") == features.index("6,400.0") + len("6,400.0")
    review = next(ln for ln in lines if ln.lstrip().startswith("review_v2 "))
    assert "10%" in review and "500.0" in review
    worker_rows = [ln for ln in lines if ln.lstrip().startswith("worker-")]
    assert len(worker_rows) == 3 and all("/8" in ln and "/32GiB" in ln for ln in worker_rows)


def test_summary_without_estimates_or_cluster_says_what_is_missing() -> None:
    g = Graph("bare")
    g.add_node("src", "source")
    g.add_node("out", "sink")
    g.connect("src", "out")
    text = analyze(g).summary()
    assert "bottleneck: unknown (give nodes a `latency` estimate" in text
    assert "cluster: none given" in text


def test_to_dict_is_json_and_deterministic() -> None:
    one = analyze(design_with_latencies()).to_dict()
    two = analyze(design_with_latencies()).to_dict()
    assert json.dumps(one) == json.dumps(two)
    assert one["stages"][0] == ["ingest"] and one["bottleneck"] == "nn"
    assert one["capacity"]["nn"]["capacity_rps"] == pytest.approx(400.0)
    assert one["critical_path"]["latency_ms"] == pytest.approx(38.0)
    assert one["placement_ok"] is True and len(one["placement"]) == 14
    assert list(one["capacity"]) == list(design().nodes)


def test_graph_with_a_cycle_is_analysed_best_effort() -> None:
    g = Graph("loop")
    g.add_node("src", "source")
    for n in ("a", "b", "c"):
        g.add_node(n, "python", impl=f"m:{n}", latency="10ms")
    g.connect("src", "a")
    g.connect("a", "b")
    g.connect("b", "c")
    g.connect("c", "a")
    a = analyze(g)
    assert a.has_cycle and a.stages == [] and a.critical_path == [] and a.critical_path_ms == 0.0
    assert a.capacity["a"].capacity_rps == pytest.approx(100.0) and a.capacity["a"].traffic_share is None
    assert a.bottleneck is None
    assert "cycle" in a.summary()


def test_unknown_nodes_and_bad_values_do_not_raise() -> None:
    graph, _ = compile_udgl(
        "source in\npython f { impl = \"m:f\", replicas = -3 }\nsink out\nin -> f -> ghost\nf -> out\n"
    )
    assert graph is not None
    a = analyze(graph)
    assert a.stages == [["in"], ["f"], ["out"]]
    assert "ghost" not in a.capacity
    g = split_graph()
    g.edges.append(Edge("a", "nowhere"))
    assert analyze(g).capacity["a"].traffic_share == pytest.approx(0.7)
    assert analyze(Graph("empty")).summary().startswith("empty: 0 nodes")


def _big_udgl(blocks: int) -> str:
    """5 nodes and 7 edges a block: p -> [x, y, z] -> e -> next p."""
    lines = ['source in', 'cluster { workers = 100, cpu = 96, gpu = 0, memory = 256GiB }']
    edges, prev = [], "in"
    for b in range(blocks):
        lines += [
            f'python p{b} {{ impl = "m:p", replicas = 2, batch = 8, latency = 1ms }}',
            f'python x{b} {{ impl = "m:x", cpu = 0.5, latency = 2ms }}',
            f'python y{b} {{ impl = "m:y", memory = 256MiB, latency = 3ms }}',
            f'python z{b} {{ impl = "m:z", replicas = 3, latency = 4ms }}',
            f'ensemble e{b}',
        ]
        edges.append(f"{prev} -> p{b} -> [x{b}, y{b}, z{b}] -> e{b}")
        prev = f"e{b}"
    lines.append("sink out")
    edges.append(f"{prev} -> out")
    return "\n".join(lines + edges) + "\n"


def test_five_thousand_nodes_analyse() -> None:
    """Its speed is measured by benchmarks/compile.py, not here."""
    g = parse_udgl(_big_udgl(1000))
    assert len(g.nodes) == 5002 and len(g.edges) == 7001
    a = analyze(g)
    assert len(a.stages) == 3002 and a.placement_result.ok
    assert a.bottleneck == "y0" and a.max_rate_rps == pytest.approx(1000 / 3)  # 1 replica, 3ms
    assert a.critical_path_ms == pytest.approx(1000 * 5.0)
    assert len(a.summary().splitlines()) < 120
