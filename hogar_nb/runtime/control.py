"""Change a running node: ``Deployment.scale`` and ``Deployment.reconfigure``.

Values are checked with the language's own attribute specs (the same ranges as
``hogar check``) before anything changes; the change is then applied to the live
node and recorded as an event with action ``scale`` or ``reconfigure``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.kinds import RECONFIGURABLE
from .errors import ReconfigureError, UnknownNodeError

if TYPE_CHECKING:  # pragma: no cover
    from .deployment import Deployment

__all__ = ["check_attrs", "reconfigure"]


def _check(node: str, attr: str, value: Any) -> Any:
    """``value`` (a UDGL value, its text, or a number in EARG units) normalised."""
    from ..core.coerce import CoerceError, coerce
    from ..core.kinds import COMMON_ATTRS
    from ..core.values import Duration

    spec = COMMON_ATTRS[attr]
    if isinstance(value, str):
        from ..core.udgl import parse_value

        try:
            value = parse_value(value)
        except Exception as exc:  # the value parser's own diagnostics
            raise ReconfigureError(f"node {node!r}: cannot read {value!r} as a value of `{attr}`: {exc}",
                                   node, attr) from None
    if spec.type == "duration" and isinstance(value, (int, float)) and not isinstance(value, bool):
        value = Duration(float(value))
    try:
        return coerce(spec, value)
    except CoerceError as exc:
        raise ReconfigureError(f"node {node!r}: {exc.message}", node, attr) from None


def check_attrs(dep: Deployment, node: str, attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised values (replicas/batch/retries ints, durations in ms), or raise."""
    workers = dep._engine.workers
    if node not in workers:
        raise UnknownNodeError(f"{node!r} is not a node with replicas; they are {sorted(workers)}", node)
    if not attrs:
        raise ReconfigureError(f"node {node!r}: nothing to change; attributes are "
                               + ", ".join(RECONFIGURABLE), node)
    out = {}
    for attr, value in attrs.items():
        if attr not in RECONFIGURABLE:
            raise ReconfigureError(f"node {node!r}: `{attr}` cannot be changed while running; "
                                   f"these can: {', '.join(RECONFIGURABLE)}", node, attr)
        out[attr] = _check(node, attr, value)
    return out


def _shown(attr: str, value: Any) -> str:
    from ..core.values import format_duration

    return format_duration(value) if attr in ("batch_wait", "timeout") else str(value)


def reconfigure(dep: Deployment, node: str, attrs: Mapping[str, Any]) -> None:
    """Check every value, then apply them to the running node and record the events."""
    from .errors import DeploymentStoppedError

    values = check_attrs(dep, node, attrs)
    if not dep.running:
        raise DeploymentStoppedError(f"deployment {dep.name!r} is stopped", node)
    engine = dep._engine
    worker = engine.workers[node]
    plan = worker.plan
    current = {"replicas": plan.replicas, "batch": plan.batch_size, "batch_wait": plan.batch_wait * 1000,
               "timeout": plan.timeout * 1000, "retries": plan.retries}
    for attr, value in values.items():
        t0, wall = time.monotonic(), time.time()
        if attr == "replicas":
            worker.scale(value)
        elif attr == "batch":
            plan.batch_size = value
        elif attr == "batch_wait":
            plan.batch_wait = value / 1000.0
        elif attr == "timeout":
            plan.timeout = value / 1000.0
        else:
            plan.retries = value
        _update_document(dep, node, attr, value)
        detail = f"{attr} {_shown(attr, current[attr])} -> {_shown(attr, value)}"
        engine.record_event(wall, node, -1, "operator", "scale" if attr == "replicas" else "reconfigure",
                            time.monotonic() - t0, detail=detail)


def _update_document(dep: Deployment, node: str, attr: str, value: Any) -> None:
    doc = dep._earg
    if doc is None:
        return
    entry = next((n for n in doc.get("nodes", []) if n.get("name") == node), None)
    if entry is None:
        return
    if attr in ("replicas", "retries"):
        entry[attr] = value
    elif attr == "timeout":
        entry["timeout_ms"] = float(value)
    else:
        batch = dict(entry.get("batch") or {"max_size": 1, "max_wait_ms": 0.0})
        batch["max_size" if attr == "batch" else "max_wait_ms"] = value if attr == "batch" else float(value)
        entry["batch"] = batch
