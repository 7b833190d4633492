"""Importable impls for the backend conformance tests (Ray replicas import them by name)."""

from __future__ import annotations

import time


def double(x):
    return x * 2


def inc(x):
    return x + 1


def total(xs):
    return float(sum(xs))


def size_class(x):
    return "big" if x >= 100 else ("small" if x >= 0 else "other")


def negate(x):
    return -x


def tag(x):
    return {"tagged": x}


def batch_double(xs):
    """A batched impl: answers every item with its double and the batch's size."""
    return [{"y": x * 2, "batch": len(xs)} for x in xs]


def fail_on_negative(x):
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x


def snooze(x):
    time.sleep(float(x))
    return x
