"""A resolved node's attributes as the user writes them in UDGL, with the EARG key
each one becomes (``timeout = 250ms`` with ``timeout_ms`` as a hint)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from ..core.model import ResolvedNode

__all__ = ["recovery_text", "udgl_rows"]

Row = tuple[str, str, str]  # UDGL name, UDGL value, EARG key


def recovery_text(recovery: dict) -> str:
    """``restart``, ``restart(max = 3, backoff = 20ms)``, ``failover`` or ``none``."""
    from ..core.values import format_duration

    policy = str(recovery.get("policy", "restart"))
    if policy != "restart":
        return policy
    args = []
    if recovery.get("max_restarts", 5) != 5:
        args.append(f"max = {recovery['max_restarts']}")
    if recovery.get("backoff_ms", 100.0) != 100.0:
        args.append(f"backoff = {format_duration(float(recovery['backoff_ms']))}")
    return f"restart({', '.join(args)})" if args else "restart"


def _value(value: Any) -> str:
    from ..core.values import format_value

    if value is None:
        return "—"
    if callable(value):
        return getattr(value, "__qualname__", repr(value))
    try:
        return format_value(value)
    except (TypeError, ValueError):
        return str(value)


def udgl_rows(node: "ResolvedNode", written: dict | None = None) -> list[Row]:
    """Every resolved attribute of ``node``, in UDGL spelling and units; ``written``
    (the node's own attributes) keeps a notebook name in ``impl`` bare."""
    from ..core.kinds import COMBINE_MODES
    from ..core.values import Ident, format_duration, format_size

    def duration(ms: float | None) -> str:
        return "—" if ms is None else format_duration(float(ms)) if ms else "0ms"

    impl = _value(node.impl)
    if isinstance((written or {}).get("impl"), Ident) and isinstance(node.impl, str):
        impl = node.impl  # a name bound in the notebook, written without quotes
    rows: list[Row] = [
        ("impl", impl, "impl"),
        ("replicas", _value(node.replicas), "replicas"),
        ("cpu", f"{node.cpu:g}", "resources.cpu"),
        ("gpu", f"{node.gpu:g}", "resources.gpu"),
        ("memory", format_size(node.memory_bytes) if node.memory_bytes else "0", "resources.memory_bytes"),
        ("batch", _value(node.batch_size), "batch.max_size"),
        ("batch_wait", duration(node.batch_wait_ms), "batch.max_wait_ms"),
        ("timeout", duration(node.timeout_ms), "timeout_ms"),
        ("retries", _value(node.retries), "retries"),
        ("recovery", recovery_text(node.recovery), "recovery"),
        ("latency", duration(node.latency_ms), "latency_ms"),
        ("isolation", str(node.isolation), "isolation"),
    ]
    if node.kind in ("source", "sink", "split", "ensemble"):
        rows = [r for r in rows if r[0] != "impl" or node.impl is not None]
    if node.description is not None:
        rows.append(("description", _value(node.description), "description"))
    for key in sorted(node.extra):
        value = node.extra[key]
        if value is not None:
            bare = key == "combine" and value in COMBINE_MODES
            rows.append((key, value if bare else _value(value), key))
    return rows
