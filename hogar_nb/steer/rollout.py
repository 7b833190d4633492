"""Rollouts: a controller that moves a split's weight to a candidate step by step.

It acts only through ``dep.reconfigure(split, weights=..., cause="rollout", why=...)``
(so every move is an event) and reads only the walker's events (:mod:`.gates`).
Each step holds for at least ``step_time`` seconds and ``step_requests`` candidate
requests; every ``gate_interval`` the candidate's last interval is compared with the
stable arm's, and a failing gate sets the candidate's weight to 0 at once, with the
reason recorded. With a ``quality_metric`` the gates also compare the arms' model
quality from delayed labels (served since the rollout started), and no step moves on
before both arms have ``min_labels`` labelled rows. A split's weights change as one swap, so each request takes exactly
one arm, whichever weights it met.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import HogarError
from .gates import HIGHER_IS_BETTER, LOWER_IS_BETTER, ArmFigures, ArmWatch, gate_failure, quality_failure

__all__ = ["Rollout", "RolloutError", "RolloutPolicy"]

STATES = ("running", "paused", "promoted", "rolled_back", "aborted")


class RolloutError(HogarError, ValueError):
    """A rollout cannot start or take this action (the message says why)."""


@dataclass(frozen=True)
class RolloutPolicy:
    """Steps (candidate shares, ending at 1.0), how long each holds, and the gates."""

    steps: tuple[float, ...] = (0.05, 0.25, 0.5, 1.0)
    step_time: float = 30.0
    step_requests: int = 100
    gate_interval: float = 1.0
    max_error_increase: float = 0.01
    max_p99_ratio: float = 1.5
    min_samples: int = 5
    #: gate on this model quality metric of the candidate against the stable arm
    #: (accuracy, f1, precision, recall; mae, rmse, log_loss), from delayed labels
    quality_metric: str | None = None
    max_quality_drop: float = 0.02
    min_labels: int = 30

    def __post_init__(self) -> None:
        try:
            steps = tuple(float(s) for s in self.steps)
        except (TypeError, ValueError):
            raise RolloutError(f"got {self.steps!r} for steps; expected a list of shares such as "
                               "[0.05, 0.25, 0.5, 1.0]") from None
        object.__setattr__(self, "steps", steps)
        if not steps or any(not 0 < s <= 1 for s in steps) or list(steps) != sorted(set(steps)):
            raise RolloutError(f"got {list(steps)} for steps; expected rising shares in (0, 1], such as "
                               "[0.05, 0.25, 0.5, 1.0]")
        for name in ("step_time", "gate_interval", "max_p99_ratio"):
            if not getattr(self, name) > 0:
                raise RolloutError(f"got {getattr(self, name)!r} for {name}; expected a number > 0")
        if self.step_requests < 0 or self.min_samples < 1 or self.max_error_increase < 0:
            raise RolloutError("step_requests >= 0, min_samples >= 1 and max_error_increase >= 0, please")
        metrics = (*HIGHER_IS_BETTER, *LOWER_IS_BETTER)
        if self.quality_metric is not None and self.quality_metric not in metrics:
            raise RolloutError(f"got {self.quality_metric!r} for quality_metric; expected one of {', '.join(metrics)}")
        if not self.max_quality_drop >= 0 or self.min_labels < 1:
            raise RolloutError(f"got {self.max_quality_drop!r} for max_quality_drop and {self.min_labels!r} for "
                               "min_labels; expected a number >= 0 and an integer >= 1")


@dataclass
class Move:
    """One change of the candidate's weight: when (epoch s), to what, why."""

    time: float
    weight: float
    why: str


@dataclass
class _Status:
    split: str
    candidate: str
    state: str
    step: int
    weight: float
    cause: str | None
    moves: list[Move] = field(default_factory=list)
    quality: dict[str, Any] | None = None


class Rollout:
    """Drives ``split``'s weight for ``candidate`` (one of its successors) through
    ``policy.steps``; the other arms share the rest as they did at the start."""

    def __init__(self, dep: Any, split: str, candidate: str, policy: RolloutPolicy | None = None) -> None:
        self.dep = dep
        self.split = split
        self.candidate = candidate
        self.policy = policy or RolloutPolicy()
        arms = _arms(dep, split)
        if candidate not in arms:
            raise RolloutError(f"{candidate!r} is not a successor of split {split!r}; they are {sorted(arms)}")
        if len(arms) < 2:
            raise RolloutError(f"split {split!r} has one successor: nothing to roll out against")
        others = {a: w for a, w in arms.items() if a != candidate}
        total = sum(others.values())
        self._stable_shares = {a: (w / total if total > 0 else 1 / len(others)) for a, w in others.items()}
        self.stable = max(self._stable_shares, key=self._stable_shares.__getitem__)
        self.state = "running"
        self.step = -1
        self.weight = arms[candidate]
        self.cause: str | None = None
        self.moves: list[Move] = []
        self._lock = threading.RLock()
        self._step_began = 0.0
        self._step_count0 = 0
        self._last_gate = 0.0
        self._stable_seen = ArmFigures(0, 0, None)
        self.quality: dict[str, Any] | None = None  # the quality gate's last comparison
        self._started = time.time()
        self._monitor = self._quality_monitor() if self.policy.quality_metric else None
        self._watch = ArmWatch(dep, split)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hogar-rollout", daemon=True)

    def _quality_monitor(self) -> Any:
        metric = self.policy.quality_metric
        monitor = self.dep.quality_monitor(start=False)
        arms = monitor.arm_scores(self.split) if monitor is not None else {}
        missing = [a for a in (self.candidate, self.stable) if a not in arms]
        if missing:
            raise RolloutError(f"the {metric} gate needs labels for both arms, but no model node with "
                               f"`feedback = true` follows {' and '.join(repr(a) for a in missing)} at split "
                               f"{self.split!r}")
        return monitor

    def _quality_gate(self) -> str | None:
        """The quality comparison since the start (kept in :attr:`quality`), and why it fails."""
        p = self.policy
        assert self._monitor is not None and p.quality_metric is not None  # only with a quality gate
        scores = self._monitor.arm_scores(self.split, since=self._started)
        cand, stable = scores.get(self.candidate, {}), scores.get(self.stable, {})
        self.quality = {"metric": p.quality_metric, "min_labels": p.min_labels,
                        "candidate": {"value": cand.get(p.quality_metric), "labelled": cand.get("labelled", 0)},
                        "stable": {"value": stable.get(p.quality_metric), "labelled": stable.get("labelled", 0)}}
        return quality_failure(cand, stable, metric=p.quality_metric, max_drop=p.max_quality_drop,
                               min_labels=p.min_labels)

    def _judged(self) -> bool:
        """True without a quality gate; with one, once both arms have their labels."""
        q = self.quality
        if self._monitor is None:
            return True
        return q is not None and min(q["candidate"]["labelled"], q["stable"]["labelled"]) >= self.policy.min_labels

    # -- actions ------------------------------------------------------------------------
    def start(self) -> Rollout:
        with self._lock:
            self._advance(time.time(), "started")
        self._thread.start()
        return self

    def pause(self) -> None:
        """Hold the current weight (the gates still watch and still roll back)."""
        with self._lock:
            self._expect("running")
            self.state = "paused"

    def resume(self) -> None:
        with self._lock:
            self._expect("paused")
            self.state = "running"
            self._step_began = time.time()

    def promote(self) -> None:
        """Send all traffic to the candidate now, and end."""
        with self._lock:
            self._expect("running", "paused")
            self._set(1.0, "promoted by the operator")
            self.state = "promoted"
        self._stop.set()

    def abort(self, why: str = "aborted by the operator") -> None:
        """Send no traffic to the candidate any more, and end."""
        with self._lock:
            self._expect("running", "paused")
            self._set(0.0, why)
            self.state, self.cause = "aborted", why
        self._stop.set()

    def close(self) -> None:
        """Stop watching (the weights stay as they are)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(5.0)
        self._watch.close()

    @property
    def done(self) -> bool:
        return self.state in ("promoted", "rolled_back", "aborted")

    def status(self) -> dict[str, Any]:
        """The rollout as JSON-ready data: state, step, weight, cause, every move."""
        with self._lock:
            return asdict(_Status(self.split, self.candidate, self.state, self.step, self.weight, self.cause,
                                  list(self.moves), self.quality))

    def _expect(self, *states: str) -> None:
        if self.state not in states:
            raise RolloutError(f"the rollout of {self.candidate!r} at {self.split!r} is {self.state}; "
                               f"this needs it {' or '.join(states)}")

    # -- the loop -----------------------------------------------------------------------
    def _run(self) -> None:
        tick = min(0.1, self.policy.gate_interval / 4)
        while not self._stop.wait(tick) and self.dep.running:
            try:
                self.check(time.time())
            except Exception:  # the deployment stopping under us: look again next tick
                continue
            if self.done:
                break
        self._watch.close()

    def check(self, now: float) -> None:
        """Check the gates (once per gate interval) and move on when a step has held."""
        p = self.policy
        with self._lock:
            if self.done:
                return
            if now - self._last_gate >= p.gate_interval:
                self._last_gate = now
                cand = self._watch.window(self.candidate, now - p.gate_interval)
                stable = self._watch.window(self.stable, now - p.gate_interval)
                if stable.requests:
                    self._stable_seen = stable
                failure = gate_failure(cand, self._stable_seen, max_error_increase=p.max_error_increase,
                                       max_p99_ratio=p.max_p99_ratio, min_samples=p.min_samples)
                if failure is None and self._monitor is not None:
                    failure = self._quality_gate()
                if failure is not None:
                    why = f"rolled back at {self.weight:.0%}: {failure}"
                    self._set(0.0, why)
                    self.state, self.cause = "rolled_back", failure
                    self._stop.set()
                    return
            if self.state != "running":
                return
            served = self._watch.counts.get(self.candidate, 0) - self._step_count0
            if now - self._step_began >= p.step_time and served >= p.step_requests and self._judged():
                if self.step == len(p.steps) - 1:
                    self.state = "promoted"
                    self.moves.append(Move(now, self.weight, "every step passed its gates"))
                    self._stop.set()
                else:
                    self._advance(now, f"{served} candidate requests over {now - self._step_began:.1f} s "
                                       "passed the gates")

    def _advance(self, now: float, why: str) -> None:
        self.step += 1
        share = self.policy.steps[self.step]
        self._set(share, f"step {self.step + 1}/{len(self.policy.steps)}: {why}")
        self._step_began = now
        self._step_count0 = self._watch.counts.get(self.candidate, 0)

    def _set(self, share: float, why: str) -> None:
        weights = {a: (1.0 - share) * s for a, s in self._stable_shares.items()}
        weights[self.candidate] = share
        self.dep.reconfigure(self.split, weights=weights, cause="rollout", why=why)
        self.weight = share
        self.moves.append(Move(time.time(), share, why))


def _arms(dep: Any, split: str) -> dict[str, float]:
    earg = dep.earg or {}
    kinds = {n["name"]: n.get("kind") for n in earg.get("nodes") or []}
    if kinds.get(split) != "split":
        splits = sorted(n for n, k in kinds.items() if k == "split")
        raise RolloutError(f"{split!r} is not a split; the graph's splits are {splits}")
    return {e["dst"]: float(e.get("weight") or 0.0) for e in earg.get("edges") or []
            if e["src"] == split and e.get("mirror") is None}
