"""The embedded autoscaler: reads a deployment's metrics, scales its nodes.

It acts only through the Deployment base: ``metrics()`` for each node's requests
in flight and queued, ``scale(node, n, cause="autoscale", why=...)`` to change a
count (recorded in ``dep.events`` as ``replicas a -> b: why``). Scaling down goes
through the engine's drain: a leaving replica finishes the call it is in and the
work queued before it, so no request is lost.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from ..core.autoscale import AutoscalePolicy
from ..core.replica_limits import replica_limit
from .budget import Budget, critical_nodes
from .decide import NodeScaler, Want

__all__ = ["Autoscaler", "Decision", "autoscaled_nodes"]

INTERVAL_S = 0.1  # how often the autoscaler looks
_log = logging.getLogger(__name__)


def autoscaled_nodes(earg: dict | None) -> dict[str, AutoscalePolicy]:
    """Node name -> policy for every node of ``earg`` with ``replicas = auto(...)``."""
    out = {}
    for entry in (earg or {}).get("nodes") or []:
        policy = AutoscalePolicy.from_earg(entry)
        if policy is not None:
            out[entry["name"]] = policy
    return out


class Decision:
    """One applied change: ``node`` from ``before`` to ``after`` at ``time`` (epoch s), ``why``."""

    __slots__ = ("time", "node", "before", "after", "why")

    def __init__(self, time_: float, node: str, before: int, after: int, why: str) -> None:
        self.time, self.node, self.before, self.after, self.why = time_, node, before, after, why

    def __repr__(self) -> str:
        return f"<Decision {self.node} {self.before} -> {self.after}: {self.why}>"


class Autoscaler:
    """Scales every ``replicas = auto(...)`` node of ``dep`` while it runs.

    :meth:`start` runs :meth:`step` every ``interval`` s on a daemon thread that
    ends with the deployment or :meth:`stop`; tests may call :meth:`step` with
    their own clock instead.
    """

    def __init__(self, dep: Any, interval: float = INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.dep = dep
        self.interval = interval
        self.clock = clock
        earg = dep.earg or {}
        self.budget = Budget(earg)
        # with a cluster the budget shares it out each time; without, this machine's bound holds
        self.scalers = {name: NodeScaler(name, policy, None if self.budget.total is not None
                                         else replica_limit(earg, name).most)
                        for name, policy in autoscaled_nodes(earg).items()}
        self.decisions: list[Decision] = []
        self.errors = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- the loop ---------------------------------------------------------------------
    def start(self) -> Autoscaler:
        if self._thread is None and self.scalers:
            self._thread = threading.Thread(target=self._run, name="hogar-autoscaler", daemon=True)
            self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.wait(self.interval) and self.dep.running:
            try:
                self.step()
            except Exception:  # a failed step (the deployment stopping, say) is retried next tick
                self.errors += 1
                _log.debug("autoscaler step failed", exc_info=True)

    # -- one look ---------------------------------------------------------------------
    def step(self, now: float | None = None) -> list[Decision]:
        """Observe every autoscaled node once and apply the changes due; returns them."""
        now = self.clock() if now is None else now
        snap = self.dep.metrics()
        wants: list[Want] = []
        for name, scaler in self.scalers.items():
            m = snap.nodes[name]
            scaler.observe(m.in_flight + m.queue_depth, now)
            want = scaler.want(m.replicas, now)
            if want is not None:
                wants.append(want)
        if not wants:
            return []
        current = {n: m.replicas for n, m in snap.nodes.items() if n in self.budget.each and m.replicas}
        critical: list[str] = []
        if self.budget.total is not None and any(w.up for w in wants):
            critical = critical_nodes(self.dep.earg or {}, {n: m.p50_ms for n, m in snap.nodes.items()})
        done = []
        for want, replicas, short in self.budget.grant(wants, current, critical):
            why = want.why + short
            self.dep.scale(want.node, replicas, cause="autoscale", why=why)
            decision = Decision(time.time(), want.node, want.current, replicas, why)
            self.decisions.append(decision)
            done.append(decision)
        return done
