"""A worker node at run time: its bounded queue, its replicas and their recovery."""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from .errors import OverloadError, UnavailableError
from .faults import Fault
from .metrics import Stats
from .plan import NodePlan
from .replica import STOP, ProcessBackend, Replica, ThreadBackend

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["NodeRuntime", "Request", "Work"]

_BACKPRESSURE_POLL = 0.0005
MAX_BACKOFF = 5.0


class Request:
    """One submitted request: its future, start time and ensemble join state."""

    __slots__ = ("id", "future", "t0", "joins")

    def __init__(self, rid: int, t0: float) -> None:
        self.id = rid
        self.future: Future = Future()
        self.t0 = t0
        self.joins: dict[str, dict[str, Any]] | None = None


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
    def enqueue(self, work: Work, wait: float = 0.0) -> None:
        """Queue ``work``; if the queue stays full for ``wait`` seconds raise OverloadError."""
        q = self.queue
        if q.qsize() >= self.plan.queue_size:
            deadline = time.monotonic() + wait
            while q.qsize() >= self.plan.queue_size:
                if time.monotonic() >= deadline or self.stopping:
                    raise OverloadError(
                        f"node {self.plan.name!r} is overloaded: its queue holds "
                        f"{q.qsize()} requests (limit {self.plan.queue_size})", self.plan.name)
                time.sleep(_BACKPRESSURE_POLL)
        if self.dead():
            raise UnavailableError(f"node {self.plan.name!r} has no live replica", self.plan.name)
        stats = self.stats
        if stats is not None:
            stats.requests += 1
        q.put(work)

    def requeue(self, work: Work) -> None:
        """Put back admitted work (a retry): never refused for being full."""
        if self.dead():
            self._fail_queue_if_dead()
            self.engine.fail_work(self, work, UnavailableError(
                f"node {self.plan.name!r} has no live replica", self.plan.name))
            return
        self.queue.put(work)

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
