"""The Deployment protocol: what every backend's running graph offers.

:class:`~hogar_nb.runtime.base.DeploymentBase` implements it once for every backend
(the embedded :class:`~hogar_nb.runtime.deployment.Deployment` and the Ray Serve
backend's ``RayDeployment``); the HTTP front (``hogar_nb.serving``), the notebook
monitor and the console accept any object that satisfies it, and never ask which
backend runs it. Requests end with a result or a
:class:`~hogar_nb.runtime.errors.RequestError` whose ``cause`` is one of
:data:`~hogar_nb.runtime.errors.CAUSES`.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from concurrent.futures import Future
from typing import Any, Awaitable, Callable, ClassVar, Protocol, runtime_checkable

from .metrics import MetricsSnapshot, RecoveryEvent
from .walk import Capture, RequestContext, Subscription, WalkEvent

__all__ = ["DeploymentProtocol"]


@runtime_checkable
class DeploymentProtocol(Protocol):
    """A running serving graph, whatever the backend.

    ``timeout`` arguments are the request's overall deadline in seconds, carried
    through every hop together with the graph's per-node (per-attempt) timeouts:
    it bounds queueing and retries too, and work whose deadline has passed is
    dropped, not computed late; the request then fails with RequestTimeoutError.
    ``None`` means the graph's own timeouts only.

    - ``submit`` waits for room (backpressure) up to ``timeout`` (forever when
      None), then fails the future with OverloadError.
    - ``acall`` never blocks the event loop: a full graph is an immediate
      OverloadError (load shedding; HTTP fronts answer 503 + Retry-After).
    - ``call`` blocks; it waits for room like ``submit``.
    - ``node=`` on ``submit``/``call``/``acall`` runs one node with replicas alone
      (its answer is the result), through the same queues, retries and metrics.
    - ``map`` yields one result (or the item's RequestError) per payload, in
      input order unless ``ordered=False``, with at most ``concurrency``
      requests in flight (default: the smallest queue the source feeds);
      payloads are read lazily; ``progress`` draws a bar (default: when
      interactive).
    - ``add_result_observer(fn)`` calls ``fn(result)`` for each successful
      response and returns the function that removes it.
    - ``enable_tracing`` traces requests (W3C ids decided at the start, spans
      from the walker's events); ``traces``/``trace``/``waterfall`` read them
      (see docs/observability.md).
    - ``events`` are :class:`RecoveryEvent` s: failures and recovery actions,
      and operator changes (action ``scale``/``reconfigure``, cause ``operator``).
    - ``scale``/``reconfigure`` check every value against the language's ranges
      first (ReconfigureError naming node and attribute, UnknownNodeError for an
      unknown node), then change the running node without losing a request.
    - ``inject_fault``/``clear_faults``: crash, hang, slow or fail a node's calls.
    - ``stop(timeout)`` drains what finishes in ``timeout``, fails the rest with
      cause "stopped" and returns; no user code runs after it returns.
    """

    backend: ClassVar[str]

    @property
    def name(self) -> str: ...

    @property
    def sources(self) -> list[str]: ...

    @property
    def running(self) -> bool: ...

    @property
    def earg(self) -> dict | None: ...

    @property
    def events(self) -> list[RecoveryEvent]: ...

    def replica_nodes(self) -> list[str]: ...

    def submit(self, payload: Any, source: str | None = None, timeout: float | None = None,
               context: RequestContext | None = None, *, node: str | None = None) -> Future: ...

    def call(self, payload: Any, timeout: float | None = None, source: str | None = None,
             context: RequestContext | None = None, *, node: str | None = None) -> Any: ...

    async def acall(self, payload: Any, timeout: float | None = None, source: str | None = None,
                    context: RequestContext | None = None, *, node: str | None = None) -> Any: ...

    def astart(self, payload: Any, timeout: float | None = None, source: str | None = None,
               context: RequestContext | None = None, *, node: str | None = None) -> Awaitable[Any]: ...

    def map(self, payloads: Iterable[Any], concurrency: int | None = None, ordered: bool = True,
            source: str | None = None, timeout: float | None = None,
            progress: bool | None = None) -> Iterator[Any]: ...

    def load(self, rate: float, duration: float, payload: Any = None, arrival: str = "poisson",
             concurrency: int | None = None, progress: bool | None = None,
             source: str | None = None, seed: int | None = None) -> Any: ...

    def add_result_observer(self, fn: Callable[[Any], None]) -> Callable[[], None]: ...

    def subscribe(self, fn: Callable[[Any], Any], maxsize: int = 10_000,
                  every: bool = True, kinds: Collection[str] | None = None,
                  reduce: Callable[[WalkEvent], Any] | None = None,
                  record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> Subscription: ...

    def capture_answers(self, nodes: Collection[str], maxsize: int = 100_000) -> Capture | None: ...

    def end_capture(self, capture: Capture) -> None: ...

    def enable_tracing(self, sample: float | None = None, export: bool = True, **options: Any) -> Any: ...

    def traces(self, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]: ...

    def trace(self, trace_id: str, wait: float = 0.0) -> dict[str, Any] | None: ...

    def waterfall(self, trace_id: str, wait: float = 1.0, **options: Any) -> Any: ...

    def metrics(self) -> MetricsSnapshot: ...

    def record_event(self, node: str, cause: str, action: str, detail: str = "") -> None: ...

    def quality_monitor(self, start: bool = True, **options: Any) -> Any: ...

    def stop_quality_monitor(self) -> None: ...

    def quality(self) -> dict[str, Any]: ...

    def feedback(self, request_id: str, label: Any) -> dict[str, int]: ...

    def capture_reference(self, node: str, n: int = 5_000) -> Future: ...

    def side_outputs(self, sink: str) -> list[Any]: ...

    def scale(self, node: str, replicas: int, *, cause: str = "operator", why: str = "") -> None: ...

    def reconfigure(self, node: str, *, cause: str = "operator", why: str = "", **attrs: Any) -> None: ...

    def rollout(self, split: str, action: str = "start", candidate: str | None = None,
                **policy: Any) -> Any: ...

    def inject_fault(self, node: str, kind: str = "crash", rate: float = 1.0, delay_ms: float = 100.0,
                     count: int | None = None, seed: int | None = None) -> None: ...

    def clear_faults(self) -> None: ...

    def monitor(self, **options: Any) -> Any: ...

    def report(self, **options: Any) -> Any: ...

    def serve_http(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> str: ...

    def serve_metrics(self, port: int = 0) -> str: ...

    def stop(self, timeout: float = 10.0) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...
