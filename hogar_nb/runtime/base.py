"""One Deployment base: everything a running graph offers whatever the backend runs it.

:class:`DeploymentBase` implements the protocol (:mod:`.protocol`) once: source
resolution, the stopped checks, ``call``/``acall``/``submit``/``map``, the load
generator, result observers, ``scale``/``reconfigure`` checked against the EARG
document and recorded as operator events, the dashboards, the HTTP and Prometheus
fronts, draining before stop and the context manager. A backend fills a narrow
interface:

- ``_start(payload, source, timeout, wait, context)``: start one request, return
  its Future (``wait``: wait for room up to ``timeout``; without it a full graph is
  an OverloadError at once); ``_astart`` may give ``acall`` an awaitable of the
  caller's own loop instead (by default it wraps ``_start``);
- ``_subscribe(fn, maxsize)``: the walker's events for an observer;
- ``metrics()``: the snapshot; ``_recorded_events()`` and ``_record(event)``;
- ``_apply(node, values)``: apply checked values (EARG units) to a running node;
- ``_in_flight()`` and ``_shutdown(deadline)``: what drains, and the end;
- ``inject_fault``/``clear_faults`` and ``_side_values()``.

Introspection only one backend has (replica PIDs, actor names, killing a replica)
stays on that backend's class.
"""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Collection, Iterable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Awaitable, Callable, ClassVar

from ..core.references import reference_paths, with_reference_hashes
from .errors import DeploymentStoppedError, UnknownNodeError
from .metrics import MetricsSnapshot, RecoveryEvent
from .plan import GraphPlan
from .changes import ChangesMixin
from .fronts import FrontsMixin
from .observing import ObserversMixin
from .quality_api import QualityMixin
from .traces import TracesMixin
from .walk import RequestContext, Subscription, WalkEvent

__all__ = ["DeploymentBase", "unexpected_options"]

_DEFAULT_CONCURRENCY = 1024  # map's window when the source feeds no worker queue


def unexpected_options(options: Mapping[str, Any], backend: str) -> None:
    """Raise the TypeError every backend's ``run`` raises for options it does not take."""
    if options:
        raise TypeError(f"run() got unexpected options {sorted(options)} for the {backend} backend")


class DeploymentBase(ObserversMixin, ChangesMixin, QualityMixin, FrontsMixin, TracesMixin, ABC):
    """A running serving graph; :func:`hogar_nb.run` returns one of its subclasses.

    ``call`` / ``submit`` / ``acall`` / ``map`` send requests; every request ends with
    its result or a :class:`~hogar_nb.runtime.errors.RequestError` whose ``cause``
    says why.
    """

    backend: ClassVar[str] = ""

    def __init__(self, plan: GraphPlan, earg: dict | None) -> None:
        self._plan = plan
        if earg is not None and reference_paths(earg):  # the document says which data it is judged by
            earg = with_reference_hashes(earg, plan.base_dir or Path.cwd())
        self._earg = earg
        self._stopped = False
        self._http_servers: list[Any] = []
        self._metrics_server: Any = None
        self.metrics_url: str | None = None
        self._observers: tuple[Callable[[Any], None], ...] = ()
        self._observers_lock = threading.Lock()
        self.tracing: Any = None  # hogar_nb.observe.Tracing once enable_tracing() ran
        self._quality: Any = None  # hogar_nb.quality's monitor, once started
        #: what steers this deployment by itself (an autoscaler, with ``stop()``), if anything
        self.autoscaler: Any = None
        #: rollouts by split (see :meth:`rollout`)
        self.rollouts: dict[str, Any] = {}

    # -- the backend's part -------------------------------------------------------------
    @abstractmethod
    def _start(self, payload: Any, source: str, timeout: float | None, wait: bool,
               context: RequestContext) -> Future:
        """Start one request at ``source`` (or at a worker node, run alone: the walker's
        ``start`` takes either); its Future holds the result or a RequestError."""

    def _astart(self, payload: Any, source: str, timeout: float | None,
                context: RequestContext) -> Awaitable[Any]:
        """Start one request without waiting for room, for ``acall``: an awaitable of
        the running loop."""
        return asyncio.wrap_future(self._start(payload, source, timeout, False, context))

    @abstractmethod
    def _subscribe(self, fn: Callable[[Any], Any], maxsize: int, every: bool = True,
                   kinds: Collection[str] | None = None,
                   reduce: Callable[[WalkEvent], Any] | None = None,
                   record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> Subscription:
        """Deliver the walker's events to ``fn`` off the request path (see :meth:`subscribe`)."""

    @abstractmethod
    def metrics(self) -> MetricsSnapshot:
        """A snapshot of graph and per-node totals, recovery events and series."""

    @abstractmethod
    def _recorded_events(self) -> list[RecoveryEvent]:
        """Every event the backend kept, oldest first."""

    @abstractmethod
    def _record(self, event: RecoveryEvent) -> None:
        """Keep an operator event beside the backend's own."""

    @abstractmethod
    def _apply(self, node: str, values: dict[str, Any]) -> None:
        """Apply checked values (replicas/batch/retries ints, durations in ms) to ``node``."""

    @abstractmethod
    def _in_flight(self) -> int:
        """Requests started and not finished, which stop() lets drain."""

    @abstractmethod
    def _shutdown(self, deadline: float) -> None:
        """Fail what is left with cause "stopped" and end every replica (the stop flag is set)."""

    @abstractmethod
    def _side_values(self) -> Mapping[str, Iterable[Any]]:
        """The last values each side-output sink received."""

    @abstractmethod
    def inject_fault(self, node: str, kind: str = "crash", rate: float = 1.0, delay_ms: float = 100.0,
                     count: int | None = None, seed: int | None = None) -> None:
        """Make calls at ``node`` crash, hang, slow down (by ``delay_ms``) or raise, with
        probability ``rate`` (at most ``count`` times)."""

    @abstractmethod
    def clear_faults(self) -> None:
        """Remove every injected fault and release injected hangs."""

    # -- what the graph is --------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._plan.name

    @property
    def sources(self) -> list[str]:
        return list(self._plan.sources)

    @property
    def running(self) -> bool:
        return not self._stopped

    @property
    def earg(self) -> dict | None:
        """The EARG document this deployment runs (a copy), with operator changes applied."""
        return copy.deepcopy(self._earg) if self._earg is not None else None

    @property
    def base_dir(self) -> Path | None:
        """The folder the graph's relative paths (model artifacts) resolve against
        (None: the working directory)."""
        return self._plan.base_dir

    def replica_nodes(self) -> list[str]:
        """The nodes that run replicas (the ones ``scale``/``reconfigure``/faults accept)."""
        return sorted(n for n, p in self._plan.nodes.items() if p.is_worker)

    def _source(self, source: str | None) -> str:
        sources = self._plan.sources
        if source is None:
            if len(sources) == 1:
                return sources[0]
            raise ValueError(f"graph {self.name!r} has several sources {sources}; pass source=...")
        if source not in sources:
            raise ValueError(f"{source!r} is not a source of graph {self.name!r}; sources are {sources}")
        return source

    def _entry(self, source: str | None, node: str | None) -> str:
        """Where a request starts: a source, or a worker node that runs alone."""
        if node is None:
            return self._source(source)
        if source is not None:
            raise ValueError("pass source= or node=, not both")
        plan = self._plan.nodes.get(node)
        if plan is None or not plan.is_worker:
            raise UnknownNodeError(f"{node!r} is not a node with replicas; they are {self.replica_nodes()}",
                                   node)
        return node

    def _stopped_error(self) -> DeploymentStoppedError:
        return DeploymentStoppedError(f"deployment {self.name!r} is stopped")

    # -- requests -----------------------------------------------------------------------
    def _context(self, context: RequestContext | None) -> RequestContext:
        """``context``, or a fresh one, with its trace decided while tracing is on (the
        HTTP front and the Ray ingress decide it as they make theirs)."""
        if context is None:
            context = RequestContext()
        tracing = self.tracing
        if tracing is not None:
            attrs = context.attrs
            if not attrs or "trace" not in attrs:
                tracing.begin(context)
        return context

    def _begin(self, payload: Any, source: str | None, timeout: float | None, wait: bool,
               context: RequestContext | None, node: str | None = None) -> Future:
        name = self._entry(source, node)
        context = self._context(context)
        if self._stopped:
            fut: Future = Future()
            fut.set_exception(self._stopped_error())
        else:
            fut = self._start(payload, name, timeout, wait, context)
            if self._observers:
                fut.add_done_callback(self._notify)
        fut.context = context  # type: ignore[attr-defined]
        return fut

    def submit(self, payload: Any, source: str | None = None, timeout: float | None = None,
               context: RequestContext | None = None, *, node: str | None = None) -> Future:
        """Send a request without waiting for its result; the future holds the result
        or a RequestError, and as ``.context`` the request's
        :class:`~hogar_nb.runtime.walk.RequestContext` (its ``request_id``).

        When the graph is full this waits for room (backpressure) up to ``timeout``
        seconds (forever when None), so a plain loop of submits never fails for being
        fast; past it the request fails with OverloadError. ``timeout`` is also the
        request's deadline through the whole graph (RequestTimeoutError once passed).
        ``context`` names the request (a fresh id when None) for its events. With
        ``node`` (a node with replicas) the request runs that node alone and its
        answer is the result: same queues, retries, timeouts and metrics as inside
        the graph.
        """
        return self._begin(payload, source, timeout, True, context, node)

    def call(self, payload: Any, timeout: float | None = None, source: str | None = None,
             context: RequestContext | None = None, *, node: str | None = None) -> Any:
        """Send a request and wait for its result (raises its RequestError).

        Waits for room like :meth:`submit`; ``timeout`` is the request's deadline;
        ``node`` runs one node alone (see :meth:`submit`)."""
        if self._stopped:
            self._entry(source, node)
            raise self._stopped_error()
        return self._begin(payload, source, timeout, True, context, node).result()

    async def acall(self, payload: Any, timeout: float | None = None, source: str | None = None,
                    context: RequestContext | None = None, *, node: str | None = None) -> Any:
        """``await`` a request's result from asyncio code.

        Never blocks the event loop: a full graph fails the request at once with
        OverloadError (load shedding, e.g. HTTP 503) instead of waiting for room.
        ``timeout`` is the request's deadline; ``node`` runs one node alone (see
        :meth:`submit`)."""
        return await self.astart(payload, timeout, source, context, node=node)

    def astart(self, payload: Any, timeout: float | None = None, source: str | None = None,
               context: RequestContext | None = None, *, node: str | None = None) -> Awaitable[Any]:
        """:meth:`acall` without a coroutine of its own: starts the request now (call it
        on the running event loop) and returns what to ``await`` for its result. A
        request that cannot start (a stopped deployment, an unknown source) raises here."""
        name = self._entry(source, node)
        if self._stopped:
            raise self._stopped_error()
        context = self._context(context)
        if self._observers:
            return asyncio.wrap_future(self._begin(payload, source, timeout, False, context, node))
        return self._astart(payload, name, timeout, context)

    def map(self, payloads: Iterable[Any], concurrency: int | None = None, ordered: bool = True,
            source: str | None = None, timeout: float | None = None,
            progress: bool | None = None) -> Iterator[Any]:
        """Score every payload; yields each result, or the RequestError of an item that
        failed, in input order (``ordered``) or as they finish.

        Memory stays bounded: at most ``concurrency`` requests are in flight (default:
        the smallest ``max_queue`` of the nodes the source feeds) and ``payloads`` is
        read lazily. ``timeout`` is each request's deadline; ``progress`` shows a
        progress bar on stderr (default: when stderr is a terminal or in a notebook).
        """
        from .mapping import map_requests

        name = self._source(source)
        return map_requests(self, payloads, name, concurrency, ordered, timeout, progress)

    def _default_concurrency(self, source: str) -> int:
        nodes = self._plan.nodes
        firsts = [nodes[d].queue_size for d, _w, _ in nodes[source].succ if nodes[d].is_worker]
        return max(1, min(firsts, default=_DEFAULT_CONCURRENCY))

    def load(self, rate: float, duration: float, payload: Any = None, arrival: str = "poisson",
             concurrency: int | None = None, progress: bool | None = None,
             source: str | None = None, seed: int | None = None) -> Any:
        """Drive the graph at ``rate`` requests/s for ``duration`` s; returns a LoadReport.

        ``payload`` is a value or a callable ``payload(i)``; ``arrival`` is "poisson"
        or "fixed"; ``concurrency`` caps requests in flight (None: no cap).
        """
        from .loadgen import drive

        return drive(self, rate, duration, payload, arrival, concurrency, progress, source, seed)

    # -- lifecycle ----------------------------------------------------------------------
    def stop(self, timeout: float = 10.0) -> None:
        """Refuse new requests, let in-flight ones finish for up to ``timeout`` s (HTTP
        servers first), then fail what is left with cause "stopped" and end every
        replica. No impl call starts after it returns."""
        if self._stopped:
            return
        deadline = time.monotonic() + timeout
        if self.autoscaler is not None:  # no scaling while the graph drains
            self.autoscaler.stop()
        for rollout in list(self.rollouts.values()):  # weights stay as they are
            rollout.close()
        for server in self._http_servers:  # drain HTTP first: its in-flight requests finish
            server.stop(timeout)
        self._http_servers.clear()
        self._stopped = True
        while self._in_flight() and time.monotonic() < deadline:
            time.sleep(0.002)
        try:
            self._shutdown(deadline)
            if self.tracing is not None:
                self.tracing.close()
        finally:
            if self._quality is not None:
                self._quality.close()
            if self._metrics_server is not None:
                self._metrics_server.shutdown()
                self._metrics_server.server_close()
                self._metrics_server = None

    def __enter__(self) -> DeploymentBase:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<{type(self).__name__} {self.name!r} {state}, {len(self._plan.nodes)} nodes>"
