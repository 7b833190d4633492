"""How two answers to the same request compare: equal labels, absolute differences."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["abs_diff", "same_answer"]


def same_answer(a: Any, b: Any) -> bool:
    """Whether two answers are equal (arrays elementwise, all equal)."""
    try:
        eq = a == b
        if hasattr(eq, "all"):
            eq = eq.all()
        return bool(eq)
    except Exception:  # answers that cannot be compared differ
        return False


def _numbers(value: Any) -> list[float] | None:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if isinstance(value, bool):
        return [float(value)]
    if isinstance(value, (int, float)):
        return [float(value)]
    if isinstance(value, (list, tuple)):
        out: list[float] = []
        for item in value:
            inner = _numbers(item)
            if inner is None:
                return None
            out.extend(inner)
        return out
    return None


def abs_diff(a: Any, b: Any) -> float | None:
    """The mean absolute difference of two numeric answers of the same shape, else None."""
    x, y = _numbers(a), _numbers(b)
    if x is None or y is None or len(x) != len(y) or not x:
        return None
    total = sum(abs(p - q) for p, q in zip(x, y))
    return total / len(x) if math.isfinite(total) else None
