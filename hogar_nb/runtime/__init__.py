"""The embedded engine: run an EARG graph in this process (threads or processes).

``run(graph)`` returns a :class:`Deployment`; errors live in :mod:`.errors`.
Submodules load on first use so ``import hogar_nb.runtime`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .deployment import Deployment, run
    from .errors import (
        CAUSES,
        HTTP_STATUS,
        BadRequestError,
        DeploymentConfigError,
        DeploymentStoppedError,
        GPUWarning,
        InvalidInputError,
        NodeError,
        OverloadError,
        ReconfigureError,
        ReplicaCrashError,
        RequestError,
        RequestTimeoutError,
        RouteError,
        UnavailableError,
        UnknownNodeError,
    )
    from .loadgen import LoadReport
    from .metrics import MetricsSnapshot, NodeMetrics, RecoveryEvent, Series
    from .protocol import DeploymentProtocol

__all__ = [
    "BadRequestError",
    "CAUSES",
    "Deployment",
    "DeploymentConfigError",
    "DeploymentProtocol",
    "DeploymentStoppedError",
    "GPUWarning",
    "HTTP_STATUS",
    "InvalidInputError",
    "LoadReport",
    "MetricsSnapshot",
    "NodeError",
    "NodeMetrics",
    "OverloadError",
    "ReconfigureError",
    "RecoveryEvent",
    "ReplicaCrashError",
    "RequestError",
    "RequestTimeoutError",
    "RouteError",
    "Series",
    "UnavailableError",
    "UnknownNodeError",
    "run",
]

_WHERE = {
    "Deployment": "deployment",
    "DeploymentProtocol": "protocol",
    "run": "deployment",
    "LoadReport": "loadgen",
    "MetricsSnapshot": "metrics",
    "NodeMetrics": "metrics",
    "RecoveryEvent": "metrics",
    "Series": "metrics",
}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module 'hogar_nb.runtime' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{_WHERE.get(name, 'errors')}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
