"""Whether a request's payload contradicts a declared type (checked at the HTTP front,
before any replica runs)."""

from __future__ import annotations

from typing import Any

from .tensor import TensorType

__all__ = ["payload_problem"]

_INTS = ("int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")
MAX_CHECKED = 1_000_000  # values looked at; a body is bounded by the front's size limit anyway


def payload_problem(expected: TensorType, payload: Any) -> str | None:
    """None when ``payload`` (JSON) fits ``expected``, else what is wrong, in words.

    A single row fits a batch type (``[0.1, 0.2]`` fits ``float32[n, 2]``), as the
    runtime takes one row or a list of rows.
    """
    if expected.untyped:
        return None
    try:
        shape = _shape(payload, len(expected.shape) + 1)
    except _TooDeep:
        return f"expected {expected}; got lists nested deeper than its {len(expected.shape)} dimensions"
    if shape is None:
        return f"expected {expected}; got a ragged or mixed value"
    want = expected.shape
    if len(shape) == len(want) - 1 and want and isinstance(want[0], str):
        want = want[1:]  # one row of a batch
    if len(shape) != len(want):
        return f"expected {expected}; got {_describe(shape)}"
    for i, (got, dim) in enumerate(zip(shape, want)):
        if isinstance(dim, int) and got != dim:
            return f"expected {expected}; got {_describe(shape)} (axis {i} has {got}, not {dim})"
    bad = _first_bad(payload, expected.dtype, [0])
    if bad is not None:
        return f"expected {expected}; got {bad!r}, which is not a {expected.dtype} value"
    return None


class _TooDeep(Exception):
    """Lists nested deeper than any type it is checked against (never recursed into)."""


def _shape(value: Any, room: int) -> tuple[int, ...] | None:
    """The shape of nested lists, None when ragged; _TooDeep past ``room`` levels."""
    if not isinstance(value, list):
        return ()
    if room == 0:
        raise _TooDeep
    if not value:
        return (0,)
    inner = _shape(value[0], room - 1)
    if inner is None:
        return None
    for v in value[1:]:
        if (isinstance(v, list) != isinstance(value[0], list)) or (
                isinstance(v, list) and _shape(v, room - 1) != inner):
            return None
    return (len(value), *inner)


def _describe(shape: tuple[int, ...]) -> str:
    if not shape:
        return "a single value"
    if len(shape) == 1:
        return f"a list of {shape[0]} values"
    return "an array of shape [" + ", ".join(str(d) for d in shape) + "]"


def _fits(x: Any, dtype: str) -> bool:
    if dtype == "bytes":
        return isinstance(x, str)
    if dtype == "bool":
        return isinstance(x, bool)
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return False
    if dtype in _INTS:
        return isinstance(x, int) and (x >= 0 or not dtype.startswith("u"))
    return True


def _first_bad(value: Any, dtype: str, seen: list[int]) -> Any:
    if isinstance(value, list):
        for v in value:
            bad = _first_bad(v, dtype, seen)
            if bad is not None or seen[0] > MAX_CHECKED:
                return bad
        return None
    seen[0] += 1
    return None if _fits(value, dtype) else value
