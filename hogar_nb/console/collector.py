"""Poll every running deployment once a second, keep live samples for the pages, and store
a downsampled history, the recovery events and a summary in the database."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import orjson

from .sampling import LiveState, downsample
from .serve_client import ServeClient, ServeError

__all__ = ["Collector", "Hub", "QUALITY_EVERY_S"]

log = logging.getLogger("hogar.console")

QUALITY_EVERY_S = 2.0  # how often a deployment with model nodes is asked for its model quality


class Hub:
    """The live samples and recent timeline events of each deployment; SSE streams read it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._states: dict[int, LiveState] = {}
        self._seq: dict[int, int] = {}
        self._json: dict[int, str] = {}
        self._events: dict[int, list[tuple[int, dict]]] = {}
        self._quality: dict[int, tuple[int, list[dict]]] = {}  # pk -> (number, the quality table's rows)
        self._counter = 0

    def state(self, pk: int, earg: dict) -> LiveState:
        with self._lock:
            st = self._states.get(pk)
            if st is None:
                st = self._states[pk] = LiveState(earg)
            return st

    def publish(self, pk: int, events: list[dict] = ()) -> None:
        """A new sample (and maybe timeline events) for ``pk``; serialised once for every stream."""
        with self._lock:
            st = self._states.get(pk)
            sample = st.samples[-1] if st and st.samples else None
        text = orjson.dumps(sample).decode() if sample is not None else None
        with self._lock:
            self._seq[pk] = self._seq.get(pk, 0) + 1
            if text is not None:
                self._json[pk] = text
            self._add(pk, events)

    def add_events(self, pk: int, events: list[dict]) -> None:
        """Timeline events recorded by the console itself (reconfigurations, faults, stops)."""
        with self._lock:
            self._add(pk, events)

    def _add(self, pk: int, events) -> None:
        if not events:
            return
        buf = self._events.setdefault(pk, [])
        for e in events:
            self._counter += 1
            buf.append((self._counter, e))
        del buf[:-200]

    def seq(self, pk: int) -> int:
        with self._lock:
            return self._seq.get(pk, 0)

    def events_after(self, pk: int, after: int) -> tuple[int, list[dict]]:
        """(the newest event number, events numbered above ``after``)."""
        with self._lock:
            buf = self._events.get(pk, [])
            newest = buf[-1][0] if buf else after
            return max(newest, after), [e for n, e in buf if n > after]

    def latest_json(self, pk: int) -> tuple[int, str | None]:
        """(sequence number, the latest sample as JSON text)."""
        with self._lock:
            return self._seq.get(pk, 0), self._json.get(pk)

    def set_quality(self, pk: int, rows: list[dict]) -> bool:
        """The deployment's model quality now (rows of the page's table); True when it
        changed, and then numbered anew for the streams."""
        with self._lock:
            number, current = self._quality.get(pk, (0, None))
            if rows == current:
                return False
            self._quality[pk] = (number + 1, rows)
            return True

    def drop_quality(self, pk: int) -> None:
        """The server stopped answering: its last quality is no longer live."""
        with self._lock:
            self._quality.pop(pk, None)

    def quality(self, pk: int) -> tuple[int, list[dict] | None]:
        """(its number, the latest quality rows) of ``pk``; (0, None) before any."""
        with self._lock:
            return self._quality.get(pk, (0, None))

    def latest(self, pk: int) -> dict | None:
        with self._lock:
            st = self._states.get(pk)
            return st.samples[-1] if st and st.samples else None

    def recent(self, pk: int) -> list[dict]:
        with self._lock:
            st = self._states.get(pk)
            return list(st.samples) if st else []

    def forget(self, pk: int) -> None:
        with self._lock:
            self._states.pop(pk, None)
            self._seq.pop(pk, None)
            self._json.pop(pk, None)
            self._quality.pop(pk, None)


HUB = Hub()


class Collector:
    """A background thread: reads ``/hogar/v1/status`` and ``/hogar/v1/events`` of each running
    deployment every ``interval`` seconds."""

    def __init__(self, hub: Hub = HUB, interval: float = 1.0, step: float | None = None,
                 retention: float | None = None, quality_every: float = QUALITY_EVERY_S) -> None:
        from django.conf import settings

        self.hub = hub
        self.interval = interval
        self.step = step if step is not None else settings.HOGAR_HISTORY_STEP_S
        self.retention = retention if retention is not None else settings.HOGAR_RETENTION_S
        self.quality_every = quality_every
        self._quality_at: dict[int, float] = {}  # when each deployment's quality was last read
        self._quality_stored: dict[int, float] = {}  # when it was last stored
        self._quality_unstored: set[int] = set()  # changed since
        self._stop = threading.Event()
        self._pending: dict[int, list[dict]] = {}
        self._last_write: dict[int, float] = {}
        self._seen_events: dict[int, set] = {}
        self._marks: dict[int, tuple[int, int, float]] = {}  # restarts, replicas, when events were read
        self._last_prune = 0.0
        self._bad: dict[int, str] = {}  # deployments whose data cannot be read, and why
        self._client = httpx.Client(timeout=2.0, limits=httpx.Limits(max_connections=32))
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="hogar-poll")
        self._thread = threading.Thread(target=self._run, daemon=True, name="hogar-collector")

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    def _run(self) -> None:
        next_at = time.monotonic()
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception:  # keep collecting whatever one poll hit
                log.exception("metrics collection failed")
            next_at += self.interval
            delay = next_at - time.monotonic()
            if delay < 0:
                next_at, delay = time.monotonic(), 0
            self._stop.wait(delay)

    def poll_once(self) -> None:
        from django.db import close_old_connections

        from .models import Deployment

        close_old_connections()
        deps = list(Deployment.objects.filter(desired="running").exclude(url="")
                    .values("pk", "url", "earg", "state", "restarts"))
        list(self._pool.map(self._poll, deps))
        self._flush_gone({d["pk"] for d in deps})
        now = time.time()
        if now - self._last_prune > 60:
            self._last_prune = now
            from .models import MetricPoint

            from .models import QualitySnapshot

            MetricPoint.objects.filter(time__lt=now - self.retention).delete()
            QualitySnapshot.objects.filter(time__lt=now - self.retention).delete()

    def _poll(self, dep: dict[str, Any]) -> None:
        """One deployment's reading (in a pool thread, which keeps its own database connection)."""
        try:
            self._poll_one(dep)
        except Exception:  # one deployment's trouble (or the database's) must not stop the others
            log.exception("reading deployment %s failed", dep.get("pk"))
            from django.db import connection

            connection.close()

    def _poll_one(self, dep: dict[str, Any]) -> None:
        from .models import Deployment, MetricPoint, TimelineEvent

        pk = dep["pk"]
        client = ServeClient(dep["url"], client=self._client, timeout=min(2.0, self.interval * 2))
        try:
            status = client.status()
            if not isinstance(status, dict):
                raise TypeError(f"/hogar/v1/status answered a JSON {type(status).__name__}, not an object")
            events = client.events() if self._events_due(pk, status) else []
        except (TypeError, ValueError, AttributeError) as err:
            self._bad_data(pk, dep, err)
            return
        except ServeError as err:
            self.hub.drop_quality(pk)
            if dep["state"] in ("running", "bad data"):
                self._bad.pop(pk, None)
                Deployment.objects.filter(pk=pk, state=dep["state"]).update(state="unreachable", error=str(err))
            return
        now = time.time()
        try:  # what a server sends is read, never trusted
            state = self.hub.state(pk, dep["earg"])
            sample = state.update(status, now)
            fresh = self._new_events(pk, events)
        except Exception as err:  # malformed numbers, histograms, shapes: the server's fault
            self._bad_data(pk, dep, err)
            return
        if self._bad.pop(pk, None) is not None:
            log.warning("deployment %s sends readable data again", pk)
        if fresh:
            TimelineEvent.objects.bulk_create([
                TimelineEvent(deployment_id=pk, time=e["time"], kind=e["kind"], node=e["node"],
                              text=e["text"], key=e["key"]) for e in fresh])
        self.hub.publish(pk, fresh)
        pending = self._pending.setdefault(pk, [])
        pending.append(sample)
        last = self._last_write.setdefault(pk, now)
        summary = {"rps": sample["rps"], "error_rate": sample["error_rate"], "p99": sample["p99"],
                   "node_restarts": sample["restarts"], "time": now}
        updates: dict[str, Any] = {"summary": summary}
        if dep["state"] != "running":
            updates.update(state="running", error="")
        if now - last >= self.step:
            row = downsample(pending)
            pending.clear()
            self._last_write[pk] = now
            MetricPoint.objects.create(deployment_id=pk, time=row["t"], data=row)
            Deployment.objects.filter(pk=pk).update(**updates)
        elif dep["state"] != "running" or len(pending) == 1:
            Deployment.objects.filter(pk=pk).update(**updates)
        self._quality_due(pk, dep, client, now)

    def _quality_due(self, pk: int, dep: dict[str, Any], client: ServeClient, now: float) -> None:
        """Every ``quality_every`` s, for a graph with model nodes: its model quality for
        the live page (kept in the database when it changed, at most once a ``step``),
        and the labels posted to the console that have not reached it yet."""
        from .feedback import deliver_pending
        from .models import QualitySnapshot
        from .quality import quality_rows

        doc = dep["earg"] or {}
        if not any(n.get("kind") == "model" for n in doc.get("nodes") or []):
            return
        if now - self._quality_at.get(pk, 0.0) < self.quality_every:
            return
        self._quality_at[pk] = now
        deliver_pending(pk, client)
        try:
            rows = quality_rows(client.quality(), doc)
        except ServeError:  # not watched, or busy: the page keeps what it shows
            return
        if self.hub.set_quality(pk, rows) and rows:
            self._quality_unstored.add(pk)
        if pk in self._quality_unstored and now - self._quality_stored.get(pk, 0.0) >= self.step:
            QualitySnapshot.objects.create(deployment_id=pk, time=now, rows=self.hub.quality(pk)[1])
            self._quality_stored[pk] = now
            self._quality_unstored.discard(pk)

    def _bad_data(self, pk: int, dep: dict[str, Any], err: Exception) -> None:
        """A deployment sent what the console cannot read: a warning once, and a state on it."""
        from .models import Deployment

        why = f"{type(err).__name__}: {str(err)[:200]}"
        message = f"the console cannot read this deployment's metrics ({why})"
        if pk not in self._bad:
            log.warning("deployment %s sends data the console cannot read (%s); shown as 'bad data' until it "
                        "sends readable data again", pk, why)
        if self._bad.get(pk) != message or dep["state"] != "bad data":
            Deployment.objects.filter(pk=pk, desired="running").update(state="bad data", error=message)
        self._bad[pk] = message

    def _events_due(self, pk: int, status: dict) -> bool:
        """Read the recovery events when restarts or replicas changed, else every 10 s."""
        nodes = (status.get("nodes") or {}).values()
        restarts = sum(int((m or {}).get("restarts") or 0) for m in nodes)
        replicas = sum(int((m or {}).get("replicas") or 0) for m in nodes)
        now = time.monotonic()
        last = self._marks.get(pk)
        if last is not None and last[:2] == (restarts, replicas) and now - last[2] < 10:
            return False
        self._marks[pk] = (restarts, replicas, now)
        return True

    def _flush_gone(self, running: set[int]) -> None:
        """Store what is pending for deployments that stopped since the last poll."""
        from .models import MetricPoint

        for pk in [pk for pk in self._pending if pk not in running]:
            pending = self._pending.pop(pk)
            self._last_write.pop(pk, None)
            if pending:
                row = downsample(pending)
                MetricPoint.objects.create(deployment_id=pk, time=row["t"], data=row)

    def _new_events(self, pk: int, events: list[dict]) -> list[dict]:
        seen = self._seen_events.get(pk)
        if seen is None:
            from .models import TimelineEvent

            seen = self._seen_events[pk] = set(
                TimelineEvent.objects.filter(deployment_id=pk).exclude(key="").values_list("key", flat=True))
        fresh = []
        for e in events or []:
            try:
                key = f"{float(e['time']):.6f}/{e.get('node')}/{e.get('replica')}/{e.get('cause')}"
            except (KeyError, TypeError, ValueError):
                continue
            if key in seen:
                continue
            seen.add(key)
            text = f"{e.get('node')}[{e.get('replica')}] {e.get('cause')} → {e.get('action')}"
            if e.get("duration_s"):
                text += f" in {float(e['duration_s']) * 1000:.0f} ms"
            kind = "reconfigure" if e.get("cause") == "operator" else "recovery"  # the engine's own record
            if e.get("cause") == "alert":  # an alert rule fired or resolved: its rule and value
                kind = "alert"
                text = f"alert {e.get('action')}: {str(e.get('detail') or '')[:300]}"
            fresh.append({"time": float(e["time"]), "node": str(e.get("node") or ""), "text": text,
                          "key": key, "kind": kind})
        return fresh
