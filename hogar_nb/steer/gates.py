"""What a rollout watches: each request's arm and outcome, from the walker's events.

:class:`ArmWatch` subscribes to a deployment's events and records, for requests a
split routed, which arm they took, whether they failed and how long they took
(``started`` to ``completed``/``failed``). :meth:`ArmWatch.window` gives an arm's
figures over the last seconds; :func:`gate_failure` compares the candidate's with
the stable arm's; :func:`quality_failure` does the same with each arm's model quality
from delayed labels (the quality monitor's ``arm_scores``).
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

__all__ = ["ArmFigures", "ArmWatch", "HIGHER_IS_BETTER", "LOWER_IS_BETTER", "gate_failure", "quality_failure"]

#: quality metrics a rollout can gate on, by the direction that is better
HIGHER_IS_BETTER = ("accuracy", "f1", "precision", "recall")
LOWER_IS_BETTER = ("mae", "rmse", "log_loss")

_OPEN = 50_000  # requests waiting for their outcome at most
_KEEP = 200_000  # outcomes kept


@dataclass(frozen=True)
class ArmFigures:
    """An arm over a window: requests ended, errors among them, p99 latency (ms)."""

    requests: int
    errors: int
    p99_ms: float | None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.requests if self.requests else None


class ArmWatch:
    """Outcomes of the requests split ``split`` routed, by arm."""

    def __init__(self, dep: Any, split: str) -> None:
        self.split = split
        self._lock = threading.Lock()
        self._open: dict[int, list[Any]] = {}  # request -> [start, arm]
        self._done: deque[tuple[float, str, bool, float]] = deque(maxlen=_KEEP)  # (end, arm, ok, ms)
        self.counts: dict[str, int] = {}
        self.subscription = dep.subscribe(self._on_event, 100_000)

    def close(self) -> None:
        self.subscription.close()

    def _on_event(self, e: Any) -> None:
        kind = e.kind
        with self._lock:
            if kind == "started":
                self._open[e.request] = [e.time, None]
                if len(self._open) > _OPEN:
                    self._open.pop(next(iter(self._open)))
            elif kind == "routed" and e.node == self.split:
                entry = self._open.get(e.request)
                if entry is not None:
                    entry[1] = e.choice
            elif kind in ("completed", "failed"):
                entry = self._open.pop(e.request, None)
                if entry is not None and entry[1] is not None:
                    arm = entry[1]
                    self._done.append((e.time, arm, kind == "completed", (e.time - entry[0]) * 1000.0))
                    self.counts[arm] = self.counts.get(arm, 0) + 1

    def window(self, arm: str, since: float) -> ArmFigures:
        """``arm``'s requests that ended at or after ``since`` (epoch seconds)."""
        with self._lock:
            rows = [(ok, ms) for end, a, ok, ms in reversed(self._done) if a == arm and end >= since] \
                if self._done else []
        if not rows:
            return ArmFigures(0, 0, None)
        latencies = sorted(ms for ok, ms in rows if ok)
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else None
        return ArmFigures(len(rows), sum(1 for ok, _ in rows if not ok), p99)


def gate_failure(cand: ArmFigures, stable: ArmFigures, *, max_error_increase: float, max_p99_ratio: float,
                 min_samples: int, noise_ms: float = 5.0) -> str | None:
    """Why the candidate fails its gates against the stable arm, or None.

    The error gate: the candidate's error rate may exceed the stable arm's by at most
    ``max_error_increase``. The latency gate: its p99 may be at most ``max_p99_ratio``
    times the stable arm's (and ``noise_ms`` above it). Both wait for ``min_samples``
    candidate requests; with no stable figures the stable arm counts as error-free and
    the latency gate waits."""
    if cand.requests < min_samples:
        return None
    base = stable.error_rate or 0.0
    rate = cand.error_rate or 0.0
    if rate > base + max_error_increase:
        return (f"the candidate's error rate {rate:.1%} over {cand.requests} requests is above the stable "
                f"arm's {base:.1%} by more than {max_error_increase:.1%}")
    if cand.p99_ms is not None and stable.p99_ms is not None \
            and cand.p99_ms > max_p99_ratio * stable.p99_ms and cand.p99_ms - stable.p99_ms > noise_ms:
        return (f"the candidate's p99 latency {cand.p99_ms:.1f} ms is above {max_p99_ratio:g}x the stable "
                f"arm's {stable.p99_ms:.1f} ms")
    return None


def quality_failure(cand: dict[str, Any], stable: dict[str, Any], *, metric: str, max_drop: float,
                    min_labels: int) -> str | None:
    """Why the candidate's ``metric`` (from its labelled predictions) fails against the
    stable arm's, or None. It may be worse by at most ``max_drop`` (lower for
    accuracy-like metrics, higher for errors such as ``mae``); both arms need
    ``min_labels`` labelled rows first."""
    if cand.get("labelled", 0) < min_labels or stable.get("labelled", 0) < min_labels:
        return None
    if metric not in cand or metric not in stable:
        return None
    c, s = float(cand[metric]), float(stable[metric])
    worse = s - c if metric in HIGHER_IS_BETTER else c - s
    if worse > max_drop:
        word = "below" if metric in HIGHER_IS_BETTER else "above"
        return (f"the candidate's {metric} {c:.3f} over {cand['labelled']} labelled rows is {word} the stable "
                f"arm's {s:.3f} (over {stable['labelled']}) by more than {max_drop:g}")
    return None
