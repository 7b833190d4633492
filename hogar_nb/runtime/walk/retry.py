"""The retry decision and every message of a failed attempt.

A node's attempt fails with one of these causes:

========== ==================================================================
``crash``  the replica died while running it (retried up to ``retries``)
``timeout`` the node did not answer within its ``timeout`` (retried likewise)
``error``  the impl raised (retried only with ``retry_errors``); when the
           exception says the input is wrong (:func:`rejects_input`) it is
           never retried and fails as ``invalid_input``
``late``   the request's deadline passed before the node ran it (never retried)
========== ==================================================================

Retries wait ``base * 2**attempt`` seconds (capped), jittered by x0.5..1.5, and only
when the retry can start before the request's deadline.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ..errors import (
    InvalidInputError,
    NodeError,
    ReplicaCrashError,
    RequestError,
    RequestTimeoutError,
)
from ..plan import NodePlan

__all__ = ["ATTEMPT_CAUSES", "RAY_POLICY", "RetryPolicy", "allowed_retries", "attempt_error", "rejects_input", "retry_delay"]

ATTEMPT_CAUSES = frozenset({"crash", "timeout", "error", "late"})


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait before a retry.

    ``base`` is the first retry's backoff, doubled per attempt up to ``cap``.
    ``crash_backoff``, when set, replaces that schedule for crashes and lets a crash
    be retried at least ``len(crash_backoff)`` times whatever ``retries`` says: on
    Ray Serve a dead replica actor is replaced by Serve's controller while the
    callers wait, where the embedded engine replaces it itself before the retry.
    """

    base: float = 0.005
    cap: float = 1.0
    crash_backoff: tuple[float, ...] = ()


RAY_POLICY = RetryPolicy(crash_backoff=(0.05, 0.1, 0.2, 0.4, 0.8, 1.0))


def rejects_input(exc: BaseException | None) -> bool:
    """Whether an impl's exception says the input has the wrong shape or types."""
    if exc is None:
        return False
    if isinstance(exc, InvalidInputError):
        return True
    from ...models.errors import ModelInputError  # light: the errors module only

    return isinstance(exc, ModelInputError)


def allowed_retries(plan: NodePlan, cause: str, policy: RetryPolicy) -> int:
    """How many retries ``cause`` gets at ``plan``."""
    if cause == "late":
        return 0
    allowed = plan.retries if cause != "error" or plan.retry_errors else 0
    if cause == "crash" and policy.crash_backoff:
        allowed = max(allowed, len(policy.crash_backoff))
    return allowed


def retry_delay(policy: RetryPolicy, cause: str, attempt: int, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt + 1``."""
    if cause == "crash" and policy.crash_backoff:
        return policy.crash_backoff[min(attempt, len(policy.crash_backoff) - 1)]
    return min(policy.base * 2 ** attempt, policy.cap) * rng.uniform(0.5, 1.5)


def _tries(n: int) -> str:
    return f"after {n} attempt{'s' * (n != 1)}"


def attempt_error(plan: NodePlan, cause: str, attempt: int, exc: BaseException | None = None,
                  detail: str = "", late: bool = False) -> RequestError:
    """The error a request fails with when attempt ``attempt`` (0-based) at ``plan``
    ended with ``cause`` and no retry follows; ``late``: a retry was allowed but the
    deadline left no time for it. ``detail`` stands in for ``exc`` when the driver
    only has the exception's text."""
    name = plan.name
    if cause == "late":
        return RequestTimeoutError(
            f"node {name!r} dropped the request before running it: its deadline passed while it "
            f"waited", name)
    if cause == "invalid_input" or (cause == "error" and rejects_input(exc)):
        err: RequestError = InvalidInputError(
            f"node {name!r} rejected the input: {exc if exc is not None else detail}", name)
        err.__cause__ = exc
        return err
    tail = ", no time left for a retry before the request's deadline" if late else ""
    tries = f"{_tries(attempt + 1)} (retries = {plan.retries}{tail})"
    if cause == "error":
        if not plan.retry_errors and plan.retries:
            tries = f"{_tries(attempt + 1)} (an impl's exception is retried only with retry_errors)"
        err = NodeError(f"node {name!r} raised {repr(exc) if exc is not None else detail} {tries}", name)
        err.__cause__ = exc
        return err
    if cause == "timeout":
        return RequestTimeoutError(
            f"node {name!r} did not answer within its timeout of {plan.timeout * 1000:g} ms {tries}", name)
    return ReplicaCrashError(f"node {name!r}: the replica crashed {tries}", name)
