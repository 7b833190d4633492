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


def _status(pk: int) -> dict | None:
    row = Deployment.objects.filter(pk=pk).values(*STATUS_FIELDS).first()
    return status_of(row) if row is not None else None


def _check(request, pk: int) -> None:
    if not has_role(request.user, "viewer"):
        raise PermissionDenied("this needs the viewer role")
    if not Deployment.objects.filter(pk=pk).exists():
        raise Http404("no such deployment")


async def stream(request, pk: int):
    """``event: sample`` with each new sample, ``event: timeline`` with new timeline events,
    ``event: status`` when the deployment's state, URL, error or restarts change (and first)."""
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
        started = last_sent = time.monotonic()
        shown, status_at = None, 0.0
        yield "retry: 2000\n\n"
        while time.monotonic() - started < MAX_STREAM_S:
            if time.monotonic() - status_at >= STATUS_EVERY_S:
                status_at = time.monotonic()
                current_status = await sync_to_async(_status)(pk)
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
