"""Scale requests of the admin API: bounded by what the graph's cluster or this machine
can hold, applied in the background in steps.

A request that asks for more replicas than :func:`~hogar_nb.core.replica_limits.replica_limit`
allows is refused with 400 naming the bound. Otherwise it is handed to one background
thread per node, which moves the node toward the target in at most :data:`STEPS`
calls of the deployment's ``scale`` (each recorded by the backend as a ``scale``
event, so progress shows in ``/hogar/v1/events``) and stops between steps once the
server is closing. Fewer replicas are one step (leaving replicas finish their call). A later request for
the same node replaces the target.
"""

from __future__ import annotations

import logging
import math
import threading
from typing import TYPE_CHECKING, Any, Callable

from ..core.replica_limits import replica_limit

if TYPE_CHECKING:  # pragma: no cover
    from .app import ServingState

__all__ = ["STEPS", "Scaler", "ScaleOperation"]

STEPS = 10
_log = logging.getLogger("hogar_nb.serving")


class ScaleOperation:
    """One node's move toward ``target``: ``done`` is set when it ends, ``error``
    holds the exception that ended it early."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.done = threading.Event()
        self.error: BaseException | None = None


class Scaler:
    """The background scale operations of one server (see the module)."""

    def __init__(self, state: ServingState, apply: Callable[[str, int], None]) -> None:
        self.state = state
        self.apply = apply  # the deployment's scale, with the admin API's error mapping
        self._lock = threading.Lock()
        self._running: dict[str, ScaleOperation] = {}

    def limit_refusal(self, node: str, replicas: int) -> str | None:
        """Why ``replicas`` replicas of ``node`` are too many here, or None."""
        return replica_limit(self.state.dep.earg or {}, node).refusal(replicas)

    def request(self, node: str, replicas: int) -> ScaleOperation:
        """Move ``node`` toward ``replicas`` in the background; the operation to wait on."""
        with self._lock:
            running = self._running.get(node)
            if running is not None and not running.done.is_set():
                running.target = replicas  # the running thread picks the new target up
                return running
            operation = self._running[node] = ScaleOperation(replicas)
        threading.Thread(target=self._run, args=(node, operation), name=f"hogar-scale-{node}",
                         daemon=True).start()
        return operation

    def _current(self, node: str) -> int:
        return int(self.state.dep.metrics().nodes[node].replicas)

    def _run(self, node: str, operation: ScaleOperation) -> None:
        try:
            aim, step = None, 1
            while not self.state.closing:
                with self._lock:
                    target = operation.target
                current = self._current(node)
                if current == target:
                    break
                if target < current:  # replicas leave after their call: one step
                    self.apply(node, target)
                else:
                    if target != aim:  # a new target: at most STEPS steps from here
                        aim, step = target, max(1, math.ceil((target - current) / STEPS))
                    self.apply(node, min(target, current + step))
                if self._current(node) == current:  # the backend did not move: no busy loop
                    break
        except Exception as exc:  # reported to a waiting request, else logged
            operation.error = exc
            _log.warning("scaling node %r to %d replicas stopped: %s", node, operation.target, exc)
        finally:
            with self._lock:
                operation.done.set()
                if self._running.get(node) is operation:
                    del self._running[node]

    def wait(self, operation: ScaleOperation, seconds: float) -> bool:
        """Wait up to ``seconds`` for ``operation``; True when it is over (its error raised)."""
        if not operation.done.wait(seconds):
            return False
        if operation.error is not None:
            raise operation.error
        return True

    def pending(self, node: str) -> Any:
        """The target ``node`` is moving toward, or None."""
        with self._lock:
            running = self._running.get(node)
            return running.target if running is not None else None
