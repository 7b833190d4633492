"""UDGL value types and their units.

Plain ints, floats, strings, bools and lists stand for themselves; the classes here
carry what plain Python values cannot: a unit (durations, sizes, percentages), a bare
identifier, a call such as ``restart(max = 5)``, or a ``$param`` reference.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "BAD_VALUE",
    "BadValue",
    "COMPARISONS",
    "Call",
    "Condition",
    "Duration",
    "Ident",
    "ParamRef",
    "Percent",
    "Shaped",
    "Size",
    "contains",
    "DURATION_UNITS",
    "SIZE_UNITS",
    "format_value",
    "in_range",
    "NAME_LIMIT",
    "NUMBER_LIMIT",
    "STRING_LIMIT",
    "split_number",
]

DURATION_UNITS: dict[str, float] = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}
SIZE_UNITS: dict[str, int] = {
    "B": 1,
    "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}

_NUMBER = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)(.*)", re.S)


#: the largest magnitude a UDGL or EARG number may have (what a 64-bit integer holds)
NUMBER_LIMIT = 2**63 - 1
_FLOAT_LIMIT = float(NUMBER_LIMIT)
#: the longest a UDGL or EARG string may be, in characters (its value, escapes read)
STRING_LIMIT = 10_000
#: the longest a name (of the graph, a node, a param, a template) may be
NAME_LIMIT = 200
MAX_DIGITS = 30


def split_number(text: str) -> tuple[int | float, str]:
    """``"250ms"`` -> ``(250, "ms")``; ``"0.5"`` -> ``(0.5, "")``.

    Raises ValueError for text that is not a number, or has more than
    :data:`MAX_DIGITS` significant digits (never converts thousands of digits).
    """
    m = _NUMBER.fullmatch(text)
    if m is None:
        raise ValueError(f"not a number: {text!r}")
    digits, unit = m.groups()
    mantissa = re.split(r"[eE]", digits)[0].lstrip("+-").replace(".", "").lstrip("0")
    if len(mantissa) > MAX_DIGITS or len(digits) > 2 * MAX_DIGITS:
        raise ValueError("too many digits")
    if re.fullmatch(r"[+-]?\d+", digits):
        return int(digits), unit
    return float(digits), unit


def in_range(x: float) -> bool:
    """Whether a number is finite and within :data:`NUMBER_LIMIT`. A float is compared
    with the float nearest the limit (2**63), which is what a value at the limit
    becomes once a duration or a fraction holds it: it must read back as in range."""
    if isinstance(x, float):
        return math.isfinite(x) and abs(x) <= _FLOAT_LIMIT
    return abs(x) <= NUMBER_LIMIT


@dataclass(frozen=True, slots=True)
class Duration:
    """A duration, kept in milliseconds."""

    ms: float

    def __str__(self) -> str:
        return format_duration(self.ms)


@dataclass(frozen=True, slots=True)
class Size:
    """A size, kept in bytes."""

    bytes: int

    def __str__(self) -> str:
        return format_size(self.bytes)


@dataclass(frozen=True, slots=True)
class Percent:
    """A percentage, kept as a fraction (90% -> 0.9)."""

    fraction: float

    def __str__(self) -> str:
        return format_fraction(self.fraction)


@dataclass(frozen=True, slots=True)
class Ident:
    """A bare identifier: an enum value (``mean``) or a notebook name (``my_fn``)."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class ParamRef:
    """A ``$name`` reference to a graph parameter."""

    name: str

    def __str__(self) -> str:
        return f"${self.name}"


class BadValue:
    """Stands for a literal that was already reported as wrong (e.g. an unknown unit)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "BadValue"


BAD_VALUE = BadValue()


@dataclass(frozen=True, slots=True)
class Call:
    """A call value such as ``restart(max = 5, backoff = 100ms)``."""

    name: str
    kwargs: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str, default: Any = None) -> Any:
        for k, v in self.kwargs:
            if k == key:
                return v
        return default

    def __str__(self) -> str:
        inner = ", ".join(f"{k} = {format_value(v)}" for k, v in self.kwargs)
        return f"{self.name}({inner})"


#: the comparisons a condition may use
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")


@dataclass(frozen=True, slots=True)
class Condition:
    """A comparison of a named measure with a bound, such as
    ``drift_share(scorer) > 0.3`` (an alert's ``when``)."""

    measure: str
    args: tuple[str, ...]
    op: str
    bound: Any

    def __str__(self) -> str:
        return f"{self.measure}({', '.join(self.args)}) {self.op} {format_value(self.bound)}"


@dataclass(frozen=True, slots=True)
class Shaped:
    """A name with a bracketed shape, such as the tensor type ``float32[n, 20]``."""

    name: str
    dims: tuple[Any, ...] = ()

    def __str__(self) -> str:
        return f"{self.name}[{', '.join(format_value(d) for d in self.dims)}]"


def contains(value: Any, kind: type | tuple[type, ...]) -> bool:
    """Whether ``value``, or anything inside its lists and call arguments, is a ``kind``."""
    if isinstance(value, kind):
        return True
    if isinstance(value, list):
        return any(contains(v, kind) for v in value)
    if isinstance(value, Call):
        return any(contains(v, kind) for _, v in value.kwargs)
    return False


def _num(x: float) -> str:
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return repr(x)


def format_duration(ms: float) -> str:
    """Shortest exact spelling: 1500.0 -> ``1500ms``, 2000.0 -> ``2s``, 0.25 -> ``250us``."""
    for unit in ("h", "m", "s"):
        factor = DURATION_UNITS[unit]
        q = ms / factor
        if ms and float(q).is_integer() and q * factor == ms:
            return f"{int(q)}{unit}"
    if ms and not float(ms).is_integer():
        us = ms * 1000
        if float(us).is_integer() and us / 1000 == ms:
            return f"{int(us)}us"
    return f"{_num(float(ms))}ms"


def format_size(n: int) -> str:
    for unit in ("TiB", "GiB", "MiB", "KiB", "TB", "GB", "MB", "KB"):
        factor = SIZE_UNITS[unit]
        if n and n % factor == 0:
            return f"{n // factor}{unit}"
    return f"{n}B"


def format_fraction(f: float) -> str:
    """A fraction as a percentage that reads back to exactly the same float."""
    for digits in range(0, 16):
        p = round(f * 100, digits)
        if p / 100 == f:
            return f"{_num(p)}%"
    p = f * 100
    for _ in range(8):  # walk a few ulps around f*100 for one whose /100 is exact
        for q in (p, math.nextafter(p, math.inf), math.nextafter(p, -math.inf)):
            if q / 100 == f:
                return f"{_num(q)}%"
        p = math.nextafter(p, math.inf if p / 100 < f else -math.inf)
    return _num(f)  # a plain fraction (accepted wherever a percentage is)


def format_string(s: str) -> str:
    """A double-quoted UDGL string (JSON escapes; unprintable characters as \\uXXXX)."""
    import json

    return "".join(
        c if c.isprintable() or c == '"' else json.dumps(c)[1:-1]
        for c in json.dumps(s, ensure_ascii=False)
    )


def format_value(v: Any) -> str:
    """UDGL spelling of a value; ``parse(format_value(v)) == v``."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        if abs(v) > NUMBER_LIMIT:
            raise ValueError("an integer past the number limit has no UDGL spelling")
        return str(v)
    if isinstance(v, float):
        if not in_range(v):
            raise ValueError(f"{v} has no UDGL spelling")
        r = repr(v)
        return r if ("." in r or "e" in r) else r + ".0"
    if isinstance(v, str):
        return format_string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(format_value(x) for x in v) + "]"
    if isinstance(v, (Duration, Size, Percent, Ident, ParamRef, Call, Condition, Shaped)):
        return str(v)
    raise TypeError(f"no UDGL spelling for {type(v).__name__}")
