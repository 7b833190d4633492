"""A replica: one worker thread taking work from its node's queue.

The call itself runs in the thread (``ThreadBackend``) or in a child process
(``ProcessBackend``, spawn context). A crash or death ends the replica and hands the
work it held back to the node; a hang is detected by the supervisor, which abandons
the replica (its late result is dropped) and replaces it.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, Callable

from .errors import DeploymentConfigError, InvalidInputError
from .faults import InjectedFault
from .procworker import child_main

if TYPE_CHECKING:  # pragma: no cover
    from .node import NodeRuntime, Work

__all__ = ["ProcessBackend", "Replica", "ReplicaFailure", "STOP", "ThreadBackend"]

STOP = object()  # queue sentinel: one replica exits
_POLL = 0.05


class ReplicaFailure(Exception):
    """The replica itself failed (``cause``: crash or died); its work must be retried."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


class ImplError(Exception):
    """Wraps an exception raised by the impl (the replica survives it)."""


class ThreadBackend:
    def __init__(self, factory: Any, release: threading.Event) -> None:
        self.factory = factory
        self.release = release  # set when injected hangs must end (stop, clear_faults)
        self.fn: Callable[[Any], Any] | None = None
        self.pid: int | None = None

    def start(self) -> None:
        self.fn = self.factory.create()

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
            return list(self.fn(payloads)) if batched else [self.fn(payloads[0])]
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


class ProcessBackend:
    START_TIMEOUT = 60.0

    def __init__(self, factory: Any, node: str) -> None:
        self.factory = factory
        self.node = node
        self.proc: Any = None
        self.conn: Any = None
        self.pid: int | None = None

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=child_main, args=(child, self.factory), daemon=True,
                                name=f"hogar-{self.node}")
        try:
            self.proc.start()
        except Exception as exc:
            raise DeploymentConfigError(
                f"node {self.node!r}: cannot start a process replica (the impl must be "
                f"importable, e.g. \"module:attr\"): {exc}"
            ) from exc
        child.close()
        if not parent.poll(self.START_TIMEOUT):
            self.kill()
            raise DeploymentConfigError(f"node {self.node!r}: process replica did not start")
        try:
            kind, info = parent.recv()
        except EOFError:
            self.kill()
            raise DeploymentConfigError(
                f"node {self.node!r}: process replica exited while starting (is the impl importable?)"
            ) from None
        if kind != "ready":
            self.kill()
            raise DeploymentConfigError(f"node {self.node!r}: process replica failed to start: {info}")
        self.pid = info

    def alive(self) -> bool:
        return self.proc is not None and self.proc.is_alive()

    def invoke(self, payloads: list[Any], batched: bool, fault: str | None, delay: float) -> list[Any]:
        try:
            self.conn.send((payloads, batched, fault, delay))
            while not self.conn.poll(_POLL):
                if not self.proc.is_alive():
                    raise ReplicaFailure("died")
            kind, value = self.conn.recv()
        except (EOFError, OSError, BrokenPipeError):
            raise ReplicaFailure("died") from None
        if kind == "ok":
            return value
        if value[0] in ("InvalidInputError", "ModelInputError"):  # keeps its 422 meaning
            raise ImplError(InvalidInputError(value[1]))
        raise ImplError(RuntimeError(f"{value[0]}: {value[1]}"))

    def exit_detail(self) -> str:
        """How the process ended: its exit code, or the signal that killed it."""
        if self.proc is None:
            return ""
        self.proc.join(0.5)
        code = self.proc.exitcode
        if code is None:
            return "the pipe to the process broke"
        if code < 0:
            import signal

            try:
                return f"killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        return f"exit code {code}"

    def kill(self) -> None:
        if self.proc is not None and self.proc.is_alive():
            self.proc.kill()

    def close(self) -> None:
        if self.proc is None:
            return
        try:
            if self.proc.is_alive():
                self.conn.send(None)
                self.proc.join(1.0)
        except (OSError, BrokenPipeError):
            pass
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join(5.0)
        self.conn.close()


class Replica:
    """One worker of a node. ``held`` is the work it is running (guarded by node.lock)."""

    def __init__(self, node: NodeRuntime, index: int, backend: Any) -> None:
        self.node = node
        self.index = index
        self.backend = backend
        self.held: list[Work] | None = None
        self.started = 0.0
        self.abandoned = False
        self.good = False  # served a call successfully
        self.errors_in_a_row = 0  # impl errors since its last success (outlier detection)
        self.ready = threading.Event()
        self.start_error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name=f"hogar-{node.plan.name}-{index}",
                                       daemon=True)

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
                if self.abandoned or not self.backend.alive():
                    return None
        if first is STOP:
            return STOP
        batch = [first]
        size = self.node.plan.batch_size
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
        self.ready.set()
        node.replica_ready(self)
        q, lock = node.queue, node.lock
        stats = node.stats
        monotonic = time.monotonic
        try:
            while True:
                batch = self._take(q)
                if batch is STOP:
                    node.replica_retired(self)
                    return
                if batch is None:
                    if not self.abandoned and not self.backend.alive():
                        node.replica_failed(self, "died", [], self.backend.exit_detail())
                    return
                if node.waiting:
                    node.made_room()
                now = monotonic()
                for work in batch:
                    if work.req.deadline < now or (work.req.finished and node.plan.reaches_response):
                        batch = node.drop_late(batch, now)
                        break
                if not batch:
                    continue
                with lock:
                    self.held = batch
                    self.started = now
                    node.in_flight += len(batch)
                fault = node.fault.roll() if node.fault is not None else None
                try:
                    outputs = self.backend.invoke([w.payload for w in batch], node.plan.batch_size > 1,
                                                  fault, node.fault.delay if fault else 0.0)
                    error = None
                    if len(outputs) != len(batch):
                        error = ValueError(f"batched impl returned {len(outputs)} results for "
                                           f"{len(batch)} inputs (expected a list of the same length)")
                except ImplError as exc:
                    outputs, error = None, exc.__cause__
                except ReplicaFailure as exc:
                    held = self._release()
                    if held is not None:
                        detail = self.backend.exit_detail() if exc.cause == "died" else ""
                        node.replica_failed(self, exc.cause, held, detail)
                    return
                held = self._release()
                if held is None:  # abandoned meanwhile (timed out): the result is dropped
                    return
                if error is None:
                    if stats is not None:  # Stats.succeeded, inlined: node latency = time in the call
                        stats.pending += len(held)
                        if stats.pending >= stats.stride:
                            stats.observe(monotonic() - self.started)
                    node.batch_done(self, held, outputs)
                elif node.batch_error(self, held, error):
                    self.backend.close()  # ejected as an outlier: a replacement is starting
                    return
        finally:
            if self.abandoned:
                self.backend.close()

    def _release(self) -> list[Work] | None:
        with self.node.lock:
            if self.abandoned:
                return None
            held, self.held = self.held, None
            self.node.in_flight -= len(held or ())
            return held or []

    def abandon_if_hung(self, now: float) -> list[Work] | None:
        """Called by the supervisor under node.lock: take the work of a call past its timeout."""
        if self.held is None or self.abandoned or now - self.started <= self.node.plan.timeout:
            return None
        self.abandoned = True
        held, self.held = self.held, None
        self.node.in_flight -= len(held)
        return held
