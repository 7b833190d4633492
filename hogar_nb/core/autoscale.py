"""A node's autoscaling policy: ``replicas = auto(min = 1, max = 8)`` with
``target_ongoing``, ``scale_up_delay`` and ``scale_down_delay``.

One home for the policy's fields, their defaults and their EARG form
(``autoscale: {min_replicas, max_replicas, target_ongoing, scale_up_delay_ms,
scale_down_delay_ms}`` beside ``replicas``, which holds the count a deployment starts
with: the minimum). The defaults react within about a second of a load step and wait
long enough before giving replicas back that steady load does not make them flap.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AUTO_ATTRS",
    "AutoscalePolicy",
    "DEFAULT_SCALE_DOWN_DELAY_MS",
    "DEFAULT_SCALE_UP_DELAY_MS",
    "DEFAULT_TARGET_ONGOING",
]

#: the attributes that tune ``replicas = auto(...)`` (no effect on fixed replicas)
AUTO_ATTRS: tuple[str, ...] = ("target_ongoing", "scale_up_delay", "scale_down_delay")
DEFAULT_TARGET_ONGOING = 2.0
DEFAULT_SCALE_UP_DELAY_MS = 1_000.0
DEFAULT_SCALE_DOWN_DELAY_MS = 15_000.0


@dataclass(frozen=True, slots=True)
class AutoscalePolicy:
    """Run between ``min_replicas`` and ``max_replicas`` replicas, aiming at
    ``target_ongoing`` requests in flight or queued per replica; a need for more must
    last ``scale_up_delay_ms``, a need for fewer ``scale_down_delay_ms``."""

    min_replicas: int
    max_replicas: int
    target_ongoing: float = DEFAULT_TARGET_ONGOING
    scale_up_delay_ms: float = DEFAULT_SCALE_UP_DELAY_MS
    scale_down_delay_ms: float = DEFAULT_SCALE_DOWN_DELAY_MS

    def desired(self, ongoing: float) -> int:
        """The replica count ``ongoing`` requests call for, within the bounds."""
        want = math.ceil(ongoing / self.target_ongoing - 1e-9) if ongoing > 0 else 0
        return self.clamp(want)

    def clamp(self, replicas: int) -> int:
        return max(self.min_replicas, min(self.max_replicas, replicas))

    def to_earg(self) -> dict[str, Any]:
        return {"min_replicas": self.min_replicas, "max_replicas": self.max_replicas,
                "target_ongoing": float(self.target_ongoing),
                "scale_up_delay_ms": float(self.scale_up_delay_ms),
                "scale_down_delay_ms": float(self.scale_down_delay_ms)}

    @classmethod
    def from_earg(cls, entry: Mapping[str, Any]) -> AutoscalePolicy | None:
        """The policy of an EARG node entry, or None when its replicas are fixed."""
        auto = entry.get("autoscale")
        if not isinstance(auto, Mapping):
            return None
        return cls(int(auto["min_replicas"]), int(auto["max_replicas"]),
                   float(auto.get("target_ongoing", DEFAULT_TARGET_ONGOING)),
                   float(auto.get("scale_up_delay_ms", DEFAULT_SCALE_UP_DELAY_MS)),
                   float(auto.get("scale_down_delay_ms", DEFAULT_SCALE_DOWN_DELAY_MS)))
