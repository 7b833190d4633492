"""Importable impls for benchmarks/recovery.py (process replicas import them by name)."""

from __future__ import annotations

import time


def double(x):
    return 2 * x


def slow_inc(x):
    time.sleep(0.001)
    return x + 1
