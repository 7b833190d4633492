"""How many replicas a node of a running graph may have: what the graph's ``cluster``
can hold, else what this machine can run.

The language allows up to 10,000 replicas; a running graph is bounded by where it
runs. With a ``cluster``, a node's replicas, with the cpu, gpu and memory each asks
for, must fit in what the workers have left after the other nodes' replicas (a sum
over the workers: placement may need more, never less). Without one, the engine
runs every replica on this machine: at most :data:`THREADS_PER_CPU` thread replicas
or :data:`PROCESSES_PER_CPU` process replicas per CPU, per node.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["PROCESSES_PER_CPU", "THREADS_PER_CPU", "ReplicaLimit", "replica_limit"]

THREADS_PER_CPU = 64
PROCESSES_PER_CPU = 4
_DIMS = (("cpu", "cpu", "cpu"), ("gpu", "gpu", "gpu"), ("memory_bytes", "memory_bytes", "memory"))


@dataclass(frozen=True)
class ReplicaLimit:
    """``most`` replicas of ``node``, and ``why`` (a phrase naming the bound)."""

    node: str
    most: int
    why: str

    def refusal(self, asked: int) -> str | None:
        """The message refusing ``asked`` replicas, or None when it fits."""
        if asked <= self.most:
            return None
        return f"got {asked} for replicas of node {self.node!r}; {self.why}"


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def replica_limit(earg: Mapping[str, Any], node: str, cpus: int | None = None) -> ReplicaLimit:
    """The bound on ``node``'s replicas for the running EARG document ``earg``
    (``cpus``: this machine's, by default ``os.cpu_count()``)."""
    from .kinds import WORKER_KINDS

    entries = {n.get("name"): n for n in earg.get("nodes") or []
               if isinstance(n, Mapping) and n.get("kind") in WORKER_KINDS}
    entry = entries.get(node) or {}
    cluster = earg.get("cluster")
    if isinstance(cluster, Mapping):
        return _cluster_limit(node, entry, entries, cluster)
    cpus = cpus or os.cpu_count() or 1
    if entry.get("isolation") == "process":
        most = PROCESSES_PER_CPU * cpus
        return ReplicaLimit(node, most, f"this machine runs at most {most} process replicas per node "
                                        f"({PROCESSES_PER_CPU} per CPU, {cpus} CPUs)")
    most = THREADS_PER_CPU * cpus
    return ReplicaLimit(node, most, f"this machine runs at most {most} thread replicas per node "
                                    f"({THREADS_PER_CPU} per CPU, {cpus} CPUs)")


def _cluster_limit(node: str, entry: Mapping[str, Any], entries: Mapping[Any, Mapping[str, Any]],
                   cluster: Mapping[str, Any]) -> ReplicaLimit:
    workers = int(_number(cluster.get("workers")))
    resources = entry.get("resources") or {}
    most, why = 10_000, ""
    for dim, key, label in _DIMS:
        each = _number(resources.get(dim))
        if each <= 0 or (dim == "memory_bytes" and cluster.get(key) is None):
            continue
        total = workers * _number(cluster.get(key))
        taken = sum(_number((other.get("resources") or {}).get(dim)) * _number(other.get("replicas"))
                    for name, other in entries.items() if name != node)
        fits = max(int(math.floor((total - taken) / each + 1e-9)), 0)
        if fits < most:
            shown = _shown(dim, each)
            most, why = fits, (f"the graph's cluster ({workers} workers) has room for at most {fits} "
                               f"replicas of it: each asks for {shown} {label}, and the other nodes take "
                               f"{_shown(dim, taken)} of {_shown(dim, total)}")
    return ReplicaLimit(node, most, why or "at most 10000 replicas")


def _shown(dim: str, value: float) -> str:
    if dim == "memory_bytes":
        from .placement import format_bytes

        return format_bytes(value)
    return f"{value:g}"
