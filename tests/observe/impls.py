"""Importable impls for the tracing tests (process and Ray replicas need "module:attr")."""

from __future__ import annotations


def double(x):
    """Twice ``x`` (a row of one number, as v2 infer sends, counts as the number)."""
    return 2 * (x[0] if isinstance(x, list) else x)


def gate(x):
    """The switch: "even" for a multiple of 4 (an even input, doubled), else "odd"."""
    return "even" if int(x) % 4 == 0 else "odd"


def plus_one(x):
    return x + 1


def minus_one(x):
    return x - 1
