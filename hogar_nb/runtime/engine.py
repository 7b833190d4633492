"""Moves requests through the graph: routing, joins, retries, completion, supervision."""

from __future__ import annotations

import heapq
import itertools
import random
import threading
import time
from collections import deque
from concurrent.futures import InvalidStateError
from typing import Any, Callable

from .errors import (
    InvalidInputError,
    NodeError,
    ReplicaCrashError,
    RequestError,
    RequestTimeoutError,
    RouteError,
)
from .metrics import RecoveryEvent, Stats
from .node import INF, NodeRuntime, Request, Work
from .outcomes import rejects_input
from .plan import GraphPlan, NodePlan
from .routing import SKIP, choose_split, choose_switch, join_input

__all__ = ["Engine"]

_SKIP = SKIP  # a branch not taken (switch/split/other source): joins stop waiting for it
_TICK = 0.01
RETRY_BACKOFF = 0.005  # first retry's backoff, doubled per attempt, jittered x0.5..1.5
MAX_RETRY_BACKOFF = 1.0


class Engine:
    """The graph at run time. Thread-safe; the Deployment is its public face."""

    def __init__(self, plan: GraphPlan, metrics: bool = True, sample_interval: float = 0.5) -> None:
        self.plan = plan
        self.metrics_on = metrics
        self.sample_interval = sample_interval
        self.hang_release = threading.Event()
        self.graph_stats: Stats | None = Stats() if metrics else None
        self.stats: dict[str, Stats | None] = {n: (Stats() if metrics else None) for n in plan.nodes}
        self.workers: dict[str, NodeRuntime] = {
            name: NodeRuntime(p, self, self.stats[name]) for name, p in plan.nodes.items() if p.is_worker
        }
        self.events: deque[RecoveryEvent] = deque(maxlen=1000)
        self.side_values: dict[str, deque[Any]] = {
            n: deque(maxlen=10) for n, p in plan.nodes.items() if p.kind == "sink" and not p.response
        }
        self.live: dict[int, Request] = {}
        self._observers: tuple[Callable[[Any], None], ...] = ()
        self._ids = itertools.count()
        self._join_lock = threading.Lock()
        self._timers: list[tuple[float, int, Callable[[], None]]] = []
        self._timer_cv = threading.Condition()
        self._running = True
        self._rng = random.Random()
        self.started_at = time.monotonic()
        self.needs_skip = len(plan.sources) > 1 or any(
            p.kind in ("switch", "split") for p in plan.nodes.values())
        self._supervisor = threading.Thread(target=self._supervise, name="hogar-supervisor", daemon=True)

    # -- lifecycle --------------------------------------------------------------------
    def start(self) -> None:
        for node in self.workers.values():
            node.start()
        self._supervisor.start()

    def schedule(self, delay: float, fn: Callable[[], None]) -> None:
        with self._timer_cv:
            heapq.heappush(self._timers, (time.monotonic() + delay, next(self._ids), fn))
            self._timer_cv.notify()

    def _supervise(self) -> None:
        next_sample = time.monotonic()
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
               wait: bool = True) -> Request:
        """Start a request at ``source``. ``timeout`` (seconds) is its deadline; with
        ``wait`` its entry waits for room in the first queues up to that deadline,
        without it a full first queue fails the request at once (OverloadError)."""
        t0 = time.monotonic()
        if timeout is None:
            req = Request(next(self._ids), t0, INF, INF if wait else 0.0)
        else:
            deadline = t0 + timeout
            req = Request(next(self._ids), t0, deadline, deadline if wait else 0.0)
        self.live[req.id] = req
        if self.graph_stats is not None:
            self.graph_stats.requests += 1
        if self.needs_skip:
            for other in self.plan.sources:
                if other != source:
                    self._skip_from(other, req)
        self._pass(self.plan.nodes[source], req, payload, entry=True)
        if timeout is not None and not req.finished:  # after admission: a full queue says overload
            self.schedule(req.deadline - time.monotonic(), lambda: self._expire(req, timeout))
        return req

    def _expire(self, req: Request, timeout: float) -> None:
        if not req.finished:
            self.fail(req, RequestTimeoutError(
                f"no result within the caller's timeout of {timeout:g} s (the request's deadline)"))

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

    def complete(self, req: Request, value: Any) -> None:
        req.finished = True
        try:
            req.future.set_result(value)
        except InvalidStateError:
            return
        self.live.pop(req.id, None)
        stats = self.graph_stats
        if stats is not None:  # Stats.succeeded, inlined
            stats.pending += 1
            if stats.pending >= stats.stride:
                stats.observe(time.monotonic() - req.t0)
        if self._observers:
            self._notify(value)

    def fail(self, req: Request, exc: BaseException) -> None:
        req.finished = True
        try:
            req.future.set_exception(exc)
        except InvalidStateError:
            return
        self.live.pop(req.id, None)
        if self.graph_stats is not None:
            self.graph_stats.failed(getattr(exc, "cause", "error"))

    def fail_work(self, node: NodeRuntime | NodePlan, work: Work, exc: RequestError) -> None:
        """A request failed at a node: count it there; fail the request if it mattered."""
        plan = node.plan if isinstance(node, NodeRuntime) else node
        stats = self.stats[plan.name]
        if stats is not None:
            stats.failed(exc.cause)
        if plan.reaches_response:
            self.fail(work.req, exc)

    def retry_or_fail(self, node: NodeRuntime, work: Work, cause: str, exc: BaseException | None) -> None:
        plan = node.plan
        if cause == "error" and rejects_input(exc):  # the same input would fail again: no retry
            err_input = InvalidInputError(f"node {plan.name!r} rejected the input: {exc}", plan.name)
            err_input.__cause__ = exc
            self.fail_work(node, work, err_input)
            return
        if work.req.finished:
            return  # already answered (or failed elsewhere): no point retrying
        allowed = plan.retries if cause != "error" or plan.retry_errors else 0
        late = ""
        if work.attempt < allowed and not node.stopping:
            delay = min(RETRY_BACKOFF * 2 ** work.attempt, MAX_RETRY_BACKOFF) * self._rng.uniform(0.5, 1.5)
            if time.monotonic() + delay < work.req.deadline:
                work.attempt += 1
                self.schedule(delay, lambda: node.requeue(work))
                return
            late = ", no time left for a retry before the request's deadline"
        n = work.attempt + 1
        tries = f"after {n} attempt{'s' * (n != 1)} (retries = {plan.retries}{late})"
        if cause == "error":
            if not plan.retry_errors and plan.retries:
                tries = f"after {n} attempt{'s' * (n != 1)} (an impl's exception is retried only with retry_errors)"
            err: RequestError = NodeError(f"node {plan.name!r} raised {exc!r} {tries}", plan.name)
            err.__cause__ = exc
        elif cause == "timeout":
            err = RequestTimeoutError(
                f"node {plan.name!r} did not answer within its timeout of "
                f"{plan.timeout * 1000:g} ms {tries}", plan.name)
        else:
            err = ReplicaCrashError(f"node {plan.name!r}: the replica crashed {tries}", plan.name)
        self.fail_work(node, work, err)

    # -- routing ----------------------------------------------------------------------
    def node_output(self, node: NodeRuntime, work: Work, value: Any) -> None:
        """A worker finished one request: record it and pass the result on."""
        plan = node.plan
        if plan.kind == "switch":
            self._route_switch(plan, work.req, work.payload, value)
            return
        for dst, _when, _w in plan.succ:
            self._deliver(dst, work.req, value, plan.name)

    def _route_switch(self, plan: NodePlan, req: Request, payload: Any, key: Any) -> None:
        key = str(key)
        chosen = choose_switch(plan.succ, key)
        if chosen is None:
            whens = [w for _, w, _ in plan.succ]
            self.fail_work(plan, Work(req, payload, None), RouteError(
                f"switch {plan.name!r} answered {key!r}, which matches none of its edges {whens}",
                plan.name))
            return
        for dst, _w, _ in plan.succ:
            if dst != chosen:
                self._skip(dst, req, plan.name)
        self._deliver(chosen, req, payload, plan.name)

    def _pass(self, plan: NodePlan, req: Request, value: Any, entry: bool = False) -> None:
        """Run an inline node (source, split, ensemble result) onward."""
        stats = self.stats[plan.name]
        if stats is not None:
            stats.requests += 1
            stats.done += 1
        if plan.kind == "split":
            chosen = choose_split(plan.succ, self._rng.random())
            for dst, _w, _ in plan.succ:
                if dst != chosen:
                    self._skip(dst, req, plan.name)
            self._deliver(chosen, req, value, plan.name, entry)
            return
        for dst, _w, _ in plan.succ:
            self._deliver(dst, req, value, plan.name, entry)

    def _deliver(self, dst: str, req: Request, value: Any, src: str, entry: bool = False) -> None:
        plan = self.plan.nodes[dst]
        if len(plan.preds) > 1:
            value = self._join(plan, req, src, value)
            if value is _SKIP:
                return
        kind = plan.kind
        node = self.workers.get(dst)
        if node is not None:
            work = Work(req, value, src)
            try:
                node.enqueue(work, req.admit if entry else None)
            except RequestError as exc:
                self.fail_work(plan, work, exc)
        elif kind == "sink":
            stats = self.stats[dst]
            if stats is not None:
                stats.requests += 1
                stats.done += 1
            if plan.response:
                self.complete(req, value)
            else:
                self.side_values[dst].append(value)
        elif kind == "ensemble" and len(plan.preds) <= 1:
            self._combine(plan, req, [value], [src])
        else:
            self._pass(plan, req, value)

    def _join(self, plan: NodePlan, req: Request, src: str, value: Any) -> Any:
        """Record one input of a multi-input node; return what to run it with, or _SKIP."""
        with self._join_lock:
            if req.joins is None:
                req.joins = {}
            action, fire = join_input(plan, req.joins.setdefault(plan.name, {}), src, value)
        if action == "run":
            return fire
        if action == "skip":
            self._skip_all(plan, req)
        elif action == "combine":
            self._combine(plan, req, [v for _, v in fire], [p for p, _ in fire])
        return _SKIP

    def _combine(self, plan: NodePlan, req: Request, values: list[Any], inputs: list[str]) -> None:
        weights = [plan.weights.get(p, 1.0) for p in inputs] if plan.weights else None
        combine = plan.combine
        assert combine is not None  # every ensemble has one
        try:
            value = combine(values, weights)
        except Exception as exc:
            err = NodeError(f"ensemble {plan.name!r} could not combine its inputs: {exc!r}", plan.name)
            err.__cause__ = exc
            self.fail_work(plan, Work(req, values, None), err)
            return
        self._pass(plan, req, value)

    # -- dead paths -------------------------------------------------------------------
    def _skip(self, dst: str, req: Request, src: str) -> None:
        plan = self.plan.nodes[dst]
        if len(plan.preds) > 1:
            self._join(plan, req, src, _SKIP)  # propagates once every input is known
        else:
            self._skip_all(plan, req)

    def _skip_all(self, plan: NodePlan, req: Request) -> None:
        if plan.response:
            self.fail(req, RouteError(
                f"no branch reached the response sink {plan.name!r} for this request", plan.name))
            return
        for dst, _w, _ in plan.succ:
            self._skip(dst, req, plan.name)

    def _skip_from(self, source: str, req: Request) -> None:
        self._skip_all(self.plan.nodes[source], req)

