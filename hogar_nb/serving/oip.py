"""The Open Inference Protocol v2 (KServe, Triton, MLServer) over HTTP.

The models are :class:`~.models.ModelRepository`'s: the graph, and each node with
replicas as ``{graph}.{node}``. Bodies are JSON or the binary tensor extension
(:mod:`.binary_tensors`), gzip or deflate encoded or not (:mod:`.body`). Beside the
protocol's paths, ``POST /v2/repository/index`` lists the models as Triton's model
repository extension does.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .._version import __version__
from .binary_tensors import HEADER_LENGTH, decode_inputs, encode_outputs, split_body, wants_binary
from .body import loads_json, read_body
from .models import Model, ModelRepository, ready
from .responses import HTTPError, JSONResponse, error_response, http_error, new_request_id, request_error
from .trace_context import row_contexts, traced_request

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["ready", "routes"]


def routes(state: ServingState) -> list[Route]:
    repo = ModelRepository(state.dep)

    def find(request: Request) -> Model:
        return repo.find(request.path_params["model"], request.path_params.get("version"))

    def rid_of(request: Request) -> str:
        return request.headers.get("x-request-id") or new_request_id()

    async def server_metadata(request: Request) -> Response:
        return JSONResponse({"name": "hogar", "version": __version__, "extensions": ["binary_tensor_data"]})

    async def live(request: Request) -> Response:
        return JSONResponse({"live": True})

    async def server_ready(request: Request) -> Response:
        ok = ready(state.dep)
        return JSONResponse({"ready": ok}, status_code=200 if ok else 503)

    async def model_metadata(request: Request) -> Response:
        try:
            return JSONResponse(repo.metadata(find(request)))
        except HTTPError as err:
            return http_error(err, rid_of(request), v2=True)

    async def model_ready(request: Request) -> Response:
        try:
            model = find(request)
        except HTTPError as err:
            return http_error(err, rid_of(request), v2=True)
        ok = repo.ready(model)
        return JSONResponse({"name": model.name, "ready": ok}, status_code=200 if ok else 503)

    async def repository_index(request: Request) -> Response:
        return JSONResponse(repo.index())

    async def infer(request: Request) -> Response:
        rid = rid_of(request)
        try:
            model = find(request)
            raw = await read_body(request, state.options.max_body)
            header_length = request.headers.get(HEADER_LENGTH)
            if header_length is not None:
                body = decode_inputs(*split_body(raw, header_length))
            else:
                body = loads_json(raw)
            everything, per_output = wants_binary(body)
            prepared = repo.prepare(model, body, state.options.max_rows)
        except HTTPError as err:
            return http_error(err, rid, v2=True)
        if model.node is None:
            for payload in prepared.payloads:
                if (wrong := state.payload_types.problem(prepared.entry, payload)) is not None:
                    return error_response(422, "invalid_input", wrong[1], rid, wrong[0], v2=True)
        request_id = prepared.id or rid
        rows = prepared.walks if prepared.walks > 1 else 0
        context, span = traced_request(state.dep, request, request_id, prepared.entry, rows)
        try:
            value = await repo.run(model, prepared, row_contexts(context, rows) if rows else [context],
                                   state.options.timeout, state.wait_for_graph)
        except Exception as err:
            span.end(err)
            return request_error(err, rid, v2=True)
        span.end(None)
        try:
            response = repo.respond(model, prepared, value, request_id)
            binary = {o["name"] for o in response["outputs"] if per_output.get(o["name"], everything)}
            content, json_length = encode_outputs(response, binary)
        except HTTPError as err:
            return http_error(err, rid, v2=True)
        except (TypeError, struct.error) as err:
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
        Route("/v2/repository/index", repository_index, methods=["POST"]),
        *(route for base in ("/v2/models/{model}", "/v2/models/{model}/versions/{version}") for route in (
            Route(base, model_metadata, methods=["GET"]),
            Route(base + "/ready", model_ready, methods=["GET"]),
            Route(base + "/infer", infer, methods=["POST"]),
        )),
    ]
