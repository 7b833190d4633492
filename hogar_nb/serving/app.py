"""Build the ASGI application that serves one running deployment."""

from __future__ import annotations

import asyncio
import inspect
from typing import TYPE_CHECKING, Any, Awaitable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.routes import normalize_route, source_routes
from ..errors import HogarError
from ..runtime.errors import DeploymentStoppedError, RequestError
from .dataplane import DataPlane, gzip_middleware
from .http_metrics import CountingMiddleware, HTTPCounters, make_registry, metrics_endpoint
from .options import ServeOptions
from .payload_types import PayloadTypes
from .responses import HTTPError, JSONResponse, error_response, http_error, new_request_id, request_error
from .trace_context import TraceContextMiddleware

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol

__all__ = ["RESERVED_PREFIXES", "ServingState", "create_app", "route_table"]

RESERVED_PREFIXES = ("/v2", "/metrics", "/hogar/v1")


class ServingState:
    """What the endpoints share: the deployment, the options, the routes and counters,
    and the requests waiting on the graph (which a drain that runs out of time cuts)."""

    def __init__(self, dep: DeploymentProtocol, options: ServeOptions) -> None:
        self.dep = dep
        self.options = options
        self.routes = route_table(dep)
        self.payload_types = PayloadTypes(dep.earg)
        self.counters = HTTPCounters()
        self.closing = False  # set when the server drains: event streams end
        self.waiting: set[asyncio.Task] = set()  # handlers waiting on the graph (cut_waiting ends them)
        self._cut: str | None = None  # why waiting requests were cut, once they were

    async def wait_for_graph(self, awaitable: Awaitable[Any]) -> Any:
        """``await awaitable`` (a call into the graph), unless :meth:`cut_waiting`
        cuts it first: then DeploymentStoppedError, answered as a 503 like any other."""
        if self._cut is not None and inspect.iscoroutine(awaitable):
            awaitable.close()
        task = self.entering()
        try:
            return await awaitable
        except asyncio.CancelledError:
            self.cancelled(task)
            raise
        finally:
            self.waiting.discard(task)

    def entering(self) -> asyncio.Task:
        """The current task starts waiting on the graph (DeploymentStoppedError once
        the drain has cut the waiting); ``waiting.discard(task)`` when it is done.
        :meth:`wait_for_graph` in pieces, for a handler that awaits the graph itself."""
        if self._cut is not None:
            raise DeploymentStoppedError(self._cut)
        task = asyncio.current_task()
        assert task is not None  # a request handler runs in a task
        self.waiting.add(task)
        return task

    def cancelled(self, task: asyncio.Task) -> None:
        """``task`` was cancelled while waiting on the graph: DeploymentStoppedError
        when the drain cut it; otherwise it returns and the caller re-raises."""
        if self._cut is not None:
            task.uncancel()
            raise DeploymentStoppedError(self._cut) from None

    def cut_waiting(self, drain_timeout: float) -> int:
        """The drain ran out of time: every request still waiting on the graph is
        answered 503 ``stopped`` (call on the server's event loop). Returns how many."""
        self._cut = (f"the server stopped before the request finished: its drain timeout of "
                     f"{drain_timeout:g} s passed (hogar serve --drain-timeout)")
        waiting = list(self.waiting)
        for task in waiting:
            task.cancel()
        return len(waiting)

    def route_list(self) -> list[dict[str, str]]:
        """Every path this server answers, for ``GET /`` and 404 bodies."""
        rows = [{"method": "POST", "path": path, "source": src} for path, src in self.routes.items()]
        name = self.dep.name
        rows += [{"method": m, "path": p} for m, p in (
            ("GET", "/"), ("GET", "/metrics"), ("GET", "/v2"), ("GET", "/v2/health/live"),
            ("GET", "/v2/health/ready"), ("GET", f"/v2/models/{name}"), ("GET", f"/v2/models/{name}/ready"),
            ("POST", f"/v2/models/{name}/infer"), ("POST", "/v2/repository/index"), ("GET", "/hogar/v1/graph"),
            ("GET", "/hogar/v1/status"), ("GET", "/hogar/v1/events"), ("GET", "/hogar/v1/traces"),
            ("GET", "/hogar/v1/traces/{trace_id}"), ("GET", "/hogar/v1/quality"), ("GET", "/hogar/v1/shadow"),
            ("GET", "/hogar/v1/placement"), ("POST", "/hogar/v1/feedback"))]
        rows += [{"method": m, "path": f"/v2/models/{name}.{node}{tail}"} for node in self.dep.replica_nodes()
                 for m, tail in (("GET", ""), ("GET", "/ready"), ("POST", "/infer"))]
        if self.options.admin_token:
            rows += [{"method": "POST", "path": "/hogar/v1/admin/scale"},
                     {"method": "POST", "path": "/hogar/v1/admin/reconfigure"},
                     {"method": "POST", "path": "/hogar/v1/admin/rollout"},
                     {"method": "POST", "path": "/hogar/v1/reference/{node}"}]
            if self.options.allow_fault_injection:
                rows += [{"method": "POST", "path": "/hogar/v1/admin/faults"},
                         {"method": "POST", "path": "/hogar/v1/admin/clear-faults"}]
        return rows


def route_table(dep: DeploymentProtocol) -> dict[str, str]:
    """``{path: source}`` for the sources of ``dep`` (routes as :mod:`hogar_nb.core.routes`
    writes them); a reserved or shared route is a HogarError."""
    declared = source_routes(dep.earg or {})
    routes: dict[str, str] = {}
    for source in dep.sources:
        path = declared.get(source) or normalize_route(source)
        if any(path == p or path.startswith(p + "/") for p in RESERVED_PREFIXES):
            raise HogarError(f"source {source!r}: route {path!r} is reserved by the HTTP front "
                             f"({', '.join(RESERVED_PREFIXES)}); choose another route")
        if path in routes:
            raise HogarError(f"sources {routes[path]!r} and {source!r} share the route {path!r}")
        routes[path] = source
    return routes


def _index(state: ServingState) -> Any:
    async def index(request: Request) -> Response:
        return JSONResponse({"name": state.dep.name, "routes": state.route_list()})

    return index


def _exception_handlers(state: ServingState) -> dict[Any, Any]:
    async def http_exception(request: Request, exc: Exception) -> Response:
        rid = request.headers.get("x-request-id") or new_request_id()
        assert isinstance(exc, HTTPException)
        v2 = request.url.path.startswith("/v2")
        if exc.status_code == 404:
            message = f"no route {request.method} {request.url.path}; this server answers " + ", ".join(
                f"{r['method']} {r['path']}" for r in state.route_list())
            return error_response(404, "not_found", message, rid, extra={"routes": state.route_list()}, v2=v2)
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            return error_response(405, "method_not_allowed", message, rid, headers=exc.headers, v2=v2)
        return error_response(exc.status_code, "bad_request", str(exc.detail), rid, v2=v2)

    async def unexpected(request: Request, exc: Exception) -> Response:
        rid = request.headers.get("x-request-id") or new_request_id()
        if isinstance(exc, HTTPError):
            return http_error(exc, rid, v2=request.url.path.startswith("/v2"))
        if isinstance(exc, RequestError):
            return request_error(exc, rid)
        return error_response(500, "error", f"{type(exc).__name__}: {exc}", rid)

    return {HTTPException: http_exception, HTTPError: unexpected, Exception: unexpected}


def create_app(dep: DeploymentProtocol, options: ServeOptions | None = None, **settings: Any) -> Any:
    """The ASGI app serving ``dep`` (any DeploymentProtocol object); its ``state`` is
    the :class:`ServingState`. ``settings`` are :class:`ServeOptions` fields."""
    from . import admin, oip, placement, quality, shadow, status, traces

    options = options or ServeOptions(**settings)
    state = ServingState(dep, options)
    routes: list[Any] = [Route("/", _index(state), methods=["GET"])]
    plane = DataPlane(state)
    # POST on a source's route never reaches Starlette (the data plane answers it first);
    # the routes are here for 405 on other methods
    routes += [Route(path, plane.endpoint(path, src), methods=["POST"]) for path, src in state.routes.items()]
    routes.append(Route("/metrics", metrics_endpoint(make_registry(dep, state.counters)), methods=["GET"]))
    routes += oip.routes(state)
    routes += status.routes(state)
    routes += traces.routes(state)
    routes += admin.routes(state)
    routes += quality.routes(state)
    routes += shadow.routes(state)
    routes += placement.routes(state)
    app = Starlette(routes=routes, exception_handlers=_exception_handlers(state),
                    middleware=[Middleware(CountingMiddleware, counters=state.counters),
                                Middleware(TraceContextMiddleware, dep=dep)])
    plane.fallback = gzip_middleware(app)
    return plane
