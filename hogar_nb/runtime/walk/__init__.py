"""The graph walker: every backend's request path, free of I/O.

A :class:`Walker` holds no threads, sockets or clocks (``now`` is passed in). Its
driver — the embedded engine with threads and queues, the Ray ingress with asyncio
and ``DeploymentHandle`` calls — tells it what happened and performs what it asks::

    events in (Walker methods)                actions out (returned, in order)
    ----------------------------------------  -------------------------------------
    start(walk, source, payload, now)         Enqueue(walk, node, payload, ...)
    produced(job, value, now)                 Retry(job, delay)
    failed(job, cause, now, exc, detail)      Complete(walk, value)
    refused(job, error, now)                  Fail(walk, error)
    deadline_passed(walk, now)                SideOutput(walk, sink, value)
    abort(walk, error, now)
    replica_failed(node, now, cause)          Transition: restart after d, or suspend
    served(node, now), half_open(node, now)   Transition: resume, half_open (or None)

``job`` is the :class:`Enqueue` the driver ran. Routing (switch, split, ensemble),
joins with skips of the branches not taken, ensemble combining, the retry decision
with its backoff bounded by the deadline, the circuit breaker that suspends a node
whose replicas keep failing (:mod:`.breaker`), and the message of every failure live
here only, so every backend routes, retries, suspends and fails alike.

Observers subscribe to the walker's :class:`ObserverHub` (``walker.hub.subscribe``;
``Deployment.subscribe`` on every backend) and receive :class:`WalkEvent` s off the
request path, through bounded queues; each event carries its request's
:class:`RequestContext` (request id, trace headers). An observer of some worker
nodes' inputs and outputs alone takes a cheaper :class:`Capture` of them instead
(``walker.capture(nodes)``): one tuple per answered attempt, no event.
"""

from __future__ import annotations

from .actions import INF, Action, Complete, Enqueue, Fail, Retry, SideOutput, Walk
from .breaker import Breaker, Transition
from .capture import Capture, Captured
from .context import RequestContext
from .observers import EventKind, ObserverHub, Step, Subscription, WalkEvent
from .retry import RAY_POLICY, RetryPolicy, attempt_error, rejects_input
from .walker import Walker

__all__ = [
    "Action",
    "Breaker",
    "Capture",
    "Captured",
    "Complete",
    "Enqueue",
    "EventKind",
    "Fail",
    "INF",
    "ObserverHub",
    "RAY_POLICY",
    "RequestContext",
    "Retry",
    "RetryPolicy",
    "SideOutput",
    "Step",
    "Subscription",
    "Transition",
    "Walk",
    "WalkEvent",
    "Walker",
    "attempt_error",
    "rejects_input",
]
