"""The public face of a running graph: :func:`run` and :class:`Deployment`."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable

from .engine import Engine
from .errors import DeploymentConfigError, DeploymentStoppedError
from .faults import Fault
from .metrics import MetricsSnapshot, RecoveryEvent, Stats
from .plan import build_plan

__all__ = ["Deployment", "run"]

_STOP_GRACE = 0.3  # seconds stop() may take past its timeout to end threads and processes


class Deployment:
    """A graph running in this process. Use :func:`run` to create one.

    ``call`` / ``submit`` / ``acall`` send requests; every request ends with its result
    or a :class:`~hogar_nb.runtime.errors.RequestError` whose ``cause`` says why.
    """

    def __init__(self, engine: Engine, earg: dict | None = None) -> None:
        self._engine = engine
        self._earg = earg
        self._stopped = False
        self._metrics_server: Any = None
        self.metrics_url: str | None = None
        self._http_servers: list[Any] = []

    # -- requests ---------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._engine.plan.name

    @property
    def running(self) -> bool:
        return not self._stopped

    @property
    def earg(self) -> dict | None:
        """The EARG document this deployment runs (a copy), when it was started from one."""
        import copy

        return copy.deepcopy(self._earg) if self._earg is not None else None

    def add_result_observer(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``fn(result)`` for every successful response; returns a function that removes it.

        Observers run on the engine's threads and must be quick; an observer that
        raises is removed so it cannot disturb requests.
        """
        return self._engine.add_observer(fn)

    @property
    def sources(self) -> list[str]:
        return list(self._engine.plan.sources)

    def _source(self, source: str | None) -> str:
        sources = self._engine.plan.sources
        if source is None:
            if len(sources) == 1:
                return sources[0]
            raise ValueError(f"graph {self.name!r} has several sources {sources}; pass source=...")
        if source not in sources:
            raise ValueError(f"{source!r} is not a source of graph {self.name!r}; sources are {sources}")
        return source

    def submit(self, payload: Any, source: str | None = None, timeout: float | None = None) -> Future:
        """Send a request without waiting for its result; the future holds the result
        or a RequestError.

        When the first queue is full this waits for room (backpressure) up to
        ``timeout`` seconds, so a plain loop of submits never fails for being fast;
        past it the request fails with OverloadError. ``timeout`` is also the
        request's deadline through the whole graph (RequestTimeoutError once passed).
        """
        name = self._source(source)
        if self._stopped:
            return self._stopped_future()
        return self._engine.submit(payload, name, timeout).future

    def _stopped_future(self) -> Future:
        fut: Future = Future()
        fut.set_exception(DeploymentStoppedError(f"deployment {self.name!r} is stopped"))
        return fut

    def call(self, payload: Any, timeout: float | None = None, source: str | None = None) -> Any:
        """Send a request and wait for its result (raises its RequestError).

        Waits for room like :meth:`submit`; ``timeout`` is the request's deadline."""
        name = self._source(source)
        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        return self._engine.submit(payload, name, timeout).future.result()

    async def acall(self, payload: Any, timeout: float | None = None, source: str | None = None) -> Any:
        """``await`` a request's result from asyncio code.

        Never blocks the event loop: a full first queue fails the request at once
        with OverloadError (load shedding, e.g. HTTP 503) instead of waiting for room.
        ``timeout`` is the request's deadline."""
        name = self._source(source)
        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        return await self._engine.submit(payload, name, timeout, wait=False,
                                         loop=asyncio.get_running_loop()).future

    def map(self, payloads: Iterable[Any], concurrency: int | None = None, ordered: bool = True,
            source: str | None = None, timeout: float | None = None,
            progress: bool | None = None) -> Iterator[Any]:
        """Score every payload; yields each result, or the RequestError of an item that
        failed, in input order (``ordered``) or as they finish.

        Memory stays bounded: at most ``concurrency`` requests are in flight (default:
        the first queue's ``max_queue``) and ``payloads`` is read lazily. ``timeout`` is
        each request's deadline; ``progress`` shows a progress bar on stderr (default:
        when stderr is a terminal or in a notebook).
        """
        from .mapping import map_requests

        name = self._source(source)
        return map_requests(self, payloads, name, concurrency, ordered, timeout, progress)

    @property
    def events(self) -> list[RecoveryEvent]:
        """Recovery and operator events so far (failures, restarts, suspensions,
        scaling and reconfiguration), oldest first; the last 1,000 are kept."""
        return list(self._engine.events)

    def scale(self, node: str, replicas: int) -> None:
        """Run ``replicas`` replicas of ``node``; returns once new replicas are ready.
        Replicas leaving finish the call they are in; no request is lost."""
        from .control import reconfigure

        reconfigure(self, node, {"replicas": replicas})

    def reconfigure(self, node: str, **attrs: Any) -> None:
        """Change ``replicas``, ``batch``, ``batch_wait``, ``timeout`` or ``retries`` of a
        running node, as UDGL values (``"250ms"``) or numbers in EARG units (ms).

        Every value is checked against the language's ranges first (ReconfigureError
        naming the node and attribute); then the change applies without losing a
        request and is recorded in :attr:`events`."""
        from .control import reconfigure

        reconfigure(self, node, attrs)

    # -- lifecycle --------------------------------------------------------------------
    def stop(self, timeout: float = 10.0) -> None:
        """Refuse new requests, let in-flight ones finish for up to ``timeout`` s, then
        fail what is left with cause "stopped", purge the queues and end every replica
        thread and process (pipes closed). Returns within ``timeout`` plus a fraction
        of a second; no impl call starts after it returns (a thread replica already
        inside a call cannot be interrupted: its result is dropped)."""
        if self._stopped:
            return
        deadline = time.monotonic() + timeout
        for server in self._http_servers:  # drain HTTP first: its in-flight requests finish
            server.stop(timeout)
        self._http_servers.clear()
        self._stopped = True
        engine = self._engine
        while engine.live and time.monotonic() < deadline:
            time.sleep(0.002)
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
        if self._metrics_server is not None:
            self._metrics_server.shutdown()
            self._metrics_server.server_close()
            self._metrics_server = None

    def __enter__(self) -> Deployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<Deployment {self.name!r} {state}, {len(self._engine.plan.nodes)} nodes>"

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

    def side_outputs(self, sink: str) -> list[Any]:
        """The last few values that reached a side-output sink."""
        if sink not in self._engine.side_values:
            raise KeyError(f"{sink!r} is not a side-output sink; they are {sorted(self._engine.side_values)}")
        return list(self._engine.side_values[sink])

    def monitor(self, **options: Any) -> Any:
        """A live dashboard of this deployment (in a notebook): panels and a health-coloured graph."""
        from .._frontends import frontend

        return frontend("monitor")(self, **options)

    def report(self, **options: Any) -> Any:
        """A static snapshot of the dashboard, kept in the notebook's saved output."""
        from .._frontends import frontend

        return frontend("report")(self, **options)

    def serve_metrics(self, port: int = 0) -> str:
        """Expose the metrics in the Prometheus text format on 127.0.0.1; returns the URL."""
        from .prometheus import start_server

        if self._metrics_server is None:
            self._metrics_server, bound = start_server(self, port)
            self.metrics_url = f"http://127.0.0.1:{bound}/metrics"
        return self.metrics_url  # type: ignore[return-value]

    def serve_http(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> str:
        """Serve this deployment over HTTP (JSON routes, Open Inference Protocol v2,
        ``/metrics``, ``/hogar/v1/*``) on a background thread; returns the base URL.
        ``options``: ``max_body``, ``timeout``, ``admin_token``, ``allow_fault_injection``,
        ``drain_timeout``. :meth:`stop` closes the server."""
        from .._frontends import frontend

        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        server = frontend("serve_http")(self, host, port, **options)
        self._http_servers.append(server)
        return server.url

    # -- load and faults --------------------------------------------------------------
    def load(self, rate: float, duration: float, payload: Any = None, arrival: str = "poisson",
             concurrency: int | None = None, progress: bool | None = None,
             source: str | None = None, seed: int | None = None) -> Any:
        """Drive the graph at ``rate`` requests/s for ``duration`` s; returns a LoadReport.

        ``payload`` is a value or a callable ``payload(i)``; ``arrival`` is "poisson"
        or "fixed"; ``concurrency`` caps requests in flight (None: no cap).
        """
        from .load import drive

        return drive(self, rate, duration, payload, arrival, concurrency, progress, source, seed)

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
            raise KeyError(f"{node!r} is not a node with replicas; they are "
                           f"{sorted(self._engine.workers)}") from None


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
    if unknown:
        raise TypeError(f"run() got unexpected options {sorted(unknown)} for the embedded engine")
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
