"""What the walker asks its driver to do, and the per-request state it walks.

A driver (the embedded engine, the Ray ingress) performs each action with its own
means: threads and queues, or ``DeploymentHandle`` calls. An :class:`Enqueue` is
also the job the driver holds while the node runs it: the driver hands the same
object back in :meth:`~.walker.Walker.produced` or :meth:`~.walker.Walker.failed`.
"""

from __future__ import annotations

from typing import Any, Union

from ..errors import RequestError

__all__ = ["Action", "Complete", "Enqueue", "Fail", "INF", "Retry", "SideOutput", "Walk"]

INF = float("inf")


class Walk:
    """One request's state in the walker: its id, start time, deadline and joins.

    Times are in the driver's clock (whatever ``now`` it passes to the walker).
    ``deadline`` is ``INF`` when the request has none; ``timeout`` is the caller's
    timeout it came from (for messages); ``alone`` is set when the request runs one
    worker node by itself (its answer is the result). Drivers may subclass it to
    attach their own handle (a future, an event) to the request. ``context`` is the
    request's :class:`~.context.RequestContext` (or None), handed to observers with
    its events; ``observed``: whether its events are published (the walker decides at
    the start). ``trail`` gathers an observed request's steps while only observers
    of observed requests listen (one flat list of Step fields); its end event carries
    them all at once.
    """

    __slots__ = ("id", "t0", "deadline", "timeout", "joins", "finished", "context", "observed", "alone", "trail")

    def __init__(self, rid: int, t0: float, deadline: float = INF, timeout: float | None = None,
                 context: Any = None) -> None:
        self.id = rid
        self.context = context
        self.t0 = t0
        self.deadline = deadline
        self.timeout = timeout
        self.joins: dict[str, dict[str, Any]] | None = None
        self.finished = False
        self.observed = False
        self.alone = False
        self.trail: list[Any] | None = None


class Enqueue:
    """Run ``payload`` on worker node ``node`` (attempt ``attempt``, 0 for the first).

    ``entry`` is true for the first hop from the source: a driver may let the caller
    wait for room there (backpressure) where an inner hop never waits long.
    ``shadow`` is true for a copy sent along a mirror edge: the driver runs it apart
    from the request (never waiting for room, never holding the response back), and
    its outcome goes to observers only.
    """

    __slots__ = ("walk", "node", "payload", "src", "attempt", "entry", "shadow")

    def __init__(self, walk: Walk, node: str, payload: Any, src: str | None, attempt: int = 0,
                 entry: bool = False, shadow: bool = False) -> None:
        self.walk = walk
        self.node = node
        self.payload = payload
        self.src = src
        self.attempt = attempt
        self.entry = entry
        self.shadow = shadow

    def __repr__(self) -> str:
        return f"Enqueue({self.node!r}, {self.payload!r}, attempt={self.attempt})"


class Retry:
    """Enqueue ``job`` again (its ``attempt`` already counts the retry) after ``delay`` s."""

    __slots__ = ("job", "delay")

    def __init__(self, job: Enqueue, delay: float) -> None:
        self.job = job
        self.delay = delay

    def __repr__(self) -> str:
        return f"Retry({self.job.node!r}, attempt={self.job.attempt}, delay={self.delay:.4f})"


class Complete:
    """The request's result is ``value`` (it reached the response sink)."""

    __slots__ = ("walk", "value")

    def __init__(self, walk: Walk, value: Any) -> None:
        self.walk = walk
        self.value = value

    def __repr__(self) -> str:
        return f"Complete({self.value!r})"


class Fail:
    """The request failed with ``error`` (its ``cause`` and ``node`` say why and where)."""

    __slots__ = ("walk", "error")

    def __init__(self, walk: Walk, error: RequestError) -> None:
        self.walk = walk
        self.error = error

    def __repr__(self) -> str:
        return f"Fail({type(self.error).__name__}: {self.error})"


class SideOutput:
    """``value`` reached the side-output sink ``sink`` (not the response)."""

    __slots__ = ("walk", "sink", "value")

    def __init__(self, walk: Walk, sink: str, value: Any) -> None:
        self.walk = walk
        self.sink = sink
        self.value = value

    def __repr__(self) -> str:
        return f"SideOutput({self.sink!r}, {self.value!r})"


Action = Union[Enqueue, Retry, Complete, Fail, SideOutput]
