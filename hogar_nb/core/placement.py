"""Place every replica of a graph on the cluster's workers.

Two strategies, tried in order:

1. **spread**: nodes in decreasing order of size; the replicas of one node go to
   different workers (so losing a worker loses at most one replica of it), starting
   each search where the previous one stopped so the load is shared out. A replica
   shares a worker with a sibling only when no other worker has room for it.
2. **first-fit decreasing**: every replica, largest first, on the first worker with
   room. It packs tighter, so it is the fallback when spreading leaves a replica out.

Only when both leave replicas out are failures reported, one per node, naming the
value that does not fit and what the workers have. ``memory_bytes=None`` on the
cluster means memory is not constrained. The result is deterministic.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from typing import Mapping

from .model import ResolvedNode
from .resolve import ClusterSpec

__all__ = ["Placement", "PlacementFailure", "format_bytes", "place", "worker_name"]

_EPS = 1e-9  # cpu/gpu are floats: 0.1 + 0.2 must still fit in 0.3


def worker_name(index: int) -> str:
    return f"worker-{index}"


def format_bytes(n: float) -> str:
    """A size for people: ``32GiB``, ``1.5GiB``, ``512MiB``, ``0B``."""
    for unit, factor in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= factor:
            text = f"{n / factor:.1f}".removesuffix(".0")
            return f"{text}{unit}"
    return f"{int(n)}B"


def _fmt(dim: str, value: float) -> str:
    if dim == "memory":
        return f"memory={format_bytes(value)}"
    return f"{dim}={value:g}"


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


@dataclass(frozen=True)
class PlacementFailure:
    """Replicas of one node that fit on no worker.

    ``replicas`` lists every replica index left out; ``replica`` is the first of them.
    ``needs`` is the per-replica demand ``{"cpu", "gpu", "memory_bytes"}``.
    """

    node: str
    replica: int
    replicas: tuple[int, ...]
    needs: dict
    message: str

    @property
    def replica_ids(self) -> list[str]:
        return [f"{self.node}/{i}" for i in self.replicas]


@dataclass
class Placement:
    """Where each replica runs: ``assignment["xgb/0"] == "worker-2"``."""

    assignment: dict[str, str]
    failures: list[PlacementFailure]
    usage: dict[str, dict]
    cluster: ClusterSpec
    strategy: str  # "spread", "first-fit-decreasing", or "none" (nothing to place)
    unplaced: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def replicas_on(self, worker: str) -> list[str]:
        return [rid for rid, w in self.assignment.items() if w == worker]

    def to_dict(self) -> dict:
        return {
            "ok": self.ok,
            "strategy": self.strategy,
            "assignment": dict(self.assignment),
            "usage": {w: dict(u) for w, u in self.usage.items()},
            "failures": [
                {"node": f.node, "replicas": list(f.replicas), "needs": dict(f.needs), "message": f.message}
                for f in self.failures
            ],
        }


class _Pool:
    """Free capacity of every worker; memory None = unconstrained (infinite)."""

    def __init__(self, cluster: ClusterSpec) -> None:
        n = cluster.workers
        mem = float("inf") if cluster.memory_bytes is None else cluster.memory_bytes
        self.cpu = [float(cluster.cpu)] * n
        self.gpu = [float(cluster.gpu)] * n
        self.mem = [mem] * n

    def fits(self, w: int, d: tuple[float, float, int]) -> bool:
        return self.cpu[w] + _EPS >= d[0] and self.gpu[w] + _EPS >= d[1] and self.mem[w] >= d[2]

    def take(self, w: int, d: tuple[float, float, int]) -> None:
        self.cpu[w] -= d[0]
        self.gpu[w] -= d[1]
        self.mem[w] -= d[2]


def _demand(node: ResolvedNode) -> tuple[float, float, int]:
    return (float(node.cpu), float(node.gpu), int(node.memory_bytes))


def _size_key(d: tuple[float, float, int], cluster: ClusterSpec) -> tuple[float, float]:
    """Largest first: by the dominant share of one worker, then by the sum of shares."""
    shares = [
        d[0] / cluster.cpu if cluster.cpu else (float("inf") if d[0] else 0.0),
        d[1] / cluster.gpu if cluster.gpu else (float("inf") if d[1] else 0.0),
        d[2] / cluster.memory_bytes if cluster.memory_bytes else 0.0,
    ]
    return (max(shares), sum(shares))


def _spread(order, demands, replicas, cluster) -> tuple[dict[str, int], dict[str, int]]:
    """Returns (replica id -> worker index, node -> replicas left out)."""
    pool = _Pool(cluster)
    alive: dict[tuple, list[int]] = {}  # demand -> workers that may still fit it
    out: dict[str, int] = {}
    missing: dict[str, int] = {}
    cursor = 0
    for name in order:
        d = demands[name]
        workers = alive.setdefault(d, list(range(cluster.workers)))
        count: dict[int, int] = {}
        limit = 0  # place on workers holding at most `limit` siblings
        for i in range(replicas[name]):
            chosen = -1
            while chosen < 0 and workers:
                start = bisect_left(workers, cursor)
                n = len(workers)
                dead: list[int] = []
                lowest = None  # fewest siblings on a worker with room, above `limit`
                for k in range(n):
                    w = workers[(start + k) % n]
                    if not pool.fits(w, d):
                        dead.append(w)  # usage only grows: w never fits d again
                        continue
                    c = count.get(w, 0)
                    if c <= limit:
                        chosen = w
                        break
                    if lowest is None or c < lowest:
                        lowest = c
                if dead:
                    gone = set(dead)
                    workers[:] = [w for w in workers if w not in gone]
                if chosen < 0:
                    if lowest is None:
                        break
                    limit = lowest
            if chosen < 0:
                missing[name] = replicas[name] - i
                break
            pool.take(chosen, d)
            count[chosen] = count.get(chosen, 0) + 1
            out[f"{name}/{i}"] = chosen
            cursor = chosen + 1 if chosen + 1 < cluster.workers else 0
    return out, missing


def _first_fit(order, demands, replicas, cluster) -> tuple[dict[str, int], dict[str, int]]:
    pool = _Pool(cluster)
    first: dict[tuple, int] = {}  # demand -> first worker that may still fit it
    out: dict[str, int] = {}
    missing: dict[str, int] = {}
    for name in order:
        d = demands[name]
        w = first.get(d, 0)
        for i in range(replicas[name]):
            while w < cluster.workers and not pool.fits(w, d):
                w += 1
            if w >= cluster.workers:
                missing[name] = replicas[name] - i
                break
            pool.take(w, d)
            out[f"{name}/{i}"] = w
        first[d] = w
    return out, missing


def place(nodes: Mapping[str, ResolvedNode], cluster: ClusterSpec) -> Placement:
    """Assign every replica ``"node/i"`` of ``nodes`` to a worker of ``cluster``."""
    demands = {name: _demand(n) for name, n in nodes.items()}
    replicas = {name: max(0, int(n.replicas)) for name, n in nodes.items()}
    position = {name: i for i, name in enumerate(nodes)}
    keys = {d: _size_key(d, cluster) for d in set(demands.values())}
    order = sorted(nodes, key=lambda n: (-keys[demands[n]][0], -keys[demands[n]][1], position[n]))
    placed: dict[str, int]
    if cluster.workers <= 0:
        placed, missing, strategy = {}, {n: r for n, r in replicas.items() if r}, "none"
    else:
        placed, missing = _spread(order, demands, replicas, cluster)
        strategy = "spread"
        if missing:
            ffd, ffd_missing = _first_fit(order, demands, replicas, cluster)
            if sum(ffd_missing.values()) < sum(missing.values()):
                placed, missing, strategy = ffd, ffd_missing, "first-fit-decreasing"
    # assignment in declaration order of nodes, then replica index
    assignment: dict[str, str] = {}
    for name in nodes:
        for i in range(replicas[name]):
            w = placed.get(f"{name}/{i}")
            if w is not None:
                assignment[f"{name}/{i}"] = worker_name(w)
    usage = _usage(nodes, assignment, cluster)
    failures: list[PlacementFailure] = []
    if missing:
        context = _Context(nodes, replicas, usage, cluster)
        failures = [_failure(name, demands[name], replicas[name], missing[name], context)
                    for name in nodes if name in missing]
    unplaced = [rid for f in failures for rid in f.replica_ids]
    return Placement(assignment, failures, usage, cluster, strategy, unplaced)


def _usage(nodes, assignment: dict[str, str], cluster: ClusterSpec) -> dict[str, dict]:
    usage = {
        worker_name(w): {"cpu": 0.0, "gpu": 0.0, "memory_bytes": 0, "replicas": 0}
        for w in range(max(0, cluster.workers))
    }
    for rid, worker in assignment.items():
        node = nodes[rid.rpartition("/")[0]]
        u = usage[worker]
        u["cpu"] += node.cpu
        u["gpu"] += node.gpu
        u["memory_bytes"] += int(node.memory_bytes)
        u["replicas"] += 1
    for u in usage.values():  # float sums such as 0.1+0.2 shown as 0.3
        u["cpu"] = round(u["cpu"], 9)
        u["gpu"] = round(u["gpu"], 9)
    return usage


class _Context:
    """What failure messages quote: the most free on one worker, the totals."""

    def __init__(self, nodes, replicas, usage, cluster: ClusterSpec) -> None:
        self.cluster = cluster
        used = list(usage.values()) or [{"cpu": 0.0, "gpu": 0.0, "memory_bytes": 0}]
        self.free = {
            "cpu": max(cluster.cpu - u["cpu"] for u in used),
            "gpu": max(cluster.gpu - u["gpu"] for u in used),
            "memory": None if cluster.memory_bytes is None
            else max(cluster.memory_bytes - u["memory_bytes"] for u in used),
        }
        self.over: list[tuple[str, str]] = []  # (needed in all, available in all)
        for key, attr, cap in (("cpu", "cpu", cluster.cpu), ("gpu", "gpu", cluster.gpu),
                               ("memory", "memory_bytes", cluster.memory_bytes)):
            if cap is None:
                continue
            want = sum(getattr(n, attr) * replicas[k] for k, n in nodes.items())
            if want > cap * cluster.workers + _EPS:
                self.over.append((_fmt(key, want), _fmt(key, cap * cluster.workers)))


def _failure(name: str, d, total: int, n_missing: int, ctx: _Context) -> PlacementFailure:
    cluster = ctx.cluster
    dims = [("cpu", d[0], cluster.cpu), ("gpu", d[1], cluster.gpu), ("memory", d[2], cluster.memory_bytes)]
    head = f"{n_missing} of {total} replica{'s' * (total != 1)} of `{name}` cannot be placed: "
    too_big = [(k, need, have) for k, need, have in dims if have is not None and need > have + _EPS]
    if cluster.workers <= 0:
        reason = "the cluster has no workers"
    elif too_big:
        reason = (
            f"`{name}` needs {_join([_fmt(k, need) for k, need, _ in too_big])} per replica "
            f"but each worker has {_join([_fmt(k, have) for k, _, have in too_big])}"
        )
    else:
        free = ctx.free
        needed = [(k, need) for k, need, _ in dims if need > 0]
        short = [(k, need) for k, need in needed if free[k] is not None and need > free[k] + _EPS]
        if short:
            reason = (
                f"each needs {_join([_fmt(k, v) for k, v in short])} but no worker has that much free "
                f"(the most free on one worker is {_join([_fmt(k, max(free[k], 0)) for k, _ in short])})"
            )
        else:
            reason = (
                f"each needs {_join([_fmt(k, v) for k, v in needed])} at once and no worker "
                "has all of that free"
            )
        if ctx.over:
            reason += (
                f"; the graph needs {_join([a for a, _ in ctx.over])} in all, and the "
                f"{cluster.workers} worker{'s have' if cluster.workers != 1 else ' has'} "
                f"{_join([b for _, b in ctx.over])}"
            )
    first = total - n_missing
    idx = tuple(range(first, total))
    needs = {"cpu": d[0], "gpu": d[1], "memory_bytes": d[2]}
    return PlacementFailure(name, idx[0], idx, needs, head + reason)
