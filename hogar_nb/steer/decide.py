"""When a node's replica count should change: smoothing, delays and hysteresis.

Pure logic with the clock passed in, so it is tested step by step without threads.
Each tick a :class:`NodeScaler` takes the node's observed *ongoing* requests (in
flight plus queued) and its current replica count:

- the signal is smoothed by an exponential moving average with a time constant of
  :data:`SMOOTHING_S` (a burst of one tick moves it little, a step moves it fully
  within about a second);
- a need for **more** replicas (``ceil(smoothed / target_ongoing)``) must last
  ``scale_up_delay`` before it is asked for; it asks for what the smoothed signal
  wants, or for what the median raw observation of that window wants if that is more
  (a step held for the whole delay is met in one move, not chased as the average
  catches up, and one low reading in the window does not split the move in two);
- a need for **fewer** must last ``scale_down_delay``, and only counts when the
  smaller count would still run below :data:`DOWN_HEADROOM` of the target per
  replica: a load sitting on a boundary does not make the count flap. The count it
  goes down to is the largest the window asked for.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass

from ..core.autoscale import AutoscalePolicy

__all__ = ["DOWN_HEADROOM", "NodeScaler", "SMOOTHING_S", "Want"]

SMOOTHING_S = 0.3
DOWN_HEADROOM = 0.8


@dataclass(frozen=True)
class Want:
    """A change a node's scaler asks for: ``current`` -> ``replicas``, and ``why``."""

    node: str
    current: int
    replicas: int
    why: str
    pressure: float  # smoothed ongoing per current replica, over the target

    @property
    def up(self) -> bool:
        return self.replicas > self.current


class NodeScaler:
    """The scaling state of one autoscaled node."""

    def __init__(self, node: str, policy: AutoscalePolicy, most: int | None = None) -> None:
        self.node = node
        self.policy = policy
        self.most = min(policy.max_replicas, most) if most is not None else policy.max_replicas
        self.smoothed: float | None = None
        self.raw = 0.0
        self._last: float | None = None
        self._up_seen: list[float] = []  # the raw observations since the need for more began
        self._up_since: float | None = None
        self._down_since: float | None = None
        self._down_peak = 0

    def observe(self, ongoing: float, now: float) -> float:
        """Fold one observation in; returns the smoothed signal."""
        self.raw = float(ongoing)
        if self.smoothed is None or self._last is None:
            self.smoothed = float(ongoing)
        else:
            dt = max(now - self._last, 0.0)
            alpha = 1.0 - math.exp(-dt / SMOOTHING_S)
            self.smoothed += alpha * (ongoing - self.smoothed)
        self._last = now
        return self.smoothed

    def _bounded(self, n: int) -> int:
        return max(self.policy.min_replicas, min(self.most, n))

    def want(self, current: int, now: float) -> Want | None:
        """The change to ask for now, if any (call after :meth:`observe`)."""
        p = self.policy
        s = self.smoothed or 0.0
        target = p.target_ongoing
        up = self._bounded(math.ceil(s / target - 1e-9) if s > 0 else 0)
        down = self._bounded(math.ceil(s / (target * DOWN_HEADROOM) - 1e-9) if s > 0 else 0)
        pressure = s / (max(current, 1) * target)
        if up > current:
            self._down_since = None
            if self._up_since is None:
                self._up_since, self._up_seen = now, []
            self._up_seen.append(self.raw)
            if now - self._up_since >= p.scale_up_delay_ms / 1000.0 - 1e-9:
                self._up_since = None
                median = statistics.median_low(self._up_seen)
                held = self._bounded(math.ceil(median / target - 1e-9))
                why = self._why(s, now, "up", median if held > up else None)
                return Want(self.node, current, max(up, held), why, pressure)
            return None
        self._up_since = None
        if down < current:
            if self._down_since is None:
                self._down_since, self._down_peak = now, down
            self._down_peak = max(self._down_peak, down)
            if now - self._down_since >= p.scale_down_delay_ms / 1000.0 - 1e-9:
                self._down_since = None
                return Want(self.node, current, self._down_peak, self._why(s, now, "down"), pressure)
            return None
        self._down_since = None
        return None

    def _why(self, smoothed: float, now: float, direction: str, median: float | None = None) -> str:
        p = self.policy
        delay = p.scale_up_delay_ms if direction == "up" else p.scale_down_delay_ms
        held = f", {median:g} at the window's median" if median is not None else ""
        return (f"{smoothed:.1f} requests in flight or queued (smoothed{held}) for {delay / 1000:g} s, "
                f"target {p.target_ongoing:g} per replica")
