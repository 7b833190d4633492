"""The application's ingress: drives the graph walker with DeploymentHandle calls.

The :class:`~hogar_nb.runtime.walk.Walker` decides every step, as it does for the
embedded engine; the ingress performs its actions on its event loop: an ``Enqueue``
is a call of the node's deployment bounded by the node's timeout and the request's
deadline, a ``Retry`` a sleep before the next call (Ray Serve leaves retries to
the caller). A chain runs in the request's own coroutine; each further branch of a
fan-out is a task. Deadlines are wall-clock times (they cross processes). It also
counts per-node metrics with the runtime's ``Stats`` and answers HTTP on the
sources' routes.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from collections import deque
from typing import Any, cast

from ray import serve
from ray.exceptions import RayActorError

from ...core.error_wire import ErrorWire, new_request_id
from ...core.routes import normalize_route
from ...runtime.errors import BadRequestError, OverloadError, RequestError, UnavailableError
from ...runtime.metrics import RecoveryEvent, Stats
from ...runtime.plan import GraphPlan
from ...runtime.walk import (
    INF,
    RAY_POLICY,
    Action,
    RequestContext,
    Complete,
    Enqueue,
    Fail,
    Retry,
    SideOutput,
    Subscription,
    Walk,
    WalkEvent,
    Walker,
)
from .admission import Gate
from .wire import answer_within, error_envelope, shippable

__all__ = ["Ingress", "error_envelope"]

SAMPLE_INTERVAL = 0.5
EVENT_QUEUE = 50_000  # walker events the ingress keeps until the driver takes them
EVENT_BATCH = 5_000


class _Trip(Walk):
    """One request on the ingress: the walker's state, the future its caller awaits and
    the tasks running its side branches (cancelled once it has its outcome)."""

    __slots__ = ("result", "tasks")

    def __init__(self, rid: int, t0: float, deadline: float, context: Any = None) -> None:
        Walk.__init__(self, rid, t0, deadline, None, context)
        self.result: asyncio.Future = asyncio.get_running_loop().create_future()
        self.tasks: list[asyncio.Task] = []


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
        self.shadow_tasks: set[asyncio.Task] = set()  # mirrors' copies still running
        self.events: deque[RecoveryEvent] = deque(maxlen=1000)
        self.side_values: dict[str, deque[Any]] = {n: deque(maxlen=10) for n, p in plan.nodes.items()
                            if p.kind == "sink" and not p.response}
        self.started_at = time.monotonic()
        self.dead_actors: set[str] = set()
        self.crashed: dict[str, float] = {}  # node -> when a crash was first seen, until a retry succeeds
        self.sampler: asyncio.Task | None = None
        self.walker = Walker(plan, rng=self.rng, policy=RAY_POLICY, stats=self.stats,
                             graph_stats=self.graph_stats)
        self._ids = itertools.count()
        self.event_sub: Subscription | None = None
        self.taken: list[WalkEvent] = []
        self.gates: dict[str, Gate] = {}  # node -> calls placed at its handle at once

    def reconfigure(self, config: dict[str, Any]) -> None:
        """``user_config``: per-node ``timeout`` (s) and ``retries``, a split's ``weights``
        (by successor), changed at run time; ``admit``: per node, the calls placed at its
        handle at once and the calls that may wait for room (:mod:`.admission`)."""
        for name, (limit, queued) in (config.get("admit") or {}).items():
            gate = self.gates.get(name)
            if gate is None:
                self.gates[name] = Gate(limit, queued)
            else:
                gate.resize(limit, queued)
        for name, attrs in (config.get("nodes") or {}).items():
            plan = self.plan.nodes[name]
            if "weights" in attrs:  # one list swapped whole: a request reads it once
                weights = attrs["weights"]
                plan.succ = [(dst, when, weights.get(dst, w)) for dst, when, w in plan.succ]
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
            "admission": {n: {"limit": g.limit, "queued": g.queued, "held": g.held, "waiting": g.waiting}
                          for n, g in self.gates.items()},
            "states": {n: b.state for n, b in self.walker.breakers.items()},
            "live": self.live,
            "events": list(self.events),
            "clock_offset": time.time() - time.monotonic(),
            "uptime": time.monotonic() - self.started_at,
            "side_values": {k: list(v) for k, v in self.side_values.items()},
        }

    # -- observers ----------------------------------------------------------------------
    async def take_events(self, limit: int = EVENT_BATCH) -> tuple[list[WalkEvent], int]:
        """The walker's events since the last call (at most ``limit``) and how many were
        dropped so far because nobody took them; the first call starts recording."""
        if self.event_sub is None:
            self.event_sub = self.walker.hub.subscribe(self.taken.append, EVENT_QUEUE)
        self.event_sub.drain()
        out, self.taken[:limit] = self.taken[:limit], []
        return [shippable(e) for e in out], self.event_sub.dropped

    async def stop_events(self) -> None:
        """Nobody takes events any more: stop recording them."""
        if self.event_sub is not None:
            self.event_sub.close()
            self.event_sub = None
            self.taken.clear()

    # -- requests -----------------------------------------------------------------------
    async def run(self, payload: Any, source: str, deadline: float | None = None,
                  context: Any = None) -> tuple:
        """Run one request; returns ``("ok", value)`` or an :func:`error_envelope`."""
        if self.sampler is None:
            self._ensure_sampler()
        now = time.time()
        trip = _Trip(next(self._ids), now, INF if deadline is None else deadline, context)
        self.live += 1
        try:
            job = self._perform(self.walker.start(trip, source, payload, now))
            if job is not None:
                trip.tasks.append(asyncio.ensure_future(self._follow(job)))
            if deadline is None:
                value = await trip.result
            else:
                try:
                    value = await asyncio.wait_for(asyncio.shield(trip.result),
                                                   max(deadline - time.time(), 0.0))
                except asyncio.TimeoutError:
                    self._perform(self.walker.deadline_passed(trip, time.time()))
                    value = await trip.result
        except RequestError as err:
            return error_envelope(err)
        finally:
            self.live -= 1
            for task in trip.tasks:
                if not task.done():
                    task.cancel()
        return ("ok", value)

    def _perform(self, actions: list[Action]) -> Enqueue | None:
        """Carry out the walker's actions; the first job (an Enqueue, or a Retry's) is
        returned for the caller to follow in its own coroutine, the others get tasks."""
        first: Enqueue | None = None
        for action in actions:
            if isinstance(action, Enqueue):
                if action.shadow:  # a mirror's copy runs apart: the request neither waits for nor cancels it
                    task = asyncio.ensure_future(self._follow(action))
                    self.shadow_tasks.add(task)
                    task.add_done_callback(self.shadow_tasks.discard)
                elif first is None:
                    first = action
                else:
                    cast(_Trip, action.walk).tasks.append(asyncio.ensure_future(self._follow(action)))
            elif isinstance(action, Complete):
                result = cast(_Trip, action.walk).result
                if not result.done():
                    result.set_result(action.value)
            elif isinstance(action, Fail):
                result = cast(_Trip, action.walk).result
                if not result.done():
                    result.set_exception(action.error)
            elif isinstance(action, Retry):
                cast(_Trip, action.job.walk).tasks.append(asyncio.ensure_future(self._retry(action)))
            elif isinstance(action, SideOutput):
                self.side_values[action.sink].append(action.value)
        return first

    async def _retry(self, retry: Retry) -> None:
        await asyncio.sleep(retry.delay)
        await self._follow(retry.job)

    async def _follow(self, job: Enqueue | None) -> None:
        """Run ``job`` on its node, then the job the walker asks for next, and so on."""
        while job is not None:
            actions = await self._attempt(job)
            if len(actions) == 1 and type(actions[0]) is Retry:
                await asyncio.sleep(actions[0].delay)
                continue  # the same job, its attempt counted by the walker
            job = self._perform(actions)

    async def _attempt(self, job: Enqueue) -> list[Action]:
        """Call ``job``'s node once (bounded by its timeout and the request's deadline);
        return what the walker makes of the outcome."""
        name = job.node
        plan = self.plan.nodes[name]
        stats = self.stats[name]
        walker = self.walker
        if job.attempt == 0:
            stats.requests += 1
        if walker.suspended and name in walker.suspended:  # a retry meets the open breaker
            return walker.refused(job, walker.breakers[name].error(time.time()), time.time())
        timeout = min(plan.timeout, job.walk.deadline - time.time())
        if timeout <= 0:
            return walker.failed(job, "late", time.time())
        deadline = None if job.walk.deadline == INF else job.walk.deadline
        gate = self.gates.get(name)
        if gate is not None:
            if gate.full():
                return walker.refused(job, OverloadError(f"node {name!r}: its queue is full", name),
                                      time.time())
            await gate.acquire()  # a wait bounded by the request's deadline, as a wait for a replica is
        t0 = time.monotonic()
        self.in_flight[name] += 1
        cause, detail = "", ""
        ran: tuple = ()  # the replica, when it began, the batch size: where the replica said
        exc: BaseException | None = None
        try:
            response = self.handles[name].remote(job.payload, deadline)
            out = await answer_within(response, plan.timeout, job.walk.deadline)
        except asyncio.TimeoutError:
            response.cancel()
            cause = "timeout"
        except RayActorError as err:
            cause, exc = "crash", err
            self._record_crash(name, err)
        except Exception as err:  # BackPressureError and other Serve refusals
            kind = type(err).__name__
            if kind == "BackPressureError":
                return walker.refused(job, OverloadError(f"node {name!r}: its queue is full", name),
                                      time.time())
            if kind == "DeploymentUnavailableError":
                return walker.refused(job, UnavailableError(f"node {name!r} has no live replica", name),
                                      time.time())
            cause, exc = "error", err
        else:
            if out[0] == "ok":
                stats.pending += 1
                if stats.pending >= stats.stride:
                    stats.observe(time.monotonic() - t0)
                if job.attempt and self.crashed.get(name):
                    self._recovered(name)
                resumed = walker.served(name, time.time())
                if resumed is not None:
                    self.events.append(RecoveryEvent(time.time(), name, -1, "suspend", "resume",
                                                     resumed.duration, 0, resumed.detail))
                return walker.produced(job, out[1], time.time(), *out[2:5])
            cause, detail = out[1], out[2]
            ran = out[4:7]
            if out[3] is not None:
                try:
                    import cloudpickle

                    exc = cloudpickle.loads(out[3])
                except Exception:
                    exc = None
        finally:
            self.in_flight[name] -= 1
            if gate is not None:
                gate.release()
        if cause == "timeout" and detail:  # the replica saw the deadline pass before it ran
            cause = "late"
        elif cause == "bad_request":
            return walker.refused(job, BadRequestError(f"node {name!r} rejected the input: {detail}", name),
                                  time.time())
        return walker.failed(job, cause, time.time(), exc, detail, True, *ran)

    async def __call__(self, request: Any) -> Any:
        """HTTP: POST a JSON payload to a source's route; errors in the wire form that
        ``hogar serve`` writes, with ``x-request-id``, ``traceparent`` and, on a 503,
        ``Retry-After``."""
        from starlette.responses import JSONResponse

        from ...observe import NOT_SAMPLED, TRACE_KEY, new_ids, trace_headers

        rid = request.headers.get("x-request-id") or new_request_id()
        path = normalize_route(request.url.path)
        # W3C Trace Context as hogar serve speaks it; Serve's proxy records the traces its
        # callers sampled (rates apply where the deployment's tracing decides the ids)
        traceparent, tracestate = request.headers.get("traceparent"), request.headers.get("tracestate")
        ids = new_ids(traceparent, tracestate, NOT_SAMPLED)
        headers = {"x-request-id": rid, **trace_headers(ids)}
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
            assert source is not None  # no route found made a wire error above
            context = RequestContext(rid, traceparent, tracestate, {TRACE_KEY: ids, "route": path}, ids.sampled)
            out = await self.run(payload, source, None, context)
            if out[0] == "ok":
                return JSONResponse(out[1], headers=headers)
            wire = ErrorWire.from_json(out[1])
            wire.request_id = rid
        wire.trace_id = ids.trace_hex
        return JSONResponse(wire.to_json(), status_code=wire.status, headers={**wire.headers(), **headers})

    def _record_crash(self, node: str, err: BaseException) -> None:
        actor = str(getattr(err, "actor_id", None) or id(err))
        if node not in self.crashed:
            self.crashed[node] = time.monotonic()
        if actor in self.dead_actors:
            return
        self.dead_actors.add(actor)
        with self.stats[node].lock:
            self.stats[node].restarts += 1  # Serve's controller replaces every dead actor
        if self.plan.nodes[node].policy == "none":
            action = None
        else:  # the walker's breaker decides, as on the embedded engine
            action = self.walker.replica_failed(node, time.time(), "crash")
        if action is not None and action.action == "suspend":
            self.events.append(RecoveryEvent(time.time(), node, -1, "crash", "suspend", 0.0, 1, action.detail))
            asyncio.get_running_loop().call_later(action.delay, self._half_open, node)
            return
        self.events.append(RecoveryEvent(time.time(), node, len(self.dead_actors) - 1, "crash",
                                         "restart", 0.0, 1))

    def _half_open(self, node: str) -> None:
        """The suspension of ``node`` is over: calls go to the replicas Serve kept or
        replaced; the first one served resumes the node, a crash suspends it again."""
        transition = self.walker.half_open(node, time.time())
        if transition is not None:
            self.events.append(RecoveryEvent(time.time(), node, -1, "suspend", "half_open",
                                             transition.duration, 0, "trying the live replicas"))

    def _recovered(self, node: str) -> None:
        """A retried call of ``node`` succeeded after a crash: the event's duration."""
        since = self.crashed.pop(node)
        for i in range(len(self.events) - 1, -1, -1):
            ev = self.events[i]
            if ev.node == node and ev.duration_s == 0.0:
                self.events[i] = RecoveryEvent(ev.time, ev.node, ev.replica, ev.cause, ev.action,
                                               time.monotonic() - since, ev.requeued)
                break
