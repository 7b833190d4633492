"""What a dashboard reads: a uniform :class:`Reading` from a deployment or an endpoint.

A source returns totals per node (counters, cumulative latency histogram, gauges)
and bounded series for plotting. The dashboard never computes metrics of its own
beyond differences between two readings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ...core.health import NodeInfo, NodeTotals

if TYPE_CHECKING:  # pragma: no cover
    from ...runtime.protocol import DeploymentProtocol


__all__ = [
    "DeploymentSource",
    "Marker",
    "NodeInfo",
    "NodeTotals",
    "Reading",
    "SERIES",
    "Source",
    "Topology",
]

SERIES = ("rps", "p50_ms", "p95_ms", "p99_ms", "errors", "queue_depth", "in_flight", "replicas_alive")
GRAPH = None  # the entity key of end-to-end (whole graph) values


@dataclass(frozen=True)
class Topology:
    nodes: dict[str, NodeInfo]
    edges: list[tuple[str, str]]


@dataclass(frozen=True)
class Marker:
    """A recovery event on the timeline (wall-clock ``time``)."""

    time: float
    node: str
    text: str


@dataclass
class Reading:
    """One poll of a source: ``totals[None]`` is the graph, ``totals[name]`` a node."""

    time: float
    totals: dict[str | None, NodeTotals]
    events: list[Marker]
    running: bool = True
    raw: Any = None  # the source's own snapshot (series are read from it)


class Source(Protocol):
    """Anything a dashboard can watch."""

    label: str

    def topology(self) -> Topology: ...

    def read(self) -> Reading: ...

    def series(self, reading: Reading, metric: str, node: str | None) -> tuple[list[float], list[Any]]:
        """Wall-clock times and values of one of :data:`SERIES` (node None: graph)."""
        ...


class DeploymentSource:
    """Reads :meth:`Deployment.metrics` snapshots; series are the engine's ring buffers."""

    def __init__(self, dep: DeploymentProtocol, graph: Any = None) -> None:
        self.dep = dep
        self.label = f"deployment {dep.name!r}"
        self._graph = graph
        self._topology: Topology | None = None

    def topology(self) -> Topology:
        if self._topology is None:
            self._topology = _deployment_topology(self.dep, self._graph)
        return self._topology

    def read(self) -> Reading:
        snap = self.dep.metrics()
        totals: dict[str | None, NodeTotals] = {None: _totals(snap.graph)}
        for name, m in snap.nodes.items():
            totals[name] = _totals(m)
        events = [Marker(e.time, e.node, f"{e.node}{f'[{e.replica}]' if e.replica >= 0 else ''} "
                         f"{e.cause} → {e.action}"
                         + (f" in {e.duration_s * 1000:.0f} ms" if e.duration_s else ""))
                  for e in snap.events]
        return Reading(snap.time, totals, events, bool(self.dep.running), snap)

    def series(self, reading: Reading, metric: str, node: str | None) -> tuple[list[float], list[Any]]:
        s = reading.raw.series(metric, node)
        return s.t, s.values


def _totals(m: Any) -> NodeTotals:
    bounds = tuple(b for b, _ in m.histogram)
    return NodeTotals(
        requests=m.requests, ok=m.ok, errors_by_cause=dict(m.errors_by_cause), restarts=m.restarts,
        hist=tuple(n for _, n in m.histogram), bounds=bounds, queue_depth=m.queue_depth,
        in_flight=m.in_flight, replicas_alive=m.replicas_alive, rps=float(m.rps),
        state=getattr(m, "state", "serving"))


def _deployment_topology(dep: DeploymentProtocol, graph: Any) -> Topology:
    """Nodes and edges of a running graph.

    Uses ``graph`` (a core Graph or EARG dict) when given, else the EARG document the
    deployment runs.
    """
    return graph_topology(graph if graph is not None else dep.earg)


def graph_topology(graph: Any) -> Topology:
    """Topology of a core ``Graph`` (or its EARG dict) with resolved replicas and timeouts."""
    doc = graph.to_earg() if hasattr(graph, "to_earg") else graph
    from ...core.kinds import WORKER_KINDS as workers
    nodes = {}
    for n in doc["nodes"]:
        kind = n.get("kind", "python")
        worker = kind in workers
        timeout = n.get("timeout_ms")
        nodes[n["name"]] = NodeInfo(n["name"], kind, int(n.get("replicas") or 1) if worker else 0,
                                    float(timeout) if worker and timeout is not None else None)
    edges = [(e["src"], e["dst"]) for e in doc["edges"]]
    return Topology(nodes, edges)
