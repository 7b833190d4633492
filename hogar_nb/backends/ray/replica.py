"""The Serve deployment of one worker node: loads its impl once per replica, answers calls.

A call returns an envelope instead of raising, so the ingress learns the cause
without Ray wrapping the exception: ``("ok", value)`` or ``("err", cause, message,
pickled exception or None)``. Dynamic batching is ``@serve.batch``; its size and
wait come from ``user_config`` (so they change without restarting replicas), as
does fault injection.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from typing import Any

from ray import serve

from ...runtime import rows
from ...runtime.rows import Rows

__all__ = ["NodeReplica"]


def _envelope_error(cause: str, exc: BaseException) -> tuple:
    try:
        import cloudpickle

        blob: bytes | None = cloudpickle.dumps(exc)
    except Exception:
        blob = None
    return ("err", cause, repr(exc), blob)


def _cause_of(exc: BaseException) -> str:
    """"invalid_input" when the impl says the input has the wrong shape or types (as the
    embedded engine decides), else "error"."""
    from ...runtime.walk.retry import rejects_input

    return "invalid_input" if rejects_input(exc) else "error"


def _envelope(out: Any) -> tuple:
    """One item's envelope: a batched impl may fail an item alone by answering an exception."""
    if isinstance(out, BaseException):
        return _envelope_error(_cause_of(out), out)
    return ("ok", out)


@serve.deployment
class NodeReplica:
    """One replica of a python/model/switch node."""

    def __init__(self, node: str, factory: Any) -> None:
        self.node = node
        self.fn = factory.create()
        self.takes_batches = bool(getattr(self.fn, "__hogar_batch__", False))
        self.batch_size = 1
        self.fault: dict[str, Any] | None = None
        self.hang = asyncio.Event()
        try:  # who ran an attempt, for the ingress's walker events (traces)
            self.replica_id: str | None = serve.get_replica_context().replica_id.unique_id
        except Exception:
            self.replica_id = None

    def reconfigure(self, config: dict[str, Any]) -> None:
        self.batch_size = max(1, int(config.get("batch_size") or 1))
        # @serve.batch gives the method these setters; Ray types it as a plain coroutine function
        self._batched.set_max_batch_size(self.batch_size)  # type: ignore[attr-defined]
        self._batched.set_batch_wait_timeout_s(float(config.get("batch_wait_s") or 0.0))  # type: ignore[attr-defined]
        self.fault = config.get("fault")
        if not self.fault:
            self.hang.set()
        else:
            self.hang.clear()

    async def _apply_fault(self) -> None:
        fault = self.fault
        if not fault or random.random() >= float(fault.get("rate", 1.0)):
            return
        kind = fault.get("kind")
        if kind == "crash":
            os._exit(1)  # the replica actor dies; Serve's controller replaces it
        if kind == "hang":
            await self.hang.wait()
        elif kind == "slow":
            await asyncio.sleep(float(fault.get("delay_s", 0.1)))
        elif kind == "error":
            raise RuntimeError(f"injected error at node {self.node!r}")

    async def __call__(self, payload: Any, deadline: float | None = None) -> tuple:
        """The envelope, then who ran it, when it began (epoch s) and in a batch of how many."""
        began = time.time()
        if deadline is not None and began > deadline:
            return ("err", "timeout", "the request's deadline passed before the node ran", None)
        batch = 1
        try:
            await self._apply_fault()
            if type(payload) is Rows:  # a tensor's rows: a batch already, run together
                return _envelope(rows.call(self.fn, [payload], self.batch_size > 1)[0])
            if self.batch_size > 1:
                out, batch = await self._batched(payload)
            elif self.takes_batches:  # model runners always take a batch, as on the embedded engine
                out = _envelope(list(self.fn([payload]))[0])
            else:
                out = ("ok", self.fn(payload))
        except Exception as exc:
            out = _envelope_error(_cause_of(exc), exc)
        return (*out, self.replica_id, began, batch)

    @serve.batch(max_batch_size=1, batch_wait_timeout_s=0.0)
    async def _batched(self, payloads: list[Any]) -> list[tuple[tuple, int]]:
        n = len(payloads)
        try:
            outputs = list(self.fn(payloads))
            if len(outputs) != n:
                raise ValueError(f"batched impl returned {len(outputs)} results for {n} "
                                 "inputs (expected a list of the same length)")
        except Exception as exc:
            return [(_envelope_error(_cause_of(exc), exc), n)] * n
        return [(_envelope(out), n) for out in outputs]
