"""The live stream of a deployment's page: Server-Sent Events, about one a second."""

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

__all__ = ["stream"]

#: the longest a stream lives before the browser reconnects (EventSource does so by itself)
MAX_STREAM_S = 600.0


def _check(request, pk: int) -> None:
    if not has_role(request.user, "viewer"):
        raise PermissionDenied("this needs the viewer role")
    if not Deployment.objects.filter(pk=pk).exists():
        raise Http404("no such deployment")


async def stream(request, pk: int):
    """``event: sample`` with each new sample, ``event: timeline`` with new timeline events."""
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
        yield "retry: 2000\n\n"
        while time.monotonic() - started < MAX_STREAM_S:
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
