"""``run(graph, backend="ray")``: deploy a graph as one Ray Serve application."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ...runtime.base import unexpected_options
from ...runtime.errors import DeploymentConfigError
from .deployment import DEFAULT_MAX_IN_FLIGHT, RayDeployment

__all__ = ["run"]


def run(graph: Any, namespace: Mapping[str, Any] | None = None, *, address: str | None = None,
        ray_namespace: str | None = None, base_dir: str | Path | None = None,
        runtime_env: dict[str, Any] | None = None, http_port: int | None = None,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT, app_name: str | None = None,
        ray_init: Mapping[str, Any] | None = None, **options: Any) -> RayDeployment:
    """Deploy ``graph`` (a Graph, an EARG dict or a file) as one Ray Serve application.

    Connects to the Ray cluster at ``address`` (or starts a local Ray) and returns once
    every replica is running. ``namespace`` resolves notebook functions (Ray ships them
    with cloudpickle); ``runtime_env`` ships local code and artifacts to the workers;
    ``http_port`` also opens Serve's HTTP proxy on 127.0.0.1 with the sources' routes.
    Any other option is a TypeError, before anything starts.
    """
    import warnings

    unexpected_options(options, "ray")

    from .cluster import connect, local_auth, start_serve

    if address is None:
        local_auth()  # before `.app` imports Ray
    from ...export.ray_serve import ray_capability
    from ...runtime.deployment import _to_document
    from ...runtime.plan import build_plan
    from .app import build_application

    doc, fallback, base = _to_document(graph, Path(base_dir) if base_dir is not None else None)
    doc = dict(doc)
    plan = build_plan(doc, namespace if namespace is not None else fallback, base)
    graph_obj = graph if hasattr(graph, "to_earg") else None
    diagnostics = ray_capability(doc, graph_obj)
    for d in diagnostics:
        warnings.warn(d.message, RuntimeWarning, stacklevel=2)
    local = connect(address, ray_namespace, runtime_env, **dict(ray_init or {}))
    try:
        start_serve(http_port)
        from ray import serve

        name = app_name or plan.name

        version = secrets.token_hex(8)

        def deploy(overrides: dict[str, dict[str, Any]], ingress_config: dict[str, Any]) -> Any:
            app = build_application(doc, plan, None, overrides, ingress_config, version)
            return serve.run(app, name=name, route_prefix="/" if http_port else None)

        try:
            handle = deploy({}, {})
        except Exception as exc:
            try:
                serve.delete(name)
            except Exception:
                pass
            raise DeploymentConfigError(f"the graph could not start on Ray: {exc}") from None
    except BaseException:
        if local is not None:
            local.stop()
        raise
    url = f"http://127.0.0.1:{http_port}" if http_port else None
    return RayDeployment(plan.name, doc, plan, name, handle, diagnostics, local, graph_obj, deploy,
                         max_in_flight, url)
