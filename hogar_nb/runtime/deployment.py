"""The public face of a running graph: :func:`run` and :class:`Deployment`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Collection, Iterable, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from .base import DeploymentBase, unexpected_options
from .engine import Engine
from .errors import DeploymentConfigError, DeploymentStoppedError, UnknownNodeError
from .faults import Fault
from .metrics import MetricsSnapshot, RecoveryEvent, Stats
from .observer_thread import drain_in_thread
from .plan import build_plan
from .walk import Capture, RequestContext, Subscription, WalkEvent

__all__ = ["Deployment", "run"]

_STOP_GRACE = 0.3  # seconds stop() may take past its timeout to end threads and processes


class Deployment(DeploymentBase):
    """A graph running in this process. Use :func:`run` to create one.

    ``call`` / ``submit`` / ``acall`` send requests; every request ends with its result
    or a :class:`~hogar_nb.runtime.errors.RequestError` whose ``cause`` says why.
    """

    backend = "embedded"

    def __init__(self, engine: Engine, earg: dict | None = None) -> None:
        super().__init__(engine.plan, earg)
        self._engine = engine
        self._subscriptions: list[Subscription] = []

    # -- the backend's part -------------------------------------------------------------
    def _start(self, payload: Any, source: str, timeout: float | None, wait: bool,
               context: RequestContext) -> Future:
        return self._engine.submit(payload, source, timeout, wait=wait, context=context).future

    def _astart(self, payload: Any, source: str, timeout: float | None,
                context: RequestContext) -> Awaitable[Any]:
        # the request's future belongs to the caller's loop: no Future to wrap, no hop
        return self._engine.submit(payload, source, timeout, wait=False, loop=asyncio.get_running_loop(),
                                   context=context).future

    def _subscribe(self, fn: Callable[[Any], Any], maxsize: int, every: bool = True,
                   kinds: Collection[str] | None = None,
                   reduce: Callable[[WalkEvent], Any] | None = None,
                   record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> Subscription:
        sub = self._engine.walker.hub.subscribe(fn, maxsize, every, kinds, reduce, record)
        drain_in_thread(sub)
        self._subscriptions.append(sub)
        return sub

    def capture_answers(self, nodes: Collection[str], maxsize: int = 100_000) -> Capture | None:
        if self._stopped:
            raise self._stopped_error()
        return self._engine.walker.capture(nodes, maxsize)

    def end_capture(self, capture: Capture) -> None:
        self._engine.walker.end_capture(capture)

    def _recorded_events(self) -> list[RecoveryEvent]:
        return list(self._engine.events)

    def _record(self, event: RecoveryEvent) -> None:
        self._engine.events.append(event)

    def _apply(self, node: str, values: dict[str, Any]) -> None:
        if "weights" in values:  # a split: the walker reads its edges once per request
            split = self._engine.plan.nodes[node]
            weights = values["weights"]
            split.succ = [(dst, when, weights[dst]) for dst, when, _w in split.succ]
            return
        worker = self._engine.workers[node]
        plan = worker.plan
        for attr, value in values.items():
            if attr == "replicas":
                worker.scale(value)
            elif attr == "batch":
                plan.batch_size = value
            elif attr == "batch_wait":
                plan.batch_wait = value / 1000.0
            elif attr == "timeout":
                plan.timeout = value / 1000.0
            else:
                plan.retries = value

    def _in_flight(self) -> int:
        return len(self._engine.live)

    def _shutdown(self, deadline: float) -> None:
        engine = self._engine
        for node in engine.workers.values():
            node.begin_stop()
        for req in list(engine.live.values()):
            engine.fail(req, DeploymentStoppedError(
                f"deployment {self.name!r} stopped before the request finished"))
        engine.hang_release.set()
        engine.shutdown_supervisor()
        end = time.monotonic() + _STOP_GRACE
        for node in engine.workers.values():
            node.stop(end)
        engine.walker.hub.close()  # observers still get what was queued

    def _side_values(self) -> Mapping[str, Iterable[Any]]:
        return self._engine.side_values

    def stop(self, timeout: float = 10.0) -> None:
        """Refuse new requests, let in-flight ones finish for up to ``timeout`` s, then
        fail what is left with cause "stopped", purge the queues and end every replica
        thread and process (pipes closed). Returns within ``timeout`` plus a fraction
        of a second; no impl call starts after it returns (a thread replica already
        inside a call cannot be interrupted: its result is dropped)."""
        super().stop(timeout)

    # -- metrics ----------------------------------------------------------------------
    def metrics(self) -> MetricsSnapshot:
        """A snapshot of graph and per-node totals, recovery events and series."""
        engine = self._engine
        blank = Stats()
        nodes = {}
        for name, plan in engine.plan.nodes.items():
            worker = engine.workers.get(name)
            stats = engine.stats[name] or blank
            if worker is None:
                nodes[name] = stats.snapshot(name, 0, 0, 0, 0, engine.started_at)
            else:
                nodes[name] = stats.snapshot(name, worker.queue.qsize(), worker.in_flight,
                                             worker.alive_count(), plan.replicas, engine.started_at,
                                             worker.state)
        workers = engine.workers.values()
        graph = (engine.graph_stats or blank).snapshot(
            "graph", sum(n.queue.qsize() for n in workers), len(engine.live),
            sum(n.alive_count() for n in workers), sum(n.plan.replicas for n in workers),
            engine.started_at)
        rows: dict[str | None, list[tuple]] = {None: (engine.graph_stats or blank).series_rows()}
        rows.update({n: (s or blank).series_rows() for n, s in engine.stats.items()})
        return MetricsSnapshot(time.time(), graph, nodes, list(engine.events), rows,
                               time.time() - time.monotonic())

    # -- faults and introspection of this backend ------------------------------------
    def inject_fault(self, node: str, kind: str = "crash", rate: float = 1.0, delay_ms: float = 100.0,
                     count: int | None = None, seed: int | None = None) -> None:
        """Make calls at ``node`` crash, hang, slow down (by ``delay_ms``) or raise, with
        probability ``rate`` (at most ``count`` times)."""
        worker = self._worker(node)
        self._engine.hang_release.clear()
        worker.fault = Fault(kind, rate, delay_ms / 1000.0, count, seed)

    def clear_faults(self) -> None:
        """Remove every injected fault and release injected hangs."""
        for worker in self._engine.workers.values():
            worker.fault = None
        self._engine.hang_release.set()

    def replica_pids(self, node: str) -> list[int]:
        """Process ids of a node's live process replicas (empty for thread replicas)."""
        return self._worker(node).pids()

    def _worker(self, node: str) -> Any:
        try:
            return self._engine.workers[node]
        except KeyError:
            raise UnknownNodeError(f"{node!r} is not a node with replicas; they are "
                                   f"{sorted(self._engine.workers)}", node) from None


def _to_document(graph: Any, base_dir: Path | None) -> tuple[Mapping[str, Any], Any, Path | None]:
    """(EARG dict, fallback namespace, base dir) from a Graph, a dict or a file path."""
    if hasattr(graph, "to_earg"):
        return graph.to_earg(), getattr(graph, "namespace", None), base_dir
    if isinstance(graph, Mapping):
        return graph, None, base_dir
    if isinstance(graph, (str, Path)):
        path = Path(graph)
        if not path.exists():
            raise DeploymentConfigError(f"no such graph file: {str(path)!r}")
        if path.suffix.lower() in (".udgl", ".yaml", ".yml", ".json"):
            from ..core.graph_file import load_graph_file

            loaded = load_graph_file(path)  # a graph with no header is named after the file
        else:
            raise DeploymentConfigError(
                f"{str(path)!r}: expected a .udgl, .yaml, .yml or .json graph file")
        return _to_document(loaded, base_dir)
    raise DeploymentConfigError(
        f"run() expects a Graph, an EARG dict or a file path, got {type(graph).__name__}")


_GPU_WARNED: set[tuple[str, ...]] = set()


def _warn_about_gpus(doc: Mapping[str, Any]) -> None:
    """Say once that this engine runs ``gpu = N`` replicas without a GPU."""
    import warnings

    from .errors import GPUWarning
    from ..core.kinds import WORKER_KINDS

    asking = tuple(n["name"] for n in doc.get("nodes", []) if n.get("kind") in WORKER_KINDS
                   and ((n.get("resources") or {}).get("gpu") or 0) > 0)
    if asking and asking not in _GPU_WARNED:
        _GPU_WARNED.add(asking)
        names = ", ".join(repr(n) for n in asking)
        warnings.warn(GPUWarning(
            f"node{'s' * (len(asking) > 1)} {names} ask{'s' * (len(asking) == 1)} for GPUs, but the "
            "embedded engine does not place replicas on GPUs: they run on this machine as usual "
            "(the impl may still use a GPU itself). For GPU placement run the graph on Ray "
            "(hogar serve --backend ray)."), stacklevel=3)


def _own_copy(doc: Mapping[str, Any]) -> dict:
    """A copy of the document whose node entries can change (reconfigure) without
    touching the caller's; impl objects are shared, not copied."""
    out = dict(doc)
    out["nodes"] = [{k: dict(v) if isinstance(v, dict) else v for k, v in n.items()}
                    for n in doc.get("nodes", [])]
    return out


def run(graph: Any, namespace: Mapping[str, Any] | None = None, *, base_dir: str | Path | None = None,
        metrics: bool = True, queue_size: int | Mapping[str, int] | None = None,
        sample_interval: float = 0.5, start_timeout: float = 60.0, **unknown: Any) -> Deployment:
    """Start ``graph`` (a Graph, an EARG dict or a .udgl/.yaml/.json path) on the
    embedded engine in the background and return its :class:`Deployment` once every
    replica is ready (:func:`hogar_nb.run` picks the backend and calls this one).

    ``namespace`` resolves bare-name impls (e.g. ``globals()`` in a notebook);
    ``queue_size`` bounds each node's queue (an int or per-node mapping).
    """
    unexpected_options(unknown, "embedded")
    doc, fallback, base = _to_document(graph, Path(base_dir) if base_dir is not None else None)
    plan = build_plan(doc, namespace if namespace is not None else fallback, base, queue_size)
    _warn_about_gpus(doc)
    engine = Engine(plan, metrics=metrics, sample_interval=sample_interval)
    deployment = Deployment(engine, _own_copy(doc))
    engine.start()
    deadline = time.monotonic() + start_timeout
    for node in engine.workers.values():
        for replica in list(node.replicas):
            replica.ready.wait(max(deadline - time.monotonic(), 0))
    problems = [
        f"{node.plan.name}[{r.index}]: {r.start_error}"
        for node in engine.workers.values() for r in node.replicas + node.retired
        if r.start_error is not None or not r.ready.is_set()
    ]
    if problems:
        deployment.stop(timeout=0)
        raise DeploymentConfigError("the graph could not start:\n  " + "\n  ".join(sorted(set(problems))))
    return deployment
