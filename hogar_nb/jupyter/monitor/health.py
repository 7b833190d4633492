"""Node health from two readings: recent latency against the timeout, error rate, replicas.

Pure functions and a small tracker; no widgets here, so rules are easy to test. Once
the deployment stops, every node with replicas reads ``stopped`` (a neutral colour)
and keeps the figures of the last reading taken while it ran: its final figures,
not a "down" node still claiming its last throughput.
"""

from __future__ import annotations

from collections import deque
from dataclasses import replace

from ...core.health import LEVELS as CORE_LEVELS
from ...core.health import HealthRules, NodeHealth, NodeTotals, assess, percentile_ms
from .source import Reading, Topology

__all__ = ["COLOURS", "LEVELS", "STOPPED", "HealthRules", "HealthTracker", "NodeHealth", "badge", "percentile_ms"]

#: the level of every node with replicas once the deployment stopped
STOPPED = "stopped"
#: the core's levels and, for a stopped deployment, a neutral one
LEVELS: dict[str, tuple[str, str]] = {
    **CORE_LEVELS, STOPPED: ("#e0e0e0", "deployment stopped: the figures are its final ones")}
COLOURS = {k: v[0] for k, v in LEVELS.items()}


class HealthTracker:
    """Keeps the last few readings and rates every node against the one ``horizon_s`` ago."""

    def __init__(self, topology: Topology, rules: HealthRules | None = None) -> None:
        self.topology = topology
        self.rules = rules or HealthRules()
        self._history: deque[Reading] = deque(maxlen=256)
        self._final: dict[str, NodeHealth] = {}  # the last health rated while running

    def update(self, reading: Reading) -> dict[str, NodeHealth]:
        if not reading.running:
            return self._stopped()
        history = self._history
        while history and reading.time - history[0].time > self.rules.horizon_s and len(history) > 1 \
                and reading.time - history[1].time >= self.rules.horizon_s:
            history.popleft()
        before = history[0] if history else None
        history.append(reading)
        dt = reading.time - before.time if before else 0.0
        out = {}
        for name, info in self.topology.nodes.items():
            now = reading.totals.get(name)
            if now is None:
                now = NodeTotals()
            prev = before.totals.get(name) if before else None
            out[name] = assess(info, now, prev, dt, self.rules)
        self._final = out
        return out

    def _stopped(self) -> dict[str, NodeHealth]:
        out = {}
        for name, info in self.topology.nodes.items():
            last = self._final.get(name)
            if info.replicas == 0:
                out[name] = last or NodeHealth("inline", "inline node", 0.0, 0, 0, 0, 0, None, None)
            elif last is None:
                out[name] = NodeHealth(STOPPED, "deployment stopped", 0.0, 0, 0, 0, info.replicas, None, None)
            else:
                out[name] = replace(last, level=STOPPED, reason=f"deployment stopped (was {last.level})")
        return out


def badge(health: NodeHealth) -> str:
    """The text under a node's name: rps and queue, or its final rps once stopped."""
    if health.level == "inline":
        return ""
    if health.level == STOPPED:
        return f"final: {health.rps:.1f} rps"
    return health.badge
