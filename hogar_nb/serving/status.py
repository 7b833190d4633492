"""``/hogar/v1``: the graph, its status and its recovery events (JSON or a live SSE stream)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import TYPE_CHECKING, Any, AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from .responses import JSONResponse, dumps, error_response, new_request_id

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol
    from .app import ServingState

__all__ = ["event_json", "events_of", "routes", "status_json"]

_TICK = 0.2  # how often an open stream looks for new events and for the server closing


def _metrics_json(m: Any) -> dict[str, Any]:
    doc = {f.name: getattr(m, f.name) for f in dataclasses.fields(m)}
    doc["histogram"] = [[bound, count] for bound, count in m.histogram]
    return doc


def events_of(dep: DeploymentProtocol) -> list[Any]:
    """The deployment's recovery and operator events, oldest first."""
    return list(dep.events)


def status_json(dep: DeploymentProtocol) -> dict[str, Any]:
    """The metrics snapshot as JSON: name, time, running, graph totals and each node."""
    snap = dep.metrics()
    return {"name": dep.name, "time": snap.time, "running": dep.running,
            "graph": _metrics_json(snap.graph),
            "nodes": {name: _metrics_json(m) for name, m in snap.nodes.items()}}


def event_json(event: Any) -> dict[str, Any]:
    if dataclasses.is_dataclass(event) and not isinstance(event, type):
        return dataclasses.asdict(event)
    return dict(event)


def _sse(kind: str, data: Any, event_id: int | None = None) -> bytes:
    head = f"event: {kind}\n" + (f"id: {event_id}\n" if event_id is not None else "")
    return head.encode() + b"data: " + dumps(data) + b"\n\n"


async def _stream(state: ServingState, after: int) -> AsyncIterator[bytes]:
    dep, interval = state.dep, state.options.status_interval
    seen = after
    loop = asyncio.get_running_loop()
    next_status = loop.time()
    yield b"retry: 2000\n\n"
    while not state.closing:
        events = events_of(dep)
        if len(events) < seen:  # the backend keeps a bounded list that rotated
            seen = 0
        for i in range(seen, len(events)):
            yield _sse("recovery", event_json(events[i]), i + 1)
        seen = len(events)
        now = loop.time()
        if now >= next_status:
            yield _sse("status", status_json(dep))
            next_status = now + interval
        if not dep.running:
            return
        await asyncio.sleep(min(_TICK, max(next_status - loop.time(), 0.0)))


def routes(state: ServingState) -> list[Route]:
    dep = state.dep

    async def graph(request: Request) -> Response:
        earg = dep.earg
        if earg is None:
            rid = request.headers.get("x-request-id") or new_request_id()
            return error_response(404, "not_found", f"deployment {dep.name!r} was not started from "
                                  "an EARG document", rid)
        return JSONResponse(earg)

    async def status(request: Request) -> Response:
        return JSONResponse(status_json(dep))

    async def events(request: Request) -> Response:
        if "text/event-stream" in request.headers.get("accept", ""):
            try:
                after = max(int(request.headers.get("last-event-id", "0")), 0)
            except ValueError:
                after = 0
            return StreamingResponse(_stream(state, after), media_type="text/event-stream",
                                     headers={"cache-control": "no-cache", "x-accel-buffering": "no"})
        return JSONResponse([event_json(e) for e in events_of(dep)])

    return [
        Route("/hogar/v1/graph", graph, methods=["GET"]),
        Route("/hogar/v1/status", status, methods=["GET"]),
        Route("/hogar/v1/events", events, methods=["GET"]),
    ]
