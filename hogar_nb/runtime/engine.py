"""Drives the graph walker with threads and queues; supervises replicas and timers.

The :class:`~.walk.Walker` decides every step of a request; the engine performs its
actions: an ``Enqueue`` goes on the node's queue (a replica thread runs it and
reports back with :meth:`Engine.node_output` or :meth:`Engine.retry_or_fail`), a
``Retry`` is a timer of the supervisor, ``Complete`` and ``Fail`` settle the
request's future. A replica's thread carries a request on into the next node itself
when that node has an idle replica and short calls (:meth:`Engine.carry`).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import random
import threading
import time
from collections import deque
from concurrent.futures import InvalidStateError
from typing import Any, Callable

from .errors import RequestError
from .future import LoopInbox
from .metrics import RecoveryEvent, Stats
from .node import INF, NodeRuntime, Request, Work
from .replica import Replica
from .plan import GraphPlan
from .walk import Complete, Enqueue, Fail, Retry, SideOutput, Walk, Walker

__all__ = ["Engine"]

_TICK = 0.01


class Engine:
    """The graph at run time. Thread-safe; the Deployment is its public face."""

    def __init__(self, plan: GraphPlan, metrics: bool = True, sample_interval: float = 0.5) -> None:
        self.plan = plan
        self.metrics_on = metrics
        self.sample_interval = sample_interval
        self.hang_release = threading.Event()
        self.graph_stats: Stats | None = Stats() if metrics else None
        self.stats: dict[str, Stats | None] = {n: (Stats() if metrics else None) for n in plan.nodes}
        self.events: deque[RecoveryEvent] = deque(maxlen=1000)
        self.side_values: dict[str, deque[Any]] = {
            n: deque(maxlen=10) for n, p in plan.nodes.items() if p.kind == "sink" and not p.response
        }
        self.live: dict[int, Request] = {}
        self._observers: tuple[Callable[[Any], None], ...] = ()
        self._inboxes: dict[asyncio.AbstractEventLoop, LoopInbox] = {}
        self._last_inbox: LoopInbox | None = None
        self._ids = itertools.count()
        self._join_lock = threading.Lock()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_cv = threading.Condition()
        self._running = True
        self._rng = random.Random()
        self.started_at = time.monotonic()
        self.walker = Walker(plan, rng=self._rng, stats=self.stats, graph_stats=self.graph_stats,
                             lock=threading.Lock(), wall_offset=time.time() - time.monotonic())
        self.workers: dict[str, NodeRuntime] = {  # after the walker: each node holds its breaker
            name: NodeRuntime(p, self, self.stats[name]) for name, p in plan.nodes.items() if p.is_worker
        }
        self._supervisor = threading.Thread(target=self._supervise, name="hogar-supervisor", daemon=True)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        for node in self.workers.values():
            node.start()
        if self.metrics_on:  # the first interval counts from here, not from the supervisor's first tick
            self.sample(time.monotonic())
        self._supervisor.start()

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        with self._timer_cv:
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._ids), fn))
            self._timer_cv.notify()

    def _supervise(self) -> None:
        next_sample = time.monotonic() + self.sample_interval
        while self._running:
            with self._timer_cv:
                timeout = _TICK
                if self._timers:
                    timeout = min(timeout, max(self._timers[0][0] - time.monotonic(), 0))
                self._timer_cv.wait(timeout)
                now = time.monotonic()
                due = []
                while self._timers and self._timers[0][0] <= now:
                    due.append(heapq.heappop(self._timers)[2])
            for fn in due:
                fn()
            for node in self.workers.values():
                node.check_hung(now)
            if self.metrics_on and now >= next_sample:
                next_sample = now + self.sample_interval
                self.sample(now)

    def sample(self, now: float) -> None:
        if self.graph_stats is None:  # metrics off
            return
        for name, stats in self.stats.items():
            node = self.workers.get(name)
            if stats is None:
                continue
            if node is None:
                stats.sample(now, 0, 0, 0)
            else:
                stats.sample(now, node.queue.qsize(), node.in_flight, node.alive_count())
        self.graph_stats.sample(now, sum(n.queue.qsize() for n in self.workers.values()),
                                len(self.live), sum(n.alive_count() for n in self.workers.values()))

    def shutdown_supervisor(self) -> list[Callable[[], None]]:
        """Stop the supervisor; return the timers that had not fired (retries)."""
        self._running = False
        with self._timer_cv:
            self._timer_cv.notify()
        self._supervisor.join(5.0)
        with self._timer_cv:
            left = [t[2] for t in self._timers]
            self._timers.clear()
        return left

    def record_event(self, wall: float, node: str, replica: int, cause: str, action: str,
                     duration: float, requeued: int = 0, detail: str = "") -> None:
        self.events.append(RecoveryEvent(wall, node, replica, cause, action, duration, requeued, detail))

    # -- requests ---------------------------------------------------------------------
    def submit(self, payload: Any, source: str, timeout: float | None = None,
               wait: bool = True, loop: asyncio.AbstractEventLoop | None = None,
               context: Any = None) -> Request:
        """Start a request at ``source``. ``timeout`` (seconds) is its deadline; with
        ``wait`` its entry waits for room in the first queues up to that deadline,
        without it a full first queue fails the request at once (OverloadError).
        With ``loop`` (the caller's running loop) its future is an asyncio one.
        ``context`` (a RequestContext) travels with the request's events."""
        t0 = time.monotonic()
        inbox = None if loop is None else self._inbox(loop)
        if timeout is None:
            req = Request(next(self._ids), t0, INF, INF if wait else 0.0, None, inbox, context)
        else:
            deadline = t0 + timeout
            req = Request(next(self._ids), t0, deadline, deadline if wait else 0.0, timeout, inbox, context)
        self.live[req.id] = req
        self.perform(self.walker.start(req, source, payload, t0))
        if timeout is not None and not req.finished:  # after admission: a full queue says overload
            self.schedule(req.deadline - time.monotonic(), lambda: self._expire(req))
        return req

    def _inbox(self, loop: asyncio.AbstractEventLoop) -> LoopInbox:
        """The inbox of ``loop``'s futures: one per loop, dropped once the loop is closed."""
        inbox = self._last_inbox
        if inbox is not None and inbox.loop is loop:
            return inbox
        with self._join_lock:
            inbox = self._inboxes.get(loop)
            if inbox is None:
                for closed in [lp for lp in self._inboxes if lp.is_closed()]:
                    del self._inboxes[closed]
                inbox = self._inboxes[loop] = LoopInbox(loop)
        self._last_inbox = inbox
        return inbox

    def _expire(self, req: Request) -> None:
        if not req.finished:
            self.perform(self.walker.deadline_passed(req, time.monotonic()))

    def add_observer(self, fn: Callable[[Any], None]) -> Callable[[], None]:
        """Call ``fn(value)`` on every successful response; returns the remover."""
        with self._join_lock:
            self._observers = (*self._observers, fn)

        def remove() -> None:
            with self._join_lock:
                self._observers = tuple(o for o in self._observers if o is not fn)

        return remove

    def _notify(self, value: Any) -> None:
        for fn in self._observers:
            try:
                fn(value)
            except Exception:  # an observer must never fail a request
                with self._join_lock:
                    self._observers = tuple(o for o in self._observers if o is not fn)

    def perform(self, actions: list[Any]) -> None:
        """Carry out the walker's actions, in order."""
        for action in actions:
            kind = type(action)
            if kind is Enqueue:
                node = self.workers[action.node]
                # a mirror's copy never waits for room: a full candidate drops it, counted
                until = 0.0 if action.shadow else action.walk.admit if action.entry else None
                try:
                    node.enqueue(action, until)
                except RequestError as exc:
                    self.perform(self.walker.refused(action, exc, time.monotonic()))
            elif kind is Complete:
                self._settle(action.walk, action.value, None)
            elif kind is Fail:
                self._settle(action.walk, None, action.error)
            elif kind is Retry:
                job = action.job
                node = self.workers[job.node]
                self.schedule(action.delay, functools.partial(node.requeue, job))
            elif kind is SideOutput:
                self.side_values[action.sink].append(action.value)

    def carry(self, actions: list[Any], host: Replica) -> None:
        """Perform ``actions`` from a replica's thread (``host``'s): while they are one
        hop to a node with an idle replica and short calls, the call runs on this thread
        as that replica's (its timeout, metrics, recovery and events as if it had taken
        the request from its queue) instead of waking the replica's own thread.

        Run to completion: a chain of short nodes costs one thread hand-off in all, not
        one per hop. The loop is flat: a carried call's next hop comes back here through
        ``host.carried``. Fan-outs, batches, process replicas and queued work still go
        through the queues."""
        if host.carrying:  # a carried call finished inside the loop below: hand it the hop
            host.carried = actions
            return
        host.carrying = True
        try:
            while len(actions) == 1 and type(actions[0]) is Enqueue and not actions[0].shadow:
                job = actions[0]
                node = self.workers[job.node]
                replica = node.claim()
                if replica is None:
                    break
                host.carried = None
                replica.host = host
                stats = node.stats
                if stats is not None:
                    stats.requests += 1
                try:
                    if replica.backend.single is None:  # its impl takes a batch (a model runner)
                        served = replica._serve([job], node, stats, time.monotonic, False)
                    else:
                        served = replica._serve_one(job, node, stats, time.monotonic)
                    if not served:
                        replica.ended = True  # its own thread leaves when it wakes
                finally:
                    replica.host = None
                    replica.calling.release()
                if host.carried is None:  # the call's outcome was performed already
                    return
                actions = host.carried
        finally:
            host.carrying = False
        self.perform(actions)

    def _settle(self, req: Request, value: Any, exc: BaseException | None) -> None:
        inbox = req.inbox
        if inbox is not None:
            inbox.put(req.future, value, exc)
        else:
            try:
                if exc is None:
                    req.future.set_result(value)
                else:
                    req.future.set_exception(exc)
            except InvalidStateError:
                return
        self.live.pop(req.id, None)
        if exc is None and self._observers:
            self._notify(value)

    def fail(self, walk: Walk, exc: RequestError) -> None:
        """End the request with ``exc`` unless it has its outcome (stop, say)."""
        self.perform(self.walker.abort(walk, exc, time.monotonic()))

    def fail_work(self, node: NodeRuntime, work: Work, exc: RequestError) -> None:
        """The node could not take or run ``work`` (``exc`` says why)."""
        self.perform(self.walker.refused(work, exc, time.monotonic()))

    def retry_or_fail(self, node: NodeRuntime, work: Work, cause: str, exc: BaseException | None,
                      replica: str | None = None, began: float | None = None, batch: int = 1) -> None:
        """An attempt at ``node`` failed with ``cause``: the walker retries or fails it."""
        self.perform(self.walker.failed(work, cause, time.monotonic(), exc, may_retry=not node.stopping,
                                        replica=replica, began=began, batch=batch))

    def node_output(self, node: NodeRuntime, work: Work, value: Any) -> None:
        """A worker finished one request: pass the result on."""
        self.perform(self.walker.produced(work, value, time.monotonic()))

