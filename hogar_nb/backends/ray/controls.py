"""Operators' changes to a running Ray deployment: applying checked values, faults.

Mixed into :class:`~hogar_nb.backends.ray.deployment.RayDeployment` (whose base checks
``scale``/``reconfigure`` values and records the events); the changes go to the
running Serve deployments in place (a redeploy of the same version).
"""

from __future__ import annotations

import random
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ...runtime.errors import ReconfigureError, UnknownNodeError
from ...runtime.metrics import RecoveryEvent

__all__ = ["RayControls"]


class RayControls:
    """Applying checked changes, fault injection and the replica actors, over the deployment's state."""

    # what RayDeployment.__init__ sets
    _earg: dict[str, Any] | None
    _plan: Any
    _app: str
    _redeploy: Callable[[dict[str, dict[str, Any]], dict[str, Any]], Any]
    _events: deque[RecoveryEvent]
    _overrides: dict[str, dict[str, Any]]
    _ingress_config: dict[str, dict[str, Any]]
    _lock: threading.Lock

    if TYPE_CHECKING:  # pragma: no cover - DeploymentBase's
        def replica_nodes(self) -> list[str]: ...

    # -- changes ------------------------------------------------------------------------
    def _redeploy_node(self, node: str, **changes: Any) -> None:
        with self._lock:
            entry = self._overrides.setdefault(node, {})
            user = dict(entry.get("user_config") or self._base_user_config(node))
            for key, value in changes.items():
                if key in ("batch_size", "batch_wait_s", "fault"):
                    user[key] = value
                else:
                    entry[key] = value
            entry["user_config"] = user
            self._redeploy(self._overrides, self._ingress_config)

    def _base_user_config(self, node: str) -> dict[str, Any]:
        from ...export.ray_serve import deployment_options

        assert self._earg is not None  # a Ray deployment always has its document
        raw = next(n for n in self._earg["nodes"] if n["name"] == node)
        return dict(deployment_options(raw)["user_config"])

    def _worker(self, node: str) -> Any:
        plan = self._plan.nodes.get(node)
        if plan is None or not plan.is_worker:
            raise UnknownNodeError(f"{node!r} is not a node with replicas; they are "
                                   f"{self.replica_nodes()}", node)
        return plan

    def _apply(self, node: str, values: dict[str, Any]) -> None:
        """Checked values (EARG units) to the node's Serve deployment (replicas, batching)
        or to the ingress (timeout, retries, a split's weights), in place."""
        if "weights" in values:  # a split: the ingress routes, Serve's user_config tells it
            split = self._plan.nodes[node]
            weights = values["weights"]
            split.succ = [(dst, when, weights[dst]) for dst, when, _w in split.succ]
            with self._lock:
                self._ingress_config.setdefault(node, {})["weights"] = dict(weights)
                self._redeploy(self._overrides, self._ingress_config)
            return
        plan = self._worker(node)
        changes: dict[str, Any] = {}
        raw: dict[str, Any] = next((n for n in (self._earg or {}).get("nodes", []) if n.get("name") == node), {})
        if "replicas" in values and raw.get("autoscale") is not None:
            raise ReconfigureError(f"node {node!r} has replicas = auto(...): Serve's autoscaler sets its "
                                   "replicas; change its bounds in the graph", node, "replicas")
        for attr, value in values.items():
            if attr == "replicas":
                plan.replicas = changes["num_replicas"] = value
            elif attr == "batch":
                plan.batch_size = changes["batch_size"] = value
            elif attr == "batch_wait":
                plan.batch_wait = changes["batch_wait_s"] = value / 1000.0
            elif attr == "timeout":
                plan.timeout = value / 1000.0
                self._ingress_config.setdefault(node, {})["timeout"] = plan.timeout
            elif attr == "retries":
                plan.retries = value
                self._ingress_config.setdefault(node, {})["retries"] = plan.retries
        self._redeploy_node(node, **changes)

    # -- placement ----------------------------------------------------------------------
    def placement(self) -> dict[str, dict[str, dict[str, int]]]:
        """Per worker node: the replicas the graph's placement put on each machine
        (``planned``) and those Serve runs there now (``running``), machines named by
        their ``hogar-worker`` label (an unlabelled one by ``node:<id prefix>``)."""
        import ray
        from ray._private import state  # the actor table; the public state API needs the dashboard

        from ...export.ray_placement import WORKER_LABEL, planned_workers

        machines = {}
        for n in ray.nodes():
            if n.get("Alive"):
                label = (n.get("Labels") or {}).get(WORKER_LABEL)
                machines[n["NodeID"]] = label or f"node:{n['NodeID'][:8]}"
        prefix = f"SERVE_REPLICA::{self._app}#"
        running: dict[str, dict[str, int]] = {}
        for actor in state.actors(actor_state_name="ALIVE").values():
            name = actor.get("Name") or ""
            if not name.startswith(prefix):
                continue
            node = name[len(prefix):].split("#", 1)[0]
            machine = machines.get(actor["Address"]["NodeID"], "gone")
            running.setdefault(node, {})
            running[node][machine] = running[node].get(machine, 0) + 1
        placement = (self._earg or {}).get("placement")
        return {node: {"planned": dict(sorted(planned_workers(placement, node).items())),
                       "running": dict(sorted(running.get(node, {}).items()))}
                for node in self.replica_nodes()}

    # -- faults -------------------------------------------------------------------------
    def replica_actors(self, node: str) -> list[str]:
        """Names of the node's live replica actors (in Ray's "serve" namespace)."""
        import ray

        self._worker(node)
        prefix = f"SERVE_REPLICA::{self._app}#{node}#"
        return sorted(a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
                      if a["name"].startswith(prefix))

    def kill_replica(self, node: str, index: int | None = None) -> str:
        """Kill one replica actor of ``node`` (Serve's controller replaces it)."""
        import ray

        actors = self.replica_actors(node)
        if not actors:
            raise RuntimeError(f"node {node!r} has no live replica to kill")
        name = actors[index if index is not None else random.randrange(len(actors))]
        ray.kill(ray.get_actor(name, namespace="serve"), no_restart=True)
        self._events.append(RecoveryEvent(time.time(), node, actors.index(name), "crash", "restart", 0.0))
        return name

    def inject_fault(self, node: str, kind: str = "crash", rate: float = 1.0, delay_ms: float = 100.0,
                     count: int | None = None, seed: int | None = None) -> None:
        """``crash`` with ``count``: kill that many replica actors now; otherwise every call at
        ``node`` crashes (its replica exits), hangs, slows by ``delay_ms`` or raises, with
        probability ``rate``."""
        from ...runtime.faults import FAULT_KINDS

        self._worker(node)
        if kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {rate!r}")
        if kind == "crash" and count is not None:
            for _ in range(count):
                self.kill_replica(node)
            return
        self._redeploy_node(node, fault={"kind": kind, "rate": rate, "delay_s": delay_ms / 1000.0})

    def clear_faults(self) -> None:
        """Remove every injected fault (and release injected hangs)."""
        for node, entry in list(self._overrides.items()):
            if (entry.get("user_config") or {}).get("fault"):
                self._redeploy_node(node, fault=None)
