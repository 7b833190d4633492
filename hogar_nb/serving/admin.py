"""The admin API: change a running graph (scale, reconfigure, faults) behind a bearer token.

Scaling is bounded and applied in the background (:mod:`.scaling`): the answer comes
within half a second, 200 when the change is done, else 202 while it goes on.

Off unless a token is configured (then its paths answer 404 like any unknown path);
the fault-injection paths also need ``allow_fault_injection``.
"""

from __future__ import annotations

import hmac
from typing import TYPE_CHECKING, Any, Awaitable, Callable

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..core.kinds import RECONFIGURABLE
from ..errors import HogarError
from ..runtime.errors import UnknownNodeError
from ..runtime.protocol import DeploymentProtocol
from .body import read_body
from .responses import HTTPError, JSONResponse, error_response, http_error, new_request_id
from .scaling import Scaler

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["routes", "unauthorized"]
FAULT_KINDS = ("crash", "hang", "slow", "error")
_ADMIN_BODY_LIMIT = 64 * 1024
_ANSWER_WITHIN_S = 0.5  # a scale done by then is answered 200, else 202 while it goes on


def _bad(message: str) -> HTTPError:
    return HTTPError(400, "bad_request", message)


def _node_settings(dep: DeploymentProtocol, node: str) -> dict[str, Any]:
    """The node's settings after a change: replicas from the live metrics, the rest from
    the EARG document the backend reports (EARG units: ms)."""
    m = dep.metrics().nodes[node]
    entry: dict[str, Any] = {}
    for raw in (dep.earg or {}).get("nodes") or []:
        if isinstance(raw, dict) and raw.get("name") == node:
            entry = raw
    batch = entry.get("batch") or {}
    return {"node": node, "replicas": m.replicas, "replicas_alive": m.replicas_alive,
            "batch": batch.get("max_size"), "batch_wait_ms": batch.get("max_wait_ms"),
            "timeout_ms": entry.get("timeout_ms"), "retries": entry.get("retries")}


def _node_of(dep: DeploymentProtocol, body: Any) -> str:
    if not isinstance(body, dict):
        raise _bad("the body must be a JSON object")
    node = body.get("node")
    if not isinstance(node, str) or not node:
        raise _bad("the body needs \"node\": the name of a node")
    nodes = dep.metrics().nodes
    if node not in nodes:
        raise HTTPError(404, "not_found", f"no node {node!r}; nodes are {sorted(nodes)}")
    return node


def _change(change: Callable[[], None]) -> None:
    """Run an operator change; its refusals are answers (404 unknown node, 400 bad value)."""
    try:
        change()
    except UnknownNodeError as exc:  # the node has no replicas
        raise HTTPError(404, "not_found", str(exc)) from None
    except (HogarError, ValueError, TypeError) as exc:
        raise _bad(str(exc)) from None


def unauthorized(request: Request, token: str, request_id: str) -> Response | None:
    """The 401 for a request without ``Authorization: Bearer TOKEN``, or None."""
    given = request.headers.get("authorization", "").encode()
    if hmac.compare_digest(given, f"Bearer {token}".encode()):
        return None
    return error_response(401, "unauthorized", "the admin API needs the header `Authorization: Bearer TOKEN`",
                          request_id, headers={"www-authenticate": "Bearer"})


def routes(state: ServingState) -> list[Route]:
    token = state.options.admin_token
    if not token:
        return []
    dep = state.dep

    def guarded(handler: Callable[[Any], dict[str, Any]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            rid = request.headers.get("x-request-id") or new_request_id()
            refusal = unauthorized(request, token, rid)
            if refusal is not None:
                return refusal
            try:
                raw = await read_body(request, _ADMIN_BODY_LIMIT)
                try:
                    body = orjson.loads(raw) if raw.strip() else {}
                except orjson.JSONDecodeError as exc:
                    raise _bad(f"the request body is not valid JSON: {exc}") from None
                # a change may wait a moment for new replicas: keep the event loop free
                answer = await run_in_threadpool(handler, body)
                status = 202 if answer.get("status") == "scaling" else 200
                return JSONResponse(answer, status_code=status, headers={"x-request-id": rid})
            except HTTPError as err:
                return http_error(err, rid)

        return endpoint

    scaler = Scaler(state, lambda node, replicas: _change(lambda: dep.scale(node, replicas)))

    def start_scaling(node: str, replicas: Any) -> dict[str, Any]:
        """Check ``replicas`` and its bound, start the change; the node's settings, done
        (200) or still under way (202, ``status: scaling`` and the ``target``)."""
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
            raise _bad(f"got {replicas!r} for replicas of node {node!r}; expected an integer >= 1")
        if dep.metrics().nodes[node].replicas < 1:
            raise HTTPError(404, "not_found", f"{node!r} is not a node with replicas")
        refusal = scaler.limit_refusal(node, replicas)
        if refusal is not None:
            raise _bad(refusal)
        operation = scaler.request(node, replicas)
        if scaler.wait(operation, _ANSWER_WITHIN_S):
            return _node_settings(dep, node)
        return {**_node_settings(dep, node), "status": "scaling", "target": operation.target}

    def scale(body: Any) -> dict[str, Any]:
        node = _node_of(dep, body)
        return start_scaling(node, body.get("replicas"))

    def reconfigure(body: Any) -> dict[str, Any]:
        node = _node_of(dep, body)
        attrs = body.get("attrs")
        if not isinstance(attrs, dict) or not attrs:
            raise _bad(f"the body needs \"attrs\": an object with some of {', '.join(RECONFIGURABLE)}")
        unknown = sorted(set(attrs) - set(RECONFIGURABLE))
        if unknown:
            raise _bad(f"cannot reconfigure {', '.join(unknown)}; expected some of {', '.join(RECONFIGURABLE)}")
        others = {k: v for k, v in attrs.items() if k != "replicas"}
        if others:
            _change(lambda: dep.reconfigure(node, **others))
        if "replicas" in attrs:
            return start_scaling(node, attrs["replicas"])
        return _node_settings(dep, node)

    def faults(body: Any) -> dict[str, Any]:
        node = _node_of(dep, body)
        kind = body.get("kind", "crash")
        if kind not in FAULT_KINDS:
            raise _bad(f"got {kind!r} for kind; expected one of {', '.join(FAULT_KINDS)}")
        options: dict[str, Any] = {"kind": kind}
        for key, cast in (("rate", float), ("delay_ms", float), ("count", int), ("seed", int)):
            if body.get(key) is not None:
                value = body[key]
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    raise _bad(f"got {value!r} for {key}; expected a number")
                options[key] = cast(value)
        if not 0.0 <= options.get("rate", 1.0) <= 1.0:
            raise _bad(f"got {options['rate']} for rate; expected a probability between 0 and 1")
        _change(lambda: dep.inject_fault(node, **options))
        return {"node": node, "fault": options}

    def clear_faults(body: Any) -> dict[str, Any]:
        _change(dep.clear_faults)
        return {"cleared": True}

    found = [Route("/hogar/v1/admin/scale", guarded(scale), methods=["POST"]),
             Route("/hogar/v1/admin/reconfigure", guarded(reconfigure), methods=["POST"])]
    if state.options.allow_fault_injection:
        found += [Route("/hogar/v1/admin/faults", guarded(faults), methods=["POST"]),
                  Route("/hogar/v1/admin/clear-faults", guarded(clear_faults), methods=["POST"])]
    return found
