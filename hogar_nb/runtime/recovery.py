"""How a node recovers from failed replicas: restarts with backoff, restart
intensity, suspension (a circuit breaker), half-open probes, outlier ejection.

The rules, as ``docs/udgl.md`` ("Recovery") states them:

- A failed replica is replaced at once after a served request; each further
  failure with no request served in between waits ``backoff``, then twice as
  long, and so on (capped at ``MAX_BACKOFF``); a served request resets it.
- At most ``max_restarts`` restarts count within ``within`` seconds while the
  node serves nothing; a served request clears the window. One more failure
  *suspends* the node: queued and new requests fail at once with
  UnavailableError. After the backoff the node is *half-open*: a replica is
  (re)started and traffic flows; the first request served *resumes* the node
  (its other replicas start), a failure suspends it again.
- A replica whose last ``EJECT_AFTER`` calls raised while a sibling's last call
  succeeded is ejected and replaced at once.

The breaker's decisions (restart or suspend, half-open, resume) are the walker's
(:mod:`.walk.breaker`), as on Ray; this module performs them with replicas and
timers. Everything here runs under ``node.lock`` or on the supervisor/replica
threads; the hot path only reads ``node.breaker.streak`` (non-zero while failures
are unresolved).
"""

from __future__ import annotations

import queue
import time
from typing import TYPE_CHECKING, Any, cast

from .errors import UnavailableError
from .walk.breaker import MAX_BACKOFF, Breaker

if TYPE_CHECKING:  # pragma: no cover
    import threading

    from .engine import Engine
    from .metrics import Stats
    from .node import NodeRuntime, Work
    from .plan import NodePlan
    from .replica import Replica

__all__ = ["EJECT_AFTER", "MAX_BACKOFF", "NodeRecovery"]

EJECT_AFTER = 5


class NodeRecovery:
    """Recovery state of one node, mixed into :class:`~.node.NodeRuntime`."""

    # what NodeRuntime.__init__ sets and the recovery reads
    plan: NodePlan
    engine: Engine
    stats: Stats | None
    queue: queue.SimpleQueue
    lock: threading.Lock
    replicas: list[Replica]
    retired: list[Replica]
    stopping: bool
    _next_index: int

    if TYPE_CHECKING:  # pragma: no cover - NodeRuntime's
        def _make_replica(self, index: int) -> Replica: ...

    def _node(self) -> NodeRuntime:
        """This node, as the NodeRuntime this class is mixed into."""
        return cast("NodeRuntime", self)

    def _init_recovery(self) -> None:
        self.restarts = 0  # replacements started (metrics)
        self.pending_restarts = 0  # replacements scheduled or starting
        self.breaker: Breaker = self.engine.walker.breakers[self.plan.name]
        self._pending_events: dict[int, tuple[float, float, str, str, int, str]] = {}
        # Bumped after every change of the replicas or the state; dead() scans the
        # replicas only when it moved since a scan found every one of them serving.
        self.generation = 0
        self._settled = -1

    # -- health -------------------------------------------------------------------------
    @property
    def state(self) -> str:
        """serving, suspended or half_open (the walker's breaker decides)."""
        return self.breaker.state

    def served(self) -> None:
        """A call succeeded after failures: the breaker starts over; a half-open node resumes."""
        with self.lock:
            resumed = self.engine.walker.served(self.plan.name, time.monotonic())
            if resumed is not None:
                self.generation += 1
        if resumed is not None:
            self.engine.record_event(time.time(), self.plan.name, -1, "suspend", "resume",
                                     resumed.duration, detail=resumed.detail)
            self._top_up("resume")

    def dead(self) -> bool:
        """No replica can take work (and none is starting), or the node is suspended.

        Called on every enqueue: it answers from the last scan while nothing changed
        since one found every replica alive and the node serving.
        """
        generation = self.generation
        if generation == self._settled:
            return False
        if self.state == "suspended":
            return not self.stopping
        if self.stopping or self.pending_restarts > 0:
            return False
        live = False
        replicas = list(self.replicas)
        every = bool(replicas)
        for r in replicas:
            if r.alive:
                live = True
            else:
                every = False
                if not r.ready.is_set():
                    live = True
        if every and self.state == "serving":
            self._settled = generation
        return not live

    def unavailable(self) -> UnavailableError:
        plan = self.plan
        if self.state == "suspended":
            return self.breaker.error(time.monotonic())
        return UnavailableError(f"node {plan.name!r} has no live replica (recovery policy "
                                f"{plan.policy!r})", plan.name)

    def _fail_queue_if_dead(self) -> None:
        if not self.dead():
            return
        from .replica import STOP

        err = self.unavailable()
        while True:
            try:
                work = self.queue.get_nowait()
            except queue.Empty:
                return
            if work is STOP:
                self.queue.put(STOP)  # a scale-down still pending: keep it for a replica
                return
            self.engine.fail_work(self._node(), work, UnavailableError(str(err), self.plan.name))

    # -- failures -------------------------------------------------------------------------
    def replica_ready(self, replica: Replica) -> None:
        with self.lock:
            pending = self._pending_events.pop(id(replica), None)
            if pending is not None:
                self.pending_restarts -= 1
                self.generation += 1
        if pending is not None:
            detected, wall, cause, action, requeued, detail = pending
            self.engine.record_event(wall, self.plan.name, replica.index, cause, action,
                                     time.monotonic() - detected, requeued, detail)

    def replica_start_failed(self, replica: Replica, exc: BaseException) -> None:
        with self.lock:
            pending = self._pending_events.pop(id(replica), None)
            if pending is not None:
                self.pending_restarts -= 1
                self.generation += 1
        if pending is None:  # a first start (run() or scale() reports it)
            with self.lock:
                if replica in self.replicas:
                    self.replicas.remove(replica)
                    self.generation += 1
                self.retired.append(replica)
            return
        self.replica_failed(replica, "start_failed", [], f"{type(exc).__name__}: {exc}")

    def replica_failed(self, replica: Replica, cause: str, held: list[Work],
                       detail: str = "") -> None:
        """A replica crashed, died, hung or failed to start: replace it per policy,
        or suspend the node; retry or fail the work it held."""
        detected, wall = time.monotonic(), time.time()
        plan = self.plan
        with self.lock:
            if replica in self.replicas:
                self.replicas.remove(replica)
                self.generation += 1
            self.retired.append(replica)
            if self.stopping:  # stop() ends every replica and fails the requests
                return
            alive = sum(1 for r in self.replicas if r.alive or not r.ready.is_set())
            action = plan.policy
            if plan.policy == "failover" and alive + self.pending_restarts == 0:
                action = "restart"
            if self.stopping:
                action = "none"
            elif action == "restart":
                transition = self.engine.walker.replica_failed(plan.name, detected, cause, detail)
                action = transition.action
                self.generation += 1
                if action == "restart":
                    self.restarts += 1
                    self.pending_restarts += 1
        if action == "restart":
            self._count_restart()
            info = (detected, wall, cause, "restart", len(held), detail)
            self.engine.schedule(transition.delay, lambda: self._replace(replica.index, info))
        elif action == "suspend":
            self.engine.record_event(wall, plan.name, -1, cause, "suspend", 0.0, len(held), transition.detail)
            self.engine.schedule(transition.delay, self._half_open)
        else:
            self.engine.record_event(wall, plan.name, replica.index, cause, action, 0.0, len(held), detail)
        request_cause = "timeout" if cause == "hang" else "crash"
        for work in held:
            self.engine.retry_or_fail(self._node(), work, request_cause, None, replica.label)
        self._fail_queue_if_dead()

    def _replace(self, index: int, info: tuple) -> None:
        with self.lock:
            if self.stopping or self.state == "suspended":
                self.pending_restarts -= 1
                self.generation += 1
                return
            replica = self._make_replica(index)
            self._pending_events[id(replica)] = info
            self.replicas.append(replica)
            self.generation += 1
        replica.start()

    # -- suspension -----------------------------------------------------------------------
    def _half_open(self) -> None:
        with self.lock:
            if self.stopping:
                return
            transition = self.engine.walker.half_open(self.plan.name, time.monotonic())
            if transition is None:
                return
            self.generation += 1
            live = any(r.alive or not r.ready.is_set() for r in self.replicas) or self.pending_restarts
        self.engine.record_event(time.time(), self.plan.name, -1, "suspend", "half_open", transition.duration,
                                 detail="trying the live replicas" if live else "starting one replica")
        if not live:
            self._start_replacements(1, (self.breaker.suspended_at, time.time(), "suspend", "restart", 0,
                                         "half-open"))

    def _top_up(self, why: str) -> None:
        with self.lock:
            missing = self.plan.replicas - len(self.replicas) - self.pending_restarts
        if missing > 0:
            self._start_replacements(missing, (time.monotonic(), time.time(), why, "restart", 0, ""))

    def _start_replacements(self, n: int, info: tuple) -> None:
        with self.lock:
            used = {r.index for r in self.replicas}
            free = [i for i in range(self._next_index) if i not in used]
            started = []
            for _ in range(n):
                index = free.pop(0) if free else self._next_index
                if index == self._next_index:
                    self._next_index += 1
                replica = self._make_replica(index)
                self._pending_events[id(replica)] = info
                self.pending_restarts += 1
                self.replicas.append(replica)
                self.generation += 1
                started.append(replica)
        for replica in started:
            replica.start()

    # -- outliers -------------------------------------------------------------------------
    def impl_failed(self, replica: Replica) -> bool:
        """Count an impl error on ``replica``; eject it (True) when it is an outlier."""
        replica.errors_in_a_row += 1
        if replica.errors_in_a_row < EJECT_AFTER or self.stopping:
            return False
        with self.lock:
            if replica not in self.replicas or not any(
                    r is not replica and r.alive and r.good and r.errors_in_a_row == 0 for r in self.replicas):
                return False
            self._retire(replica)
        self._count_restart()
        info = (time.monotonic(), time.time(), "outlier", "eject", 0,
                f"its last {replica.errors_in_a_row} calls raised while a sibling's succeeded")
        self._replace(replica.index, info)
        return True

    def replace_carrier(self, replica: Replica, detail: str) -> None:
        """Abandon ``replica``, whose thread hangs in another node's call it carried,
        and start its replacement at once (not counted by this node's breaker)."""
        with self.lock:
            replica.abandoned = True
            if self.stopping or replica not in self.replicas:
                return
            self._retire(replica)
        self._count_restart()
        self._replace(replica.index, (time.monotonic(), time.time(), "hang", "restart", 0, detail))

    def _retire(self, replica: Replica) -> None:
        """Under ``self.lock``: take ``replica`` out of service, its replacement due."""
        self.replicas.remove(replica)
        self.generation += 1
        self.retired.append(replica)
        self.restarts += 1
        self.pending_restarts += 1

    def _count_restart(self) -> None:
        if self.stats is not None:
            with self.stats.lock:
                self.stats.restarts += 1

    def starves_sibling(self, replica: Replica) -> bool:
        """True when ``replica`` fails every call while a sibling has had none yet.

        Replicas share one queue, and a replica that fails at once is back for the next
        request before a waiting sibling wakes: it would take all the traffic, and the
        sibling would never show that the fault is the replica's. Such a replica steps
        back for :data:`.replica.STEP_BACK_S` so the sibling is tried and the two can be compared.
        """
        return replica.errors_in_a_row >= EJECT_AFTER and any(
            r is not replica and r.alive and not r.good and r.errors_in_a_row == 0 for r in self.replicas)

    def check_hung(self, now: float) -> None:
        """Supervisor tick: abandon replicas whose call exceeded the node timeout."""
        hung: list[tuple[Replica, list[Any], Replica | None]] = []
        with self.lock:
            for replica in self.replicas:
                held = replica.abandon_if_hung(now)
                if held is not None:
                    hung.append((replica, held, replica.host))
        for replica, held, host in hung:
            replica.backend.kill()
            self.replica_failed(replica, "hang", held, f"a call ran past the timeout of "
                                                       f"{self.plan.timeout * 1000:g} ms")
            if host is not None and not host.abandoned:
                # the call was carried by another node's replica thread, which hangs with it
                # (Engine.carry): that replica is replaced too, whatever its node's policy,
                # as the failure is not its node's
                host.node.replace_carrier(host, f"its thread carried a call of node {self.plan.name!r} "
                                                "that hung")
