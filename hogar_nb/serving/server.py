"""Run the HTTP front on uvicorn: in a background thread (``HTTPServer``, used by
``Deployment.serve_http``) or in the foreground until SIGINT/SIGTERM (``hogar serve``).

A stop drains: the listening socket closes, idle connections close, in-flight requests
finish (up to ``drain_timeout``), event streams end, then the call returns.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import socket
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

import uvicorn

from ..errors import HogarError
from .app import ServingState, create_app
from .head import protocol_factory
from .options import ServeOptions

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol


__all__ = ["HTTPServer", "bind", "quiet_collector", "run_foreground", "serve_http"]

_ANSWER_CUT_S = 2.0  # time to send the 503s of a drain that ran out, before uvicorn cancels


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on (host, port); port 0 picks a free one."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise HogarError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Server(uvicorn.Server):
    """uvicorn's server that also ends event streams when asked to exit, does not
    re-raise the signal afterwards (the command exits 0 after a clean drain), and
    answers the requests still in flight when the drain times out with 503 ``stopped``
    (uvicorn would cancel them: a plain-text 500 and a logged traceback each)."""

    def __init__(self, config: uvicorn.Config, state: ServingState, drain_timeout: float) -> None:
        super().__init__(config)
        self.serving_state = state
        self.drain_timeout = drain_timeout
        self.exit_hooks: list[Callable[[], None]] = []  # called once the server is asked to exit

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        loop = asyncio.get_running_loop()
        cut = loop.call_later(self.drain_timeout, self.serving_state.cut_waiting, self.drain_timeout)
        try:
            await super().shutdown(sockets)
        finally:
            cut.cancel()

    def handle_exit(self, sig: int, frame: Any) -> None:
        self.serving_state.closing = True
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True
        self._exiting()

    def request_exit(self) -> None:
        self.serving_state.closing = True
        self.should_exit = True
        self._exiting()

    def _exiting(self) -> None:
        hooks, self.exit_hooks = self.exit_hooks, []
        for hook in hooks:
            hook()


def _make_server(dep: DeploymentProtocol, options: ServeOptions, drain_timeout: float,
                 log_level: str) -> _Server:
    app = create_app(dep, options)
    http = protocol_factory(options.max_header_bytes, options.max_headers)
    # uvicorn takes any protocol factory and a float shutdown timeout; its annotations are narrower
    config = uvicorn.Config(app, http=http, loop="auto", lifespan="off", log_level=log_level,  # type: ignore[arg-type]
                            access_log=False, server_header=False, proxy_headers=False,
                            timeout_graceful_shutdown=drain_timeout + _ANSWER_CUT_S,  # type: ignore[arg-type]
                            timeout_keep_alive=30)
    return _Server(config, app.state, drain_timeout)


class HTTPServer:
    """The HTTP front for ``dep`` on a background thread.

    >>> server = HTTPServer(dep).start()      # doctest: +SKIP
    >>> server.url                            # doctest: +SKIP
    'http://127.0.0.1:41231'
    """

    def __init__(self, dep: DeploymentProtocol, host: str = "127.0.0.1", port: int = 0,
                 options: ServeOptions | None = None, drain_timeout: float = 10.0,
                 log_level: str = "warning") -> None:
        self.dep = dep
        self.options = options or ServeOptions()
        self._sock = bind(host, port)
        self.url = _url(self._sock)
        self._server = _make_server(dep, self.options, drain_timeout, log_level)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def state(self) -> ServingState:
        return self._server.serving_state

    def _run(self) -> None:
        try:
            with asyncio.Runner(loop_factory=self._server.config.get_loop_factory()) as runner:
                runner.run(self._server.serve(sockets=[self._sock]))
        except BaseException as exc:  # reported by start()
            self._error = exc

    def start(self, timeout: float = 30.0) -> HTTPServer:
        """Start serving; returns once the server accepts connections."""
        self._thread = threading.Thread(target=self._run, name=f"hogar-http-{self.dep.name}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if self._error is not None or not self._thread.is_alive():
                raise HogarError(f"the HTTP server did not start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise HogarError(f"the HTTP server did not start within {timeout} s")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 15.0) -> None:
        """Drain and stop (idempotent): requests still in flight after the drain
        timeout (or ``timeout``, if shorter) are answered 503 ``stopped``."""
        self._server.drain_timeout = min(self._server.drain_timeout, timeout)
        self._server.request_exit()
        if self._thread is not None:
            self._thread.join(timeout + _ANSWER_CUT_S)
        self._sock.close()

    def __repr__(self) -> str:
        return f"<HTTPServer {self.dep.name!r} on {self.url}>"


def serve_http(dep: DeploymentProtocol, host: str = "127.0.0.1", port: int = 0, **options: Any) -> HTTPServer:
    """Serve ``dep`` on a background thread; ``options`` are ServeOptions fields (and
    ``drain_timeout``). Returns the started :class:`HTTPServer`."""
    drain = float(options.pop("drain_timeout", 10.0))
    return HTTPServer(dep, host, port, ServeOptions(**options), drain).start()


GC_THRESHOLD = (50_000, 20, 20)  # gen0 allocations between collections (Python's default: 700, 10, 10)


def quiet_collector() -> None:
    """Keep the cyclic garbage collector's pauses short in a serving process.

    With every module, model and graph loaded, the heap holds some 10^5 objects that
    live as long as the server, and each full collection walked all of them with the
    GIL held: at 64 connections, several pauses a second of tens to hundreds of
    milliseconds, which every request in flight waited out (the p99). Collected once
    and frozen (``gc.freeze``), they are no longer scanned. A larger first-generation
    threshold lets a request's objects die by reference counting before a
    collection sees them, instead of being scanned and promoted while in flight.
    For a process that only serves (``hogar serve``), not for a notebook's."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)


def run_foreground(dep: DeploymentProtocol, host: str, port: int, options: ServeOptions, drain_timeout: float,
                   announce: Callable[[str, str | None], None], grpc_port: int | None = None) -> None:
    """Serve in this (main) thread until SIGINT/SIGTERM, then drain; with ``grpc_port``
    the gRPC service listens too (on ``host``) and drains alongside.
    ``announce(url, grpc_address or None)`` runs once both accept connections."""
    sock = bind(host, port)
    url = _url(sock)
    server = _make_server(dep, options, drain_timeout, "warning")
    grpc_server = None
    if grpc_port is not None:
        from .grpc_server import GRPCServer

        try:
            grpc_server = GRPCServer(dep, host, grpc_port, options).start()
        except BaseException:
            sock.close()
            raise
        server.exit_hooks.append(lambda: grpc_server.begin_stop(drain_timeout))

    async def main() -> None:
        serving = asyncio.ensure_future(server.serve(sockets=[sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.005)
        if server.started:
            quiet_collector()
            announce(url, grpc_server.address if grpc_server is not None else None)
        await serving

    try:
        with asyncio.Runner(loop_factory=server.config.get_loop_factory()) as runner:
            runner.run(main())
    finally:
        sock.close()
        if grpc_server is not None:
            grpc_server.stop(drain_timeout)
