"""A request's steps as one flat list of plain values: its *trail*.

While only observers of sampled requests listen (a tracer), the walker publishes
no event per step of such a request: it writes each step into the request's trail,
and the trail is handed on whole when the request ends. The graph walker writes
trails (``hogar_nb.runtime.walk``); the tracer keeps them and builds spans from them
when a trace is read (``hogar_nb.observe``). Both read this one layout.

Each step is a code, then the step's own values; the fields a code leaves out take
:class:`Step`'s defaults. The steps of an ordinary request (it started, each node
was given its input and answered, the next node given the answer) are written in
three, seven or eight values, the rest in thirteen. Times are in the writer's
clock, as it read them (a float made per step and per request costs): the
``STARTED`` step says what to add to each for seconds since the epoch.

============ =====================================================================
``STARTED``  time, source, offset: the request entered (always the first step, so
             a trail's items 1, 2 and 3 are its start time, its source and the
             offset of its times; :func:`started` is the start in epoch seconds)
``ENQUEUED`` time, node: a node was given the request's input (a first attempt)
``ANSWERED`` time, node, attempt, replica, began, batch: an attempt answered
``PASSED``   time, node, attempt, replica, began, batch, next: an attempt answered
             and its answer was given to node ``next`` at once (two steps, written
             as one: an ``ANSWERED`` and an ``ENQUEUED`` at the same time)
``STEP``     any step: its twelve :class:`Step` fields, an error as its text
============ =====================================================================

A trail holds ints, floats, strings, booleans and None only, so a tuple made of
one is let go by the garbage collector the first time it looks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

__all__ = ["ANSWERED", "ENQUEUED", "PASSED", "STARTED", "STEP", "STEP_FIELDS", "Step", "error_text", "started",
           "trail_steps"]

STEP, STARTED, ENQUEUED, ANSWERED, PASSED = -1, -2, -3, -4, -5  # negative: never one of a step's values


class Step(NamedTuple):
    """One step of a request: what the walker's event for it says, but for the
    request, its payload and its context (``Step._make(t)`` reads a tuple)."""

    kind: str
    time: float
    node: str | None
    attempt: int
    outcome: str
    choice: str | None
    delay: float
    replica: str | None
    began: float | None
    batch: int
    shadow: bool
    error: Any  # an exception, or its text in a trail


STEP_FIELDS = len(Step._fields)


def error_text(error: Any) -> str | None:
    """An error as a trail keeps it: its class and message (an exception would keep
    its frames alive)."""
    if error is None or isinstance(error, str):
        return error
    return f"{type(error).__name__}: {error}"[:500]


def started(trail: Sequence[Any], start: int = 0) -> float:
    """When the request of the trail at ``start`` started, in seconds since the epoch."""
    return trail[start + 1] + trail[start + 3]


def trail_steps(trail: Sequence[Any], start: int = 0) -> list[tuple]:
    """The steps written in ``trail`` from index ``start`` on, as tuples in
    :class:`Step` order, their times in seconds since the epoch."""
    out: list[tuple] = []
    i, end, off = start, len(trail), 0.0
    while i < end:
        code = trail[i]
        if code == PASSED or code == ANSWERED:
            began = trail[i + 5]
            out.append(("attempt", trail[i + 1] + off, trail[i + 2], trail[i + 3], "ok", None, 0.0, trail[i + 4],
                        None if began is None else began + off, trail[i + 6], False, None))
            if code == PASSED:
                out.append(("enqueued", trail[i + 1] + off, trail[i + 7], 0, "", None, 0.0, None, None, 1, False,
                            None))
                i += 8
            else:
                i += 7
        elif code == ENQUEUED:
            out.append(("enqueued", trail[i + 1] + off, trail[i + 2], 0, "", None, 0.0, None, None, 1, False, None))
            i += 3
        elif code == STARTED:
            off = trail[i + 3]
            out.append(("started", trail[i + 1] + off, trail[i + 2], 0, "", None, 0.0, None, None, 1, False, None))
            i += 4
        elif code == STEP:
            step = list(trail[i + 1:i + 1 + STEP_FIELDS])
            step[1] += off
            if step[8] is not None:
                step[8] += off
            out.append(tuple(step))
            i += 1 + STEP_FIELDS
        else:
            raise ValueError(f"got {code!r} at {i} of a trail; expected a step's code")
    return out
