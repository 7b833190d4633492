"""The bound on a running node's replicas: the graph's cluster, else this machine."""

from __future__ import annotations

from hogar_nb.core.replica_limits import PROCESSES_PER_CPU, THREADS_PER_CPU, replica_limit
from hogar_nb.core.udgl import parse_udgl

GRAPH = """\
source s
python a { impl = "m:f", replicas = 2, cpu = 1, memory = 1GiB }
python b { impl = "m:f", replicas = 3, cpu = 0.5, memory = 3GiB, isolation = process }
sink t
s -> a -> b -> t
"""


def test_without_a_cluster_the_machine_bounds_threads_and_processes():
    earg = parse_udgl(GRAPH).to_earg()
    assert replica_limit(earg, "a", cpus=4).most == THREADS_PER_CPU * 4
    limit = replica_limit(earg, "b", cpus=4)
    assert limit.most == PROCESSES_PER_CPU * 4 and "process replicas" in limit.why
    assert limit.refusal(limit.most) is None
    assert limit.refusal(10_000).startswith("got 10000 for replicas of node 'b'; this machine runs at most 16")


def test_with_a_cluster_the_tightest_resource_bounds_each_node():
    earg = parse_udgl(GRAPH + "cluster { workers = 2, cpu = 4, memory = 16GiB }\n").to_earg()
    a = replica_limit(earg, "a")  # cpu: 8 - 1.5 = 6.5 -> 6; memory: 32 - 9 = 23 GiB -> 23
    assert a.most == 6 and "each asks for 1 cpu" in a.why and "take 1.5 of 8" in a.why
    b = replica_limit(earg, "b")  # memory: (32 - 2) / 3 = 10; cpu: (8 - 2) / 0.5 = 12
    assert b.most == 10 and "each asks for 3GiB memory, and the other nodes take 2GiB of 32GiB" in b.why
    assert b.refusal(11).startswith("got 11 for replicas of node 'b'; the graph's cluster (2 workers)")
