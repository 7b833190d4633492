"""``run(graph, backend="ray")``: a graph as one Ray Serve application, behind the same
Deployment protocol as the embedded engine."""

from __future__ import annotations

import asyncio
import copy
import json
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from ...runtime.errors import (
    BadRequestError,
    DeploymentConfigError,
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

__all__ = ["RayDeployment", "run"]

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


class RayDeployment:
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
    async def _request(self, payload: Any, source: str, timeout: float | None) -> Any:
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
            if self._stopped:
                raise DeploymentStoppedError(f"deployment {self.name!r} is stopped") from None
            raise UnavailableError(f"the graph's ingress on Ray failed: {exc!r}") from exc
        if out[0] == "ok":
            return out[1]
        raise _to_error(out)

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
        return self.submit(payload, source, timeout).result()

    async def acall(self, payload: Any, timeout: float | None = None, source: str | None = None) -> Any:
        """``await`` a request; refuses at once (OverloadError) when the graph is full."""
        name = self._source(source)
        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self.name!r} is stopped")
        if not self._slots.acquire(blocking=False):
            raise OverloadError(f"graph {self.name!r}: {self._max_in_flight} requests in flight")
        try:
            return await asyncio.wrap_future(self._loop.submit(self._request(payload, name, timeout)))
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

    # -- changes ------------------------------------------------------------------------
    def _apply(self, node: str, **changes: Any) -> None:
        with self._lock:
            entry = self._overrides.setdefault(node, {})
            user = dict(entry.get("user_config") or self._base_user_config(node))
            for key, value in changes.items():
                if key in ("batch_size", "batch_wait_s", "fault"):
                    user[key] = value
                else:
                    entry[key] = value
            entry["user_config"] = user
            self._redeploy(self._overrides, self._ingress_config)

    def _base_user_config(self, node: str) -> dict[str, Any]:
        from ...export.ray_serve import deployment_options

        raw = next(n for n in self._earg["nodes"] if n["name"] == node)
        return dict(deployment_options(raw)["user_config"])

    def _worker(self, node: str) -> Any:
        plan = self._plan.nodes.get(node)
        if plan is None or not plan.is_worker:
            workers = sorted(n for n, p in self._plan.nodes.items() if p.is_worker)
            raise KeyError(f"{node!r} is not a node with replicas; they are {workers}")
        return plan

    def _checked(self, node: str, attr: str, value: Any) -> Any:
        """``value`` checked against the graph language's ranges; the resolved node entry."""
        from ...core.earg import load_earg

        self._worker(node)
        graph = self._graph if self._graph is not None else load_earg(json.dumps(self._earg))
        trial = graph.copy()
        trial.set_attr(node, attr, value)
        return trial.resolved(node)

    def scale(self, node: str, replicas: int) -> None:
        """Set a node's replica count (Serve adds or drains replicas; no request is lost)."""
        self.reconfigure(node, replicas=replicas)

    def reconfigure(self, node: str, **attrs: Any) -> None:
        """Change ``replicas``, ``batch``, ``batch_wait``, ``timeout`` or ``retries`` of a node."""
        allowed = ("replicas", "batch", "batch_wait", "timeout", "retries")
        changes: dict[str, Any] = {}
        plan = self._worker(node)
        for attr, value in attrs.items():
            if attr not in allowed:
                raise ValueError(f"node {node!r}: cannot reconfigure {attr!r}; expected one of {allowed}")
            if attr in ("batch_wait", "timeout") and isinstance(value, (int, float)):
                value = f"{value}ms"
            resolved = self._checked(node, attr, value)
            if attr == "replicas":
                changes["num_replicas"] = resolved.replicas
            elif attr == "batch":
                changes["batch_size"] = resolved.batch_size
            elif attr == "batch_wait":
                changes["batch_wait_s"] = resolved.batch_wait_ms / 1000.0
            elif attr == "timeout":
                plan.timeout = resolved.timeout_ms / 1000.0
                self._ingress_config.setdefault(node, {})["timeout"] = plan.timeout
            elif attr == "retries":
                plan.retries = resolved.retries
                self._ingress_config.setdefault(node, {})["retries"] = plan.retries
        self._apply(node, **changes)
        self._events.append(RecoveryEvent(time.time(), node, -1, "reconfigure", "reconfigure", 0.0))

    # -- faults -------------------------------------------------------------------------
    def replica_actors(self, node: str) -> list[str]:
        """Names of the node's live replica actors (in Ray's "serve" namespace)."""
        import ray

        self._worker(node)
        prefix = f"SERVE_REPLICA::{self._app}#{node}#"
        return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                      if a["name"].startswith(prefix))

    def kill_replica(self, node: str, index: int | None = None) -> str:
        """Kill one replica actor of ``node`` (Serve's controller replaces it)."""
        import ray

        actors = self.replica_actors(node)
        if not actors:
            raise RuntimeError(f"node {node!r} has no live replica to kill")
        name = actors[index if index is not None else random.randrange(len(actors))]
        ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)
        self._events.append(RecoveryEvent(time.time(), node, actors.index(name), "crash", "restart", 0.0))
        return name

    def inject_fault(self, node: str, kind: str = "crash", rate: float = 1.0, delay_ms: float = 100.0,
                     count: int | None = None, seed: int | None = None) -> None:
        """``crash`` with ``count``: kill that many replica actors now; otherwise every call at
        ``node`` crashes (its replica exits), hangs, slows by ``delay_ms`` or raises, with
        probability ``rate``."""
        from ...runtime.faults import FAULT_KINDS

        self._worker(node)
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {rate!r}")
        if kind == "crash" and count is not None:
            for _ in range(count):
                self.kill_replica(node)
            return
        self._apply(node, fault={"kind": kind, "rate": rate, "delay_s": delay_ms / 1000.0})

    def clear_faults(self) -> None:
        """Remove every injected fault (and release injected hangs)."""
        for node, entry in list(self._overrides.items()):
            if (entry.get("user_config") or {}).get("fault"):
                self._apply(node, fault=None)

    # -- lifecycle ----------------------------------------------------------------------
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


def run(graph: Any, namespace: Mapping[str, Any] | None = None, *, address: str | None = None,
        ray_namespace: str | None = None, base_dir: str | Path | None = None,
        runtime_env: dict[str, Any] | None = None, http_port: int | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT, app_name: str | None = None,
        ray_init: Mapping[str, Any] | None = None, **_ignored: Any) -> RayDeployment:
    """Deploy ``graph`` (a Graph, an EARG dict or a file) as one Ray Serve application.

    Connects to the Ray cluster at ``address`` (or starts a local Ray) and returns once
    every replica is running. ``namespace`` resolves notebook functions (Ray ships them
    with cloudpickle); ``runtime_env`` ships local code and artifacts to the workers;
    ``http_port`` also opens Serve's HTTP proxy on 127.0.0.1 with the sources' routes.
    """
    import warnings

    from .cluster import connect, local_auth, start_serve

    if address is None:
        local_auth()  # before `.app` imports Ray
    from ...export.ray_serve import ray_capability
    from ...runtime.deployment import _to_document
    from ...runtime.plan import build_plan
    from .app import build_application

    doc, fallback, base = _to_document(graph, Path(base_dir) if base_dir is not None else None)
    doc = dict(doc)
    plan = build_plan(doc, namespace if namespace is not None else fallback, base)
    graph_obj = graph if hasattr(graph, "to_earg") else None
    diagnostics = ray_capability(doc, graph_obj)
    for d in diagnostics:
        warnings.warn(d.message, RuntimeWarning, stacklevel=2)
    local = connect(address, ray_namespace, runtime_env, **dict(ray_init or {}))
    try:
        start_serve(http_port)
        from ray import serve

        name = app_name or plan.name

        version = secrets.token_hex(8)

        def deploy(overrides: dict[str, dict[str, Any]], ingress_config: dict[str, Any]) -> Any:
            app = build_application(doc, plan, None, overrides, ingress_config, version)
            return serve.run(app, name=name, route_prefix="/" if http_port else None)

        try:
            handle = deploy({}, {})
        except Exception as exc:
            try:
                serve.delete(name)
            except Exception:
                pass
            raise DeploymentConfigError(f"the graph could not start on Ray: {exc}") from None
    except BaseException:
        if local is not None:
            local.stop()
        raise
    url = f"http://127.0.0.1:{http_port}" if http_port else None
    return RayDeployment(plan.name, doc, plan, name, handle, diagnostics, local, graph_obj, deploy,
                         max_in_flight, url)
