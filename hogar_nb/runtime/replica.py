"""A replica: one worker thread taking work from its node's queue.

The call itself runs in the thread (``ThreadBackend``) or in a child process
(``ProcessBackend``, spawn context). A crash or death ends the replica and hands the
work it held back to the node; a hang is detected by the supervisor, which abandons
the replica (its late result is dropped) and replaces it.
"""

from __future__ import annotations

import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from . import rows
from .rows import Rows
from .faults import InjectedFault
from .outcomes import ImplError, ReplicaFailure, Unshippable
from .process_replica import ProcessBackend

if TYPE_CHECKING:  # pragma: no cover
    from .node import NodeRuntime, Work

__all__ = ["ProcessBackend", "Replica", "ReplicaFailure", "STOP", "ThreadBackend"]

STOP = object()  # queue sentinel: one replica exits
_POLL = 0.05
STEP_BACK_S = 0.005  # how long a failing replica leaves the queue to a sibling with no call yet
# A node whose last call took less than this may have its next call carried by the thread
# that hands it the request (Engine.carry): a thread hand-off costs about as much.
CARRY_MAX_S = 0.0002


class ThreadBackend:
    def __init__(self, factory: Any, release: threading.Event) -> None:
        self.factory = factory
        self.release = release  # set when injected hangs must end (stop, clear_faults)
        self.fn: Callable[[Any], Any] | None = None
        self.single: Callable[[Any], Any] | None = None  # fn, when it takes one payload a call
        self.pid: int | None = None

    def start(self) -> None:
        self.fn = self.factory.create()
        self.single = None if getattr(self.fn, "__hogar_batch__", False) else self.fn

    def alive(self) -> bool:
        return True

    def invoke(self, payloads: list[Any], batched: bool, fault: str | None, delay: float) -> list[Any]:
        if fault == "crash":
            raise ReplicaFailure("crash")
        if fault == "hang":
            self.release.wait()
            raise ReplicaFailure("hang")
        if fault == "slow":
            time.sleep(delay)
        try:
            if fault == "error":
                raise InjectedFault("injected fault")
            fn = self.fn
            assert fn is not None, "invoke() before start()"
            return rows.call(fn, payloads, batched)  # model runners always take a batch
        except Exception as exc:
            raise ImplError(exc) from exc
        except BaseException as exc:  # SystemExit and the like end the replica
            raise ReplicaFailure("crash") from exc

    def exit_detail(self) -> str:
        return ""

    def kill(self) -> None:
        """Threads cannot be killed; a hung one is abandoned."""

    def close(self) -> None:
        pass


class Replica:
    """One worker of a node. ``held`` is the work it is running (changed under node.lock,
    except by a single call's own thread: see :meth:`abandon_if_hung`)."""

    def __init__(self, node: NodeRuntime, index: int, backend: Any) -> None:
        self.node = node
        self.index = index
        self.label = str(index)  # as observers name it
        self.backend = backend
        self.held: list[Work] | None = None
        self.started = 0.0
        self.abandoned = False
        self.failed = False
        self.batched = False  # the batch being run was gathered with batch > 1
        self.good = False  # served a call successfully
        self.errors_in_a_row = 0  # impl errors since its last success (outlier detection)
        self.ready = threading.Event()
        self.up = False  # started without error (ready, read without the Event's call)
        self.start_error: BaseException | None = None
        self.calling = threading.Lock()  # held while a call runs on it, by its thread or a carrier
        self.ended = False  # a call carried here by another thread ended this replica
        self.host: Replica | None = None  # the replica whose thread carries a call here
        self.carrying = False  # this replica's thread runs a carry loop (Engine.carry)
        self.carried: list[Any] | None = None  # the actions a carried call handed back to it
        self.thread = threading.Thread(target=self._run, name=f"hogar-{node.plan.name}-{index}",
                                       daemon=True)

    def usable(self) -> bool:
        """Ready and not ending: a carrier may run a call on it."""
        return self.up and not (self.abandoned or self.failed or self.ended)

    @property
    def alive(self) -> bool:
        return self.ready.is_set() and self.start_error is None and not self.abandoned \
            and self.thread.is_alive()

    def start(self) -> None:
        self.thread.start()

    def _take(self, q: queue.SimpleQueue) -> Any:
        """Block for the first item, then gather a batch. Returns the batch, STOP
        (leave: the node is stopping or scaling down) or None (the backend died)."""
        while True:
            try:
                first = q.get(timeout=_POLL)
                break
            except queue.Empty:
                if self.abandoned or self.ended or not self.backend.alive():
                    return None
        if first is STOP:
            return STOP
        batch = [first]
        size = self.node.plan.batch_size  # read once: reconfigure may change it meanwhile
        self.batched = size > 1
        if size > 1:
            deadline = time.monotonic() + self.node.plan.batch_wait
            while len(batch) < size:
                try:
                    item = q.get_nowait() if q.qsize() else q.get(timeout=max(deadline - time.monotonic(), 0))
                except queue.Empty:
                    break
                if item is STOP:
                    q.put(STOP)
                    break
                batch.append(item)
        return batch

    def _run(self) -> None:
        node = self.node
        try:
            self.backend.start()
        except BaseException as exc:
            self.start_error = exc
            self.ready.set()
            node.replica_start_failed(self, exc)
            return
        self.up = True
        self.ready.set()
        node.replica_ready(self)
        q = node.queue
        stats = node.stats
        monotonic = time.monotonic
        calling = self.calling
        try:
            while True:
                batch = self._take(q)
                if batch is STOP:
                    node.replica_retired(self)
                    return
                if batch is None:
                    if not self.abandoned and not self.ended and not self.backend.alive():
                        self.failed = True
                        node.replica_failed(self, "died", [], self.backend.exit_detail())
                    return
                if node.waiting:
                    node.made_room()
                if not self._own_call(calling):  # a carried call ended this replica: the work goes back
                    for work in batch:
                        q.put(work)
                    return
                try:
                    if len(batch) == 1 and not self.batched and node.fault is None \
                            and self.backend.single is not None:
                        if not self._serve_one(batch[0], node, stats, monotonic):
                            return
                    elif not self._serve(batch, node, stats, monotonic, self.batched):
                        return
                finally:
                    calling.release()
        except Exception as exc:  # a fault of the engine's own: the replica is replaced, never lost silently
            held = self._release()
            if held is not None and not node.stopping:
                self.failed = True
                node.replica_failed(self, "crash", held,
                                    f"the replica's loop failed: {type(exc).__name__}: {exc}")
        finally:
            if (self.abandoned or self.failed or self.ended) and not node.stopping:
                self.backend.close()  # a dead or hung process is reaped now, not at stop

    def _own_call(self, calling: threading.Lock) -> bool:
        """Take ``calling`` for a call of this replica's own thread, waiting while a
        carrier runs one (Engine.carry); False, without it, once the replica is gone
        (the carried call ended it or hung)."""
        if calling.acquire(False):
            if not (self.ended or self.abandoned):
                return True
            calling.release()
            return False
        while not (self.ended or self.abandoned):
            if calling.acquire(timeout=_POLL):
                if not (self.ended or self.abandoned):
                    return True
                calling.release()
        return False

    def _serve(self, batch: list[Work], node: NodeRuntime, stats: Any, monotonic: Callable[[], float],
               batched: bool) -> bool:
        """Run one batch taken from the queue (or one call carried here by another
        replica's thread, see :meth:`.engine.Engine.carry`); False when this replica
        ends with it (crash, hang, ejection, stop)."""
        now = monotonic()
        for work in batch:
            if work.walk.deadline < now or (work.walk.finished and node.plan.reaches_response):
                batch = node.drop_late(batch, now)
                break
        if not batch:
            return True
        with node.lock:
            if node.stopping:  # stop() has begun: no impl call starts any more
                node.refuse(batch)
                return False
            self.held = batch
            self.started = now
        injected = node.fault
        fault = injected.roll() if injected is not None else None
        error: BaseException | None
        try:
            outputs = self.backend.invoke([w.payload for w in batch], batched,
                                          fault, injected.delay if injected is not None and fault else 0.0)
            error = None
            if len(outputs) != len(batch):
                error = ValueError(f"batched impl returned {len(outputs)} results for "
                                   f"{len(batch)} inputs (expected a list of the same length)")
        except ImplError as exc:
            outputs, error = None, exc.error
        except ReplicaFailure as exc:
            held = self._release()
            if held is not None:
                detail = self.backend.exit_detail() if exc.cause == "died" else ""
                self.failed = True
                node.replica_failed(self, exc.cause, held, detail)
            return False
        except Unshippable as exc:
            held = self._release()
            if held is None:
                return False
            node.unshippable(held, exc.bad, exc.outputs)
            return True
        took = monotonic() - self.started
        held = self._release()
        if held is None:  # abandoned meanwhile (timed out): the result is dropped
            return False
        node.quick = took < CARRY_MAX_S
        if error is None:
            if stats is not None:  # Stats.succeeded, inlined: node latency = time in the call
                stats.pending += len(held)
                if stats.pending >= stats.stride:
                    stats.observe(took)
            node.batch_done(self, held, outputs)
        elif node.batch_error(self, held, error):
            self.backend.close()  # ejected as an outlier: a replacement is starting
            return False
        elif node.starves_sibling(self):
            time.sleep(STEP_BACK_S)
        return True

    def _serve_one(self, work: Work, node: NodeRuntime, stats: Any, monotonic: Callable[[], float]) -> bool:
        """:meth:`_serve` for the common call: one request on a thread replica whose
        impl takes one payload, with no fault injected. The same steps, without the
        batch's lists and the backend's fault checks; the clock read at the call's end
        is the time the walker gets. Anything out of the ordinary (a late request, an
        impl that raises) goes the way :meth:`_serve` goes."""
        walk = work.walk
        now = monotonic()
        if walk.deadline < now or (walk.finished and node.plan.reaches_response):
            return self._serve([work], node, stats, monotonic, False)
        if node.stopping:  # stop() has begun: _serve refuses it under the node's lock
            return self._serve([work], node, stats, monotonic, False)
        # No node.lock here: the supervisor reads ``held`` only once ``started`` is this
        # call's, and the work leaves ``held`` by list.pop(), which either this thread
        # or the supervisor abandoning a hung call wins (abandon_if_hung).
        held = [work]
        self.started = now
        self.held = held
        fn = self.backend.single
        payload = work.payload
        try:
            out = Rows([fn(row) for row in payload]) if type(payload) is Rows else fn(payload)
        except Exception as exc:  # the impl failed: retried or failed as _serve does it
            error: BaseException = exc
        except BaseException:  # SystemExit and the like end the replica
            taken = self._release()
            if taken is not None:
                self.failed = True
                node.replica_failed(self, "crash", taken, "")
            return False
        else:
            end = monotonic()
            try:
                held.pop()
            except IndexError:  # abandoned meanwhile (timed out): the result is dropped
                return False
            self.held = None
            took = end - now
            node.quick = took < CARRY_MAX_S
            if stats is not None:  # Stats.succeeded, inlined
                stats.pending += 1
                if stats.pending >= stats.stride:
                    stats.observe(took)
            if node.breaker.streak:
                node.served()
            if self.errors_in_a_row or not self.good:
                self.errors_in_a_row = 0
                self.good = True
            if isinstance(out, BaseException):  # an answer that fails the request
                node.batch_done(self, [work], [out])
            else:  # it goes on on this thread while the next node has an idle replica
                engine = node.engine
                actions = engine.walker.produced(work, out, end, self.label, now) if walk.observed \
                    else engine.walker.produced(work, out, end)  # observers learn who ran it, and when
                host = self.host
                if host is not None:  # carried here: the carrier's loop takes the hop (Engine.carry)
                    host.carried = actions
                else:
                    engine.carry(actions, self)
            return True
        done = self._release()
        if done is None:
            return False
        node.quick = monotonic() - now < CARRY_MAX_S
        if node.batch_error(self, done, error):
            self.backend.close()  # ejected as an outlier: a replacement is starting
            return False
        if node.starves_sibling(self):
            time.sleep(STEP_BACK_S)
        return True

    def _release(self) -> list[Work] | None:
        with self.node.lock:
            if self.abandoned:
                return None
            held, self.held = self.held, None
            return held or []

    def abandon_if_hung(self, now: float) -> list[Work] | None:
        """Called by the supervisor under node.lock: take the work of a call past its timeout.

        The work is taken out of ``held`` with list.pop(), as a single call's own
        thread takes it when the call ends (:meth:`_serve_one`): whichever pops first
        has it, so a call that ends as it is judged hung is never run on twice."""
        held = self.held
        if held is None or self.abandoned or now - self.started <= self.node.plan.timeout:
            return None
        taken = []
        while True:
            try:
                taken.append(held.pop())
            except IndexError:
                break
        if not taken:  # the call ended meanwhile
            return None
        taken.reverse()
        self.abandoned = True
        self.held = None
        return taken
