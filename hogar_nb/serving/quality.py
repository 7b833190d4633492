"""``/hogar/v1/quality``, ``/hogar/v1/feedback`` and ``/hogar/v1/reference/{node}``.

``GET /hogar/v1/quality``: drift, quality and label counts per model node and per
split variant (:meth:`Deployment.quality`). ``POST /hogar/v1/feedback``: one
``{"request_id", "label"}`` or a list of them, answered 202 with the count of each
outcome. ``POST /hogar/v1/reference/{node}`` (admin): ``{"n": 5000}`` starts taking
the node's next inputs as its reference, answered 202.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..errors import HogarError
from ..quality.errors import UnknownModelNodeError
from .admin import unauthorized
from .body import read_json
from .responses import HTTPError, JSONResponse, http_error, new_request_id

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["labels_of", "routes"]

MAX_LABELS = 100_000  # labels in one body


def labels_of(body: Any) -> list[tuple[str, Any]]:
    """``(request_id, label)`` pairs from a feedback body, or 400 saying what is wrong."""
    items = body if isinstance(body, list) else [body]
    if not items:
        raise HTTPError(400, "bad_request", "the body is an empty list; send {\"request_id\", \"label\"} "
                        "or a list of them")
    if len(items) > MAX_LABELS:
        raise HTTPError(400, "bad_request", f"got {len(items)} labels in one body; send at most {MAX_LABELS}")
    out = []
    for i, item in enumerate(items):
        where = f"item {i}" if isinstance(body, list) else "the body"
        if not isinstance(item, dict) or set(item) != {"request_id", "label"}:
            raise HTTPError(400, "bad_request", f"{where} must be an object with exactly \"request_id\" and "
                            f"\"label\"; got {str(item)[:80]}")
        rid = item["request_id"]
        if not isinstance(rid, str) or not rid or len(rid) > 200:
            raise HTTPError(400, "bad_request", f"{where}: request_id must be a non-empty string (at most 200 "
                            f"characters); got {str(rid)[:80]!r}")
        if item["label"] is None or isinstance(item["label"], dict):
            raise HTTPError(400, "bad_request", f"{where}: label must be a class, a number or a list of them; "
                            f"got {str(item['label'])[:80]}")
        out.append((rid, item["label"]))
    return out


def routes(state: ServingState) -> list[Route]:
    dep = state.dep

    def answer(request: Request, fn: Any, status: int = 200) -> Any:
        async def run() -> Response:
            rid = request.headers.get("x-request-id") or new_request_id()
            try:
                return JSONResponse(await fn(), status_code=status, headers={"x-request-id": rid})
            except HTTPError as err:
                return http_error(err, rid)
            except UnknownModelNodeError as exc:
                return http_error(HTTPError(404, "not_found", str(exc)), rid)
            except HogarError as exc:  # no feedback kept, a bad n, a reference that cannot load
                return http_error(HTTPError(400, "bad_request", str(exc)), rid)

        return run()

    async def quality(request: Request) -> Response:
        async def fn() -> Any:
            return await run_in_threadpool(dep.quality)

        return await answer(request, fn)

    async def feedback(request: Request) -> Response:
        async def fn() -> Any:
            labels = labels_of(await read_json(request, state.options.max_body))
            counts = await run_in_threadpool(dep.quality_monitor().feedback, labels)
            return {"accepted": len(labels), **counts}

        return await answer(request, fn, 202)

    async def reference(request: Request) -> Response:
        rid = request.headers.get("x-request-id") or new_request_id()
        token = state.options.admin_token
        assert token is not None
        refusal = unauthorized(request, token, rid)
        if refusal is not None:
            return refusal
        node = request.path_params["node"]

        async def fn() -> Any:
            raw = await request.body()
            body = await read_json(request, 64 * 1024) if raw.strip() else {}
            n = body.get("n", 5_000) if isinstance(body, dict) else None
            if not isinstance(n, int) or isinstance(n, bool):
                raise HTTPError(400, "bad_request", f"got {str(n)[:40]} for n; expected an integer between 10 "
                                "and 1000000 (the rows to capture)")
            await run_in_threadpool(dep.capture_reference, node, n)
            return {"node": node, "capturing": n, "status": "capturing"}

        return await answer(request, fn, 202)

    found = [Route("/hogar/v1/quality", quality, methods=["GET"]),
             Route("/hogar/v1/feedback", feedback, methods=["POST"])]
    if state.options.admin_token:
        found.append(Route("/hogar/v1/reference/{node}", reference, methods=["POST"]))
    return found
