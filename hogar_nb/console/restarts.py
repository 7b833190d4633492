"""How often the console starts a deployment's ``hogar serve`` again: the replicas' policy,
``restart(max = N, within = T, backoff = D)``, applied to the process (docs/udgl.md, "Recovery").

Every exit counts, during start-up or after: at most ``N`` restarts in any window of
``T``; one more exit fails the deployment, with why. A process that exits before it
serves waits ``D``, ``2D``, ``4D``... (capped at 5 s) before the next start; one that
served is started again at once.
"""

from __future__ import annotations

import os
import signal
from collections import deque
from dataclasses import dataclass, field

from .config import ConsoleError

__all__ = ["DEFAULT", "RestartPolicy", "describe_exit"]

DEFAULT = "restart(max = 5, within = 60s, backoff = 1s)"
MAX_BACKOFF = 5.0


@dataclass
class RestartPolicy:
    """``restart(max, within, backoff)`` and the exits it has counted, for one deployment."""

    max_restarts: int = 5
    within: float = 60.0
    backoff: float = 1.0
    exits: deque = field(default_factory=deque)
    streak: int = 0  # exits in a row before serving

    @classmethod
    def parse(cls, text: str) -> "RestartPolicy":
        """A policy from its UDGL text, checked as a node's ``recovery`` is."""
        from ..core.coerce import CoerceError, coerce
        from ..core.kinds import COMMON_ATTRS, DEFAULT_WITHIN_MS
        from ..core.udgl.values_parser import parse_value
        from ..errors import HogarError

        try:
            value = coerce(COMMON_ATTRS["recovery"], parse_value(text))
        except (HogarError, CoerceError) as err:
            message = getattr(err, "message", None) or str(err)
            raise ConsoleError(f"got {text!r} for HOGAR_CONSOLE_RESTART: {message}") from None
        if value.get("policy") != "restart":
            raise ConsoleError(f"got {text!r} for HOGAR_CONSOLE_RESTART; expected restart(max = N, within = T, "
                               "backoff = D)")
        return cls(int(value["max_restarts"]), float(value.get("within_ms", DEFAULT_WITHIN_MS)) / 1000,
                   float(value["backoff_ms"]) / 1000)

    @classmethod
    def from_env(cls) -> "RestartPolicy":
        return cls.parse(os.environ.get("HOGAR_CONSOLE_RESTART") or DEFAULT)

    def fresh(self) -> "RestartPolicy":
        return RestartPolicy(self.max_restarts, self.within, self.backoff)

    def text(self) -> str:
        return f"restart(max = {self.max_restarts}, within = {self.within:g}s, backoff = {self.backoff:g}s)"

    def exited(self, now: float, served: bool) -> float | None:
        """Count an exit at ``now``: the delay before the next start, or None (give up)."""
        self.exits.append(now)
        while self.exits and now - self.exits[0] > self.within:
            self.exits.popleft()
        if len(self.exits) > self.max_restarts:
            return None
        if served:
            self.streak = 0
            return 0.0
        self.streak += 1
        return min(self.backoff * 2 ** min(self.streak - 1, 16), MAX_BACKOFF)

    def served(self) -> None:
        self.streak = 0


def describe_exit(code: int | None) -> str:
    """``was killed by SIGKILL`` or ``exited with code 3``."""
    if code is None:
        return "is still running"
    if code < 0:
        try:
            return f"was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"was killed by signal {-code}"
    return f"exited with code {code}"
