"""Errors of the embedded engine.

Every failed request ends with a :class:`RequestError`; its ``cause`` string (one
of :data:`CAUSES`) is the key used for "errors by cause" in metrics and load
reports, and every HTTP front maps it to a status (:data:`HTTP_STATUS`, with the
wire form in :mod:`hogar_nb.core.error_wire`). Every backend raises these same classes.
"""

from __future__ import annotations

from ..core.error_wire import HTTP_STATUS, ErrorWire
from ..errors import HogarRuntimeError

__all__ = [
    "BadRequestError",
    "CAUSES",
    "DeploymentConfigError",
    "DeploymentStoppedError",
    "ERROR_CLASSES",
    "GPUWarning",
    "HTTP_STATUS",
    "InvalidInputError",
    "NodeError",
    "OverloadError",
    "ReconfigureError",
    "ReplicaCrashError",
    "RequestError",
    "RequestTimeoutError",
    "RouteError",
    "UnavailableError",
    "UnknownNodeError",
    "error_from_wire",
]


class DeploymentConfigError(HogarRuntimeError):
    """The graph cannot be started (impl not found, unknown model format, ...).

    ``problems`` lists ``(node, message)`` for each node that cannot start, when
    the check before starting found them."""

    def __init__(self, message: str, problems: list[tuple[str | None, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = list(problems or [])


class ReconfigureError(DeploymentConfigError, ValueError):
    """A value given to ``scale``/``reconfigure`` is out of range or cannot change
    while running; ``node`` and ``attribute`` say which."""

    def __init__(self, message: str, node: str | None = None, attribute: str | None = None) -> None:
        super().__init__(message, [(node, message)])
        self.node = node
        self.attribute = attribute


class UnknownNodeError(ReconfigureError, KeyError):
    """``scale``/``reconfigure`` named a node that has no replicas (or does not exist)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class GPUWarning(UserWarning):
    """A node asks for GPUs, which the embedded engine does not place replicas on."""


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


class BadRequestError(RequestError):
    """The payload cannot be used at all (e.g. cannot be shipped to a process replica);
    only this request fails."""

    cause = "bad_request"


class InvalidInputError(NodeError):
    """A model rejected the input's shape or types (the impl's own check)."""

    cause = "invalid_input"


CAUSES = ("overload", "timeout", "unavailable", "bad_request", "invalid_input", "error",
          "crash", "route", "stopped")

ERROR_CLASSES: dict[str, type[RequestError]] = {cls.cause: cls for cls in (
    OverloadError, RequestTimeoutError, UnavailableError, BadRequestError, InvalidInputError,
    NodeError, ReplicaCrashError, RouteError, DeploymentStoppedError)}


def error_from_wire(wire: ErrorWire) -> RequestError:
    """The exception a failed request's wire form stands for (its class by ``cause``)."""
    return ERROR_CLASSES.get(wire.cause, RequestError)(wire.message, wire.node)
