"""A worker node at run time: its bounded queue, its replicas and their recovery."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .errors import DeploymentStoppedError, OverloadError, RequestTimeoutError, UnavailableError
from .faults import Fault
from .metrics import Stats
from .plan import NodePlan
from .replica import STOP, ProcessBackend, Replica, ThreadBackend

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["NodeRuntime", "Request", "Work"]

_ROOM_POLL = 0.05  # a waiter re-checks the queue at least this often
_INNER_WAIT = 5.0  # longest wait for room between two nodes when nothing else bounds it
MAX_BACKOFF = 5.0
INF = float("inf")


class Request:
    """One submitted request: its future, start time, deadline and ensemble join state.

    ``deadline`` (monotonic seconds, or ``inf``) travels with the request through
    every hop; ``admit`` bounds how long its entry may wait for room in the first
    queues (0: shed at once); ``finished`` is set once it has its outcome.
    """

    __slots__ = ("id", "future", "t0", "joins", "deadline", "admit", "finished")

    def __init__(self, rid: int, t0: float, deadline: float = INF, admit: float = INF) -> None:
        self.id = rid
        self.future: Future = Future()
        self.t0 = t0
        self.joins: dict[str, dict[str, Any]] | None = None
        self.deadline = deadline
        self.admit = admit
        self.finished = False


class Work:
    """A request's payload waiting at (or running on) one node."""

    __slots__ = ("req", "payload", "attempt", "src")

    def __init__(self, req: Request, payload: Any, src: str | None, attempt: int = 0) -> None:
        self.req = req
        self.payload = payload
        self.attempt = attempt
        self.src = src


class NodeRuntime:
    """Owns the queue and replicas of one python/model/switch node."""

    def __init__(self, plan: NodePlan, engine: Engine, stats: Stats | None) -> None:
        self.plan = plan
        self.engine = engine
        self.stats = stats
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.replicas: list[Replica] = []
        self.retired: list[Replica] = []  # failed replicas, joined at stop
        self.in_flight = 0
        self.fault: Fault | None = None
        self.restarts = 0
        self.pending_restarts = 0
        self.failures_in_a_row = 0  # drives the restart backoff; reset by a good call
        self.stopping = False
        self.room = threading.Condition(threading.Lock())
        self.waiting = 0  # callers waiting for room in the queue
        self._next_index = plan.replicas
        self._pending_events: dict[int, tuple[float, float, str, int]] = {}

    # -- replicas ---------------------------------------------------------------------
    def _make_replica(self, index: int) -> Replica:
        if self.plan.isolation == "process":
            backend: Any = ProcessBackend(self.plan.factory, self.plan.name)
        else:
            backend = ThreadBackend(self.plan.factory, self.engine.hang_release)
        return Replica(self, index, backend)

    def _new_replica(self, index: int) -> Replica:
        replica = self._make_replica(index)
        with self.lock:
            self.replicas.append(replica)
        replica.start()
        return replica

    def start(self) -> list[Replica]:
        return [self._new_replica(i) for i in range(self.plan.replicas)]

    def alive_count(self) -> int:
        return sum(1 for r in self.replicas if r.alive)

    def pids(self) -> list[int]:
        return [r.backend.pid for r in self.replicas if r.alive and r.backend.pid is not None]

    def replica_retired(self, replica: Replica) -> None:
        """A replica took a STOP: it leaves (stop or scale down) holding no work."""
        with self.lock:
            if replica in self.replicas:
                self.replicas.remove(replica)
            self.retired.append(replica)
        if not self.stopping:
            replica.backend.close()

    def scale(self, replicas: int, timeout: float = 60.0) -> None:
        """Run ``replicas`` replicas: start new ones (and wait until they are ready)
        or ask some to leave after the call they are in. Queued work stays queued."""
        with self.lock:
            current = len(self.replicas) + self.pending_restarts
            self.plan.replicas = replicas
            start = []
            for _ in range(replicas - current):
                start.append(self._make_replica(self._next_index))
                self._next_index += 1
            self.replicas.extend(start)
        for _ in range(current - replicas):
            self.queue.put(STOP)
        for replica in start:
            replica.start()
        deadline = time.monotonic() + timeout
        for replica in start:
            replica.ready.wait(max(deadline - time.monotonic(), 0))
        failed = [r for r in start if r.start_error is not None or not r.ready.is_set()]
        if failed:
            from .errors import DeploymentConfigError

            raise DeploymentConfigError(
                f"node {self.plan.name!r}: {len(failed)} new replica(s) could not start: "
                f"{failed[0].start_error or 'not ready in time'}")

    def replica_ready(self, replica: Replica) -> None:
        with self.lock:
            pending = self._pending_events.pop(id(replica), None)
        if pending is not None:
            self.pending_restarts -= 1
            detected, wall, cause, requeued = pending
            self.engine.record_event(wall, self.plan.name, replica.index, cause, "restart",
                                     time.monotonic() - detected, requeued)

    def replica_start_failed(self, replica: Replica, exc: BaseException) -> None:
        with self.lock:
            pending = self._pending_events.pop(id(replica), None)
            if replica in self.replicas:
                self.replicas.remove(replica)
            self.retired.append(replica)
        if pending is not None:  # a replacement failed to start: record it, maybe give up
            self.pending_restarts -= 1
            self.engine.record_event(pending[1], self.plan.name, replica.index, pending[2],
                                     "restart_failed", time.monotonic() - pending[0], pending[3])
            self._fail_queue_if_dead()

    def replica_failed(self, replica: Replica, cause: str, held: list[Work]) -> None:
        """A replica crashed, died or hung: replace it per policy and retry its work."""
        detected, wall = time.monotonic(), time.time()
        plan = self.plan
        with self.lock:
            if replica in self.replicas:
                self.replicas.remove(replica)
            self.retired.append(replica)
            alive = sum(1 for r in self.replicas if r.alive)
            action = plan.policy
            if plan.policy == "failover" and alive == 0:
                action = "restart"
            if action == "restart":
                if self.restarts >= plan.max_restarts or self.stopping:
                    action = "gave_up"
                else:
                    self.restarts += 1
                    self.pending_restarts += 1
                    self.failures_in_a_row += 1
        if self.stats is not None and action == "restart":
            with self.stats.lock:
                self.stats.restarts += 1
        if action == "restart":
            delay = min(plan.backoff * 2 ** min(self.failures_in_a_row - 1, 10), MAX_BACKOFF)
            n = len(held)
            self.engine.schedule(delay, lambda: self._replace(replica.index, detected, wall, cause, n))
        else:
            self.engine.record_event(wall, plan.name, replica.index, cause, action, 0.0, len(held))
        request_cause = "timeout" if cause == "hang" else "crash"
        for work in held:
            self.engine.retry_or_fail(self, work, request_cause, None)
        self._fail_queue_if_dead()

    def _replace(self, index: int, detected: float, wall: float, cause: str, requeued: int) -> None:
        if self.stopping:
            self.pending_restarts -= 1
            return
        replica = self._make_replica(index)
        with self.lock:
            self._pending_events[id(replica)] = (detected, wall, cause, requeued)
            self.replicas.append(replica)
        replica.start()

    def check_hung(self, now: float) -> None:
        """Supervisor tick: abandon replicas whose call exceeded the node timeout."""
        hung: list[tuple[Replica, list[Work]]] = []
        with self.lock:
            for replica in self.replicas:
                held = replica.abandon_if_hung(now)
                if held is not None:
                    hung.append((replica, held))
        for replica, held in hung:
            replica.backend.kill()
            self.replica_failed(replica, "hang", held)

    def dead(self) -> bool:
        return not self.stopping and self.pending_restarts <= 0 and \
            not any(r.alive or not r.ready.is_set() for r in self.replicas)

    def _fail_queue_if_dead(self) -> None:
        if not self.dead():
            return
        while True:
            try:
                work = self.queue.get_nowait()
            except queue.Empty:
                return
            if work is not STOP:
                self.engine.fail_work(self, work, UnavailableError(
                    f"node {self.plan.name!r} has no live replica (recovery policy "
                    f"{self.plan.policy!r}, restarts used {self.restarts}/{self.plan.max_restarts})",
                    self.plan.name))

    # -- work -------------------------------------------------------------------------
    def enqueue(self, work: Work, until: float | None = None) -> None:
        """Queue ``work``. When the queue is full, wait for room until ``until``
        (monotonic seconds; None: the node's own bound for a hop inside the graph),
        then raise OverloadError."""
        q = self.queue
        plan = self.plan
        if q.qsize() >= plan.queue_size:
            if until is None:
                until = min(time.monotonic() + min(plan.timeout, _INNER_WAIT), work.req.deadline)
            self._wait_for_room(until)
        if self.dead():
            raise UnavailableError(f"node {plan.name!r} has no live replica", plan.name)
        stats = self.stats
        if stats is not None:
            stats.requests += 1
        q.put(work)

    def _wait_for_room(self, until: float) -> None:
        plan = self.plan
        with self.room:
            self.waiting += 1
            try:
                while self.queue.qsize() >= plan.queue_size:
                    if self.stopping:
                        raise DeploymentStoppedError(
                            f"node {plan.name!r} stopped while the request waited for room", plan.name)
                    left = until - time.monotonic()
                    if left <= 0:
                        raise OverloadError(
                            f"node {plan.name!r} is overloaded: its queue holds {self.queue.qsize()} "
                            f"requests (max_queue {plan.queue_size})", plan.name)
                    self.room.wait(min(left, _ROOM_POLL))
            finally:
                self.waiting -= 1

    def made_room(self) -> None:
        """A replica took work from the queue: wake one caller waiting for room."""
        with self.room:
            self.room.notify()

    def requeue(self, work: Work) -> None:
        """Put back admitted work (a retry): never refused for being full."""
        if self.dead():
            self._fail_queue_if_dead()
            self.engine.fail_work(self, work, UnavailableError(
                f"node {self.plan.name!r} has no live replica", self.plan.name))
            return
        self.queue.put(work)

    def drop_late(self, batch: list[Work], now: float) -> list[Work]:
        """Remove work whose deadline passed (failed as timeouts) or whose request
        already has its outcome; return the rest."""
        keep = []
        plan = self.plan
        for work in batch:
            if work.req.finished and plan.reaches_response:
                continue
            if work.req.deadline < now:
                self.engine.fail_work(self, work, RequestTimeoutError(
                    f"node {plan.name!r} dropped the request before running it: its deadline "
                    f"passed while it waited", plan.name))
                continue
            keep.append(work)
        return keep

    def batch_done(self, held: list[Work], outputs: list[Any]) -> None:
        engine = self.engine
        self.failures_in_a_row = 0
        for work, out in zip(held, outputs):
            engine.node_output(self, work, out)

    def batch_error(self, held: list[Work], exc: BaseException) -> None:
        for work in held:
            self.engine.retry_or_fail(self, work, "error", exc)

    def stop(self, timeout: float) -> None:
        """Ask each replica to exit, then join threads and processes."""
        self.stopping = True
        with self.lock:
            replicas = list(self.replicas)
        for _ in replicas:
            self.queue.put(STOP)
        deadline = time.monotonic() + timeout
        for replica in replicas + self.retired:
            if replica.thread.ident is not None:
                replica.thread.join(max(deadline - time.monotonic(), 0.05))
            replica.backend.close()
