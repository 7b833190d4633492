"""Errors of the embedded engine.

Every failed request ends with a :class:`RequestError`; its ``cause`` string
("overload", "timeout", "error", "crash", "route", "stopped", "unavailable")
is the key used for "errors by cause" in metrics and load reports.
"""

from __future__ import annotations

from ..errors import HogarRuntimeError

__all__ = [
    "DeploymentConfigError",
    "DeploymentStoppedError",
    "NodeError",
    "OverloadError",
    "ReplicaCrashError",
    "RequestError",
    "RequestTimeoutError",
    "RouteError",
    "UnavailableError",
]


class DeploymentConfigError(HogarRuntimeError):
    """The graph cannot be started (impl not found, unknown model format, ...)."""


class RequestError(HogarRuntimeError):
    """A request ended without a result; ``cause`` says why, ``node`` where."""

    cause = "error"

    def __init__(self, message: str, node: str | None = None) -> None:
        super().__init__(message)
        self.node = node


class OverloadError(RequestError):
    """A bounded queue was full: the request was refused (backpressure)."""

    cause = "overload"


class RequestTimeoutError(RequestError):
    """An attempt (or the caller's wait) took longer than its timeout."""

    cause = "timeout"


class NodeError(RequestError):
    """The node's impl raised; ``__cause__`` is the original exception."""

    cause = "error"


class ReplicaCrashError(RequestError):
    """The replica running the request crashed or died, and retries ran out."""

    cause = "crash"


class RouteError(RequestError):
    """A switch found no matching edge, or no branch reached the response sink."""

    cause = "route"


class DeploymentStoppedError(RequestError):
    """The deployment was stopped before the request finished (or was submitted)."""

    cause = "stopped"


class UnavailableError(RequestError):
    """The node has no live replica and its recovery policy will not replace one."""

    cause = "unavailable"
