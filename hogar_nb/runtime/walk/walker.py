"""The graph walker: one request's way through the graph, as a state machine."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ...core.trail import ANSWERED, ENQUEUED, PASSED, STARTED, STEP, error_text
from ..errors import RequestError, RequestTimeoutError
from ..metrics import Stats
from ..plan import GraphPlan, NodePlan
from .actions import Action, Complete, Enqueue, Fail, Retry, Walk
from .breaker import Breaker, BreakerSteps
from .capture import Capture
from .delivery import DeliverySteps
from .observers import EventKind, ObserverHub, WalkEvent
from .retry import RetryPolicy, allowed_retries, attempt_error, rejects_input, retry_delay
from .routing import straight_hops

__all__ = ["Walker"]


class Walker(BreakerSteps, DeliverySteps):
    """Decides every step of every request of one graph; performs none of them.

    Each method takes one event and returns the actions it leads to, in order.
    ``stats`` (node name -> Stats or None) and ``graph_stats`` receive what the
    walker decides: passes through inline nodes (sources, splits, ensembles, sinks),
    failures counted at the node they happened at, and each request's start, end and
    latency; a driver counts what only it sees (a worker's queue, its calls).

    A driver with several threads passes ``lock`` (a ``threading.Lock``): the one
    state two of them may share, the inputs gathered at a multi-input node for one
    request, is taken under it. ``wall_offset`` turns the driver's clock into
    seconds since the epoch for observers' events (0 when ``now`` is ``time.time()``).
    """

    def __init__(self, plan: GraphPlan, *, rng: random.Random | None = None,
                 policy: RetryPolicy | None = None, stats: Mapping[str, Stats | None] | None = None,
                 graph_stats: Stats | None = None, hub: ObserverHub | None = None,
                 lock: AbstractContextManager[Any] | None = None, wall_offset: float = 0.0) -> None:
        self.plan = plan
        self.nodes = plan.nodes
        self.rng = rng if rng is not None else random.Random()
        self.policy = policy if policy is not None else RetryPolicy()
        self.stats: Mapping[str, Stats | None] = stats if stats is not None else {n: None for n in plan.nodes}
        self.graph_stats = graph_stats
        self.hub = hub if hub is not None else ObserverHub()
        self.wall_offset = wall_offset
        self.workers = frozenset(n for n, p in plan.nodes.items() if p.is_worker)
        self.needs_skip = len(plan.sources) > 1 or any(
            p.kind in ("switch", "split") for p in plan.nodes.values())
        self._join_lock = lock if lock is not None else nullcontext()
        self.breakers = {name: Breaker(p) for name, p in plan.nodes.items() if p.is_worker}
        self.suspended: set[str] = set()  # nodes whose breaker is open: read on every hop
        self.captures: dict[str, Capture] = {}  # worker -> the capture of its answers; replaced whole
        # the hops decided by one lookup: source -> worker, worker -> worker, worker -> response sink
        self._entries, self._chain, self._ends = straight_hops(plan, self.workers)

    def capture(self, nodes: Collection[str], maxsize: int = 100_000) -> Capture:
        """Keep every answered attempt at worker ``nodes`` for an observer, from now
        on (see :mod:`.capture`); :meth:`end_capture` ends it."""
        unknown = sorted(set(nodes) - self.workers)
        if unknown:
            raise ValueError(f"got {unknown} for nodes to capture; expected worker nodes of {self.plan.name!r}")
        taken = sorted(set(nodes) & set(self.captures))
        if taken:
            raise ValueError(f"nodes {taken} are captured already; end that capture first")
        cap = Capture(nodes, maxsize)
        self.captures = {**self.captures, **dict.fromkeys(cap.nodes, cap)}
        return cap

    def end_capture(self, cap: Capture) -> None:
        """Stop keeping answers for ``cap`` (what it holds stays for a last take)."""
        cap.closed = True
        self.captures = {n: c for n, c in self.captures.items() if c is not cap}

    # -- events ---------------------------------------------------------------------------
    def start(self, walk: Walk, source: str, payload: Any, now: float) -> list[Action]:
        """A request enters at ``source`` with ``payload``. ``source`` may also name a
        worker node: the request then runs that node alone, with its retries, timeout
        and deadline, and the node's answer is the result (every node is a model)."""
        out: list[Action] = []
        g = self.graph_stats
        if g is not None:
            g.requests += 1
        hub = self.hub
        trail = None
        if hub.active:  # who listens wants every request, or this one
            context = walk.context
            if hub.trails:  # only listeners of observed requests: their steps travel together (see core.trail)
                if context is None or context.observed:
                    walk.observed = True
                    trail = walk.trail = [STARTED, now, source, self.wall_offset]
            else:
                walk.observed = hub.every or context is None or context.observed
                if walk.observed and hub.ends:
                    hub.publish(WalkEvent("started", walk.id, now + self.wall_offset, source, value=payload,
                                          context=context))
        if source in self.workers:
            walk.alone = True
            if source in self.suspended:
                self._fail_at(out, self.nodes[source], walk, self.breakers[source].error(now), now)
                return out
            if walk.observed:
                self._note(walk, "enqueued", now, source, value=payload)
            out.append(Enqueue(walk, source, payload, None, 0, True))
            return out
        nxt = self._entries.get(source)
        if nxt is not None and not self.needs_skip and nxt not in self.suspended:  # _pass, inlined
            stats = self.stats[source]
            if stats is not None:
                stats.requests += 1
                stats.done += 1
            if trail is not None:
                trail += (ENQUEUED, now, nxt)
            elif walk.observed:
                hub.publish(WalkEvent("enqueued", walk.id, now + self.wall_offset, nxt, value=payload,
                                      context=walk.context))
            out.append(Enqueue(walk, nxt, payload, source, 0, True))
            return out
        if self.needs_skip:
            for other in self.plan.sources:
                if other != source:
                    self._skip_all(out, walk, self.nodes[other], now)
        self._pass(out, walk, self.nodes[source], payload, now, True)
        return out

    def produced(self, job: Enqueue, value: Any, now: float, replica: str | None = None,
                 began: float | None = None, batch: int = 1) -> list[Action]:
        """Worker ``job.node`` answered ``value`` for ``job`` (on ``replica``, which
        took it at ``began`` in a batch of ``batch``: for observers, where known)."""
        walk = job.walk
        if self.captures:
            cap = self.captures.get(job.node)
            if cap is not None:
                cap.put((job.node, walk.context, job.payload, value, now + self.wall_offset, job.shadow))
        hub = self.hub
        if job.shadow:  # a mirror's copy: its answer is for observers only
            if walk.observed:
                self._note(walk, "attempt", now, job.node, job.attempt, "ok", value=value, replica=replica,
                           began=began, batch=batch, shadow=True)
            return []
        trail = walk.trail
        if not walk.alone and (trail is not None or not walk.observed):
            nxt = self._chain.get(job.node)
            if nxt is not None and nxt not in self.suspended:
                if trail is not None:  # the attempt and the next hop's enqueue
                    trail += (PASSED, now, job.node, job.attempt, replica, began, batch, nxt)
                return [Enqueue(walk, nxt, value, job.node)]
            sink = self._ends.get(job.node)
            if sink is not None:  # _deliver to the response sink, inlined
                if trail is not None:
                    trail += (ANSWERED, now, job.node, job.attempt, replica, began, batch)
                stats = self.stats[sink]
                if stats is not None:
                    stats.requests += 1
                    stats.done += 1
                out: list[Action] = []
                self._complete(out, walk, value, now)
                return out
        plan = self.nodes[job.node]
        if trail is not None:
            trail += (ANSWERED, now, plan.name, job.attempt, replica, began, batch)
        elif walk.observed:
            off = self.wall_offset
            hub.publish(WalkEvent("attempt", walk.id, now + off, plan.name, job.attempt, "ok", value=value,
                                  context=walk.context, replica=replica,
                                  began=None if began is None else began + off, batch=batch))
        out = []
        if walk.alone:
            self._complete(out, walk, value, now)
        elif plan.kind == "switch":
            self._route_switch(out, plan, walk, job.payload, value, now)
        else:
            for dst, _when, _w in plan.succ:
                self._deliver(out, walk, dst, value, plan.name, now)
            if plan.mirrors:
                self._mirror(out, walk, plan, value, now)
        return out

    def failed(self, job: Enqueue, cause: str, now: float, exc: BaseException | None = None,
               detail: str = "", may_retry: bool = True, replica: str | None = None,
               began: float | None = None, batch: int = 1) -> list[Action]:
        """``job``'s attempt at its node ended with ``cause`` (crash, timeout, error,
        invalid_input or late; see :mod:`.retry`), the impl's exception ``exc`` or
        its text ``detail``. ``may_retry`` false: the node cannot take a retry (it stops).
        ``replica``, ``began`` and ``batch`` as for :meth:`produced`."""
        plan = self.nodes[job.node]
        walk = job.walk
        if cause == "error" and rejects_input(exc):
            cause = "invalid_input"
        if walk.observed:
            self._note(walk, "attempt", now, plan.name, job.attempt, cause, error=exc, replica=replica,
                       began=began, batch=batch, shadow=job.shadow)
        out: list[Action] = []
        if job.shadow:  # a mirror's copy failed: counted at its node, the request goes on
            stats = self.stats[plan.name]
            if stats is not None:
                stats.failed(cause)
            return out
        if cause in ("invalid_input", "late"):  # the same input would fail again: no retry
            self._fail_at(out, plan, walk, attempt_error(plan, cause, job.attempt, exc, detail), now)
            return out
        if walk.finished and (plan.reaches_response or walk.alone):
            return out  # already answered (or failed elsewhere): no point retrying
        late = False
        if job.attempt < allowed_retries(plan, cause, self.policy) and may_retry:
            delay = retry_delay(self.policy, cause, job.attempt, self.rng)
            if now + delay < walk.deadline:
                job.attempt += 1
                if walk.observed:
                    self._note(walk, "retry", now, plan.name, job.attempt, cause, delay=delay)
                out.append(Retry(job, delay))
                return out
            late = True
        self._fail_at(out, plan, walk, attempt_error(plan, cause, job.attempt, exc, detail, late), now)
        return out

    def refused(self, job: Enqueue, error: RequestError, now: float) -> list[Action]:
        """The driver could not hand ``job`` to its node (``error``: overload, no live
        replica, stopping, a payload that cannot be shipped)."""
        out: list[Action] = []
        if job.shadow and job.walk.observed:  # observers learn a copy was refused; it fails nothing
            self._note(job.walk, "attempt", now, job.node, job.attempt, error.cause, error=error, shadow=True)
        self._fail_at(out, self.nodes[job.node], job.walk, error, now)
        return out

    def deadline_passed(self, walk: Walk, now: float) -> list[Action]:
        """The request's deadline passed; it fails unless it has its outcome already."""
        out: list[Action] = []
        if walk.timeout is not None:
            msg = f"no result within the caller's timeout of {walk.timeout:g} s (the request's deadline)"
        else:
            msg = "no result within the request's deadline"
        self._fail(out, walk, RequestTimeoutError(msg), now)
        return out

    def abort(self, walk: Walk, error: RequestError, now: float) -> list[Action]:
        """The driver ends the request with ``error`` (the deployment stops, say)."""
        out: list[Action] = []
        self._fail(out, walk, error, now)
        return out

    # -- what observers learn ------------------------------------------------------------------
    def _note(self, walk: Walk, kind: EventKind, now: float, node: str, attempt: int = 0, outcome: str = "",
              choice: str | None = None, delay: float = 0.0, error: BaseException | None = None,
              value: Any = None, replica: str | None = None, began: float | None = None, batch: int = 1,
              shadow: bool = False) -> None:
        """A step of an observed request: kept in its trail, or published as an event."""
        trail = walk.trail
        if trail is not None:  # times in the driver's clock (see core.trail)
            if kind == "enqueued" and not attempt and not shadow:
                trail += (ENQUEUED, now, node)
            elif kind == "attempt" and outcome == "ok" and not shadow:
                trail += (ANSWERED, now, node, attempt, replica, began, batch)
            else:
                trail += (STEP, kind, now, node, attempt, outcome, choice, delay, replica, began, batch, shadow,
                          error_text(error))
        else:
            off = self.wall_offset
            if began is not None:
                began += off
            self.hub.publish(WalkEvent(kind, walk.id, now + off, node, attempt, outcome, choice, delay, error,
                                       value, walk.context, replica, began, batch, shadow))

    # -- outcomes ---------------------------------------------------------------------------
    def _complete(self, out: list[Action], walk: Walk, value: Any, now: float) -> None:
        if walk.finished:
            return
        walk.finished = True
        g = self.graph_stats
        if g is not None:  # Stats.succeeded, inlined
            g.pending += 1
            if g.pending >= g.stride:
                g.observe(now - walk.t0)
        if walk.observed:
            hub = self.hub
            trail = walk.trail
            if trail is not None:
                walk.trail = None  # what comes after the answer (a mirror's copy) is published alone
                for sub in hub.recorders:  # Subscription.record_trail, inlined
                    try:
                        sub.record(walk.context, trail, now + self.wall_offset, None)  # type: ignore[misc]
                    except Exception:  # the observer's fault: the request's steps are lost, counted
                        sub.failed += 1
            if hub.ends or (trail is None and hub.recorders):
                hub.publish(WalkEvent("completed", walk.id, now + self.wall_offset, None, 0, "", None, 0.0, None,
                                      value, walk.context, None, None, 1, False, trail))
        out.append(Complete(walk, value))

    def _fail(self, out: list[Action], walk: Walk, err: RequestError, now: float) -> None:
        if walk.finished:
            return
        walk.finished = True
        if self.graph_stats is not None:
            self.graph_stats.failed(err.cause)
        if walk.observed:
            hub = self.hub
            trail = walk.trail
            if trail is not None:
                walk.trail = None
                for sub in hub.recorders:
                    sub.record_trail(walk.context, trail, now + self.wall_offset, err)
            if hub.ends or (trail is None and hub.recorders):
                hub.publish(WalkEvent("failed", walk.id, now + self.wall_offset, err.node, outcome=err.cause,
                                      error=err, context=walk.context, trail=trail))
        out.append(Fail(walk, err))

    def _fail_at(self, out: list[Action], plan: NodePlan, walk: Walk, err: RequestError, now: float) -> None:
        """A request failed at a node: count it there; fail the request if it mattered."""
        stats = self.stats[plan.name]
        if stats is not None:
            stats.failed(err.cause)
        if plan.reaches_response or walk.alone:
            self._fail(out, walk, err, now)
