"""Fault injection: crash, hang, slow down or fail a node's calls at a given rate."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

__all__ = ["FAULT_KINDS", "Fault", "InjectedFault"]

FAULT_KINDS = ("crash", "hang", "slow", "error")


class InjectedFault(Exception):
    """Raised inside a call by an ``error`` fault (counted with cause "error")."""


@dataclass
class Fault:
    """Applies to each call with probability ``rate``; ``count`` caps how many fire."""

    kind: str
    rate: float = 1.0
    delay: float = 0.1  # seconds, for "slow"
    count: int | None = None
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)
    fired: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"fault kind {self.kind!r} is not one of {', '.join(FAULT_KINDS)}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, got {self.rate!r}")
        self._rng = random.Random(self.seed)

    def roll(self) -> str | None:
        """The fault to apply to this call ("crash", "hang", ...) or None."""
        with self._lock:
            if self.count is not None and self.fired >= self.count:
                return None
            if self._rng.random() >= self.rate:
                return None
            self.fired += 1
            return self.kind
