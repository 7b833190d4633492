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
