"""``hogar serve FILE``: start a graph and serve it over HTTP until SIGINT/SIGTERM.

The command serves any Deployment: the ``deploy`` function given to :func:`register`
starts it from the parsed arguments (``hogar_nb.dispatch.deploy_file``; the dispatcher
also adds the ``--backend`` options), so this layer never picks a backend.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any, Callable

from ..errors import HogarError

if TYPE_CHECKING:  # pragma: no cover
    from ..runtime.protocol import DeploymentProtocol

log = logging.getLogger("hogar_nb.serving")

__all__ = ["register"]

Deploy = Callable[[argparse.Namespace], "DeploymentProtocol"]


def _size(text: str) -> int:
    from ..core.udgl.values_parser import parse_value

    try:
        value = int(text)
    except ValueError:
        try:
            value = parse_value(text)
        except HogarError:
            raise argparse.ArgumentTypeError(f"got {text!r}; expected bytes, e.g. 1048576 or 10MiB") from None
        value = getattr(value, "bytes", value)
        if not isinstance(value, (int, float)):
            raise argparse.ArgumentTypeError(f"got {text!r}; expected bytes, e.g. 1048576 or 10MiB") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a positive size")
    return int(value)


def _rate(text: str) -> float:
    from ..core.udgl.values_parser import parse_value
    from ..observe import check_rate

    try:
        return check_rate(float(text) if not text.strip().endswith("%") else parse_value(text.strip()))
    except (ValueError, HogarError):
        raise argparse.ArgumentTypeError(f"got {text!r}; expected a fraction from 0 to 1, e.g. 0.01 or 1%") from None


def register(subparsers: Any, deploy: Deploy) -> argparse.ArgumentParser:
    """Add the ``serve`` sub-command to an argparse sub-parsers object; ``deploy``
    starts the deployment to serve from the parsed arguments."""
    p = subparsers.add_parser(
        "serve", help="serve a graph over HTTP (plain JSON routes and Open Inference Protocol v2)",
        description="Start a .udgl or EARG .yaml/.json graph and serve it over HTTP until "
                    "SIGINT/SIGTERM, which drain in-flight requests and exit 0.")
    p.add_argument("file", metavar="FILE", help="a .udgl file, or an EARG .yaml/.json file")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 picks a free port)")
    p.add_argument("--grpc-port", type=int, metavar="PORT",
                   help="also serve the Open Inference Protocol over gRPC on this port of --host "
                        "(0 picks a free port; default: no gRPC)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="override a graph param (repeatable)")
    p.add_argument("--base-dir", help="directory model paths are relative to (default: the graph file's)")
    p.add_argument("--max-body", type=_size, default=10 * 1024 * 1024, metavar="BYTES",
                   help="largest request body (default 10MiB); larger ones get 413")
    p.add_argument("--max-header-bytes", type=_size, default=64 * 1024, metavar="BYTES",
                   help="largest request head: request line and header fields (default 64KiB); "
                        "larger ones get 431")
    p.add_argument("--max-headers", type=int, default=100, metavar="N",
                   help="most header fields in a request (default 100); more get 431")
    p.add_argument("--max-rows", type=int, default=1024, metavar="N",
                   help="most rows in one Open Inference Protocol infer request (default 1024); "
                        "more get 413")
    p.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="deadline of each request (default: the graph's own timeouts)")
    p.add_argument("--drain-timeout", type=float, default=30.0, metavar="SECONDS",
                   help="how long a stop waits for in-flight requests (default 30)")
    p.add_argument("--admin-token-file", metavar="FILE",
                   help="enable the admin API with the token in FILE (or set $HOGAR_ADMIN_TOKEN)")
    p.add_argument("--allow-fault-injection", action="store_true",
                   help="also expose the admin API's fault-injection paths")
    p.add_argument("--trace-sample", type=_rate, metavar="RATE",
                   help="trace this fraction of requests (e.g. 0.01 or 1%%; requests whose traceparent is "
                        "sampled always are) into /hogar/v1/traces and the OpenTelemetry exporter "
                        "OTEL_TRACES_EXPORTER names; default: OTEL_TRACES_SAMPLER, else the graph's trace_sample, "
                        "else off")
    p.set_defaults(func=cmd_serve, deploy=deploy)
    return p


def cmd_serve(args: argparse.Namespace) -> int:
    from .options import ServeOptions, read_admin_token
    from .server import run_foreground

    options = ServeOptions(max_body=args.max_body, timeout=args.timeout,
                           max_header_bytes=args.max_header_bytes, max_headers=args.max_headers,
                           max_rows=args.max_rows,
                           admin_token=read_admin_token(args.admin_token_file),
                           allow_fault_injection=args.allow_fault_injection)
    if args.allow_fault_injection and not options.admin_token:
        raise HogarError("--allow-fault-injection needs the admin API: pass --admin-token-file "
                         "or set $HOGAR_ADMIN_TOKEN")
    _log_to_stderr()
    dep = args.deploy(args)
    try:
        _start_tracing(dep, args.trace_sample)

        def announce(url: str, grpc_address: str | None) -> None:
            print(f"serving {dep.name} on {url}", flush=True)
            if grpc_address is not None:
                print(f"serving {dep.name} over gRPC on {grpc_address}", flush=True)

        run_foreground(dep, args.host, args.port, options, args.drain_timeout, announce, args.grpc_port)
        log.info("stopping %s: the HTTP front has drained; stopping the graph", dep.name)
    finally:
        dep.stop(timeout=0.0)  # the drain is over: what still runs was answered 503 already
    log.info("stopped %s", dep.name)
    return 0


def _start_tracing(dep: DeploymentProtocol, rate: float | None) -> None:
    """Trace at ``rate``, else as the OpenTelemetry environment says, else at the
    graph's ``trace_sample`` (tracing started with the deployment); with none of
    them tracing stays off."""
    from ..observe import tracing_configured

    tracing = getattr(dep, "tracing", None)
    if rate is not None or (tracing is None and tracing_configured()):
        tracing = dep.enable_tracing(sample=rate)
    if tracing is not None:
        log.info("tracing %s: %r", dep.name, tracing)


def _log_to_stderr() -> None:
    """Errors (with request ids) and start/stop notes go to stderr, one line each."""
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s hogar serve: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
