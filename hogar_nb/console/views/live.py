"""The live stream of a deployment's page: Server-Sent Events, about one a second.

Besides the samples and timeline events, the stream carries the deployment's own state
(``event: status``: state, server URL, error, controls), so a page never needs a reload
to see a deployment start, fail or stop, whichever tab or process changed it."""

from __future__ import annotations

import asyncio
import json
import time

from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied
from django.http import Http404, StreamingHttpResponse

from ..models import Deployment
from ..roles import has_role
from ..services import HUB

__all__ = ["STATUS_FIELDS", "status_of", "stream"]

#: the longest a stream lives before the browser reconnects (EventSource does so by itself)
MAX_STREAM_S = 600.0


#: the deployment row's fields the page shows and the stream sends when they change
STATUS_FIELDS = ("state", "desired", "url", "error", "restarts", "kind")
#: how often a stream reads the deployment's row (seconds)
STATUS_EVERY_S = 0.5


def status_of(row: dict) -> dict:
    """What the page shows of a deployment row (``STATUS_FIELDS``): its state, where it
    serves, its error, and which controls apply (``live``: it runs, so it can change)."""
    out = {k: row.get(k) for k in STATUS_FIELDS}
    out["server_restarts"] = out.pop("restarts")
    out["live"] = row.get("desired") == "running" and row.get("state") not in ("failed", "stopped")
    return out


def _all_statuses() -> dict[int, dict]:
    from django.db import close_old_connections

    close_old_connections()
    return {row.pop("pk"): status_of(row) for row in Deployment.objects.values("pk", *STATUS_FIELDS)}


class _Statuses:
    """Every deployment's status, read in one query at most every ``STATUS_EVERY_S`` and
    shared by all open streams, in a worker thread: a query per stream, on the thread
    Django keeps for synchronous code, held up the other requests (a page's plotly.js
    took seconds longer to arrive)."""

    def __init__(self) -> None:
        self._rows: dict[int, dict] = {}
        self._at = -STATUS_EVERY_S
        self._lock: asyncio.Lock | None = None

    async def get(self, pk: int) -> dict | None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if time.monotonic() - self._at >= STATUS_EVERY_S or pk not in self._rows:  # or created since
                self._rows = await sync_to_async(_all_statuses, thread_sensitive=False)()
                self._at = time.monotonic()
        return self._rows.get(pk)


_STATUSES = _Statuses()


def _check(request, pk: int) -> None:
    if not has_role(request.user, "viewer"):
        raise PermissionDenied("this needs the viewer role")
    if not Deployment.objects.filter(pk=pk).exists():
        raise Http404("no such deployment")


async def stream(request, pk: int):
    """``event: sample`` with each new sample, ``event: timeline`` with new timeline events,
    ``event: status`` when the deployment's state, URL, error or restarts change (and first),
    ``event: quality`` with the model quality table's rows when they change (and first)."""
    user = await request.auser()
    request.user = user
    await sync_to_async(_check)(request, pk)
    try:
        after_event = int(request.headers.get("Last-Event-ID") or request.GET.get("after", 0))
    except ValueError:
        after_event = 0

    async def events():
        nonlocal after_event
        seq = -1
        quality_seen = 0
        started = last_sent = time.monotonic()
        shown, status_at = None, 0.0
        yield "retry: 2000\n\n"
        while time.monotonic() - started < MAX_STREAM_S:
            if time.monotonic() - status_at >= STATUS_EVERY_S:
                status_at = time.monotonic()
                current_status = await _STATUSES.get(pk)
                if current_status is None:  # removed meanwhile
                    yield f"event: status\ndata: {json.dumps({'state': 'removed', 'live': False})}\n\n"
                    return
                if current_status != shown:
                    shown = current_status
                    yield f"event: status\ndata: {json.dumps(shown)}\n\n"
            newest, fresh = HUB.events_after(pk, after_event)
            if fresh:
                after_event = newest
                yield f"id: {newest}\nevent: timeline\ndata: {json.dumps(fresh)}\n\n"
            number, rows = HUB.quality(pk)
            if number != quality_seen and rows is not None:
                quality_seen = number
                yield f"event: quality\ndata: {json.dumps(rows)}\n\n"
            current, text = HUB.latest_json(pk)
            if current != seq and text is not None:
                seq = current
                last_sent = time.monotonic()
                yield f"event: sample\ndata: {text}\n\n"
                await asyncio.sleep(0.8)  # the next sample is about a second away
            if time.monotonic() - last_sent > 15:
                last_sent = time.monotonic()
                yield ": keep-alive\n\n"
            await asyncio.sleep(0.1)

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
