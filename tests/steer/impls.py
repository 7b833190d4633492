"""Importable impls for the steer tests."""

from __future__ import annotations

import time


def slow(x):
    time.sleep(0.05)
    return x * 2


def slower(x):
    time.sleep(0.08)
    return x + 1


def quick(x):
    return x + 1


def primary(x):
    return x * 2


def candidate(x):
    """Agrees with ``primary`` except on multiples of 10 (off by one); fails on multiples of 7."""
    if x % 7 == 0:
        raise ValueError(f"candidate cannot score {x}")
    return x * 2 + (1 if x % 10 == 0 else 0)


def sluggish(x):
    time.sleep(0.05)
    return x * 2
