"""What crosses between the ingress, its node replicas and the driver: events that
pickle, errors in their wire form, and a node's answer within its timeout."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ...core.error_wire import ErrorWire
from ...runtime.errors import RequestError
from ...runtime.walk import WalkEvent

__all__ = ["answer_within", "error_envelope", "shippable"]


def shippable(event: WalkEvent) -> WalkEvent:
    """``event`` as it can cross to the driver: an error that does not pickle is
    replaced by a RequestError carrying its text."""
    err = event.error
    if err is not None and not isinstance(err, RequestError):
        import cloudpickle

        try:
            cloudpickle.dumps(err)
        except Exception:
            event.error = RequestError(f"{type(err).__name__}: {err}", event.node)
    return event


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


async def answer_within(response: Any, timeout: float, deadline: float) -> Any:
    """The node's answer to ``response``, its attempt bounded by ``timeout`` counted from
    when Serve's router gave the call to a replica, as the embedded engine counts a
    node's timeout from when a replica takes the call; the wait for a free replica is
    bounded by the request's ``deadline`` (epoch s) alone. A cancelled wait withdraws the
    call."""
    assign = getattr(response, "_fetch_future_result_async", None)
    if assign is None:  # a Serve without the two phases: the whole call is bounded
        return await asyncio.wait_for(response, min(timeout, deadline - time.time()))
    try:
        result = await assign()
    except asyncio.CancelledError:
        response.cancel()
        raise
    return await asyncio.wait_for(result.get_async(), min(timeout, deadline - time.time()))
