"""Impls the serving tests run (importable as tests.serving.impls:NAME)."""

from __future__ import annotations

import threading
import time

RELEASE = threading.Event()


def ident(x):
    return x


def double(x):
    if not isinstance(x, (int, float)) or isinstance(x, bool):
        raise TypeError(f"double needs a number, got {type(x).__name__}")
    return 2 * x


def slow(x):
    time.sleep(0.05)
    return x


def gate(x):
    """Blocks until RELEASE is set (tests hold requests in flight with it)."""
    RELEASE.wait(30)
    return x


def unserialisable(x):
    return object()


def shape_checked(x):
    from hogar_nb.runtime.errors import InvalidInputError

    if not isinstance(x, list) or len(x) != 2:
        raise InvalidInputError("expected a list of 2 numbers")
    return sum(x)


def double_rows(payloads):
    """A batched impl: a list of rows in, a list of doubled rows out."""
    return [[2 * v for v in row] for row in payloads]


def nest(x):
    """``x`` inside 2,000 lists (deeper than JSON encoders go)."""
    for _ in range(2000):
        x = [x]
    return x


def nest_ragged(x):
    """``x`` inside 2,000 ragged lists: no tensor shape, and too deep for JSON."""
    for _ in range(2000):
        x = [x, 0]
    return x


def slow_for(seconds):
    time.sleep(seconds)
    return seconds


class SlowStart:
    """An impl that takes a moment to load (each replica constructs one)."""

    def __init__(self):
        time.sleep(0.2)

    def __call__(self, x):
        return x


slow_start = SlowStart


def argmax(row):
    """The index of a row's largest value (a class from its probabilities)."""
    return max(range(len(row)), key=row.__getitem__)


def tenth(row):
    """Every value of a row divided by ten (a stand-in for a feature scaler)."""
    return [v / 10 for v in row]


def gate_by_sign(row):
    """A switch: "pos" for a row whose first value is not negative, else "neg"."""
    return "neg" if row[0] < 0 else "pos"


def double_row(row):
    return [2 * v for v in row]
CALLS: list = []


def counted_sum(x):
    """Sums a row (or each row of a batch); every call is recorded in CALLS."""
    CALLS.append(x)
    if x and isinstance(x[0], list):
        return [sum(row) for row in x]
    return sum(x)
