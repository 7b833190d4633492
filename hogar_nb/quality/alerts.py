"""Alert rules evaluated off the request path, on the quality monitor's thread.

Each round (:meth:`AlertEngine.evaluate`) measures every rule's condition: drift
share and feature drift from the node's last window, quality from its labels,
latency p99 and error rate from the deployment's metrics over the time since the
previous round. A rule that holds for its ``for`` fires; one that stops holding
resolves. Both are recorded as the deployment's events (cause ``alert``, action
``firing`` or ``resolved``: in ``dep.events`` and ``/hogar/v1/events``' stream) and,
when the rule has a ``webhook``, POSTed there as JSON from a thread of their own.
"""

from __future__ import annotations

import operator
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

from ..core.health import percentile_ms

if TYPE_CHECKING:  # pragma: no cover
    from .monitor import QualityMonitor

__all__ = ["AlertEngine", "AlertState"]

OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le, "==": operator.eq, "!=": operator.ne}
WEBHOOK_TIMEOUT = 5.0
TRANSITIONS = 200  # firing and resolving kept for the report


class AlertState:
    """One rule and where it stands."""

    def __init__(self, rule: dict[str, Any]) -> None:
        self.rule = rule
        self.name: str = rule["name"]
        when = rule["when"]
        self.text = f"{when['measure']}({', '.join(when['args'])}) {when['op']} {when['value']:g}"
        self.hold = float(rule.get("for_ms") or 0.0) / 1000.0
        self.since: float | None = None  # when the condition began to hold
        self.firing = False
        self.fired_at: float | None = None
        self.value: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "when": self.text, "for_s": self.hold, "severity": self.rule.get("severity"),
                "state": "firing" if self.firing else ("pending" if self.since is not None else "ok"),
                "value": self.value, "since": self.since, "fired_at": self.fired_at}


class AlertEngine:
    """The graph's alert rules (its EARG ``alerts``), evaluated by ``monitor``."""

    def __init__(self, monitor: QualityMonitor, rules: list[dict[str, Any]]) -> None:
        self.monitor = monitor
        self.states = [AlertState(r) for r in rules]
        self.transitions: deque[dict[str, Any]] = deque(maxlen=TRANSITIONS)
        self.webhook_sent = 0
        self.webhook_failed = 0
        self.webhook_error: str | None = None
        self._before: Any = None  # the metrics snapshot of the previous round
        self._lock = threading.Lock()

    # -- measures -----------------------------------------------------------------------
    def _measure(self, when: dict[str, Any], snap: Any) -> float | None:
        measure, args = when["measure"], when["args"]
        if measure in ("drift_share", "drift", "quality"):
            watch = self.monitor.nodes.get(args[0])
            if watch is None or (measure != "quality" and not watch.drift):
                return None
            if measure == "drift_share":
                return watch.share
            if measure == "drift":
                drift = watch.drift.get(args[1])
                if drift is None:
                    return None
                scores = drift.scores()
                return scores.get(watch.settings.metric, scores["psi"])
            value = watch.scores.get(args[1])
            return None if value is None else float(value)
        now = snap.graph if args[0] == "graph" else snap.nodes.get(args[0])
        if now is None:
            return None
        before = None
        if self._before is not None:
            before = self._before.graph if args[0] == "graph" else self._before.nodes.get(args[0])
        if measure == "error_rate":
            requests = now.requests - (before.requests if before else 0)
            errors = now.errors - (before.errors if before else 0)
            return errors / requests if requests > 0 else None
        counts = [n for _b, n in now.histogram]
        if before is not None and len(before.histogram) == len(counts):
            counts = [n - m for n, (_b, m) in zip(counts, before.histogram)]
        return percentile_ms(counts, tuple(b for b, _n in now.histogram), 0.99)

    # -- a round ------------------------------------------------------------------------
    def evaluate(self, now: float | None = None) -> None:
        """Measure every rule; fire and resolve as their conditions say."""
        now = time.time() if now is None else now
        snap = self.monitor.dep.metrics() if any(
            s.rule["when"]["measure"] in ("latency_p99", "error_rate") for s in self.states) else None
        with self._lock:
            for state in self.states:
                when = state.rule["when"]
                state.value = self._measure(when, snap)
                holds = state.value is not None and OPS[when["op"]](state.value, float(when["value"]))
                if holds:
                    if state.since is None:
                        state.since = now
                    if not state.firing and now - state.since >= state.hold:
                        state.firing, state.fired_at = True, now
                        self._transition(state, "firing", now)
                else:
                    state.since = None
                    if state.firing:
                        state.firing = False
                        self._transition(state, "resolved", now)
        self._before = snap

    def _transition(self, state: AlertState, action: str, now: float) -> None:
        node = state.rule["when"]["args"][0]
        shown = "no value" if state.value is None else f"{state.value:.6g}"
        detail = f"{state.name}: {state.text} (now {shown})"
        record = {"time": now, "alert": state.name, "action": action, "node": node, "when": state.text,
                  "value": state.value, "severity": state.rule.get("severity", "warning"),
                  "graph": self.monitor.dep.name}
        self.transitions.append(record)
        self.monitor.dep.record_event(node, "alert", action, detail)
        url = state.rule.get("webhook")
        if url:
            threading.Thread(target=self._post, args=(url, record), name="hogar-alert-webhook", daemon=True).start()

    def _post(self, url: str, record: dict[str, Any]) -> None:
        import httpx

        try:
            httpx.post(url, json=record, timeout=WEBHOOK_TIMEOUT).raise_for_status()
        except Exception as exc:  # the receiver's trouble: counted and shown, never raised
            self.webhook_failed += 1
            self.webhook_error = f"{url}: {type(exc).__name__}: {exc}"
        else:
            self.webhook_sent += 1

    def report(self) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = {"rules": [s.as_dict() for s in self.states],
                                   "transitions": list(self.transitions),
                                   "webhook": {"sent": self.webhook_sent, "failed": self.webhook_failed}}
        if self.webhook_error:
            out["webhook"]["last_error"] = self.webhook_error
        return out
