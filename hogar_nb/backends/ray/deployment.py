"""A graph running as one Ray Serve application, behind the same Deployment protocol as
the embedded engine (:func:`hogar_nb.backends.ray.launch.run` starts it)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Collection, Iterable, Mapping
from concurrent.futures import Future
from typing import Any, Callable

from ...core.error_wire import ErrorWire
from ...runtime.errors import (
    DeploymentStoppedError,
    OverloadError,
    RequestError,
    RequestTimeoutError,
    UnavailableError,
    error_from_wire,
)
from ...runtime.base import DeploymentBase
from ...runtime.metrics import MetricsSnapshot, NodeMetrics, RecoveryEvent, Stats
from ...runtime.walk import RequestContext, Subscription, WalkEvent
from .controls import RayControls
from .events import EventPump

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "RayDeployment"]

DEFAULT_MAX_IN_FLIGHT = 1024
_GRACE = 5.0  # seconds past a request's deadline before the driver stops waiting for the ingress


def _to_error(out: tuple) -> RequestError:
    """The exception of an ingress :func:`~.ingress.error_envelope`."""
    _, body, blob = out
    err = error_from_wire(ErrorWire.from_json(body))
    if blob is not None:
        try:
            import cloudpickle

            err.__cause__ = cloudpickle.loads(blob)
        except Exception:  # the original exception's class is not importable here
            pass
    return err


class _Loop:
    """A private asyncio loop in a daemon thread: submit() turns handle calls into Futures."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="hogar-ray-driver", daemon=True)
        self.thread.start()

    def submit(self, coro: Any) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5.0)


class RayDeployment(RayControls, DeploymentBase):
    """A graph running on Ray Serve. Use :func:`run` (``hogar_nb.run(graph, backend="ray")``)."""

    backend = "ray"

    def __init__(self, name: str, earg: dict, plan: Any, app_name: str, handle: Any,
                 diagnostics: list, local_ray: Any, graph: Any, redeploy: Any,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT, http_url: str | None = None) -> None:
        DeploymentBase.__init__(self, plan, earg)
        self._app = app_name
        self._handle = handle
        self._run = handle.options(method_name="run")
        self.diagnostics = diagnostics
        self._local_ray = local_ray
        self._graph = graph
        self._redeploy = redeploy
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._max_in_flight = max_in_flight
        self._loop = _Loop()
        self._pump = EventPump(self._ingress_call)
        self._events: deque[RecoveryEvent] = deque(maxlen=1000)
        self._overrides: dict[str, dict[str, Any]] = {}
        self._ingress_config: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.http_url = http_url
        self.started_at = time.monotonic()

    # -- requests ---------------------------------------------------------------------
    def _ingress_call(self, method: str, *args: Any) -> Any:
        async def call() -> Any:
            return await self._handle.options(method_name=method).remote(*args)

        return self._loop.submit(call()).result(timeout=30)

    def _subscribe(self, fn: Callable[[Any], Any], maxsize: int, every: bool = True,
                   kinds: Collection[str] | None = None,
                   reduce: Callable[[WalkEvent], Any] | None = None,
                   record: Callable[[Any, list[Any], float, Any], Any] | None = None) -> Subscription:
        # the ingress publishes every request's events: no trails to record
        return self._pump.subscribe(fn, maxsize, kinds, reduce)

    async def _request(self, payload: Any, source: str, timeout: float | None,
                       context: RequestContext) -> Any:
        deadline = None if timeout is None else time.time() + timeout
        response = self._run.remote(payload, source, deadline, context)
        try:
            if timeout is None:
                out = await response
            else:
                out = await asyncio.wait_for(response, timeout + _GRACE)
        except asyncio.TimeoutError:
            response.cancel()
            raise RequestTimeoutError(f"no result within the caller's timeout of {timeout} s") from None
        except RequestError:
            raise
        except Exception as exc:
            if self._stopped:
                raise DeploymentStoppedError(f"deployment {self.name!r} is stopped") from None
            raise UnavailableError(f"the graph's ingress on Ray failed: {exc!r}") from exc
        if out[0] == "ok":
            return out[1]
        raise _to_error(out)

    def _start(self, payload: Any, source: str, timeout: float | None, wait: bool,
               context: RequestContext) -> Future:
        """One request through the ingress, once one of ``max_in_flight`` slots is free
        (waiting up to ``timeout``, forever when None, with ``wait``)."""
        acquired = self._slots.acquire(timeout=timeout) if wait else self._slots.acquire(blocking=False)
        if not acquired:
            fut: Future = Future()
            within = f"; no room within {timeout:g} s" if wait else ""
            fut.set_exception(OverloadError(
                f"graph {self.name!r}: {self._max_in_flight} requests in flight{within}"))
            return fut
        fut = self._loop.submit(self._request(payload, source, timeout, context))
        fut.add_done_callback(lambda _f: self._slots.release())
        return fut

    async def _astart(self, payload: Any, source: str, timeout: float | None,
                      context: RequestContext) -> Any:
        # the handle call is awaited in the caller's own loop: no hop through the driver's
        if not self._slots.acquire(blocking=False):
            raise OverloadError(f"graph {self.name!r}: {self._max_in_flight} requests in flight")
        try:
            return await self._request(payload, source, timeout, context)
        finally:
            self._slots.release()

    def _in_flight(self) -> int:
        return self._max_in_flight - self._slots._value

    # -- metrics ------------------------------------------------------------------------
    def _report(self) -> dict[str, Any]:
        async def fetch() -> dict[str, Any]:
            return await self._handle.options(method_name="stats_report").remote()

        # on the private loop: callers may be inside an event loop (the HTTP front's)
        return self._loop.submit(fetch()).result(30)

    def _alive(self) -> dict[str, int]:
        from ray import serve

        try:
            app = serve.status().applications[self._app]
        except Exception:
            return {}
        from ray.serve.schema import ReplicaState

        return {name: int(d.replica_states.get(ReplicaState.RUNNING, 0)) for name, d in app.deployments.items()}

    def metrics(self) -> MetricsSnapshot:
        """Per-node and graph totals counted by the ingress; replicas alive from Serve's status."""
        report = self._report()
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            alive = self._alive()
        else:  # Serve's status is a blocking call: not on the caller's event loop
            box: list[dict[str, int]] = []
            t = threading.Thread(target=lambda: box.append(self._alive()))
            t.start()
            t.join(30)
            alive = box[0] if box else {}
        started = time.monotonic() - report["uptime"]

        def stats(d: dict[str, Any]) -> Stats:
            s = Stats()
            s.requests, s.done, s.pending = d["requests"], d["done"], d["pending"]
            s.errors, s.hist, s.restarts = d["errors"], d["hist"], d["restarts"]
            s._ring.extend(d["rows"])
            return s

        nodes: dict[str, NodeMetrics] = {}
        replicas_total = alive_total = 0
        rows: dict[str | None, list[tuple]] = {}
        for name, plan in self._plan.nodes.items():
            s = stats(report["nodes"][name])
            rows[name] = [r[:-1] + (alive.get(name, 0) if plan.is_worker else 0,) for r in s.series_rows()]
            if plan.is_worker:
                replicas = plan.replicas
                n_alive = alive.get(name, 0)
                replicas_total += replicas
                alive_total += n_alive
                in_flight = report["in_flight"][name]
                nodes[name] = s.snapshot(name, 0, in_flight, n_alive, replicas, started,
                                         report["states"].get(name, "serving"))
            else:
                nodes[name] = s.snapshot(name, 0, 0, 0, 0, started)
        g = stats(report["graph"])
        rows[None] = g.series_rows()
        graph = g.snapshot("graph", 0, report["live"], alive_total, replicas_total, started)
        events = sorted([*report["events"], *self._events], key=lambda e: e.time)
        return MetricsSnapshot(time.time(), graph, nodes, events, rows, report["clock_offset"])

    def _recorded_events(self) -> list[RecoveryEvent]:
        return self.metrics().events

    def _record(self, event: RecoveryEvent) -> None:
        self._events.append(event)

    def _side_values(self) -> Mapping[str, Iterable[Any]]:
        return self._report()["side_values"]

    # -- lifecycle ----------------------------------------------------------------------
    @property
    def local_ray(self) -> Any:
        """The local Ray (:class:`~.cluster.LocalRay`) this deployment started and stops
        with itself; None when it joined a running cluster, which it leaves alone."""
        return self._local_ray

    def _shutdown(self, deadline: float) -> None:
        """Delete the application (and stop the local Ray this deployment started)."""
        from ray import serve

        try:
            self._pump.close()
        except Exception:  # the ingress is gone already: its last events with it
            pass
        try:
            serve.delete(self._app)
        finally:
            self._loop.close()
            if self._local_ray is not None:
                serve.shutdown()
                self._local_ray.stop()

    def stop(self, timeout: float = 10.0) -> None:
        """Let in-flight requests finish (up to ``timeout`` s), then delete the application
        (and stop the local Ray this deployment started)."""
        super().stop(timeout)
