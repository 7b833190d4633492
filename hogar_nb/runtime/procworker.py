"""The body of a process replica (runs in a child started with the spawn context).

Protocol on the pipe: the child sends ``("ready", pid)`` or ``("error", text)`` once,
then for each ``(payloads, batched, fault, delay)`` it answers ``("ok", outputs)``,
``("raised", (module, qualname, text, pickled_exception | None, traceback))`` when the impl
raised, or,
when some results cannot be pickled, ``("partial", [(True, value) | (False, reason), ...])``.
``None`` asks it to exit. Only stdlib imports here (and :mod:`.rows`, stdlib only), and
cloudpickle, which the impl's factory brought along already.
"""

from __future__ import annotations

import os
import pickle
import time
import traceback
from typing import Any

from . import rows

__all__ = ["child_main", "raised"]


def child_main(conn: Any, factory: Any) -> None:
    try:
        fn = factory.create()
    except BaseException as exc:  # report any start failure to the parent
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        payloads, batched, fault, delay = msg
        if fault == "crash":
            os._exit(70)
        if fault == "hang":
            while True:
                time.sleep(3600)
        if fault == "slow":
            time.sleep(delay)
        try:
            if fault == "error":
                raise RuntimeError("injected fault")
            reply: tuple = ("ok", rows.call(fn, payloads, batched))
        except Exception as exc:
            reply = ("raised", raised(exc))
        try:
            conn.send(reply)
        except Exception:  # a result that cannot be pickled: say which, send the others
            conn.send(("partial", [_shippable(v) for v in reply[1]]))


def raised(exc: BaseException) -> tuple[str, str, str, bytes | None, str]:
    """An impl's exception as it crosses the pipe: its class's module and name, its
    message, when it can be pickled the exception itself (without its traceback), and
    its traceback as text.

    cloudpickle (when importable) also carries an exception class defined in a
    notebook, which plain pickle can only name."""
    try:
        import cloudpickle as dumper
    except ImportError:  # pragma: no cover - installed with hogar_nb
        dumper = pickle
    text = "".join(traceback.format_exception(exc))
    try:
        blob: bytes | None = dumper.dumps(exc.with_traceback(None))
    except Exception:
        blob = None
    cls = type(exc)
    return cls.__module__, cls.__qualname__, str(exc), blob, text


def _shippable(value: Any) -> tuple[bool, Any]:
    try:
        pickle.dumps(value)
        return True, value
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
