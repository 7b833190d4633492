"""How a call on a replica can end other than with results (exceptions the
replica loop handles; none of them reaches the caller)."""

from __future__ import annotations

from typing import Any

__all__ = ["ImplError", "ReplicaFailure", "Unshippable"]


class ReplicaFailure(Exception):
    """The replica itself failed (``cause``: crash, died or hang); its work is retried."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class ImplError(Exception):
    """Wraps an exception raised by the impl (``error``; the replica survives it)."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(error)
        self.error = error


class Unshippable(Exception):
    """Some payloads (``outputs is None``) or results cannot cross to or from a
    process: ``bad`` maps their positions in the batch to the reason. Only those
    requests fail; the other payloads are queued again, or their ``outputs`` used."""

    def __init__(self, bad: dict[int, str], outputs: list[Any] | None) -> None:
        super().__init__(bad)
        self.bad = bad
        self.outputs = outputs
