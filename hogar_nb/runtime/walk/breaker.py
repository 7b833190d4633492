"""A node's circuit breaker: when failed replicas suspend it, when it is tried again,
when it resumes, and how long each replacement waits (docs/udgl.md, "Recovery").

The driver reports what it sees — a replica failed, a call was served, the
suspension's delay passed — and performs the :class:`Transition` it gets back: the
embedded engine starts the replacement itself, Ray Serve's controller does; both
record the transition as a recovery event. While a node is suspended the walker
fails what would go to it with the breaker's :class:`UnavailableError`, so both
backends suspend and resume alike.

    serving --(failure with max_restarts already within `within`)--> suspended
    suspended --(suspend delay passed)--> half_open --(a call served)--> serving
    half_open --(failure)--> suspended (the delay doubled)
"""

from __future__ import annotations

from collections import deque
from typing import NamedTuple

from ..errors import UnavailableError
from ..plan import NodePlan

__all__ = ["Breaker", "BreakerSteps", "MAX_BACKOFF", "Transition"]

MAX_BACKOFF = 5.0


class Transition(NamedTuple):
    """What the driver does after a breaker event, and records as a recovery event.

    ``action`` is ``restart`` (replace the replica after ``delay`` s), ``suspend``
    (try again after ``delay`` s: call :meth:`Breaker.half_open` then), ``half_open``
    or ``resume``; ``duration`` is the time since the suspension (half_open, resume)."""

    action: str
    delay: float = 0.0
    detail: str = ""
    duration: float = 0.0


class Breaker:
    """One node's breaker state. Not thread-safe: a driver with threads holds a lock
    of its own around each call (the embedded engine holds the node's)."""

    __slots__ = ("plan", "state", "streak", "window", "suspended_at")

    def __init__(self, plan: NodePlan) -> None:
        self.plan = plan
        self.state = "serving"  # serving | suspended | half_open
        self.streak = 0  # failures since the node last served a call
        self.window: deque[float] = deque()  # restart times counted toward the intensity
        self.suspended_at = 0.0

    def backoff_delay(self) -> float:
        """0 for the first failure after a served call, then backoff, 2 x backoff, ..."""
        if self.streak <= 1:
            return 0.0
        return min(self.plan.backoff * 2 ** min(self.streak - 2, 16), MAX_BACKOFF)

    def suspend_delay(self) -> float:
        """How long a suspension lasts: backoff doubled per failure in a row, capped."""
        return min(self.plan.backoff * 2 ** min(max(self.streak - 1, 0), 16), MAX_BACKOFF)

    def failure(self, now: float, cause: str = "crash", detail: str = "") -> Transition:
        """A replica failed (``cause``, ``detail`` for the event) under a policy that
        replaces it: a ``restart`` after the backoff, or ``suspend``."""
        plan = self.plan
        self.streak += 1
        window = self.window
        while window and window[0] < now - plan.within:
            window.popleft()
        if self.state == "serving" and len(window) < plan.max_restarts:
            window.append(now)
            return Transition("restart", self.backoff_delay())
        was = self.state
        self.state = "suspended"
        self.suspended_at = now
        delay = self.suspend_delay()
        why = (f"the half-open try failed ({detail or cause})" if was == "half_open" else
               f"{len(window)} restarts within {plan.within:g} s with no request served")
        return Transition("suspend", delay, f"{why}; next try in {delay:.3g} s")

    def served(self, now: float) -> Transition | None:
        """A call succeeded: the backoff and the window start over; a half-open node
        resumes (``resume``; None when nothing changed state)."""
        if not self.streak and self.state == "serving":
            return None
        self.streak = 0
        self.window.clear()
        if self.state != "half_open":
            return None
        self.state = "serving"
        return Transition("resume", 0.0, "a request was served again", now - self.suspended_at)

    def half_open(self, now: float) -> Transition | None:
        """The suspension's delay passed: traffic is let in again (None when the node
        is no longer suspended)."""
        if self.state != "suspended":
            return None
        self.state = "half_open"
        self.window.clear()
        return Transition("half_open", 0.0, "", now - self.suspended_at)

    def error(self, now: float) -> UnavailableError:
        """What a request meets at the node while it is suspended."""
        plan = self.plan
        left = max(self.suspended_at + self.suspend_delay() - now, 0.0)
        return UnavailableError(
            f"node {plan.name!r} is suspended: its replicas kept failing with no request served "
            f"({plan.max_restarts} restarts within {plan.within:g} s); it is tried again in {left:.2f} s",
            plan.name)


class BreakerSteps:
    """The walker's side of the circuit breaker: one :class:`Breaker` per worker node
    in ``breakers``, and the ``suspended`` nodes, which the walker reads on every hop."""

    breakers: dict[str, Breaker]
    suspended: set[str]

    def replica_failed(self, node: str, now: float, cause: str = "crash", detail: str = "") -> Transition:
        """A replica of ``node`` failed and its policy replaces it: ``restart`` after the
        backoff, or ``suspend`` the node (see :mod:`.breaker`); requests that would go to
        a suspended node fail with its UnavailableError until :meth:`half_open`."""
        transition = self.breakers[node].failure(now, cause, detail)
        if transition.action == "suspend":
            self.suspended.add(node)
        return transition

    def served(self, node: str, now: float) -> Transition | None:
        """A call of ``node`` succeeded: ``resume`` when it was half-open."""
        breaker = self.breakers[node]
        if not breaker.streak and breaker.state == "serving":
            return None
        return breaker.served(now)

    def half_open(self, node: str, now: float) -> Transition | None:
        """The suspension of ``node`` is over: traffic goes to it again (``half_open``)."""
        transition = self.breakers[node].half_open(now)
        if transition is not None:
            self.suspended.discard(node)
        return transition

    def unavailable(self, node: str, now: float) -> UnavailableError | None:
        """The error of a suspended ``node`` (for a retry about to run), else None."""
        return self.breakers[node].error(now) if node in self.suspended else None
