"""Ray Serve: the per-node deployment options, the capability check, the config file.

Ray Serve's config cannot describe a graph's topology (an application is an
``import_path`` to Python that builds it), so the config names hogar_nb's generic
builder and passes the EARG document as its ``args``; each node's settings appear
as a ``deployments`` override that an operator can edit (a node's replicas only
there, as ``num_replicas``, or as ``autoscaling_config`` for ``replicas = auto(...)``).
The Ray backend uses the
same :func:`deployment_options` and :func:`ray_capability`, so running on Ray and
exporting to Ray agree.
"""

from __future__ import annotations

import math
import os
from typing import Any

from ..core.autoscale import AutoscalePolicy
from ..core.diagnostics import Diagnostic
from ..core.kinds import WORKER_KINDS
from ..core.routes import source_routes
from .common import Export, Problems
from .ray_placement import WORKER_LABEL, node_placement

__all__ = [
    "APP_BUILDER",
    "INGRESS",
    "autoscaling_config",
    "deployment_options",
    "ray_capability",
    "ray_serve_config",
]

APP_BUILDER = "hogar_nb.backends.ray.app:build_app"
INGRESS = "hogar-ingress"  # not a UDGL identifier, so never a node's name
DEFAULT_MAX_QUEUED = 1024
MIN_ONGOING = 8


def workers(earg: dict[str, Any]) -> list[dict[str, Any]]:
    return [n for n in earg["nodes"] if n.get("kind") in WORKER_KINDS]


def deployment_options(node: dict[str, Any], placement: dict[str, str] | None = None) -> dict[str, Any]:
    """Ray Serve deployment options for one worker node of an EARG document; with the
    document's ``placement``, its replicas pinned to the machines it names
    (:mod:`.ray_placement`)."""
    res = node.get("resources") or {}
    batch = node.get("batch") or {}
    size = int(batch.get("max_size") or 1)
    actor: dict[str, Any] = {"num_cpus": float(res.get("cpu") or 0)}
    if res.get("gpu"):
        actor["num_gpus"] = float(res["gpu"])
    if res.get("memory_bytes"):
        actor["memory"] = int(res["memory_bytes"])
    pinned = node_placement(placement, node["name"])
    per_machine = pinned.pop("max_replicas_per_node", None)
    actor.update(pinned)
    queue = node.get("max_queue") or node.get("queue_size") or DEFAULT_MAX_QUEUED
    auto = autoscaling_config(node)
    out: dict[str, Any] = {"name": node["name"]}
    if auto is None:
        out["num_replicas"] = int(node.get("replicas") or 1)
    else:
        out["autoscaling_config"] = auto
    if per_machine is not None and auto is None:
        out["max_replicas_per_node"] = per_machine
    ongoing = max(MIN_ONGOING, 2 * size)
    if auto is not None:  # a replica must be able to hold what the autoscaler aims for
        ongoing = max(ongoing, math.ceil(2 * auto["target_ongoing_requests"]))
    return {
        **out,
        "max_ongoing_requests": ongoing,
        "max_queued_requests": int(queue),
        "ray_actor_options": actor,
        "user_config": {"batch_size": size, "batch_wait_s": float(batch.get("max_wait_ms") or 0) / 1000.0},
    }


def autoscaling_config(node: dict[str, Any]) -> dict[str, Any] | None:
    """Serve's ``autoscaling_config`` for a node with ``replicas = auto(...)`` (else None):
    the same bounds, target and delays; Serve starts it at its minimum."""
    policy = AutoscalePolicy.from_earg(node)
    if policy is None:
        return None
    return {
        "min_replicas": policy.min_replicas,
        "initial_replicas": policy.min_replicas,
        "max_replicas": policy.max_replicas,
        "target_ongoing_requests": policy.target_ongoing,
        "upscale_delay_s": policy.scale_up_delay_ms / 1000.0,
        "downscale_delay_s": policy.scale_down_delay_ms / 1000.0,
    }


def ray_capability(earg: dict[str, Any], graph: Any = None, for_config: bool = False) -> list[Diagnostic]:
    """What a Ray Serve deployment of ``earg`` cannot honour exactly, node and attribute named.

    ``for_config``: also what a config file cannot carry (impls that are not
    ``"module:attr"`` strings, e.g. functions defined in a notebook).
    """
    p = Problems(graph, "Ray Serve")
    for node in earg["nodes"]:
        name, kind = node["name"], node.get("kind")
        if kind not in WORKER_KINDS:
            continue
        res = node.get("resources") or {}
        if res.get("memory_bytes"):
            p.warning("W701", name, "memory",
                      "Ray reserves `memory` logically for scheduling; it does not limit the replica",
                      "watch the replica's real memory use in Ray's own metrics")
        rec = node.get("recovery") or {}
        policy = rec.get("policy") if isinstance(rec, dict) else rec
        if policy == "none":
            p.warning("W702", name, "recovery",
                      "`recovery = none`: Ray Serve's controller always replaces a dead replica")
        elif policy == "failover":
            p.warning("W702", name, "recovery",
                      "`recovery = failover`: Ray Serve replaces a dead replica as well as sending "
                      "traffic to the live ones")
        elif isinstance(rec, dict) and (rec.get("max_restarts", 5) != 5 or rec.get("backoff_ms", 100.0) != 100.0):
            p.warning("W703", name, "recovery",
                      "Ray Serve restarts replicas on its own schedule; `max_restarts` and `backoff` "
                      "are not honoured")
        impl = node.get("impl")
        if for_config and not (isinstance(impl, str) and (":" in impl or kind == "model")):
            p.error("E701", name, "impl",
                    f"impl {impl!r} is not a \"module:attr\" path, which a config file needs",
                    "move the function into a module and name it as \"module:attr\"")
    for node in earg["nodes"]:
        if node.get("kind") == "ensemble":
            comb = node.get("combine")
            if for_config and isinstance(comb, str) and comb not in ("mean", "vote", "concat", "first") \
                    and ":" not in comb:
                p.error("E701", node["name"], "combine",
                        f"combine {comb!r} is not a \"module:attr\" path, which a config file needs")
    if earg.get("placement"):
        p.warning("W704", None, "placement",
                  f"the placement pins replicas to the machines labelled `{WORKER_LABEL}=<worker>`; a cluster "
                  "without such labels runs them wherever the fallback finds room",
                  f"start each machine with `ray start --labels {WORKER_LABEL}=worker-0` (and so on)")
    _warn_about_cpus(p, earg)
    return p.items


def _warn_about_cpus(p: Problems, earg: dict[str, Any]) -> None:
    """With no ``cluster`` declared (the core checks a declared one, E050), replicas asking
    for more CPUs than this machine has never all start: Serve waits to schedule them and
    the application is never ready."""
    if earg.get("cluster"):
        return
    wanted = sum(float((n.get("resources") or {}).get("cpu") or 0) * int(n.get("replicas") or 1)
                 for n in workers(earg))
    have = os.cpu_count() or 1
    if wanted > have:
        p.warning("W705", None, "cpu",
                  f"the replicas ask for {wanted:g} CPUs in all, and this machine has {have} while the "
                  "graph declares no `cluster`; Serve waits for room to schedule them, so on a cluster "
                  "this size the application never becomes ready",
                  "lower `replicas` or `cpu`, or declare the `cluster` it will run on")


def ray_serve_config(earg: dict[str, Any], graph: Any = None, *, host: str = "127.0.0.1",
                     port: int = 8000, working_dir: str | None = None) -> Export:
    """A Ray Serve config (``serve run`` / ``serve deploy``) that runs ``earg``."""
    app: dict[str, Any] = {
        "name": earg.get("name") or "graph",
        "route_prefix": "/",
        "import_path": APP_BUILDER,
    }
    if working_dir is not None:
        app["runtime_env"] = {"working_dir": working_dir}
    app["deployments"] = [deployment_options(n, earg.get("placement")) for n in workers(earg)]
    # each setting once: a node's replicas live in its deployment (num_replicas), where Serve
    # users edit them and where Serve applies them; the builder's graph does without
    nodes = [{k: v for k, v in n.items() if k != "replicas"} for n in earg["nodes"]]
    app["args"] = {"earg": {**earg, "nodes": nodes}, "routes": source_routes(earg)}
    doc = {
        "proxy_location": "EveryNode",
        "http_options": {"host": host, "port": port},
        "applications": [app],
    }
    return Export("ray-serve", [doc], ray_capability(earg, graph, for_config=True))
