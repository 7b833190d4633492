"""A worker node at run time: its bounded queue, its replicas and their recovery."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import TYPE_CHECKING, Any

from .errors import DeploymentStoppedError, OverloadError
from .faults import Fault
from .future import LoopInbox, RequestFuture
from .metrics import Stats
from .plan import NodePlan
from .recovery import NodeRecovery
from .replica import STOP, ProcessBackend, Replica, ThreadBackend
from .walk import INF, Enqueue, Walk
from .walk.retry import rejects_input

if TYPE_CHECKING:  # pragma: no cover
    from .engine import Engine

__all__ = ["NodeRuntime", "Request", "Work"]

_ROOM_POLL = 0.05  # a waiter re-checks the queue at least this often
_INNER_WAIT = 5.0  # longest wait for room between two nodes when nothing else bounds it


class Request(Walk):
    """One submitted request: the walker's state plus its future and admission bound.

    ``deadline`` (monotonic seconds, or ``inf``) travels with the request through
    every hop; ``admit`` bounds how long its entry may wait for room in the first
    queues (0: shed at once); ``finished`` is set once it has its outcome. With an
    ``inbox``, ``future`` is an asyncio future of its loop (settled through the
    :class:`~.future.LoopInbox`), else a ``concurrent.futures.Future`` (a
    :class:`~.future.RequestFuture`, whose Condition is made only when it is waited on).
    """

    __slots__ = ("future", "admit", "inbox")

    def __init__(self, rid: int, t0: float, deadline: float = INF, admit: float = INF,
                 timeout: float | None = None, inbox: LoopInbox | None = None,
                 context: Any = None) -> None:
        Walk.__init__(self, rid, t0, deadline, timeout, context)
        self.future: Any = RequestFuture() if inbox is None else inbox.loop.create_future()
        self.admit = admit
        self.inbox = inbox


Work = Enqueue  # a request's payload waiting at (or running on) one node


class NodeRuntime(NodeRecovery):
    """Owns the queue and replicas of one python/model/switch node (recovery in
    :mod:`.recovery`)."""

    stats: Stats | None  # None with metrics off

    def __init__(self, plan: NodePlan, engine: Engine, stats: Stats | None) -> None:
        self.plan = plan
        self.engine = engine
        self.stats = stats
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.lock = threading.Lock()
        self.replicas: list[Replica] = []
        self.retired: list[Replica] = []  # failed replicas, joined at stop
        self.fault: Fault | None = None
        self.stopping = False
        self.room = threading.Condition(threading.Lock())
        self.waiting = 0  # callers waiting for room in the queue
        self.leaving = 0  # replicas asked to leave whose STOP is still queued
        self.quick = True  # its last call was short enough to be carried (replica.CARRY_MAX_S)
        self._next_index = plan.replicas
        self._init_recovery()

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
            self.generation += 1
        replica.start()
        return replica

    def start(self) -> list[Replica]:
        return [self._new_replica(i) for i in range(self.plan.replicas)]

    @property
    def in_flight(self) -> int:
        """Requests in a call on one of its replicas (a gauge: read, never counted)."""
        return sum(len(held) for r in self.replicas if (held := r.held))

    def alive_count(self) -> int:
        return sum(1 for r in self.replicas if r.alive)

    def pids(self) -> list[int]:
        return [r.backend.pid for r in self.replicas if r.alive and r.backend.pid is not None]

    def replica_retired(self, replica: Replica) -> None:
        """A replica took a STOP: it leaves (stop or scale down) holding no work."""
        with self.lock:
            if replica in self.replicas:
                self.replicas.remove(replica)
                self.generation += 1
            self.retired.append(replica)
            if not self.stopping and self.leaving:
                self.leaving -= 1
        if not self.stopping:
            replica.backend.close()

    def scale(self, replicas: int, timeout: float = 60.0) -> None:
        """Run ``replicas`` replicas: start new ones (and wait until they are ready)
        or ask some to leave after the call they are in. Queued work stays queued:
        a leaving replica takes its STOP from the queue behind the work queued
        before it, so it drains, and never holds work when it goes.

        Replicas already asked to leave do not count: a scale up that follows a
        scale down before its STOPs were taken starts what is needed."""
        with self.lock:
            current = len(self.replicas) - self.leaving + self.pending_restarts
            self.plan.replicas = replicas
            start = []
            for _ in range(replicas - current):
                start.append(self._make_replica(self._next_index))
                self._next_index += 1
            self.replicas.extend(start)
            self.leaving += max(current - replicas, 0)
            self.generation += 1
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

    # -- work -------------------------------------------------------------------------
    def claim(self) -> Replica | None:
        """An idle replica, its ``calling`` lock taken, for a call carried by the thread
        that hands this node a request (:meth:`.engine.Engine.carry`); None when the call
        must go through the queue: work is queued already (it keeps its turn), the node
        batches, runs processes, has a fault injected, stops, or its calls are not short."""
        plan = self.plan
        if not self.quick or plan.batch_size > 1 or plan.isolation != "thread" or self.fault is not None \
                or self.stopping or self.queue.qsize():
            return None
        for replica in self.replicas:
            if replica.calling.acquire(False):
                if replica.usable():
                    return replica
                replica.calling.release()
        return None

    def enqueue(self, work: Work, until: float | None = None) -> None:
        """Queue ``work``. When the queue is full, wait for room until ``until``
        (monotonic seconds; None: the node's own bound for a hop inside the graph),
        then raise OverloadError."""
        q = self.queue
        plan = self.plan
        if q.qsize() >= plan.queue_size:
            if until is None:
                until = min(time.monotonic() + min(plan.timeout, _INNER_WAIT), work.walk.deadline)
            self._wait_for_room(until)
        if self.dead():
            raise self.unavailable()
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
            self.engine.fail_work(self, work, self.unavailable())
            return
        self.queue.put(work)

    def drop_late(self, batch: list[Work], now: float) -> list[Work]:
        """Remove work whose deadline passed (failed as timeouts) or whose request
        already has its outcome; return the rest."""
        keep = []
        plan = self.plan
        for work in batch:
            if work.walk.finished and plan.reaches_response:
                continue
            if work.walk.deadline < now:
                self.engine.retry_or_fail(self, work, "late", None)
                continue
            keep.append(work)
        return keep

    def refuse(self, batch: list[Work]) -> None:
        """Fail work a replica took while the deployment stops (called under lock)."""
        for work in batch:
            self.engine.fail(work.walk, DeploymentStoppedError(
                f"deployment stopped before node {self.plan.name!r} ran the request", self.plan.name))

    def unshippable(self, held: list[Work], bad: dict[int, str], outputs: list[Any] | None) -> None:
        """Fail the requests whose payload or result cannot cross to or from the
        process; queue the other payloads again, or pass their results on."""
        from .errors import BadRequestError

        for i, work in enumerate(held):
            if i in bad:
                self.engine.fail_work(self, work, BadRequestError(
                    f"node {self.plan.name!r}: {bad[i]}", self.plan.name))
            elif outputs is None:
                self.requeue(work)
            else:
                self.engine.node_output(self, work, outputs[i])

    def batch_done(self, replica: Replica, held: list[Work], outputs: list[Any]) -> None:
        if self.breaker.streak:
            self.served()
        if replica.errors_in_a_row or not replica.good:
            replica.errors_in_a_row = 0
            replica.good = True
        engine = self.engine
        walker, perform = engine.walker, engine.perform
        now = time.monotonic()
        produced = walker.produced
        if walker.hub.active:  # observers learn who ran it, when, in a batch of how many
            n = len(held)
            if n == 1 and not isinstance(outputs[0], BaseException):  # carried on, as below
                work = held[0]
                actions = produced(work, outputs[0], now, replica.label, replica.started, 1) \
                    if work.walk.observed else produced(work, outputs[0], now)
                engine.carry(actions, replica.host or replica)
                return
            rid, began = replica.label, replica.started
            for work, out in zip(held, outputs):
                if isinstance(out, BaseException):
                    engine.retry_or_fail(self, work, "error", out, rid, began, n)
                else:
                    perform(produced(work, out, now, rid, began, n))
            return
        if len(held) == 1 and not isinstance(outputs[0], BaseException):
            # a lone request goes on on this thread while the next node has an idle replica
            engine.carry(produced(held[0], outputs[0], now), replica.host or replica)
            return
        for work, out in zip(held, outputs):
            if isinstance(out, BaseException):  # a batched impl failed this item alone
                engine.retry_or_fail(self, work, "error", out)
            else:  # Engine.node_output, inlined
                perform(produced(work, out, now))

    def batch_error(self, replica: Replica, held: list[Work], exc: BaseException) -> bool:
        """Retry or fail the batch; True when the replica was ejected as an outlier."""
        ejected = not rejects_input(exc) and self.impl_failed(replica)
        rid, began, n = replica.label, replica.started, len(held)
        for work in held:
            self.engine.retry_or_fail(self, work, "error", exc, rid, began, n)
        return ejected

    def begin_stop(self) -> None:
        """From now on no impl call starts; queued work fails with cause "stopped"."""
        with self.lock:
            self.stopping = True
        with self.room:
            self.room.notify_all()
        while True:
            try:
                work = self.queue.get_nowait()
            except queue.Empty:
                return
            if work is not STOP:
                self.engine.fail(work.walk, DeploymentStoppedError(
                    f"deployment stopped before node {self.plan.name!r} ran the request", self.plan.name))

    def stop(self, deadline: float) -> None:
        """End every replica: threads leave (joined until ``deadline``), processes are
        asked to exit, killed if they have not by ``deadline``, and their pipes closed."""
        with self.lock:
            replicas = list(self.replicas)
            everyone = replicas + self.retired
        for _ in replicas:
            self.queue.put(STOP)
        processes = [r.backend for r in everyone if isinstance(r.backend, ProcessBackend)]
        for backend in processes:
            backend.ask_to_exit()
        for replica in replicas:
            if replica.thread.ident is not None:
                replica.thread.join(max(deadline - time.monotonic(), 0.0))
        for backend in processes:
            backend.close(max(deadline - time.monotonic(), 0.0))
        for replica in replicas:  # a process replica's thread ends once its process is gone
            if isinstance(replica.backend, ProcessBackend) and replica.thread.ident is not None:
                replica.thread.join(0.2)
