"""The process side of a replica: a spawned child that runs the impl, and its pipe.

The impl's factory arrives serialised with cloudpickle (:class:`~.impls.Shipped`).
Payloads and results are pickled before anything is written to the pipe, so one
that cannot cross fails only its own request and the pipe stays usable.
"""

from __future__ import annotations

import importlib
import multiprocessing
import pickle
from multiprocessing.reduction import ForkingPickler
from typing import Any

from .errors import DeploymentConfigError
from .outcomes import ImplError, ReplicaFailure, Unshippable
from .procworker import child_main

__all__ = ["ProcessBackend", "RaisedInProcess", "rebuilt"]

_POLL = 0.05


def _reason(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class RaisedInProcess(Exception):
    """An impl's exception that could not be rebuilt in this process (its class
    cannot be pickled or imported here): its type's name and its message."""

    def __init__(self, type_name: str, message: str) -> None:
        super().__init__(message)
        self.type_name = type_name

    def __repr__(self) -> str:
        return f"{self.type_name}({str(self)!r})"


def rebuilt(module: str, qualname: str, message: str, blob: bytes | None, trace: str = "") -> BaseException:
    """:func:`_rebuilt`, with the traceback from the process as a note (its own
    traceback ends where the pipe was read)."""
    exc = _rebuilt(module, qualname, message, blob)
    if trace:
        exc.add_note("in the process replica:\n" + trace.rstrip())
    return exc


def _rebuilt(module: str, qualname: str, message: str, blob: bytes | None) -> BaseException:
    """The exception a process replica's impl raised, as the replica sent it back
    (see :func:`.procworker.raised`): the same class and message as with a thread.

    Unpickled when it can be; else an instance of its class made without calling
    its ``__init__`` (which may take other arguments than the message), with the
    message as its only argument; else a :class:`RaisedInProcess` that names it."""
    if blob is not None:
        try:
            exc = pickle.loads(blob)
        except Exception:  # a class this process cannot import or construct
            exc = None
        if isinstance(exc, Exception):
            return exc
    try:
        cls: Any = importlib.import_module(module)
        for part in qualname.split("."):
            cls = getattr(cls, part)
        if isinstance(cls, type) and issubclass(cls, Exception):
            exc = cls.__new__(cls, message)
            exc.args = (message,)
            return exc
    except Exception:  # not importable here (a class defined in a notebook, say)
        pass
    return RaisedInProcess(qualname.rpartition(".")[2], message)


class ProcessBackend:
    """Runs calls in a child process; ``close()`` ends it and closes every descriptor."""

    START_TIMEOUT = 60.0
    single = None  # calls cross to the child: never run as a thread replica's own call

    def __init__(self, factory: Any, node: str) -> None:
        self.factory = factory
        self.node = node
        self.proc: Any = None
        self.conn: Any = None
        self.pid: int | None = None
        self._exit = ""

    def start(self) -> None:
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self.conn = parent
        self.proc = ctx.Process(target=child_main, args=(child, self.factory), daemon=True,
                                name=f"hogar-{self.node}")
        try:
            self.proc.start()
        except Exception as exc:
            self.close()
            raise DeploymentConfigError(
                f"node {self.node!r}: cannot start a process replica: {_reason(exc)}") from exc
        finally:
            child.close()
        try:
            if not parent.poll(self.START_TIMEOUT):
                raise DeploymentConfigError(
                    f"node {self.node!r}: the process replica did not start within {self.START_TIMEOUT:g} s")
            kind, info = parent.recv()
        except (EOFError, OSError):
            detail = self.exit_detail()
            self.close()
            raise DeploymentConfigError(
                f"node {self.node!r}: the process replica exited while starting ({detail})") from None
        except DeploymentConfigError:
            self.close()
            raise
        if kind != "ready":
            self.close()
            raise DeploymentConfigError(f"node {self.node!r}: the process replica failed to start: {info}")
        self.pid = info

    def alive(self) -> bool:
        proc = self.proc
        try:
            return proc is not None and proc.is_alive()
        except ValueError:  # closed meanwhile
            return False

    def invoke(self, payloads: list[Any], batched: bool, fault: str | None, delay: float) -> list[Any]:
        try:
            data = ForkingPickler.dumps((payloads, batched, fault, delay))
        except Exception as exc:
            raise Unshippable(self._bad_payloads(payloads, exc), None) from None
        try:
            self.conn.send_bytes(data)
            while not self.conn.poll(_POLL):
                if not self.alive():
                    raise ReplicaFailure("died")
            reply = self.conn.recv_bytes()
        except (EOFError, OSError, AttributeError, ValueError):
            raise ReplicaFailure("died") from None
        try:
            kind, value = pickle.loads(reply)
        except Exception as exc:  # e.g. a result whose class this process cannot import
            why = f"the result cannot be read back from the process: {_reason(exc)}"
            raise Unshippable(dict.fromkeys(range(len(payloads)), why), None) from None
        if kind == "ok":
            return value
        if kind == "partial":
            bad = {i: f"the result cannot be sent back from the process: {why}"
                   for i, (ok, why) in enumerate(value) if not ok}
            raise Unshippable(bad, [v if ok else None for ok, v in value])
        error = rebuilt(*value)
        raise ImplError(error) from error

    @staticmethod
    def _bad_payloads(payloads: list[Any], exc: BaseException) -> dict[int, str]:
        bad = {}
        for i, payload in enumerate(payloads):
            try:
                ForkingPickler.dumps(payload)
            except Exception as one:
                bad[i] = f"the payload cannot be sent to the process: {_reason(one)}"
        return bad or {i: f"the batch cannot be sent to the process: {_reason(exc)}"
                       for i in range(len(payloads))}

    def exit_detail(self) -> str:
        """How the process ended: its exit code, or the signal that killed it."""
        proc = self.proc
        if proc is None:
            return self._exit
        try:
            proc.join(0.5)
            code = proc.exitcode
        except (ValueError, AssertionError):
            return self._exit
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
        if self.alive():
            self.proc.kill()

    def ask_to_exit(self) -> None:
        """Ask an idle child to exit (it reads the request after its current call)."""
        try:
            if self.alive() and self.conn is not None:
                self.conn.send(None)
        except (OSError, ValueError):
            pass

    def close(self, grace: float = 0.2) -> None:
        """Ask the child to exit (kill it after ``grace`` s), reap it, close the pipe."""
        proc, conn = self.proc, self.conn
        if proc is not None and proc._popen is not None:  # started
            self.ask_to_exit()
            try:
                proc.join(grace)
            except (OSError, ValueError):
                pass
            try:
                if proc.is_alive():
                    proc.kill()
                proc.join(2.0)
                self._exit = self.exit_detail()
                proc.close()
            except ValueError:  # still running after the kill: leave it to the OS
                pass
        self.proc = None
        if conn is not None:
            conn.close()
            self.conn = None
