"""The application's ingress: walks each request through the graph with DeploymentHandles.

It decides like the embedded engine (``hogar_nb.runtime.routing``: switch and split
choices, ensemble joins; the plan's combine functions), calls each worker node's
deployment with the node's timeout and retries (Ray Serve leaves retries to the
caller), counts per-node metrics with the runtime's ``Stats``, and answers HTTP on
the sources' routes.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import deque
from typing import Any

from ray import serve
from ray.exceptions import RayActorError

from ...core.error_wire import ErrorWire, new_request_id
from ...core.routes import normalize_route
from ...runtime.errors import (
    BadRequestError,
    InvalidInputError,
    NodeError,
    OverloadError,
    ReplicaCrashError,
    RequestError,
    RequestTimeoutError,
    RouteError,
    UnavailableError,
)
from ...runtime.metrics import RecoveryEvent, Stats
from ...runtime.plan import GraphPlan, NodePlan
from ...runtime.walk.routing import SKIP, choose_split, choose_switch, join_input

__all__ = ["Ingress", "error_envelope"]

RETRY_BACKOFF = 0.005
CRASH_BACKOFF = (0.05, 0.1, 0.2, 0.4, 0.8, 1.0)
SAMPLE_INTERVAL = 0.5


def error_envelope(err: RequestError) -> tuple:
    """``("err", the error's wire form (JSON), pickled original exception or None)``."""
    blob = None
    if err.__cause__ is not None:
        try:
            import cloudpickle

            blob = cloudpickle.dumps(err.__cause__)
        except Exception:
            blob = None
    return ("err", ErrorWire.of(err).to_json(), blob)


class _Walk:
    """One request's trip through the graph (runs on the ingress event loop)."""

    __slots__ = ("ingress", "deadline", "result", "joins", "tasks")

    def __init__(self, ingress: "Ingress", deadline: float | None) -> None:
        self.ingress = ingress
        self.deadline = deadline
        self.result: asyncio.Future = asyncio.get_running_loop().create_future()
        self.joins: dict[str, dict[str, Any]] = {}
        self.tasks: list[asyncio.Task] = []

    def fail(self, plan: NodePlan, err: RequestError) -> None:
        stats = self.ingress.stats[plan.name]
        stats.failed(err.cause)
        if plan.reaches_response and not self.result.done():
            self.result.set_exception(err)

    def spawn(self, coro: Any) -> None:
        self.tasks.append(asyncio.ensure_future(coro))

    # -- moving values (same decisions as the embedded engine) -------------------------
    def pass_on(self, plan: NodePlan, value: Any) -> None:
        stats = self.ingress.stats[plan.name]
        stats.requests += 1
        stats.done += 1
        if plan.kind == "split":
            chosen = choose_split(plan.succ, self.ingress.rng.random())
            for dst, _w, _ in plan.succ:
                if dst != chosen:
                    self.skip(dst, plan.name)
            self.deliver(chosen, value, plan.name)
            return
        for dst, _w, _ in plan.succ:
            self.deliver(dst, value, plan.name)

    def deliver(self, dst: str, value: Any, src: str) -> None:
        plan = self.ingress.plan.nodes[dst]
        if len(plan.preds) > 1:
            action, fire = join_input(plan, self.joins.setdefault(dst, {}), src, value)
            if action == "wait":
                return
            if action == "skip":
                self.skip_all(plan)
                return
            if action == "combine":
                self.combine(plan, [v for _, v in fire], [p for p, _ in fire])
                return
            value = fire
        if plan.is_worker:
            self.spawn(self.run_node(plan, value))
        elif plan.kind == "sink":
            stats = self.ingress.stats[dst]
            stats.requests += 1
            stats.done += 1
            if plan.response:
                if not self.result.done():
                    self.result.set_result(value)
            else:
                self.ingress.side_values[dst].append(value)
        elif plan.kind == "ensemble" and len(plan.preds) <= 1:
            self.combine(plan, [value], [src])
        else:
            self.pass_on(plan, value)

    def combine(self, plan: NodePlan, values: list[Any], inputs: list[str]) -> None:
        weights = [plan.weights.get(p, 1.0) for p in inputs] if plan.weights else None
        try:
            value = plan.combine(values, weights)
        except Exception as exc:
            err = NodeError(f"ensemble {plan.name!r} could not combine its inputs: {exc!r}", plan.name)
            err.__cause__ = exc
            self.fail(plan, err)
            return
        self.pass_on(plan, value)

    def skip(self, dst: str, src: str) -> None:
        plan = self.ingress.plan.nodes[dst]
        if len(plan.preds) > 1:
            action, fire = join_input(plan, self.joins.setdefault(dst, {}), src, SKIP)
            if action == "skip":
                self.skip_all(plan)
            elif action == "combine":
                self.combine(plan, [v for _, v in fire], [p for p, _ in fire])
        else:
            self.skip_all(plan)

    def skip_all(self, plan: NodePlan) -> None:
        if plan.response:
            if not self.result.done():
                self.result.set_exception(RouteError(
                    f"no branch reached the response sink {plan.name!r} for this request", plan.name))
            return
        for dst, _w, _ in plan.succ:
            self.skip(dst, plan.name)

    # -- calling a node -----------------------------------------------------------------
    async def run_node(self, plan: NodePlan, value: Any) -> None:
        try:
            out = await self.ingress.call_node(plan, value, self.deadline)
        except RequestError as err:
            self.fail(plan, err)
            return
        if plan.kind == "switch":
            key = str(out)
            chosen = choose_switch(plan.succ, key)
            if chosen is None:
                whens = [w for _, w, _ in plan.succ]
                self.fail(plan, RouteError(
                    f"switch {plan.name!r} answered {key!r}, which matches none of its edges {whens}",
                    plan.name))
                return
            for dst, _w, _ in plan.succ:
                if dst != chosen:
                    self.skip(dst, plan.name)
            self.deliver(chosen, value, plan.name)
            return
        for dst, _w, _ in plan.succ:
            self.deliver(dst, out, plan.name)


@serve.deployment
class Ingress:
    """Entry of the application: ``run(payload, source, deadline)`` and HTTP on the routes."""

    def __init__(self, plan: GraphPlan, routes: dict[str, str], handles: dict[str, Any]) -> None:
        self.plan = plan
        self.routes = {normalize_route(route): source for source, route in routes.items()}
        self.handles = handles
        self.rng = random.Random()
        self.stats = {n: Stats() for n in plan.nodes}
        self.graph_stats = Stats()
        self.in_flight = {n: 0 for n in plan.nodes}
        self.live = 0
        self.events: deque[RecoveryEvent] = deque(maxlen=1000)
        self.side_values = {n: deque(maxlen=10) for n, p in plan.nodes.items()
                            if p.kind == "sink" and not p.response}
        self.started_at = time.monotonic()
        self.dead_actors: set[str] = set()
        self.sampler: asyncio.Task | None = None

    def reconfigure(self, config: dict[str, Any]) -> None:
        """``user_config``: per-node ``timeout`` (s) and ``retries`` changed at run time."""
        for name, attrs in (config.get("nodes") or {}).items():
            plan = self.plan.nodes[name]
            if "timeout" in attrs:
                plan.timeout = float(attrs["timeout"])
            if "retries" in attrs:
                plan.retries = int(attrs["retries"])

    # -- metrics ------------------------------------------------------------------------
    async def _sample_forever(self) -> None:
        while True:
            now = time.monotonic()
            for name, stats in self.stats.items():
                stats.sample(now, 0, self.in_flight[name], 0)
            self.graph_stats.sample(now, 0, self.live, 0)
            await asyncio.sleep(SAMPLE_INTERVAL)

    def _ensure_sampler(self) -> None:
        if self.sampler is None:
            self.sampler = asyncio.get_running_loop().create_task(self._sample_forever())

    async def stats_report(self) -> dict[str, Any]:
        """Every node's counters and series, for the driver's ``metrics()``."""
        self._ensure_sampler()

        def dump(s: Stats) -> dict[str, Any]:
            with s.lock:
                return {"requests": s.requests, "done": s.done, "pending": s.pending,
                        "errors": dict(s.errors), "hist": list(s.hist), "restarts": s.restarts,
                        "rows": list(s.series_rows())}

        return {
            "nodes": {n: dump(s) for n, s in self.stats.items()},
            "graph": dump(self.graph_stats),
            "in_flight": dict(self.in_flight),
            "live": self.live,
            "events": list(self.events),
            "clock_offset": time.time() - time.monotonic(),
            "uptime": time.monotonic() - self.started_at,
            "side_values": {k: list(v) for k, v in self.side_values.items()},
        }

    # -- requests -----------------------------------------------------------------------
    async def run(self, payload: Any, source: str, deadline: float | None = None) -> tuple:
        """Run one request; returns ``("ok", value)`` or an :func:`error_envelope`."""
        self._ensure_sampler()
        t0 = time.monotonic()
        g = self.graph_stats
        g.requests += 1
        self.live += 1
        walk = _Walk(self, deadline)
        try:
            for other in self.plan.sources:
                if other != source:
                    walk.skip_all(self.plan.nodes[other])
            walk.pass_on(self.plan.nodes[source], payload)
            if deadline is None:
                value = await walk.result
            else:
                try:
                    value = await asyncio.wait_for(asyncio.shield(walk.result),
                                                   max(deadline - time.time(), 0.0))
                except asyncio.TimeoutError:
                    raise RequestTimeoutError("no result within the request's deadline") from None
        except RequestError as err:
            g.failed(err.cause)
            return error_envelope(err)
        finally:
            self.live -= 1
            for task in walk.tasks:
                if not task.done():
                    task.cancel()
        g.pending += 1
        if g.pending >= g.stride:
            g.observe(time.monotonic() - t0)
        return ("ok", value)

    async def __call__(self, request: Any) -> Any:
        """HTTP: POST a JSON payload to a source's route; errors in the wire form that
        ``hogar serve`` writes, with ``x-request-id`` and, on a 503, ``Retry-After``."""
        from starlette.responses import JSONResponse

        rid = request.headers.get("x-request-id") or new_request_id()
        path = normalize_route(request.url.path)
        source = self.routes.get(path)
        wire = None
        if source is None:
            wire = ErrorWire("not_found", f"no route {path}; routes are {sorted(self.routes)}",
                             None, rid, 404)
        else:
            try:
                payload = await request.json()
            except Exception:
                wire = ErrorWire("bad_request", "the request body is not valid JSON", None, rid)
        if wire is None:
            out = await self.run(payload, source, None)
            if out[0] == "ok":
                return JSONResponse(out[1], headers={"x-request-id": rid})
            wire = ErrorWire.from_json(out[1])
            wire.request_id = rid
        return JSONResponse(wire.to_json(), status_code=wire.status, headers=wire.headers())

    async def call_node(self, plan: NodePlan, value: Any, deadline: float | None) -> Any:
        """Call ``plan``'s deployment with its timeout and retries; the value or a RequestError."""
        name = plan.name
        stats = self.stats[name]
        stats.requests += 1
        handle = self.handles[name]
        attempt = 0
        crash_since: float | None = None
        while True:
            timeout = plan.timeout
            if deadline is not None:
                timeout = min(timeout, deadline - time.time())
                if timeout <= 0:
                    raise RequestTimeoutError(
                        f"node {name!r}: the request's deadline passed after {attempt} attempt(s)", name)
            t0 = time.monotonic()
            self.in_flight[name] += 1
            response = handle.remote(value, deadline)
            cause, detail, exc = "", "", None
            try:
                out = await asyncio.wait_for(response, timeout)
            except asyncio.TimeoutError:
                response.cancel()
                cause = "timeout"
            except RayActorError as err:
                cause, exc = "crash", err
                self._record_crash(name, err, crash_since)
                crash_since = crash_since or time.monotonic()
            except Exception as err:  # BackPressureError and other Serve refusals
                kind = type(err).__name__
                if kind == "BackPressureError":
                    raise OverloadError(f"node {name!r}: its queue is full", name) from None
                if kind == "DeploymentUnavailableError":
                    raise UnavailableError(f"node {name!r} has no live replica", name) from None
                cause, exc = "error", err
            else:
                if out[0] == "ok":
                    stats.pending += 1
                    if stats.pending >= stats.stride:
                        stats.observe(time.monotonic() - t0)
                    if crash_since is not None:
                        self._recovered(name, crash_since)
                    return out[1]
                cause, detail = out[1], out[2]
                if out[3] is not None:
                    try:
                        import cloudpickle

                        exc = cloudpickle.loads(out[3])
                    except Exception:
                        exc = None
            finally:
                self.in_flight[name] -= 1
            if cause in ("invalid_input", "bad_request"):
                cls = InvalidInputError if cause == "invalid_input" else BadRequestError
                err = cls(f"node {name!r} rejected the input: {detail}", name)
                err.__cause__ = exc
                raise err
            # As the embedded engine: an impl's exception is retried only with retry_errors.
            allowed = plan.retries if cause != "error" or plan.retry_errors else 0
            if cause == "crash":  # Serve replaces the dead replica meanwhile
                allowed = max(allowed, len(CRASH_BACKOFF))
            late = ""
            if attempt < allowed:
                delay = (CRASH_BACKOFF[min(attempt, len(CRASH_BACKOFF) - 1)] if cause == "crash"
                         else min(RETRY_BACKOFF * 2 ** attempt, 1.0) * self.rng.uniform(0.5, 1.5))
                if deadline is None or time.time() + delay < deadline:
                    attempt += 1
                    await asyncio.sleep(delay)
                    continue
                late = ", no time left for a retry before the request's deadline"
            n = attempt + 1
            tries = f"after {n} attempt{'s' * (n != 1)} (retries = {plan.retries}{late})"
            if cause == "error" and not plan.retry_errors and plan.retries:
                tries = f"after {n} attempt{'s' * (n != 1)} (an impl's exception is retried only with retry_errors)"
            if cause == "timeout":
                raise RequestTimeoutError(
                    f"node {name!r} did not answer within its timeout of {plan.timeout * 1000:g} ms {tries}",
                    name)
            if cause == "crash":
                raise ReplicaCrashError(f"node {name!r}: the replica crashed {tries}", name)
            err = NodeError(f"node {name!r} raised {detail or repr(exc)} {tries}", name)
            err.__cause__ = exc
            raise err

    def _record_crash(self, node: str, err: BaseException, since: float | None) -> None:
        actor = str(getattr(err, "actor_id", None) or id(err))
        if actor in self.dead_actors:
            return
        self.dead_actors.add(actor)
        with self.stats[node].lock:
            self.stats[node].restarts += 1
        self.events.append(RecoveryEvent(time.time(), node, len(self.dead_actors) - 1, "crash",
                                         "restart", 0.0, 1))

    def _recovered(self, node: str, since: float) -> None:
        for i in range(len(self.events) - 1, -1, -1):
            ev = self.events[i]
            if ev.node == node and ev.duration_s == 0.0:
                self.events[i] = RecoveryEvent(ev.time, ev.node, ev.replica, ev.cause, ev.action,
                                               time.monotonic() - since, ev.requeued)
                break
