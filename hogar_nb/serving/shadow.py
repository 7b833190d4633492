"""``GET /hogar/v1/shadow``: each mirror edge's candidate beside what it shadows.

A graph with mirror edges gets a :class:`~hogar_nb.steer.ShadowMonitor` when its app
is made; the endpoint answers ``{"shadows": {candidate: report}}`` (empty for a graph
without mirrors): copies, answers, errors, agreement, mean absolute difference and
both sides' latencies, as :class:`~hogar_nb.steer.ShadowReport` has them.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..steer import ShadowMonitor, mirror_pairs
from .responses import JSONResponse

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["routes"]


def routes(state: ServingState) -> list[Route]:
    dep = state.dep
    monitor: ShadowMonitor | None = ShadowMonitor(dep) if mirror_pairs(dep.earg or {}) else None

    async def shadow(request: Request) -> Response:
        reports: dict[str, Any] = {}
        if monitor is not None:
            reports = {c: dataclasses.asdict(monitor.report(c)) for c in sorted(monitor.pairs)}
        return JSONResponse({"shadows": reports})

    return [Route("/hogar/v1/shadow", shadow, methods=["GET"])]
