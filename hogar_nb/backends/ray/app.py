"""Build the Serve application of a graph: one deployment per worker node plus the ingress.

:func:`build_app` is the ``import_path`` of exported Ray Serve configs
(``hogar_nb.backends.ray.app:build_app`` with ``args: {earg: ..., routes: ...}``);
:func:`build_application` is what ``run(graph, backend="ray")`` deploys.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from ...core.routes import source_routes
from ...export.ray_serve import INGRESS, deployment_options
from ...runtime.impls import ImportRef
from ...runtime.plan import GraphPlan, build_plan
from .admission import node_capacity

if TYPE_CHECKING:  # pragma: no cover
    from ray.serve import Deployment

__all__ = ["INGRESS_CPU", "build_app", "build_application"]

INGRESS_CPU = 0.1


def _for_ingress(plan: GraphPlan) -> GraphPlan:
    """The plan without impl factories (the ingress routes; replicas load the impls)."""
    nodes = {n: dataclasses.replace(p, factory=None, succ=list(p.succ), preds=list(p.preds))
             for n, p in plan.nodes.items()}
    return GraphPlan(plan.name, nodes, list(plan.sources), plan.response, dict(plan.params))


def _shippable(factory: Any) -> Any:
    """A factory without the notebook namespace (Ray ships the function itself, by cloudpickle)."""
    if isinstance(factory, ImportRef) and factory.namespace is not None:
        return factory.for_process()
    return factory


def _versioned(deployment: Any, version: str | None) -> Any:
    """Pin a deployment's code version (``Deployment.options(version=...)`` is gone from
    the public API; Serve still honours the attribute it kept)."""
    if version is not None and hasattr(deployment, "_version"):
        deployment._version = version
    return deployment


def build_application(earg: dict[str, Any], plan: GraphPlan, routes: dict[str, str] | None = None,
                      overrides: dict[str, dict[str, Any]] | None = None,
                      ingress_config: dict[str, Any] | None = None, version: str | None = None) -> Any:
    """The bound Serve application (ingress bound to the node deployments).

    ``version``: deploying again with the same version changes replicas, user_config
    and the like in place (Serve's lightweight update) instead of replacing replicas.
    """
    from .ingress import Ingress
    from .replica import NodeReplica

    # @serve.deployment made both classes Serve Deployments; Ray's types keep the class
    node_replica, ingress_deployment = cast("Deployment", NodeReplica), cast("Deployment", Ingress)

    raw = {n["name"]: n for n in earg["nodes"]}
    handles = {}
    admit: dict[str, tuple[int, int]] = {}
    for name, node in plan.nodes.items():
        if not node.is_worker:
            continue
        opts = deployment_options(raw[name], earg.get("placement"))
        changed = (overrides or {}).get(name, {})
        if "num_replicas" in changed or "autoscaling_config" in changed:
            opts.pop("max_replicas_per_node", None)  # more replicas than were placed: no cap per machine
        opts.update(changed)
        admit[name] = node_capacity(opts)
        # the ingress's gate bounds the node's queue; Serve's bound would count the calls the
        # gate lets through as queued while its router places them, and refuse some of them
        opts["max_queued_requests"] = -1
        handles[name] = _versioned(node_replica.options(**opts), version).bind(name, _shippable(node.factory))
    ingress = ingress_deployment.options(name=INGRESS, max_ongoing_requests=100_000,
                                         ray_actor_options={"num_cpus": INGRESS_CPU},
                                         user_config={"nodes": dict(ingress_config or {}), "admit": admit})
    return _versioned(ingress, version).bind(_for_ingress(plan), routes or source_routes(earg), handles)


def build_app(args: dict[str, Any]) -> Any:
    """Application builder for Ray Serve configs: ``args = {"earg": {...}, "routes": {...}}``.

    ``"module:attr"`` impls must be importable on the cluster and model paths readable
    there (ship both with the application's ``runtime_env``: ``working_dir`` or
    ``py_modules``); relative model paths resolve against ``base_dir`` (default: the
    replica's working directory, i.e. the ``working_dir``).
    """
    earg = args["earg"]
    base = Path(args["base_dir"]) if args.get("base_dir") else Path.cwd()
    plan = build_plan(earg, None, base)
    return build_application(earg, plan, args.get("routes"))
