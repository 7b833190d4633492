"""Ensemble combine modes: mean (optionally weighted), vote, concat, first."""

from __future__ import annotations

from typing import Any, Callable

__all__ = ["combiner"]


def _mean(values: list[Any], weights: list[float] | None) -> Any:
    w = weights or [1.0] * len(values)
    total = sum(w)
    if not values:
        raise ValueError("mean of no inputs")
    if isinstance(values[0], (list, tuple)):
        size = len(values[0])
        if any(len(v) != size for v in values):
            raise ValueError(f"mean expects equal-length lists, got lengths {[len(v) for v in values]}")
        return [sum(wi * float(v[i]) for wi, v in zip(w, values)) / total for i in range(size)]
    return sum(wi * float(v) for wi, v in zip(w, values)) / total


def _vote(values: list[Any], weights: list[float] | None) -> Any:
    w = weights or [1.0] * len(values)
    tally: dict[Any, float] = {}
    first_seen: dict[Any, int] = {}
    for i, (v, wi) in enumerate(zip(values, w)):
        key = tuple(v) if isinstance(v, list) else v
        tally[key] = tally.get(key, 0.0) + wi
        first_seen.setdefault(key, i)
    best = max(tally, key=lambda k: (tally[k], -first_seen[k]))
    return values[first_seen[best]]


def _concat(values: list[Any], weights: list[float] | None) -> Any:
    return list(values)


def _first(values: list[Any], weights: list[float] | None) -> Any:
    return values[0]


_MODES: dict[str, Callable[[list[Any], list[float] | None], Any]] = {
    "mean": _mean,
    "vote": _vote,
    "concat": _concat,
    "first": _first,
}


def combiner(mode: str) -> Callable[[list[Any], list[float] | None], Any]:
    """The combine function for a built-in mode: ``f(values, weights) -> value``."""
    return _MODES[mode]
