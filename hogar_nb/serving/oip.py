"""The Open Inference Protocol v2 (KServe, Triton, MLServer), the graph being the model.

One input of shape ``[n, ...]`` (1 <= n <= ``max_rows``, two or more dimensions) is n
rows, each sent through the graph as its own request (so node batching can group them)
and answered as one ``[n, ...]`` output; a one-dimensional or scalar input is one request; several
inputs make one request whose payload is a dict by input name.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._version import __version__
from ..runtime.walk import RequestContext
from .binary_tensors import HEADER_LENGTH, decode_inputs, encode_outputs, split_body, wants_binary
from .body import loads_json, read_body
from .responses import HTTPError, JSONResponse, error_response, http_error, new_request_id, request_error
from .tensors import describe, tensor_head, tensor_value
from .trace_context import row_contexts, traced_request

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol
    from .app import ServingState

__all__ = ["ready", "routes"]


def ready(dep: DeploymentProtocol) -> bool:
    """Running, and every node with replicas has a live one."""
    if not dep.running:
        return False
    try:
        nodes = dep.metrics().nodes.values()
    except Exception:
        return False
    return all(m.replicas_alive >= 1 for m in nodes if m.replicas > 0)


def _v2_error(status: int, message: str, rid: str) -> Response:
    return error_response(status, "bad_request" if status == 400 else "not_found", message, rid, v2=True)


def routes(state: ServingState) -> list[Route]:
    dep = state.dep
    name = dep.name

    version = str((dep.earg or {}).get("version") or "1")

    def check_model(request: Request) -> Response | None:
        asked = request.path_params["model"]
        if asked != name:
            rid = request.headers.get("x-request-id") or new_request_id()
            return _v2_error(404, f"model {asked!r} not found; this server has model {name!r}", rid)
        asked_version = request.path_params.get("version")
        if asked_version is not None and asked_version != version:
            rid = request.headers.get("x-request-id") or new_request_id()
            return _v2_error(404, f"model {name!r} has no version {asked_version!r}; its version is "
                                  f"{version!r}", rid)
        return None

    async def server_metadata(request: Request) -> Response:
        return JSONResponse({"name": "hogar", "version": __version__, "extensions": ["binary_tensor_data"]})

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def server_ready(request: Request) -> Response:
        ok = ready(dep)
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def model_metadata(request: Request) -> Response:
        if (missing := check_model(request)) is not None:
            return missing
        return JSONResponse({
            "name": name, "versions": [version], "platform": "hogar",
            "inputs": [{"name": src, "datatype": "FP64", "shape": [-1, -1]} for src in dep.sources],
            "outputs": [{"name": "output-0", "datatype": "FP64", "shape": [-1]}],
        })

    async def model_ready(request: Request) -> Response:
        if (missing := check_model(request)) is not None:
            return missing
        ok = ready(dep)
        return JSONResponse({"name": name, "ready": ok}, status_code=200 if ok else 503)

    async def infer(request: Request) -> Response:
        rid = request.headers.get("x-request-id") or new_request_id()
        if (missing := check_model(request)) is not None:
            return missing
        try:
            raw = await read_body(request, state.options.max_body)
            header_length = request.headers.get(HEADER_LENGTH)
            if header_length is not None:
                body = decode_inputs(*split_body(raw, header_length))
            else:
                body = loads_json(raw)
            source, payloads, rows = _payloads(body, dep.sources, state.options.max_rows)
            everything, requested = wants_binary(body)
        except HTTPError as err:
            return http_error(err, rid, v2=True)
        for payload in payloads:
            if (wrong := state.payload_types.problem(source, payload)) is not None:
                return error_response(422, "invalid_input", wrong[1], rid, wrong[0], v2=True)
        request_id = body.get("id") if isinstance(body.get("id"), str) else rid
        timeout = state.options.timeout
        context, span = traced_request(dep, request, request_id, source, len(payloads) if rows else 0)
        try:
            if rows:
                contexts = row_contexts(context, len(payloads))
                results = await state.wait_for_graph(asyncio.gather(
                    *(dep.acall(p, timeout=timeout, source=source, context=c) for p, c in zip(payloads, contexts)),
                    return_exceptions=True))
                failed = next((r for r in results if isinstance(r, BaseException)), None)
                if failed is not None:
                    raise failed
                value: Any = list(results)
            else:
                value = await state.wait_for_graph(dep.acall(payloads[0], timeout=timeout, source=source,
                                                             context=context))
        except Exception as err:
            span.end(err)
            return request_error(err, rid, v2=True)
        span.end(None)
        try:
            if isinstance(value, dict) and value:
                outputs = [describe(str(k), v) for k, v in value.items()]
            else:
                outputs = [describe("output-0", value)]
            if requested:
                have = {o["name"]: o for o in outputs}
                unknown = [n for n in requested if n not in have]
                if unknown:
                    return _v2_error(400, f"model {name!r} has no output {unknown[0]!r}; its outputs are "
                                          f"{sorted(have)}", rid)
                outputs = [have[n] for n in requested]
            binary = {o["name"] for o in outputs if requested.get(o["name"], everything)}
            content, json_length = encode_outputs(
                {"model_name": name, "model_version": version, "id": request_id, "parameters": {},
                 "outputs": outputs}, binary)
        except TypeError as err:
            return error_response(500, "error", f"the graph's response has no JSON form: {err}", rid, v2=True)
        headers = {"x-request-id": rid}
        if json_length is None:
            return Response(content, media_type="application/json", headers=headers)
        headers["inference-header-content-length"] = str(json_length)
        return Response(content, media_type="application/octet-stream", headers=headers)

    return [
        Route("/v2", server_metadata, methods=["GET"]),
        Route("/v2/", server_metadata, methods=["GET"]),
        Route("/v2/health/live", live, methods=["GET"]),
        Route("/v2/health/ready", server_ready, methods=["GET"]),
        *(route for base in ("/v2/models/{model}", "/v2/models/{model}/versions/{version}") for route in (
            Route(base, model_metadata, methods=["GET"]),
            Route(base + "/ready", model_ready, methods=["GET"]),
            Route(base + "/infer", infer, methods=["POST"]),
        )),
    ]


def _payloads(body: Any, sources: list[str], max_rows: int) -> tuple[str, list[Any], bool]:
    """(source, payloads, one-request-per-row?) from an infer request body."""
    if not isinstance(body, dict):
        raise HTTPError(400, "bad_request", "an infer request is a JSON object with \"inputs\"")
    params = body.get("parameters") or {}
    if not isinstance(params, dict):
        raise HTTPError(400, "bad_request", "\"parameters\" must be an object")
    source = params.get("source")
    if source is None:
        if len(sources) != 1:
            raise HTTPError(400, "bad_request", f"the graph has several sources {sources}; "
                            "name one in \"parameters\": {\"source\": ...}")
        source = sources[0]
    elif source not in sources:
        raise HTTPError(400, "bad_request", f"{source!r} is not a source; sources are {sources}")
    inputs = body.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise HTTPError(400, "bad_request", "\"inputs\" must be a non-empty list of tensors")
    if len(inputs) == 1:
        name, shape, _dtype = tensor_head(inputs[0], 0)
        if len(shape) >= 2 and shape[0] > max_rows:
            raise HTTPError(413, "too_large", f"input {name!r} has {shape[0]} rows (shape {shape}); at most "
                            f"{max_rows} rows per request, each one a request through the graph "
                            "(hogar serve --max-rows): send them in several requests")
    tensors = [tensor_value(t, i) for i, t in enumerate(inputs)]
    if len(tensors) == 1:
        _name, shape, value = tensors[0]
        if len(shape) >= 2:
            if shape[0] == 0:
                raise HTTPError(400, "bad_request", "an input of shape [0, ...] has no rows to infer")
            return source, value, True
        return source, [value], False
    names = [t[0] for t in tensors]
    if len(set(names)) != len(names):
        raise HTTPError(400, "bad_request", f"input names repeat: {names}")
    return source, [{n: v for n, _s, v in tensors}], False
