"""The body of a process replica (runs in a child started with the spawn context).

Protocol on the pipe: the child sends ``("ready", pid)`` or ``("error", text)`` once,
then for each ``(payloads, batched, fault, delay)`` it answers ``("ok", outputs)``,
``("error", (type_name, text))`` or, when some results cannot be pickled,
``("partial", [(True, value) | (False, reason), ...])``. ``None`` asks it to exit.
Only stdlib imports here (the impl's factory brings what it needs).
"""

from __future__ import annotations

import os
import time
from typing import Any

__all__ = ["child_main"]


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
            out = fn(payloads) if batched or getattr(fn, "__hogar_batch__", False) else [fn(payloads[0])]
            reply: tuple = ("ok", list(out))
        except Exception as exc:
            reply = ("error", (type(exc).__name__, str(exc)))
        try:
            conn.send(reply)
        except Exception:  # a result that cannot be pickled: say which, send the others
            conn.send(("partial", [_shippable(v) for v in reply[1]] if reply[0] == "ok"
                       else [(False, "the error cannot be sent back")] * len(payloads)))


def _shippable(value: Any) -> tuple[bool, Any]:
    import pickle

    try:
        pickle.dumps(value)
        return True, value
    except Exception as exc:
        return False, f"{type(exc).__name__}: {exc}"
