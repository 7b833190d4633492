"""Events and the changes made to a running graph: ``scale``, ``reconfigure`` and
``rollout``, each checked against the EARG document and recorded as an event."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, Callable

from .errors import DeploymentStoppedError
from .metrics import RecoveryEvent
from .plan import GraphPlan

__all__ = ["ChangesMixin"]


class ChangesMixin:
    """``events``, ``record_event``, ``scale``, ``reconfigure``, ``rollout`` and
    ``side_outputs`` of :class:`~hogar_nb.runtime.base.DeploymentBase`; the backend's
    part (``_recorded_events``, ``_record``, ``_apply``, ``_side_values``) is declared
    there."""

    _plan: GraphPlan
    _earg: dict | None
    _stopped: bool
    _stopped_error: Callable[[], Exception]  # DeploymentBase's
    _recorded_events: Callable[[], list[RecoveryEvent]]
    _record: Callable[[RecoveryEvent], None]
    _apply: Callable[[str, dict[str, Any]], None]
    _side_values: Callable[[], Mapping[str, Iterable[Any]]]
    replica_nodes: Callable[[], list[str]]

    @property
    def events(self) -> list[RecoveryEvent]:
        """Recovery and operator events so far (failures, restarts, suspensions,
        scaling and reconfiguration), oldest first; the last 1,000 are kept."""
        return self._recorded_events()

    def record_event(self, node: str, cause: str, action: str, detail: str = "") -> None:
        """Keep an event of a layer above the engine (an alert ``firing`` or
        ``resolved``, cause ``alert``) beside the backend's, in :attr:`events` and
        the HTTP event stream."""
        self._record(RecoveryEvent(time.time(), node, -1, cause, action, 0.0, 0, detail))

    def scale(self, node: str, replicas: int, *, cause: str = "operator", why: str = "") -> None:
        """Run ``replicas`` replicas of ``node``; returns once the change is applied.
        Replicas leaving finish the call they are in; no request is lost.

        The change is recorded in :attr:`events` with action ``scale``, ``cause``
        (``operator`` by default; an autoscaler passes ``autoscale``) and ``why``
        appended to its detail."""
        self._change(node, {"replicas": replicas}, cause, why)

    def reconfigure(self, node: str, *, cause: str = "operator", why: str = "", **attrs: Any) -> None:
        """Change ``replicas``, ``batch``, ``batch_wait``, ``timeout`` or ``retries`` of a
        running node, as UDGL values (``"250ms"``) or numbers in EARG units (ms); or a
        split's ``weights``, ``{successor: share}`` summing to 100% (how rollouts move
        traffic: each request takes one arm, never two).

        Every value is checked against the language's ranges first (ReconfigureError
        naming the node and attribute, UnknownNodeError for a node without replicas);
        then the change applies without losing a request and is recorded in
        :attr:`events` with ``cause`` (``operator`` unless a controller says) and
        action ``scale`` or ``reconfigure``, ``why`` appended to its detail."""
        self._change(node, attrs, cause, why)

    def _change(self, node: str, attrs: Mapping[str, Any], cause: str, why: str) -> None:
        from .control import check_attrs, check_split, current_settings, shown, update_document

        plan = self._plan.nodes.get(node)
        if plan is not None and plan.kind == "split":
            values = check_split(node, plan, attrs)
        else:
            values = check_attrs(node, self.replica_nodes(), attrs)
        if self._stopped:
            raise DeploymentStoppedError(f"deployment {self._plan.name!r} is stopped", node)
        before = current_settings(self._plan.nodes[node])
        t0, wall = time.monotonic(), time.time()
        self._apply(node, values)
        took = time.monotonic() - t0
        for attr, value in values.items():
            if self._earg is not None:
                update_document(self._earg, node, attr, value)
            detail = f"{attr} {shown(attr, before[attr])} -> {shown(attr, value)}"
            if why:
                detail += f": {why}"
            self._record(RecoveryEvent(wall, node, -1, cause, "scale" if attr == "replicas"
                                       else "reconfigure", took, 0, detail))

    def rollout(self, split: str, action: str = "start", candidate: str | None = None, **policy: Any) -> Any:
        """Roll ``candidate`` (a successor of ``split``) out step by step, or ``pause``,
        ``resume``, ``promote``, ``abort`` that rollout or read its ``status``; returns
        the :class:`~hogar_nb.steer.Rollout`.

        ``policy``: ``steps`` (candidate shares, default 5%, 25%, 50%, 100%),
        ``step_time`` (s) and ``step_requests`` each step holds for at least,
        ``gate_interval`` (s), ``max_error_increase`` (over the stable arm's error rate),
        ``max_p99_ratio`` (to the stable arm's p99), ``min_samples``. A failing gate
        sets the candidate's weight to 0 and records why; every move is an event with
        cause ``rollout``."""
        from .._frontends import frontend

        if self._stopped:
            raise self._stopped_error()
        return frontend("rollout")(self, split, action, candidate, **policy)

    def side_outputs(self, sink: str) -> list[Any]:
        """The last few values that reached a side-output sink."""
        values = self._side_values()
        if sink not in values:
            raise KeyError(f"{sink!r} is not a side-output sink; they are {sorted(values)}")
        return list(values[sink])
