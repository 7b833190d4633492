"""The walker's routing steps: a value handed on along the graph's edges — switches,
splits, mirrors, joins of multi-input nodes, ensembles, and the skips that dead
branches propagate — as the actions an arriving value leads to."""

from __future__ import annotations

import random
from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from ...core.trail import ENQUEUED
from ..errors import NodeError, RequestError, RouteError
from ..metrics import Stats
from ..plan import NodePlan
from .actions import Action, Enqueue, SideOutput, Walk
from .breaker import Breaker
from .observers import EventKind, ObserverHub, WalkEvent
from .routing import SKIP, choose_split, choose_switch, join_input

__all__ = ["DeliverySteps"]


class DeliverySteps:
    """The walker's side of routing: what the value a node produced does next."""

    nodes: dict[str, NodePlan]
    stats: Mapping[str, Stats | None]
    workers: frozenset[str]
    suspended: set[str]
    breakers: dict[str, Breaker]
    hub: ObserverHub
    rng: random.Random
    wall_offset: float
    _join_lock: AbstractContextManager[Any]

    if TYPE_CHECKING:
        def _note(self, walk: Walk, kind: EventKind, now: float, node: str, attempt: int = 0,
                  outcome: str = "", choice: str | None = None, delay: float = 0.0,
                  error: BaseException | None = None, value: Any = None, replica: str | None = None,
                  began: float | None = None, batch: int = 1, shadow: bool = False) -> None: ...

        def _complete(self, out: list[Action], walk: Walk, value: Any, now: float) -> None: ...

        def _fail(self, out: list[Action], walk: Walk, err: RequestError, now: float) -> None: ...

        def _fail_at(self, out: list[Action], plan: NodePlan, walk: Walk, err: RequestError,
                     now: float) -> None: ...

    # -- routing ----------------------------------------------------------------------------
    def _route_switch(self, out: list[Action], plan: NodePlan, walk: Walk, payload: Any, key: Any,
                      now: float) -> None:
        key = str(key)
        chosen = choose_switch(plan.succ, key)
        if chosen is None:
            whens = [w for _, w, _ in plan.succ]
            self._fail_at(out, plan, walk, RouteError(
                f"switch {plan.name!r} answered {key!r}, which matches none of its edges {whens}",
                plan.name), now)
            return
        if walk.observed:
            self._note(walk, "routed", now, plan.name, choice=chosen)
        for dst, _w, _ in plan.succ:
            if dst != chosen:
                self._skip(out, walk, dst, plan.name, now)
        self._deliver(out, walk, chosen, payload, plan.name, now)

    def _pass(self, out: list[Action], walk: Walk, plan: NodePlan, value: Any, now: float,
              entry: bool = False) -> None:
        """Run an inline node (source, split, ensemble result) onward."""
        stats = self.stats[plan.name]
        if stats is not None:
            stats.requests += 1
            stats.done += 1
        if plan.kind == "split":
            chosen = choose_split(plan.succ, self.rng.random())
            if walk.observed:
                self._note(walk, "routed", now, plan.name, choice=chosen)
            for dst, _w, _ in plan.succ:
                if dst != chosen:
                    self._skip(out, walk, dst, plan.name, now)
            self._deliver(out, walk, chosen, value, plan.name, now, entry)
            return
        for dst, _w, _ in plan.succ:
            self._deliver(out, walk, dst, value, plan.name, now, entry)
        if plan.mirrors:
            self._mirror(out, walk, plan, value, now)

    def _mirror(self, out: list[Action], walk: Walk, plan: NodePlan, value: Any, now: float) -> None:
        """Copy what ``plan`` passes on to its mirror edges' nodes (each with its share),
        after the request's own actions, so the request is handed on first."""
        for dst, share in plan.mirrors:
            if dst in self.suspended:  # a suspended candidate gets no copies
                continue
            if share >= 1.0 or self.rng.random() < share:
                if walk.observed:
                    self._note(walk, "enqueued", now, dst, value=value, shadow=True)
                out.append(Enqueue(walk, dst, value, plan.name, 0, False, True))

    def _deliver(self, out: list[Action], walk: Walk, dst: str, value: Any, src: str, now: float,
                 entry: bool = False) -> None:
        plan = self.nodes[dst]
        if len(plan.preds) > 1:
            value = self._join(out, plan, walk, src, value, now)
            if value is SKIP:
                return
        if dst in self.workers:
            if dst in self.suspended:
                self._fail_at(out, plan, walk, self.breakers[dst].error(now), now)
                return
            trail = walk.trail
            if trail is not None:
                trail += (ENQUEUED, now, dst)
            elif walk.observed:
                self.hub.publish(WalkEvent("enqueued", walk.id, now + self.wall_offset, dst, value=value,
                                           context=walk.context))
            out.append(Enqueue(walk, dst, value, src, 0, entry))
            return
        kind = plan.kind
        if kind == "sink":
            stats = self.stats[dst]
            if stats is not None:
                stats.requests += 1
                stats.done += 1
            if plan.response:
                self._complete(out, walk, value, now)
            else:
                out.append(SideOutput(walk, dst, value))
        elif kind == "ensemble" and len(plan.preds) <= 1:
            self._combine(out, plan, walk, [value], [src], now)
        else:
            self._pass(out, walk, plan, value, now)

    def _join(self, out: list[Action], plan: NodePlan, walk: Walk, src: str, value: Any, now: float) -> Any:
        """Record one input of a multi-input node; return what to run it with, or SKIP."""
        with self._join_lock:
            if walk.joins is None:
                walk.joins = {}
            action, fire = join_input(plan, walk.joins.setdefault(plan.name, {}), src, value)
        if action == "run":
            return fire
        if action == "skip":
            self._skip_all(out, walk, plan, now)
        elif action == "combine":
            self._combine(out, plan, walk, [v for _, v in fire], [p for p, _ in fire], now)
        return SKIP

    def _combine(self, out: list[Action], plan: NodePlan, walk: Walk, values: list[Any], inputs: list[str],
                 now: float) -> None:
        weights = [plan.weights.get(p, 1.0) for p in inputs] if plan.weights else None
        assert plan.combine is not None
        try:
            value = plan.combine(values, weights)
        except Exception as exc:
            err = NodeError(f"ensemble {plan.name!r} could not combine its inputs: {exc!r}", plan.name)
            err.__cause__ = exc
            self._fail_at(out, plan, walk, err, now)
            return
        self._pass(out, walk, plan, value, now)

    # -- dead paths -------------------------------------------------------------------------
    def _skip(self, out: list[Action], walk: Walk, dst: str, src: str, now: float) -> None:
        plan = self.nodes[dst]
        if len(plan.preds) > 1:
            self._join(out, plan, walk, src, SKIP, now)  # propagates once every input is known
        else:
            self._skip_all(out, walk, plan, now)

    def _skip_all(self, out: list[Action], walk: Walk, plan: NodePlan, now: float) -> None:
        if walk.observed:
            self._note(walk, "skipped", now, plan.name)
        if plan.response:
            self._fail(out, walk, RouteError(
                f"no branch reached the response sink {plan.name!r} for this request", plan.name), now)
            return
        for dst, _w, _ in plan.succ:
            self._skip(out, walk, dst, plan.name, now)
