"""Importable impls for runtime tests (process replicas need "module:attr")."""

from __future__ import annotations

import os
import time


def double(x):
    return x * 2


def inc(x):
    return x + 1


def slow_double(x):
    time.sleep(0.05)
    return x * 2


def pid(_x):
    return os.getpid()


def batch_double(xs):
    return [x * 2 for x in xs]


def fail_on_negative(x):
    if x < 0:
        raise ValueError(f"negative input {x}")
    return x


class Counter:
    """A class impl: one instance per replica, so each counts its own calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self, x):
        self.calls += 1
        return (x, id(self))


def double_one_or_batch(x):
    """Works with and without ``batch`` (a list of inputs in a batch)."""
    return [v * 2 for v in x] if isinstance(x, list) else x * 2


def lock_for_negative(x):
    """A result that cannot be pickled for negative inputs."""
    import threading

    return threading.Lock() if x < 0 else x


def slow_inc(x):
    time.sleep(0.001)
    return x + 1


class BrokenAtStart:
    def __init__(self):
        raise RuntimeError("cannot load the weights")

    def __call__(self, x):  # pragma: no cover - never constructed
        return x


class Picky(Exception):
    """An exception whose constructor takes two arguments: pickle cannot rebuild it."""

    def __init__(self, a, b):
        super().__init__(f"{a}/{b}")


def picky_on_negative(x):
    if x < 0:
        raise Picky(x, "refused")
    return x


def sleep_for(seconds):
    time.sleep(seconds)
    return seconds
