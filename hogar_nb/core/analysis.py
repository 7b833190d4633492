"""What a graph needs and what it can take: ``graph.analyze()`` and ``hogar analyze``.

Topological stages (what can run in parallel), the critical path by latency
estimates, per-node capacity and the bottleneck with the graph's maximum
sustainable request rate, total resource demand, and the placement of every
replica on the cluster's workers. Works best-effort on graphs with errors: a cycle
leaves stages, critical path and traffic shares empty; edges naming unknown nodes
are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .capacity import NodeCapacity, build_digraph, capacities, critical_path, stages, traffic_shares
from .kinds import WORKER_KINDS
from .placement import Placement, format_bytes, place
from .resolve import ClusterSpec

if TYPE_CHECKING:  # pragma: no cover
    from .graph import Graph

__all__ = ["Analysis", "NodeCapacity", "Resources", "analyze"]


@dataclass(frozen=True)
class Resources:
    """Total demand of the graph: per-replica values x replicas, summed over nodes."""

    cpu: float
    gpu: float
    memory_bytes: int
    replicas: int

    def to_dict(self) -> dict:
        return {"cpu": self.cpu, "gpu": self.gpu, "memory_bytes": self.memory_bytes, "replicas": self.replicas}


@dataclass(frozen=True)
class Analysis:
    """The result of :func:`analyze`; :meth:`summary` is the readable report."""

    graph: str
    n_nodes: int
    n_edges: int
    stages: list[list[str]]
    critical_path: list[str]
    critical_path_ms: float
    capacity: dict[str, NodeCapacity]
    bottleneck: str | None
    max_rate_rps: float | None
    resources: Resources
    cluster: ClusterSpec | None
    placement: dict[str, str] | None
    placement_result: Placement | None
    has_cycle: bool = False
    notes: list[str] = field(default_factory=list)
    recovery: dict[str, str] = field(default_factory=dict)  # worker node -> its recovery, as UDGL
    #: each edge's payload type, where it is known: ``(src, dst, "float32[n, 4]")``
    edge_types: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-friendly and deterministic (nodes in declaration order)."""
        p = self.placement_result
        return {
            "graph": self.graph,
            "stages": [list(s) for s in self.stages],
            "has_cycle": self.has_cycle,
            "critical_path": {"nodes": list(self.critical_path), "latency_ms": self.critical_path_ms},
            "capacity": {name: c.to_dict() for name, c in self.capacity.items()},
            "bottleneck": self.bottleneck,
            "max_rate_rps": self.max_rate_rps,
            "resources": self.resources.to_dict(),
            "cluster": None if self.cluster is None else self.cluster.to_earg(),
            "placement": None if self.placement is None else dict(self.placement),
            "placement_ok": None if p is None else p.ok,
            "placement_failures": [] if p is None else [f.message for f in p.failures],
            "worker_usage": None if p is None else {w: dict(u) for w, u in p.usage.items()},
            "notes": list(self.notes),
            "edge_types": [{"src": s, "dst": d, "type": t} for s, d, t in self.edge_types],
        }

    def summary(self) -> str:
        """The plain-text report ``hogar analyze`` prints and the notebook shows."""
        return _render(self)

    def __str__(self) -> str:
        return self.summary()


def analyze(graph: "Graph") -> Analysis:
    """Analyse ``graph`` (best-effort: a graph with errors gives what can be computed)."""
    resolution = graph.resolution()
    nodes = {name: resolution.nodes[name] for name in graph.nodes if name in resolution.nodes}
    g = build_digraph(graph)
    notes: list[str] = []
    layers = stages(g)
    has_cycle = layers is None
    kinds = {name: n.kind for name, n in nodes.items()}
    path: list[str] = []
    path_ms = 0.0
    shares = None
    if layers is None:
        notes.append("the graph has a cycle: no stages, critical path or traffic shares")
        layers = []
    else:
        order = [n for stage in layers for n in stage]
        shares = traffic_shares(graph, g, order, kinds)
        latency = {name: n.latency_ms for name, n in nodes.items()}
        path, path_ms = critical_path(g, order, latency)
    capacity = capacities(nodes, shares)
    bottleneck, max_rate = None, None
    for name, c in capacity.items():  # declaration order: the first of equals wins
        if c.max_graph_rps is not None and (max_rate is None or c.max_graph_rps < max_rate):
            bottleneck, max_rate = name, c.max_graph_rps
    if nodes and all(n.latency_ms is None for n in nodes.values()):
        notes.append("no node has a `latency` estimate, so capacity and the bottleneck are unknown")
    resources = Resources(
        cpu=round(sum(n.cpu * n.replicas for n in nodes.values()), 9),
        gpu=round(sum(n.gpu * n.replicas for n in nodes.values()), 9),
        memory_bytes=sum(int(n.memory_bytes) * n.replicas for n in nodes.values()),
        replicas=sum(n.replicas for n in nodes.values()),
    )
    cluster = resolution.cluster
    result = place(nodes, cluster) if cluster is not None else None
    return Analysis(
        graph=graph.name,
        n_nodes=len(graph.nodes),
        n_edges=len(graph.edges),
        stages=layers,
        critical_path=path,
        critical_path_ms=float(path_ms),
        capacity=capacity,
        bottleneck=bottleneck,
        max_rate_rps=max_rate,
        resources=resources,
        cluster=cluster,
        placement=dict(result.assignment) if result is not None and result.ok else None,
        placement_result=result,
        has_cycle=has_cycle,
        notes=notes,
        recovery={name: _recovery_text(n) for name, n in nodes.items() if n.kind in WORKER_KINDS},
        edge_types=[] if has_cycle else _edge_types(graph),
    )


def _recovery_text(node: Any) -> str:
    """``restart(max = 5, within = 60s, backoff = 100ms), retries 2`` for the summary."""
    from .kinds import DEFAULT_WITHIN_MS
    from .values import format_duration

    rec = node.recovery
    text = rec["policy"]
    if text == "restart":
        text = (f"restart(max = {rec['max_restarts']}, "
                f"within = {format_duration(float(rec.get('within_ms', DEFAULT_WITHIN_MS)))}, "
                f"backoff = {format_duration(float(rec['backoff_ms']))})")
    text += f", retries {node.retries}" + (" (also on errors)" if getattr(node, "retry_errors", False) else "")
    return text


# ---------------------------------------------------------------- the report
_MAX_ROWS = 30  # longer tables show their most telling rows
_MAX_NAMES = 8


def _names(names: list[str], limit: int = _MAX_NAMES) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f", ... (+{len(names) - limit} more)"


def _ms(ms: float | None) -> str:
    if ms is None:
        return "-"
    if ms >= 1000:
        return f"{ms / 1000:.4g}s"
    if ms < 1:
        return f"{ms * 1000:.4g}us"
    return f"{ms:.4g}ms"


def _rate(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.1f}" if x >= 100 else f"{x:.3g}"


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x * 100:.3g}%"


def _num(x: float) -> str:
    return f"{x:g}"


def _table(headers: list[str], rows: list[list[str]], align: str) -> list[str]:
    """Aligned columns; ``align`` has an ``l`` (flush left) or ``r`` per column."""
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    out = []
    for row in [headers, *rows]:
        cells = [c.ljust(w) if a == "l" else c.rjust(w) for c, w, a in zip(row, widths, align)]
        out.append("  " + "  ".join(cells).rstrip())
    return out


def _edge_types(graph: "Graph") -> list[tuple[str, str, str]]:
    from .types import infer_types

    edges = infer_types(graph).edges
    return [(e.src, e.dst, str(edges[e.key])) for e in graph.edges if edges.get(e.key) is not None]


def _type_lines(a: Analysis) -> list[str]:
    if not a.edge_types:
        return []
    shown = a.edge_types[:_MAX_ROWS]
    lines = ["", "types (what travels along each edge whose type is known)",
             *_table(["edge", "type"], [[f"{s} -> {d}", t] for s, d, t in shown], "ll")]
    if len(shown) < len(a.edge_types):
        lines.append(f"  ... {len(a.edge_types) - len(shown)} more edges")
    return lines


def _render(a: Analysis) -> str:
    lines = [
        f"{a.graph}: {a.n_nodes} node{'s' * (a.n_nodes != 1)}, {a.n_edges} edge{'s' * (a.n_edges != 1)}, "
        f"{len(a.stages)} stage{'s' * (len(a.stages) != 1)}"
    ]
    lines += [f"note: {n}" for n in a.notes]
    if a.stages:
        lines += ["", "stages (nodes in one stage can run in parallel)"]
        shown = a.stages if len(a.stages) <= _MAX_ROWS else a.stages[:_MAX_ROWS]
        lines += _table(["#", "nodes"], [[str(i + 1), _names(s)] for i, s in enumerate(shown)], "rl")
        if len(shown) < len(a.stages):
            lines.append(f"  ... {len(a.stages) - len(shown)} more stages")
    if a.critical_path:
        path = a.critical_path
        text = " -> ".join(path) if len(path) <= 12 else (
            " -> ".join(path[:6]) + f" -> ... ({len(path) - 11} more) -> " + " -> ".join(path[-5:]))
        total = f"{a.critical_path_ms:,.2f}".rstrip("0").rstrip(".") + " ms"
        if all(c.latency_ms is None for c in a.capacity.values()):
            total = "no latency estimates"
        lines += ["", f"critical path: {text}  ({total})"]
    lines += ["", *_capacity_lines(a), ""]
    if a.bottleneck is not None:
        lines.append(f"bottleneck: `{a.bottleneck}` limits the graph to {_rate(a.max_rate_rps)} requests/s")
    else:
        lines.append("bottleneck: unknown (give nodes a `latency` estimate, e.g. `latency = 10ms`)")
    r = a.resources
    lines += ["", f"resources: cpu {_num(r.cpu)}, gpu {_num(r.gpu)}, memory {format_bytes(r.memory_bytes)} "
                  f"in {r.replicas} replica{'s' * (r.replicas != 1)}"]
    lines += _placement_lines(a)
    lines += _recovery_lines(a)
    lines += _type_lines(a)
    return "\n".join(lines) + "\n"


def _recovery_lines(a: Analysis) -> list[str]:
    """Nodes grouped by how they recover (docs/udgl.md, Recovery)."""
    groups: dict[str, list[str]] = {}
    for name, text in a.recovery.items():
        groups.setdefault(text, []).append(name)
    if not groups:
        return []
    return ["", "recovery (suspended after max restarts within the window with no request served)",
            *(f"  {text}: {_names(names)}" for text, names in groups.items())]


def _capacity_lines(a: Analysis) -> list[str]:
    caps = list(a.capacity.values())
    if not caps:
        return ["capacity: the graph has no nodes"]
    head = "capacity"
    if len(caps) > _MAX_ROWS:  # the most limiting nodes first
        rated = sorted((c for c in caps if c.max_graph_rps is not None), key=lambda c: c.max_graph_rps or 0.0)
        caps = rated[:_MAX_ROWS] or caps[:_MAX_ROWS]
        head += f" (the {len(caps)} most limiting of {len(a.capacity)} nodes)"
    rows = [
        [c.node, c.kind, str(c.replicas), str(c.batch_size), _ms(c.latency_ms), _rate(c.capacity_rps),
         _share(c.traffic_share), _rate(c.max_graph_rps)]
        for c in caps
    ]
    headers = ["node", "kind", "replicas", "batch", "latency", "capacity req/s", "share", "max graph req/s"]
    return [head, *_table(headers, rows, "llrrrrrr")]


def _placement_lines(a: Analysis) -> list[str]:
    c, p = a.cluster, a.placement_result
    if c is None or p is None:
        return ["cluster: none given, so no placement (add `cluster { workers = 2, cpu = 8 }`)"]
    mem = "unconstrained" if c.memory_bytes is None else format_bytes(c.memory_bytes)
    lines = [f"cluster: {c.workers} worker{'s' * (c.workers != 1)} x cpu {_num(c.cpu)}, gpu {_num(c.gpu)}, "
             f"memory {mem}", ""]
    if p.ok:
        how = "spread across workers" if p.strategy == "spread" else "packed first-fit decreasing"
        lines.append(f"placement: all {len(p.assignment)} replicas placed ({how})")
    else:
        lines.append(f"placement: FAILED, {len(p.unplaced)} replica{'s' * (len(p.unplaced) != 1)} "
                     "cannot be placed")
        lines += [f"  - {f.message}" for f in p.failures[:_MAX_ROWS]]
        if len(p.failures) > _MAX_ROWS:
            lines.append(f"  ... {len(p.failures) - _MAX_ROWS} more nodes")
        lines.append("")
    on: dict[str, list[str]] = {w: [] for w in p.usage}
    for rid, w in p.assignment.items():
        on[w].append(rid)

    def used(x: float, total: float | None, size: bool = False) -> str:
        f = format_bytes if size else _num
        return f"{f(x)}/{'-' if total is None else f(total)}"

    rows = [
        [w, used(u["cpu"], c.cpu), used(u["gpu"], c.gpu), used(u["memory_bytes"], c.memory_bytes, True),
         _names(on[w], 6)]
        for w, u in list(p.usage.items())[:_MAX_ROWS]
    ]
    lines += _table(["worker", "cpu", "gpu", "memory", "replicas"], rows, "lrrrl")
    if len(p.usage) > _MAX_ROWS:
        lines.append(f"  ... {len(p.usage) - _MAX_ROWS} more workers")
    return lines
