"""Start a graph on a backend: ``run(graph, backend=...)``, and ``hogar serve``'s deployment.

This module sits above the layers it dispatches to: the embedded engine
(:mod:`hogar_nb.runtime`), the distributed backends (:mod:`hogar_nb.backends`, found
in :data:`BACKENDS` and imported only when asked for) and the HTTP front
(:mod:`hogar_nb.serving`, which a deployment's ``serve_http()`` reaches through the
front-end registry). None of them imports it. :func:`hogar_nb.run` is :func:`run`.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from ._frontends import register_frontend
from .errors import HogarError

if TYPE_CHECKING:  # pragma: no cover
    import argparse

    from .core.graph import Graph
    from .runtime.protocol import DeploymentProtocol
    from .serving.server import HTTPServer

__all__ = ["BACKENDS", "backend_run", "deploy_file", "run"]

#: backend name -> (module, its run function, the extra that installs it)
BACKENDS: dict[str, tuple[str, str, str]] = {"ray": ("hogar_nb.backends.ray", "run", "ray")}


def backend_run(name: str) -> Callable[..., DeploymentProtocol]:
    """The ``run`` function of backend ``name``, or a HogarError saying what to install."""
    if name == "embedded":
        from .runtime.deployment import run as run_embedded

        return run_embedded
    try:
        module, attr, extra = BACKENDS[name]
    except KeyError:
        raise HogarError(f"unknown backend {name!r}; expected embedded or {', '.join(BACKENDS)}") from None
    try:
        fn: Callable[..., DeploymentProtocol] = getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise HogarError(f"backend {name!r} needs {exc.name or 'its packages'}: "
                         f"pip install 'hogar_nb[{extra}]'") from None
    return fn


def run(graph: Graph | Mapping[str, Any] | str | Path, namespace: Mapping[str, Any] | None = None, *,
        backend: str = "embedded", **options: Any) -> DeploymentProtocol:
    """Start ``graph`` (a Graph, an EARG dict or a .udgl/.yaml/.json path) in the
    background and return its Deployment once every replica is ready.

    ``namespace`` resolves bare-name impls (e.g. ``globals()`` in a notebook). The
    embedded engine (the default) takes ``base_dir``, ``metrics``, ``queue_size`` (an
    int or per-node mapping), ``sample_interval`` and ``start_timeout``: see
    :func:`hogar_nb.runtime.deployment.run`. ``backend="ray"`` deploys on Ray Serve
    instead (options such as ``address``: see :func:`hogar_nb.backends.ray.run`); the
    result offers the same protocol.

    Nodes with ``replicas = auto(...)`` scale with load: on the embedded engine an
    :class:`~hogar_nb.steer.Autoscaler` runs beside the graph (``dep.autoscaler``),
    on Ray, Serve's own autoscaler with the same settings. A graph with
    ``trace_sample`` (``graph NAME { trace_sample = 1% }``) traces requests from the
    start (``dep.tracing``), at that rate unless ``OTEL_TRACES_SAMPLER`` says otherwise.
    """
    dep = backend_run(backend)(graph, namespace, **options)
    if (dep.earg or {}).get("trace_sample") is not None:
        try:
            dep.enable_tracing()
        except BaseException:
            dep.stop(timeout=0)
            raise
    from .quality.attach import wants_quality

    if wants_quality(dep.earg):  # references, feedback or alerts: watched from the first request
        try:
            dep.quality_monitor()
        except BaseException:
            dep.stop(timeout=0)
            raise
    if backend == "embedded" and any("autoscale" in n for n in (dep.earg or {}).get("nodes", [])):
        from .steer import attach_autoscaler  # Ray Serve scales its own (autoscaling_config)

        attach_autoscaler(dep)
    return dep


def deploy_file(args: argparse.Namespace) -> DeploymentProtocol:
    """The running deployment ``hogar serve`` serves, from its parsed arguments: the
    graph ``args.file`` with ``args.param`` overrides, on ``args.backend``."""
    from .core.graph_file import load_graph_file, param_overrides

    path = Path(args.file)
    folder = path.resolve().parent
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))  # impls next to the graph file import
    graph = load_graph_file(path, params=param_overrides(args.param))
    backend = getattr(args, "backend", "embedded")
    options: dict[str, Any] = {"base_dir": args.base_dir or folder}
    if backend == "ray":
        options["address"] = args.address
    elif getattr(args, "address", None):
        raise HogarError("--address needs --backend ray")
    return run(graph, backend=backend, **options)


def add_backend_arguments(parser: argparse.ArgumentParser) -> None:
    """``--backend`` and ``--address``, for a command that starts a deployment."""
    parser.add_argument("--backend", choices=("embedded", *BACKENDS), default="embedded",
                        help="run the graph in this process (default) or on Ray Serve")
    parser.add_argument("--address", metavar="ADDR",
                        help="with --backend ray: the Ray cluster to join (default: start a local Ray)")


def _serve_http(dep: DeploymentProtocol, host: str, port: int, **options: Any) -> HTTPServer:
    from .serving.server import serve_http

    return serve_http(dep, host, port, **options)


def _rollout(dep: DeploymentProtocol, split: str, action: str, candidate: str | None, **policy: Any) -> Any:
    from .steer import rollout_action

    return rollout_action(dep, split, action, candidate, **policy)


def _tracing(dep: DeploymentProtocol, **options: Any) -> Any:
    from .observe import Tracing

    return Tracing(dep, **options)


def _quality(dep: DeploymentProtocol, **options: Any) -> Any:
    from .quality.attach import attach

    return attach(dep, **options)


def _quality_metrics(dep: DeploymentProtocol) -> Any:
    from .quality.prometheus import QualityCollector

    return QualityCollector(dep)


register_frontend("serve_http", _serve_http)
register_frontend("tracing", _tracing)
register_frontend("quality", _quality)
register_frontend("quality_metrics", _quality_metrics)
register_frontend("rollout", _rollout)
