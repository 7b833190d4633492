"""``/hogar/v1/traces``: the deployment's recent, slowest and failed request traces."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .responses import JSONResponse, error_response, new_request_id

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["routes"]

_MAX_LIMIT = 1000


def routes(state: ServingState) -> list[Route]:
    dep = state.dep

    def rid_of(request: Request) -> str:
        return request.headers.get("x-request-id") or new_request_id()

    async def listing(request: Request) -> Response:
        tracing = getattr(dep, "tracing", None)
        status = request.query_params.get("status") or None
        raw = request.query_params.get("limit", "50")
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= _MAX_LIMIT:
            return error_response(400, "bad_request", f"got {raw[:40]!r} for limit; expected an integer "
                                  f"from 1 to {_MAX_LIMIT}", rid_of(request))
        if status not in (None, "error", "slow"):
            return error_response(400, "bad_request", f"got {status[:40]!r} for status; expected error or "
                                  "slow (or none: the most recent)", rid_of(request))
        if tracing is None:
            return JSONResponse({"tracing": False, "traces": []})
        return JSONResponse({"tracing": True, "sample": tracing.sample, "stats": tracing.stats(),
                             "traces": tracing.store.summaries(status, limit)})

    async def one(request: Request) -> Response:
        tracing = getattr(dep, "tracing", None)
        trace_id = request.path_params["trace_id"]
        try:
            doc = tracing.store.trace_json(trace_id) if tracing is not None else None
        except ValueError as err:
            return error_response(400, "bad_request", str(err), rid_of(request))
        if doc is None:
            why = ("tracing is off (hogar serve --trace-sample RATE, or OTEL_TRACES_SAMPLER)" if tracing is None
                   else "it was not sampled, or the store has moved past it")
            return error_response(404, "not_found", f"no trace {trace_id[:40]!r} here: {why}", rid_of(request))
        return JSONResponse(doc)

    return [
        Route("/hogar/v1/traces", listing, methods=["GET"]),
        Route("/hogar/v1/traces/{trace_id}", one, methods=["GET"]),
    ]
