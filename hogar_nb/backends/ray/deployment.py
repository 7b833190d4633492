"""A graph running as one Ray Serve application, behind the same Deployment protocol as
the embedded engine (:func:`hogar_nb.backends.ray.launch.run` starts it)."""

from __future__ import annotations

import asyncio
import copy
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future
from typing import Any

from ...runtime.errors import (
    BadRequestError,
    DeploymentStoppedError,
    InvalidInputError,
    NodeError,
    OverloadError,
    ReplicaCrashError,
    RequestError,
    RequestTimeoutError,
    RouteError,
    UnavailableError,
)
from ...runtime.metrics import MetricsSnapshot, NodeMetrics, RecoveryEvent, Stats
from .controls import RayControls

__all__ = ["DEFAULT_MAX_IN_FLIGHT", "RayDeployment"]

_ERRORS = {cls.cause: cls for cls in (
    OverloadError, RequestTimeoutError, UnavailableError, BadRequestError, InvalidInputError,
    NodeError, ReplicaCrashError, RouteError, DeploymentStoppedError)}
DEFAULT_MAX_IN_FLIGHT = 1024
_GRACE = 5.0  # seconds past a request's deadline before the driver stops waiting for the ingress


def _to_error(out: tuple) -> RequestError:
    _, cause, message, node, blob = out
    err = _ERRORS.get(cause, RequestError)(message, node)
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


class RayDeployment(RayControls):
    """A graph running on Ray Serve. Use :func:`run` (``hogar_nb.run(graph, backend="ray")``)."""

    def __init__(self, name: str, earg: dict, plan: Any, app_name: str, handle: Any,
                 diagnostics: list, local_ray: Any, graph: Any, redeploy: Any,
                 max_in_flight: int = DEFAULT_MAX_IN_FLIGHT, http_url: str | None = None) -> None:
        self._name = name
        self._earg = earg
        self._plan = plan
        self._app = app_name
        self._handle = handle
        self._run = handle.options(method_name="run")
        self.diagnostics = diagnostics
        self._local_ray = local_ray
        self._graph = graph
        self._redeploy = redeploy
        self._stopped = False
        self._slots = threading.BoundedSemaphore(max_in_flight)
        self._max_in_flight = max_in_flight
        self._loop = _Loop()
        self._events: deque[RecoveryEvent] = deque(maxlen=1000)
        self._overrides: dict[str, dict[str, Any]] = {}
        self._ingress_config: dict[str, dict[str, Any]] = {}
        self._http_servers: list[Any] = []
        self._lock = threading.Lock()
        self.http_url = http_url
        self.started_at = time.monotonic()

    # -- protocol properties ----------------------------------------------------------
    @property
    def name(self) -> str:
        return self._name

    @property
    def sources(self) -> list[str]:
        return list(self._plan.sources)

    @property
    def running(self) -> bool:
        return not self._stopped

    @property
    def earg(self) -> dict | None:
        return copy.deepcopy(self._earg)

    @property
    def backend(self) -> str:
        return "ray"

    def _source(self, source: str | None) -> str:
        sources = self._plan.sources
        if source is None:
            if len(sources) == 1:
                return sources[0]
            raise ValueError(f"graph {self.name!r} has several sources {sources}; pass source=...")
        if source not in sources:
            raise ValueError(f"{source!r} is not a source of graph {self.name!r}; sources are {sources}")
        return source

    # -- requests ---------------------------------------------------------------------
    def _failed(self, exc: Exception) -> RequestError:
        if self._stopped:
            return DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        err = UnavailableError(f"the graph's ingress on Ray failed: {exc!r}")
        err.__cause__ = exc
        return err

    @staticmethod
    def _outcome(out: tuple) -> Any:
        if out[0] == "ok":
            return out[1]
        raise _to_error(out)

    async def _request(self, payload: Any, source: str, timeout: float | None) -> Any:
        """One request from whichever event loop awaits it (Serve's router has its own)."""
        deadline = None if timeout is None else time.time() + timeout
        response = self._run.remote(payload, source, deadline)
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
            raise self._failed(exc) from None
        return self._outcome(out)

    def _request_sync(self, payload: Any, source: str, timeout: float | None) -> Any:
        """One request from a thread with no event loop, waiting on Serve's own future."""
        deadline = None if timeout is None else time.time() + timeout
        response = self._run.remote(payload, source, deadline)
        try:
            out = response.result(timeout_s=None if timeout is None else timeout + _GRACE)
        except RequestError:
            raise
        except TimeoutError:
            response.cancel()
            raise RequestTimeoutError(f"no result within the caller's timeout of {timeout} s") from None
        except Exception as exc:
            raise self._failed(exc) from None
        return self._outcome(out)

    def submit(self, payload: Any, source: str | None = None, timeout: float | None = None) -> Future:
        """Send a request without waiting for its result; waits up to ``timeout`` for room."""
        name = self._source(source)
        if self._stopped:
            fut: Future = Future()
            fut.set_exception(DeploymentStoppedError(f"deployment {self.name!r} is stopped"))
            return fut
        if not self._slots.acquire(timeout=timeout if timeout is not None else -1):
            fut = Future()
            fut.set_exception(OverloadError(
                f"graph {self.name!r}: {self._max_in_flight} requests in flight; no room within {timeout} s"))
            return fut
        fut = self._loop.submit(self._request(payload, name, timeout))
        fut.add_done_callback(lambda _f: self._slots.release())
        return fut

    def call(self, payload: Any, timeout: float | None = None, source: str | None = None) -> Any:
        """Send a request and wait for its result (raises its RequestError)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a plain thread: wait on Serve's future here, no loop between
            name = self._source(source)
            if self._stopped:
                raise DeploymentStoppedError(f"deployment {self.name!r} is stopped") from None
            if not self._slots.acquire(timeout=timeout):
                raise OverloadError(f"graph {self.name!r}: {self._max_in_flight} requests in flight; "
                                    f"no room within {timeout} s") from None
            try:
                return self._request_sync(payload, name, timeout)
            finally:
                self._slots.release()
        return self.submit(payload, source, timeout).result()

    async def acall(self, payload: Any, timeout: float | None = None, source: str | None = None) -> Any:
        """``await`` a request; refuses at once (OverloadError) when the graph is full."""
        name = self._source(source)
        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        if not self._slots.acquire(blocking=False):
            raise OverloadError(f"graph {self.name!r}: {self._max_in_flight} requests in flight")
        try:  # on the caller's loop: no hop to the private loop and back
            return await self._request(payload, name, timeout)
        finally:
            self._slots.release()

    def map(self, payloads: Iterable[Any], concurrency: int | None = None, ordered: bool = True,
            source: str | None = None) -> Iterator[Any]:
        """Results (or RequestErrors) of ``payloads``, at most ``concurrency`` in flight."""
        limit = concurrency or 64
        window: deque[Future] = deque()
        it = iter(payloads)

        def result(f: Future) -> Any:
            exc = f.exception()
            return exc if exc is not None else f.result()

        for payload in it:
            window.append(self.submit(payload, source))
            if len(window) >= limit:
                if ordered:
                    yield result(window.popleft())
                else:
                    done = next((f for f in window if f.done()), None) or window[0]
                    done.exception()
                    window.remove(done)
                    yield result(done)
        while window:
            yield result(window.popleft())

    def load(self, rate: float, duration: float, payload: Any = None, arrival: str = "poisson",
             concurrency: int | None = None, progress: bool | None = None,
             source: str | None = None, seed: int | None = None) -> Any:
        """Drive the graph at ``rate`` requests/s for ``duration`` s; returns a LoadReport."""
        from ...runtime.load import drive

        return drive(self, rate, duration, payload, arrival, concurrency, progress, source, seed)

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
        return {name: int(d.replica_states.get("RUNNING", 0)) for name, d in app.deployments.items()}

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
                replicas = int(self._overrides.get(name, {}).get("num_replicas", plan.replicas))
                n_alive = alive.get(name, 0)
                replicas_total += replicas
                alive_total += n_alive
                in_flight = report["in_flight"][name]
                nodes[name] = s.snapshot(name, 0, in_flight, n_alive, replicas, started)
            else:
                nodes[name] = s.snapshot(name, 0, 0, 0, 0, started)
        g = stats(report["graph"])
        rows[None] = g.series_rows()
        graph = g.snapshot("graph", 0, report["live"], alive_total, replicas_total, started)
        events = sorted([*report["events"], *self._events], key=lambda e: e.time)
        return MetricsSnapshot(time.time(), graph, nodes, events, rows, report["clock_offset"])

    @property
    def events(self) -> list[RecoveryEvent]:
        return self.metrics().events

    def side_outputs(self, sink: str) -> list[Any]:
        """The last few values that reached a side-output sink."""
        values = self._report()["side_values"]
        if sink not in values:
            raise KeyError(f"{sink!r} is not a side-output sink; they are {sorted(values)}")
        return values[sink]

    def monitor(self, **options: Any) -> Any:
        """The same live dashboard as the embedded engine's, for this Ray deployment."""
        from ..._frontends import frontend

        return frontend("monitor")(self, **options)

    def report(self, **options: Any) -> Any:
        from ..._frontends import frontend

        return frontend("report")(self, **options)

    def serve_http(self, host: str = "127.0.0.1", port: int = 0, **options: Any) -> str:
        """hogar_nb's HTTP front (JSON routes, Open Inference Protocol v2, ``/metrics``,
        ``/hogar/v1/*``) over this deployment, on a background thread; returns its URL.
        Serve's own proxy is ``run(..., http_port=...)``."""
        from ..._frontends import frontend

        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        server = frontend("serve_http")(self, host, port, **options)
        self._http_servers.append(server)
        return server.url

    def stop(self, timeout: float = 10.0) -> None:
        """Let in-flight requests finish (up to ``timeout`` s), then delete the application
        (and stop the local Ray this deployment started)."""
        if self._stopped:
            return
        deadline = time.monotonic() + timeout
        for server in self._http_servers:  # drain HTTP first: its in-flight requests finish
            server.stop(timeout)
        self._http_servers.clear()
        self._stopped = True
        while self._slots._value < self._max_in_flight and time.monotonic() < deadline:  # type: ignore[attr-defined]
            time.sleep(0.01)
        from ray import serve

        try:
            serve.delete(self._app)
        finally:
            self._loop.close()
            if self._local_ray is not None:
                serve.shutdown()
                self._local_ray.stop()

    def __enter__(self) -> RayDeployment:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running"
        return f"<RayDeployment {self.name!r} {state}, {len(self._plan.nodes)} nodes>"

