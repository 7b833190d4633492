"""Graphs that steer themselves: the autoscaler (and, beside it, shadow traffic and
rollouts). Everything here reads a deployment's metrics and events and acts through
the Deployment base's ``scale`` and ``reconfigure``; nothing reaches into a backend.

    Autoscaler(dep).start()      scale every ``replicas = auto(...)`` node of ``dep``
    attach_autoscaler(dep)       the same, when the graph has such nodes (``run`` does it)
    ShadowMonitor(dep)           compare each mirror edge's candidate with what it shadows
    rollout_action(dep, split, action, ...)   start, pause, resume, promote, abort a rollout
                                 (``dep.rollout(...)`` and the admin API call it)
"""

from __future__ import annotations

from typing import Any

from .autoscaler import Autoscaler, Decision, autoscaled_nodes
from .rollout import Rollout, RolloutError, RolloutPolicy
from .shadow import ShadowMonitor, ShadowReport, mirror_pairs

__all__ = ["Autoscaler", "Decision", "ROLLOUT_ACTIONS", "Rollout", "RolloutError", "RolloutPolicy",
           "ShadowMonitor", "ShadowReport", "attach_autoscaler", "autoscaled_nodes", "mirror_pairs",
           "rollout_action"]

ROLLOUT_ACTIONS = ("start", "pause", "resume", "promote", "abort", "status")


def attach_autoscaler(dep: Any) -> Autoscaler | None:
    """Start an :class:`Autoscaler` on ``dep`` when its graph has autoscaled nodes;
    it is kept as ``dep.autoscaler`` and ends with the deployment."""
    if not autoscaled_nodes(dep.earg):
        return None
    scaler = Autoscaler(dep).start()
    dep.autoscaler = scaler
    return scaler


def rollout_action(dep: Any, split: str, action: str = "start", candidate: str | None = None,
                   **policy: Any) -> Rollout:
    """Start a rollout of ``candidate`` at ``split`` (``policy``: :class:`RolloutPolicy`'s
    fields), or pause, resume, promote, abort it or read its status; the rollouts of a
    deployment are kept in ``dep.rollouts`` by split."""
    if action not in ROLLOUT_ACTIONS:
        raise RolloutError(f"got {action!r} for the action; expected one of {', '.join(ROLLOUT_ACTIONS)}")
    current = dep.rollouts.get(split)
    if action == "start":
        if current is not None and not current.done:
            raise RolloutError(f"split {split!r} already rolls out {current.candidate!r} ({current.state}); "
                               "abort or promote it first")
        if candidate is None:
            raise RolloutError("starting a rollout needs the candidate: one of the split's successors")
        try:
            rollout = Rollout(dep, split, candidate, RolloutPolicy(**policy))
        except TypeError as exc:
            raise RolloutError(f"unknown rollout setting: {exc}") from None
        if current is not None:
            current.close()
        dep.rollouts[split] = rollout
        return rollout.start()
    if policy or candidate is not None:
        raise RolloutError(f"`{action}` takes no settings; they are given at `start`")
    if current is None:
        raise RolloutError(f"no rollout at split {split!r}; start one first")
    if action != "status":
        getattr(current, action)()
    return current
