"""Check a live change of a node's settings against the core's ranges before sending it."""

from __future__ import annotations

from typing import Any

from ..core.kinds import RECONFIGURABLE, WORKER_KINDS
from .config import ConsoleError

__all__ = ["check_change"]


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
