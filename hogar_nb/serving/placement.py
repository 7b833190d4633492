"""``GET /hogar/v1/placement``: where each node's replicas were planned and where they run.

On Ray (a deployment with ``placement()``) the answer is ``{"nodes": {node: {"planned":
{worker: n}, "running": {machine: n}}}}`` from the actor table; the embedded engine runs
every replica in its own process, so its ``running`` names this machine (``local``)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .responses import JSONResponse

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["routes"]


def _local(dep: Any) -> dict[str, Any]:
    planned = (dep.earg or {}).get("placement") or {}
    snapshot = dep.metrics()
    out = {}
    for node in dep.replica_nodes():
        workers: dict[str, int] = {}
        for rid, worker in planned.items():
            if rid.rpartition("/")[0] == node:
                workers[worker] = workers.get(worker, 0) + 1
        alive = snapshot.node(node).replicas_alive
        out[node] = {"planned": dict(sorted(workers.items())), "running": {"local": alive} if alive else {}}
    return out


def routes(state: ServingState) -> list[Route]:
    dep = state.dep

    async def placement(request: Request) -> Response:
        where = getattr(dep, "placement", None)
        nodes = await asyncio.to_thread(where if callable(where) else lambda: _local(dep))
        return JSONResponse({"nodes": nodes})

    return [Route("/hogar/v1/placement", placement, methods=["GET"])]
