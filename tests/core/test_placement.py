"""Placement of replicas on workers: spreading, the first-fit-decreasing fallback,
failure messages, unconstrained memory, determinism, speed, and a property test that
no worker is ever over-committed."""

from __future__ import annotations


from hypothesis import given, settings
from hypothesis import strategies as st

from hogar_nb.core.model import ResolvedNode
from hogar_nb.core.placement import place
from hogar_nb.core.resolve import ClusterSpec

GiB = 2**30


def rn(name: str, replicas: int = 1, cpu: float = 1, gpu: float = 0, memory: int = 0) -> ResolvedNode:
    return ResolvedNode(
        name=name, kind="python", impl="m:f", replicas=replicas, cpu=cpu, gpu=gpu,
        memory_bytes=memory, batch_size=1, batch_wait_ms=0.0, timeout_ms=1000.0, retries=0,
        recovery={"policy": "restart"}, latency_ms=None,
    )


def nodes(*ns: ResolvedNode) -> dict[str, ResolvedNode]:
    return {n.name: n for n in ns}


def test_replicas_of_a_node_go_to_different_workers() -> None:
    p = place(nodes(rn("a", 3, cpu=1), rn("b", 3, cpu=1)), ClusterSpec(3, 8, 0, None))
    assert p.ok and p.strategy == "spread"
    for node in ("a", "b"):
        workers = [p.assignment[f"{node}/{i}"] for i in range(3)]
        assert sorted(workers) == ["worker-0", "worker-1", "worker-2"]
    assert [u["replicas"] for u in p.usage.values()] == [2, 2, 2]
    assert [u["cpu"] for u in p.usage.values()] == [2.0, 2.0, 2.0]


def test_more_replicas_than_workers_are_shared_out_evenly() -> None:
    p = place(nodes(rn("a", 5, cpu=1)), ClusterSpec(2, 8, 0, None))
    assert p.ok
    counts = sorted(u["replicas"] for u in p.usage.values())
    assert counts == [2, 3]


def test_replica_shares_a_worker_with_a_sibling_only_when_nothing_else_fits() -> None:
    # worker-0 is filled by `big`; both replicas of `small` then must go to worker-1
    p = place(nodes(rn("big", 1, cpu=4), rn("small", 2, cpu=2)), ClusterSpec(2, 4, 0, None))
    assert p.ok and p.strategy == "spread"
    assert p.assignment == {"big/0": "worker-0", "small/0": "worker-1", "small/1": "worker-1"}


def test_largest_nodes_are_placed_first() -> None:
    # declared small first; placed big first so the 6-cpu replica still finds a worker
    p = place(nodes(rn("s", 4, cpu=2), rn("big", 1, cpu=6)), ClusterSpec(2, 8, 0, None))
    assert p.ok
    assert p.assignment["big/0"] == "worker-0"
    assert list(p.assignment) == ["s/0", "s/1", "s/2", "s/3", "big/0"]  # declaration order


def test_first_fit_decreasing_fallback_when_spreading_leaves_a_replica_out() -> None:
    # spreading puts n0 on worker-0 and n2 on worker-1, leaving 1 + 3 cpus: one n1 (cpu 2)
    # fits, the second does not. Packing n0 and n2 together leaves worker-1 free for both.
    ns = nodes(rn("n0", 1, cpu=3, gpu=1), rn("n1", 2, cpu=2), rn("n2", 1, cpu=1, gpu=1))
    p = place(ns, ClusterSpec(2, 4, 2, None))
    assert p.ok and p.strategy == "first-fit-decreasing"
    assert p.assignment == {"n0/0": "worker-0", "n1/0": "worker-1", "n1/1": "worker-1", "n2/0": "worker-0"}
    assert p.usage["worker-0"] == {"cpu": 4.0, "gpu": 2.0, "memory_bytes": 0, "replicas": 2}
    assert p.usage["worker-1"] == {"cpu": 4.0, "gpu": 0.0, "memory_bytes": 0, "replicas": 2}


def test_replica_larger_than_any_worker_names_the_value() -> None:
    ns = nodes(rn("nn", 2, cpu=1, gpu=2), rn("f", 3, cpu=4))
    p = place(ns, ClusterSpec(2, 8, 1, 16 * GiB))
    assert not p.ok
    [f] = p.failures
    assert (f.node, f.replica, f.replicas) == ("nn", 0, (0, 1))
    assert f.needs == {"cpu": 1.0, "gpu": 2.0, "memory_bytes": 0}
    assert f.message == (
        "2 of 2 replicas of `nn` cannot be placed: `nn` needs gpu=2 per replica but each worker has gpu=1"
    )
    assert p.unplaced == ["nn/0", "nn/1"]
    assert sorted(p.assignment) == ["f/0", "f/1", "f/2"]  # the rest is still placed


def test_several_dimensions_too_big_are_all_named() -> None:
    p = place(nodes(rn("m", 1, cpu=16, memory=64 * GiB)), ClusterSpec(3, 8, 0, 32 * GiB))
    assert p.failures[0].message == (
        "1 of 1 replica of `m` cannot be placed: `m` needs cpu=16 and memory=64GiB per replica "
        "but each worker has cpu=8 and memory=32GiB"
    )


def test_cluster_too_small_in_total_groups_the_message_per_node() -> None:
    p = place(nodes(rn("xgb", 4, cpu=4)), ClusterSpec(1, 6, 0, None))
    [f] = p.failures
    assert f.replicas == (1, 2, 3)
    assert f.message == (
        "3 of 4 replicas of `xgb` cannot be placed: each needs cpu=4 but no worker has that much free "
        "(the most free on one worker is cpu=2); the graph needs cpu=16 in all, and the 1 worker has cpu=6"
    )
    assert p.assignment == {"xgb/0": "worker-0"}


def test_memory_none_is_unconstrained() -> None:
    p = place(nodes(rn("m", 4, cpu=1, memory=1024 * GiB)), ClusterSpec(2, 4, 0, None))
    assert p.ok
    assert p.usage["worker-0"]["memory_bytes"] == 2048 * GiB
    q = place(nodes(rn("m", 4, cpu=1, memory=1024 * GiB)), ClusterSpec(2, 4, 0, 64 * GiB))
    assert not q.ok and "memory=1TiB per replica but each worker has memory=64GiB" in q.failures[0].message


def test_fractional_cpus_fill_a_worker_exactly() -> None:
    p = place(nodes(rn("a", 10, cpu=0.1)), ClusterSpec(1, 1, 0, None))
    assert p.ok and p.usage["worker-0"]["cpu"] == 1.0


def test_zero_resource_nodes_are_placed_too() -> None:
    src = rn("in", 1, cpu=0)
    p = place(nodes(src, rn("f", 1, cpu=2)), ClusterSpec(1, 2, 0, None))
    assert p.ok and p.assignment == {"in/0": "worker-0", "f/0": "worker-0"}


def test_placement_is_deterministic() -> None:
    def make():
        return nodes(*(rn(f"n{i}", 1 + i % 3, cpu=0.5 + (i * 7 % 5) / 2, memory=(i % 4) * GiB) for i in range(60)))

    c = ClusterSpec(7, 16, 0, 32 * GiB)
    first = place(make(), c)
    assert all(place(make(), c).to_dict() == first.to_dict() for _ in range(3))


def test_five_thousand_nodes_place_every_replica() -> None:
    """Its speed is measured by benchmarks/compile.py, not here."""
    ns = nodes(*(rn(f"n{i}", 2, cpu=(0.25, 0.5, 1.0)[i % 3], memory=(i % 3) * 2**28) for i in range(5000)))
    c = ClusterSpec(100, 64, 0, 256 * GiB)
    p = place(ns, c)
    assert p.ok and len(p.assignment) == 10_000


_demand = st.tuples(
    st.integers(1, 4),                       # replicas
    st.sampled_from([0, 0.25, 0.5, 1, 2, 3]),  # cpu
    st.sampled_from([0, 0, 1, 2]),           # gpu
    st.sampled_from([0, GiB, 4 * GiB]),      # memory
)


@settings(max_examples=300, deadline=None)
@given(
    demands=st.lists(_demand, min_size=1, max_size=8),
    workers=st.integers(1, 5),
    cpu=st.sampled_from([1, 2, 4, 8]),
    gpu=st.integers(0, 2),
    memory=st.sampled_from([None, 2 * GiB, 8 * GiB]),
)
def test_no_worker_is_ever_over_committed(demands, workers, cpu, gpu, memory) -> None:
    ns = nodes(*(rn(f"n{i}", r, cpu=c, gpu=g, memory=m) for i, (r, c, g, m) in enumerate(demands)))
    cluster = ClusterSpec(workers, cpu, gpu, memory)
    p = place(ns, cluster)
    used = {f"worker-{w}": [0.0, 0.0, 0] for w in range(workers)}
    for rid, worker in p.assignment.items():
        n = ns[rid.rpartition("/")[0]]
        used[worker][0] += n.cpu
        used[worker][1] += n.gpu
        used[worker][2] += n.memory_bytes
    for c, g, m in used.values():
        assert c <= cpu + 1e-6 and g <= gpu + 1e-6
        assert memory is None or m <= memory
    every = {f"{name}/{i}" for name, n in ns.items() for i in range(n.replicas)}
    assert set(p.assignment) | set(p.unplaced) == every
    assert not set(p.assignment) & set(p.unplaced)
    if p.ok:
        assert set(p.assignment) == every
    else:
        assert p.unplaced and all(f.message.startswith(f"{len(f.replicas)} of ") for f in p.failures)
    for w, u in p.usage.items():
        assert u["replicas"] == sum(1 for x in p.assignment.values() if x == w)
