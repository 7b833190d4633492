"""Checks for changing a running node (``scale`` and ``reconfigure`` on any backend).

Values are checked with the language's own attribute specs (the same ranges as
``hogar check``) before anything changes; :class:`~hogar_nb.runtime.base.DeploymentBase`
then has the backend apply them and records the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..core.kinds import RECONFIGURABLE
from .errors import ReconfigureError, UnknownNodeError

if TYPE_CHECKING:  # pragma: no cover
    from .plan import NodePlan

__all__ = ["check_attrs", "current_settings", "shown", "update_document"]


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
        value = coerce(spec, value)
    except CoerceError as exc:
        raise ReconfigureError(f"node {node!r}: {exc.message}", node, attr) from None
    if attr == "replicas" and not isinstance(value, int):
        raise ReconfigureError(f"node {node!r}: a running node scales to a number of replicas; "
                               "`auto(...)` is set in the graph", node, attr)
    return value


def check_attrs(node: str, replica_nodes: list[str], attrs: Mapping[str, Any]) -> dict[str, Any]:
    """The normalised values (replicas/batch/retries ints, durations in ms), or raise
    UnknownNodeError (``node`` is not in ``replica_nodes``) or ReconfigureError."""
    if node not in replica_nodes:
        raise UnknownNodeError(f"{node!r} is not a node with replicas; they are {sorted(replica_nodes)}",
                               node)
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


def current_settings(plan: NodePlan) -> dict[str, Any]:
    """A running node's reconfigurable settings, in the units :func:`check_attrs` returns."""
    return {"replicas": plan.replicas, "batch": plan.batch_size, "batch_wait": plan.batch_wait * 1000,
            "timeout": plan.timeout * 1000, "retries": plan.retries}


def shown(attr: str, value: Any) -> str:
    """``value`` as an event's detail shows it (durations as UDGL text)."""
    from ..core.values import format_duration

    return format_duration(value) if attr in ("batch_wait", "timeout") else str(value)


def update_document(doc: dict, node: str, attr: str, value: Any) -> None:
    """Write a checked value into the node's entry of an EARG document (EARG units)."""
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
