"""The Open Inference Protocol's gRPC service (``hogar serve --grpc-port N``).

The same models as the HTTP front (:class:`~.models.ModelRepository`: the graph and
each node as ``{graph}.{node}``), on grpcio's asyncio server in a thread of its own.
Errors are gRPC status codes with the message the HTTP front puts in its body:
NOT_FOUND for an unknown model or version, INVALID_ARGUMENT for a malformed request
or an input a model rejects, RESOURCE_EXHAUSTED past ``--max-rows`` or
``--max-body``, UNAVAILABLE when the graph is overloaded or stopping,
DEADLINE_EXCEEDED past the request's deadline (the client's gRPC deadline counts),
INTERNAL for a node's failure. A client's ``x-request-id`` metadata is echoed in the
trailing metadata and names the request in the server's log.
"""

from __future__ import annotations

import asyncio
import struct
import threading
from typing import TYPE_CHECKING, Any

from .._version import __version__
from ..errors import HogarError
from .grpc_messages import SERVICE, messages, metadata_message, request_body, response_message
from .models import ModelRepository, ready
from ..runtime.walk import RequestContext
from .options import ServeOptions
from .payload_types import PayloadTypes
from .responses import HTTPError, failure, new_request_id

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol

__all__ = ["GRPCServer", "status_code"]

# Calls gRPC has received but the asyncio server has not taken up yet. Past grpc's
# default (1,000) a burst from one client is CANCELLED before it reaches the graph,
# whose own queues decide what to shed (UNAVAILABLE) like the HTTP front's 503.
_MAX_PENDING = 10_000


def status_code(http_status: int) -> Any:
    """The gRPC status code for the HTTP status the same error gets on the HTTP front."""
    import grpc

    return {400: grpc.StatusCode.INVALID_ARGUMENT, 404: grpc.StatusCode.NOT_FOUND,
            413: grpc.StatusCode.RESOURCE_EXHAUSTED, 415: grpc.StatusCode.INVALID_ARGUMENT,
            422: grpc.StatusCode.INVALID_ARGUMENT, 429: grpc.StatusCode.RESOURCE_EXHAUSTED,
            503: grpc.StatusCode.UNAVAILABLE, 504: grpc.StatusCode.DEADLINE_EXCEEDED,
            }.get(http_status, grpc.StatusCode.INTERNAL)


class _Service:
    """The six methods of the protocol's service, over one :class:`ModelRepository`."""

    def __init__(self, dep: DeploymentProtocol, options: ServeOptions) -> None:
        self.dep = dep
        self.options = options
        self.repo = ModelRepository(dep)
        self.payload_types = PayloadTypes(dep.earg)
        self.m = messages()

    @staticmethod
    def _metadata(context: Any) -> dict[str, str]:
        return {key: value for key, value in context.invocation_metadata() or () if isinstance(value, str)}

    async def server_live(self, request: Any, context: Any) -> Any:
        return self.m["inference.ServerLiveResponse"](live=True)

    async def server_ready(self, request: Any, context: Any) -> Any:
        return self.m["inference.ServerReadyResponse"](ready=ready(self.dep))

    async def server_metadata(self, request: Any, context: Any) -> Any:
        return self.m["inference.ServerMetadataResponse"](name="hogar", version=__version__,
                                                          extensions=["binary_tensor_data"])

    async def model_ready(self, request: Any, context: Any) -> Any:
        try:
            model = self.repo.find(request.name, request.version or None)
        except HTTPError as err:
            await context.abort(status_code(err.status), err.message)
        return self.m["inference.ModelReadyResponse"](ready=self.repo.ready(model))

    async def model_metadata(self, request: Any, context: Any) -> Any:
        try:
            meta = self.repo.metadata(self.repo.find(request.name, request.version or None))
        except HTTPError as err:
            await context.abort(status_code(err.status), err.message)
        return metadata_message(meta)

    async def model_infer(self, request: Any, context: Any) -> Any:
        metadata = self._metadata(context)
        rid = metadata.get("x-request-id") or new_request_id()
        context.set_trailing_metadata((("x-request-id", rid),))
        code = message = None
        try:
            model = self.repo.find(request.model_name, request.model_version or None)
            prepared = self.repo.prepare(model, request_body(request), self.options.max_rows)
            if model.node is None:
                for payload in prepared.payloads:
                    if (wrong := self.payload_types.problem(prepared.entry, payload)) is not None:
                        raise HTTPError(422, "invalid_input", wrong[1])
            timeout = self.options.timeout
            left = context.time_remaining()
            if left is not None:
                timeout = left if timeout is None else min(timeout, left)
            trace = metadata.get("traceparent"), metadata.get("tracestate")
            rid_of = prepared.id or rid
            contexts = [RequestContext(f"{rid_of}:{i}" if prepared.walks > 1 else rid_of, *trace)
                        for i in range(prepared.walks)]
            value = await self.repo.run(model, prepared, contexts, timeout)
            answer = self.repo.respond(model, prepared, value, prepared.id or "")
        except HTTPError as err:
            code, message = status_code(err.status), err.message
        except Exception as err:  # the request's RequestError, or what a backend lets through
            wire = failure(err, rid)
            code, message = status_code(wire.status), wire.message
        if code is not None:
            await context.abort(code, message)
        try:
            # answered the way the request came: raw bytes (tritonclient's way) or typed contents
            return response_message(answer, raw=bool(request.raw_input_contents))
        except (TypeError, ValueError, struct.error) as err:
            import grpc

            await context.abort(grpc.StatusCode.INTERNAL, f"the graph's response has no tensor form: {err}")

    def handler(self) -> Any:
        import grpc

        def unary(fn: Any, request: str, response: str) -> Any:
            return grpc.unary_unary_rpc_method_handler(
                fn, request_deserializer=self.m[f"inference.{request}"].FromString,
                response_serializer=self.m[f"inference.{response}"].SerializeToString)

        return grpc.method_handlers_generic_handler(SERVICE, {
            "ServerLive": unary(self.server_live, "ServerLiveRequest", "ServerLiveResponse"),
            "ServerReady": unary(self.server_ready, "ServerReadyRequest", "ServerReadyResponse"),
            "ServerMetadata": unary(self.server_metadata, "ServerMetadataRequest", "ServerMetadataResponse"),
            "ModelReady": unary(self.model_ready, "ModelReadyRequest", "ModelReadyResponse"),
            "ModelMetadata": unary(self.model_metadata, "ModelMetadataRequest", "ModelMetadataResponse"),
            "ModelInfer": unary(self.model_infer, "ModelInferRequest", "ModelInferResponse"),
        })


class GRPCServer:
    """The gRPC service for ``dep`` on a background thread.

    >>> server = GRPCServer(dep).start()      # doctest: +SKIP
    >>> server.address                        # doctest: +SKIP
    '127.0.0.1:50051'
    """

    def __init__(self, dep: DeploymentProtocol, host: str = "127.0.0.1", port: int = 0,
                 options: ServeOptions | None = None) -> None:
        try:
            import grpc  # noqa: F401
        except ImportError:
            raise HogarError("the gRPC front needs grpcio and protobuf: pip install 'hogar_nb[grpc]'") from None
        self.dep = dep
        self.host = host
        self.options = options or ServeOptions()
        self.port = port
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread: threading.Thread | None = None
        self._stopping: Any = None  # the Future of the server's stop, once begun

    @property
    def address(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    async def _open(self) -> None:
        import grpc

        limit = self.options.max_body
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", limit),
                                          ("grpc.max_send_message_length", -1),
                                          ("grpc.so_reuseport", 0),
                                          ("grpc.server.max_pending_requests", _MAX_PENDING),
                                          ("grpc.server.max_pending_requests_hard_limit", _MAX_PENDING)])
        server.add_generic_rpc_handlers((_Service(self.dep, self.options).handler(),))
        try:
            port = server.add_insecure_port(f"{self.host}:{self.port}" if ":" not in self.host
                                            else f"[{self.host}]:{self.port}")
        except RuntimeError as exc:
            port, reason = 0, str(exc)
        else:
            reason = "the address is in use or cannot be bound"
        if not port:
            raise HogarError(f"cannot listen for gRPC on {self.host}:{self.port}: {reason}")
        self.port = port
        await server.start()
        self._server = server

    def start(self) -> GRPCServer:
        """Listen and serve; returns once the server accepts calls."""
        opened: list[BaseException | None] = []
        ready_event = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self._loop)
            try:
                self._loop.run_until_complete(self._open())
            except BaseException as exc:  # reported by start()
                opened.append(exc)
                ready_event.set()
                return
            opened.append(None)
            ready_event.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=run, name=f"hogar-grpc-{self.dep.name}", daemon=True)
        self._thread.start()
        ready_event.wait()
        if opened[0] is not None:
            self._thread.join()
            raise opened[0]
        return self

    def begin_stop(self, grace: float = 10.0) -> None:
        """Refuse new calls and give calls in flight ``grace`` seconds (then cancel
        them); returns at once (safe from a signal handler of another loop)."""
        if self._stopping is None and self._server is not None and self._thread is not None:
            self._stopping = asyncio.run_coroutine_threadsafe(self._server.stop(grace), self._loop)

    def stop(self, grace: float = 10.0) -> None:
        """:meth:`begin_stop`, wait for it, and end the thread (idempotent)."""
        thread = self._thread
        if thread is None:
            return
        self.begin_stop(grace)
        if self._stopping is not None:
            try:
                self._stopping.result(grace + 5.0)
            except Exception:  # the loop ends below anyway
                pass
        self._thread = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        thread.join(5.0)
        if not thread.is_alive():
            self._loop.close()

    def __repr__(self) -> str:
        return f"<GRPCServer {self.dep.name!r} on {self.address}>"
