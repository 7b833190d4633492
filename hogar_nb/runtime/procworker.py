"""The body of a process replica (runs in a child started with the spawn context).

Protocol on the pipe: the child sends ``("ready", pid)`` or ``("error", text)`` once,
then for each ``(payloads, batched, fault, delay)`` it answers ``("ok", outputs)`` or
``("error", (type_name, text))``. ``None`` asks it to exit. Only stdlib imports here.
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
            out = fn(payloads) if batched else [fn(payloads[0])]
            reply: tuple = ("ok", list(out))
        except Exception as exc:
            reply = ("error", (type(exc).__name__, str(exc)))
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable result
            conn.send(("error", (type(exc).__name__, f"cannot send the result back: {exc}")))
