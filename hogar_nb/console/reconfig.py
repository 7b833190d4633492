"""Check a live change of a node's settings against the core's ranges before sending it."""

from __future__ import annotations

from typing import Any

from ..core.kinds import RECONFIGURABLE, WORKER_KINDS
from .config import ConsoleError

__all__ = ["capacity_warning", "check_change", "machine_cpus"]


def check_change(earg: dict, node: str, attr: str, text: str) -> Any:
    """The value to send for ``attr`` of ``node`` (durations in ms), or ConsoleError saying why not."""
    from ..core.coerce import CoerceError, coerce
    from ..core.kinds import attrs_for_kind
    from ..core.udgl.values_parser import parse_value
    from ..errors import DiagnosticError

    nodes = {n["name"]: n for n in earg.get("nodes", [])}
    if node not in nodes:
        raise ConsoleError(f"node {node!r} is not in this graph; nodes are {', '.join(sorted(nodes)) or 'none'}")
    if attr not in RECONFIGURABLE:
        raise ConsoleError(f"got {attr!r}; a running node's {', '.join(RECONFIGURABLE)} can change")
    kind = nodes[node].get("kind", "python")
    if kind not in WORKER_KINDS:
        raise ConsoleError(f"node {node!r} is a {kind} node, which runs inline and has no replicas or queue")
    spec = attrs_for_kind(kind)[attr]
    raw = (text or "").strip()
    if not raw:
        raise ConsoleError(f"give a value for `{attr}` of node {node!r}")
    try:
        value = parse_value(raw)
    except DiagnosticError as err:
        raise ConsoleError(f"cannot read {raw!r} for `{attr}` of node {node!r}: {err.diagnostics[0].message}") from None
    try:
        normal = coerce(spec, value)
    except CoerceError as err:
        hint = f" ({err.hint})" if err.hint else ""
        raise ConsoleError(f"{err.message} (node {node!r}){hint}") from None
    return normal


def machine_cpus() -> int:
    """The CPUs this process may run on (its affinity, else the machine's count)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def capacity_warning(earg: dict, node: str, replicas: int, here: bool, cpus: int | None = None) -> str:
    """Why ``replicas`` of ``node`` is more than can run, or "": the CPUs every replica of the
    graph asks for (each node's ``cpu`` times its replicas, with the change) against the
    graph's ``cluster`` and, for a deployment running on this machine (``here``), its CPUs."""
    nodes = earg.get("nodes", [])

    def cpu_of(n: dict) -> float:
        return float((n.get("resources") or {}).get("cpu") or 0)

    total = sum(cpu_of(n) * (replicas if n.get("name") == node else int(n.get("replicas") or 1))
                for n in nodes if n.get("kind", "python") in WORKER_KINDS)
    mine = next((n for n in nodes if n.get("name") == node), {})
    asked = f"{node} × {replicas} asks for {cpu_of(mine) * replicas:g} CPUs, the graph for {total:g} in all"
    limits = []
    cluster = earg.get("cluster") or {}
    if cluster.get("workers") and cluster.get("cpu") is not None:
        room = float(cluster["workers"]) * float(cluster["cpu"])
        if total > room:
            limits.append(f"its cluster has {room:g} ({cluster['workers']} workers × {float(cluster['cpu']):g} CPUs)")
    if here:
        cpus = machine_cpus() if cpus is None else cpus
        if total > cpus:
            limits.append(f"this machine has {cpus}")
    if not limits:
        return ""
    return f"{asked}; " + " and ".join(limits) + ": replicas will compete for CPUs and respond slowly"
