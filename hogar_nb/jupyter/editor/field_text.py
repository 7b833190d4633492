"""Attribute values as the editor's fields show them: UDGL text the user can type back."""

from __future__ import annotations

from typing import Any

from ...core.kinds import AttrSpec
from ...core.values import format_duration, format_size, format_value

__all__ = ["format_attr", "resolved_text"]

_RAW_TYPES = ("string", "impl", "combine")  # the model keeps these as typed, not parsed


def format_attr(spec: AttrSpec, value: Any) -> str:
    """A value as the user types it: UDGL text, strings without quotes."""
    if value is None:
        return ""
    if spec.type in (*_RAW_TYPES, "enum") and isinstance(value, str):
        return value
    try:
        return format_value(value)
    except TypeError:
        return getattr(value, "__qualname__", None) or str(value)


def resolved_text(spec: AttrSpec, value: Any) -> str:
    """A resolved value (ms, bytes, recovery dict) as UDGL text, for placeholders."""
    if value is None:
        return "unset"
    if spec.type == "duration" and isinstance(value, (int, float)):
        return format_duration(float(value)) if value else "0ms"
    if spec.type == "size" and isinstance(value, int):
        return format_size(value) if value else "0B"
    if spec.type == "recovery" and isinstance(value, dict):
        if value.get("policy") != "restart":
            return str(value.get("policy"))
        within = value.get("within_ms")
        return (f"restart(max = {value.get('max_restarts')}, "
                + (f"within = {format_duration(float(within))}, " if within is not None else "")
                + f"backoff = {format_duration(float(value.get('backoff_ms', 0)))})")
    if spec.type == "percent" and isinstance(value, float):
        return f"{value * 100:g}%"
    return format_attr(spec, value)
