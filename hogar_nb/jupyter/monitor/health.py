"""Node health from two readings: recent latency against the timeout, error rate, replicas.

Pure functions and a small tracker; no widgets here, so rules are easy to test.
"""

from __future__ import annotations

from collections import deque

from ...core.health import COLOURS, LEVELS, HealthRules, NodeHealth, NodeTotals, assess, percentile_ms
from .source import Reading, Topology

__all__ = ["COLOURS", "LEVELS", "HealthRules", "HealthTracker", "NodeHealth", "percentile_ms"]


class HealthTracker:
    """Keeps the last few readings and rates every node against the one ``horizon_s`` ago."""

    def __init__(self, topology: Topology, rules: HealthRules | None = None) -> None:
        self.topology = topology
        self.rules = rules or HealthRules()
        self._history: deque[Reading] = deque(maxlen=256)

    def update(self, reading: Reading) -> dict[str, NodeHealth]:
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
        return out
