"""The rows of one tensor, travelling through the graph as one payload.

An Open Inference Protocol request of ``n`` rows is one request, not ``n``: it takes
one place in each queue and one walk. A node that takes a batch (a model runtime,
an impl with ``batch > 1``) runs all of its rows in one call; any other impl runs
once per row, inside the same call of the replica. Either way it answers
:class:`Rows` of its outputs, so the next node gets the tensor as one payload too.

Only the standard library here: process replicas import it in their child.
"""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["Rows", "call"]


class Rows(list):
    """A list of rows that a node runs together and answers row by row."""

    __slots__ = ()


def call(fn: Callable[[Any], Any], payloads: list[Any], batched: bool) -> list[Any]:
    """Run ``fn`` on ``payloads`` (one item unless ``batched``, or ``fn`` takes a batch
    as model runners do); one output per payload, :class:`Rows` for Rows. A batch
    item that failed alone is its exception; so is a Rows one of whose rows failed."""
    takes_batch = batched or getattr(fn, "__hogar_batch__", False)
    if not takes_batch:
        payload = payloads[0]
        if type(payload) is Rows:
            return [Rows([fn(row) for row in payload])]
        return [fn(payload)]
    if not any(type(p) is Rows for p in payloads):
        return list(fn(payloads))
    flat: list[Any] = []
    sizes: list[int] = []
    for p in payloads:
        if type(p) is Rows:
            flat.extend(p)
            sizes.append(len(p))
        else:
            flat.append(p)
            sizes.append(-1)
    outputs = list(fn(flat))
    if len(outputs) != len(flat):
        raise ValueError(f"batched impl returned {len(outputs)} results for {len(flat)} inputs "
                         "(expected a list of the same length)")
    grouped: list[Any] = []
    at = 0
    for size in sizes:
        if size < 0:
            grouped.append(outputs[at])
            at += 1
            continue
        part = outputs[at:at + size]
        at += size
        failed = next((o for o in part if isinstance(o, BaseException)), None)
        grouped.append(failed if failed is not None else Rows(part))
    return grouped
