"""Values as the console's pages show them: readable text, never Python reprs."""

from __future__ import annotations

from typing import Any

__all__ = ["duration_ms", "readable"]


def readable(value: Any) -> str:
    """``None`` as a dash, booleans as true/false, numbers without trailing zeros, lists
    and mappings in brackets and braces with their items readable too."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(readable(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {readable(v)}" for k, v in value.items()) + "}"
    return str(value)


def duration_ms(ms: Any) -> str:
    """A duration in milliseconds as a person reads it: ``30 s``, ``1.5 s``, ``250 ms``."""
    if ms is None:
        return "—"
    ms = float(ms)
    if abs(ms) >= 1000:
        return f"{ms / 1000:g} s"
    return f"{ms:g} ms"
