"""Check one attribute value against its :class:`AttrSpec` and normalise its units.

Durations become float milliseconds, sizes int bytes, percentages float fractions,
recovery a ``{policy, max_restarts, backoff_ms}`` dict (plus ``within_ms`` when it is
not the default window of 60 s), ``replicas`` an int or, for ``auto(min, max)``, a
``{"min": m, "max": n}`` dict.
"""

from __future__ import annotations

from typing import Any

from .kinds import DEFAULT_WITHIN_MS, RECOVERY_POLICIES, AttrSpec
from .values import Call, Duration, Ident, ParamRef, Percent, Shaped, Size, format_value

__all__ = ["CoerceError", "coerce", "describe"]


class CoerceError(Exception):
    """A value does not fit its attribute; carries a code, a message and a hint."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def describe(value: Any) -> str:
    """How a value reads in a message: ``250ms``, ``"abc"``, ``[1, 2]``."""
    try:
        return format_value(value)
    except (TypeError, ValueError):
        return repr(value)


def _type_error(spec: AttrSpec, value: Any, hint: str | None = None) -> CoerceError:
    return CoerceError(
        "E020",
        f"got {describe(value)} for `{spec.name}`; expected {spec.expectation()}",
        hint,
    )


def _range(spec: AttrSpec, value: Any, number: float, shown: str) -> None:
    low_bad = spec.min is not None and (
        number <= spec.min if spec.min_exclusive else number < spec.min
    )
    high_bad = spec.max is not None and number > spec.max
    if low_bad or high_bad:
        raise CoerceError(
            "E022",
            f"got {shown} for `{spec.name}`; expected {spec.expectation(with_range=True)}",
        )


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def coerce(spec: AttrSpec, value: Any) -> Any:
    """The normalised value, or :class:`CoerceError`. ``value`` has no ``$param`` left."""
    if isinstance(value, ParamRef):  # callers substitute params first
        raise CoerceError("E023", f"parameter `${value.name}` is not defined")
    t = spec.type
    if t == "int":
        if isinstance(value, float) and value.is_integer() and not isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise _type_error(spec, value)
        _range(spec, value, value, describe(value))
        return value
    if t == "number":
        if not _is_number(value):
            raise _type_error(spec, value)
        _range(spec, value, value, describe(value))
        return value
    if t == "duration":
        if _is_number(value) and value == 0:
            value = Duration(0.0)
        if not isinstance(value, Duration):
            hint = f"add a unit: {describe(value)}ms" if _is_number(value) else None
            raise _type_error(spec, value, hint)
        _range(spec, value, value.ms, str(value))
        return float(value.ms)
    if t == "size":
        if _is_number(value) and value == 0:
            value = Size(0)
        if not isinstance(value, Size):
            hint = f"add a unit: {describe(value)}MiB" if _is_number(value) else None
            raise _type_error(spec, value, hint)
        _range(spec, value, value.bytes, str(value))
        return int(value.bytes)
    if t == "string":
        if not isinstance(value, str):
            hint = f'quote it: "{value.name}"' if isinstance(value, Ident) else None
            raise _type_error(spec, value, hint)
        if spec.name == "route" and not value.startswith("/"):
            raise CoerceError(
                "E022", f'got "{value}" for `route`; a route must start with "/"',
                f'write "/{value}"',
            )
        return value
    if t == "bool":
        if isinstance(value, bool):
            return value
        raise _type_error(spec, value)
    if t == "enum":
        name = value.name if isinstance(value, Ident) else value
        if isinstance(name, str) and name in spec.choices:
            return name
        from .diagnostics import did_you_mean

        hint = did_you_mean(name, spec.choices) if isinstance(name, str) else None
        raise CoerceError(
            "E024", f"got {describe(value)} for `{spec.name}`; expected {spec.expectation()}", hint
        )
    if t == "impl":
        if isinstance(value, Ident):
            return value.name
        if isinstance(value, str) and value.strip():
            return value
        raise _type_error(spec, value)
    if t == "percent":
        if isinstance(value, Percent):
            frac = value.fraction
            shown = str(value)
        elif _is_number(value):
            frac = float(value)
            shown = describe(value)
        else:
            raise _type_error(spec, value)
        _range(spec, value, frac, shown)
        return frac
    if t == "numbers":
        if not isinstance(value, list) or not value or not all(_is_number(v) for v in value):
            raise _type_error(spec, value)
        if any(v < 0 for v in value):
            raise CoerceError("E022", f"got {describe(value)} for `{spec.name}`; weights must be >= 0")
        return list(value)
    if t == "combine":
        if isinstance(value, Ident):
            return value.name
        if isinstance(value, str) and value.strip():
            return value
        raise _type_error(spec, value)
    if t == "recovery":
        return _recovery(spec, value)
    if t == "tensor":
        return _tensor(spec, value)
    if t == "replicas":
        return _replicas(spec, value)
    raise AssertionError(f"unknown attribute type {t}")  # pragma: no cover


def _tensor(spec: AttrSpec, value: Any) -> str:
    """A tensor type, written ``float32[n, 20]``, ``json`` or as a string; kept in its
    canonical spelling."""
    from .types.tensor import TypeSyntaxError, parse_type

    if isinstance(value, (Shaped, Ident)):
        text = str(value)
    elif isinstance(value, str):
        text = value
    else:
        raise _type_error(spec, value)
    try:
        return str(parse_type(text))
    except TypeSyntaxError as err:
        raise CoerceError("E020", f"got {describe(value)} for `{spec.name}`: {err}",
                          "write a datatype and a shape, such as float32[n, 20], int64[n] or json") from None


def _recovery(spec: AttrSpec, value: Any) -> dict:
    from .diagnostics import did_you_mean

    if isinstance(value, Ident):
        value = Call(value.name)
    if isinstance(value, dict):  # already resolved (EARG)
        return dict(value)
    if not isinstance(value, Call):
        raise _type_error(spec, value)
    if value.name not in RECOVERY_POLICIES:
        raise CoerceError(
            "E024",
            f"got `{value.name}` for `recovery`; expected one of "
            + ", ".join(f"`{p}`" for p in RECOVERY_POLICIES),
            did_you_mean(value.name, RECOVERY_POLICIES),
        )
    out = {"policy": value.name, "max_restarts": 5, "backoff_ms": 100.0}
    if value.name != "restart" and value.kwargs:
        raise CoerceError("E020", f"`{value.name}` takes no arguments", f"write `recovery = {value.name}`")
    for key, arg in value.kwargs:
        if key == "max":
            if not isinstance(arg, int) or isinstance(arg, bool) or not 0 <= arg <= 10_000:
                raise CoerceError(
                    "E020", f"got {describe(arg)} for `max` of `restart`; expected an integer >= 0"
                )
            out["max_restarts"] = arg
        elif key == "backoff":
            if isinstance(arg, int) and arg == 0:
                arg = Duration(0.0)
            if not isinstance(arg, Duration) or arg.ms < 0:
                raise CoerceError(
                    "E020", f"got {describe(arg)} for `backoff` of `restart`; expected a duration such as 100ms"
                )
            out["backoff_ms"] = float(arg.ms)
        elif key == "within":
            if not isinstance(arg, Duration) or not 0 < arg.ms <= 86_400_000:
                raise CoerceError(
                    "E020", f"got {describe(arg)} for `within` of `restart`; expected a duration "
                    "> 0 and <= 1d such as 60s"
                )
            if float(arg.ms) != DEFAULT_WITHIN_MS:
                out["within_ms"] = float(arg.ms)
        else:
            raise CoerceError(
                "E012", f"`restart` has no argument `{key}`",
                did_you_mean(key, ("max", "within", "backoff"))
                or "its arguments are `max`, `within` and `backoff`",
            )
    return out



def _replicas(spec: AttrSpec, value: Any) -> int | dict[str, int]:
    """An int, or ``auto(min = 1, max = 8)`` as ``{"min": 1, "max": 8}``."""
    from .diagnostics import did_you_mean

    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        _range(spec, value, value, describe(value))
        return value
    if isinstance(value, dict) and set(value) == {"min", "max"}:  # already resolved
        value = Call("auto", (("min", value["min"]), ("max", value["max"])))
    if isinstance(value, Ident) and value.name == "auto":
        raise CoerceError("E020", "`auto` needs its bounds", "write `replicas = auto(min = 1, max = 8)`")
    if not isinstance(value, Call) or value.name != "auto":
        hint = "write `replicas = auto(min = 1, max = 8)`" if isinstance(value, (Call, Ident)) else None
        raise _type_error(spec, value, hint)
    bounds: dict[str, int] = {}
    for key, arg in value.kwargs:
        if key not in ("min", "max"):
            raise CoerceError("E012", f"`auto` has no argument `{key}`",
                              did_you_mean(key, ("min", "max")) or "its arguments are `min` and `max`")
        if isinstance(arg, float) and arg.is_integer():
            arg = int(arg)
        if not isinstance(arg, int) or isinstance(arg, bool) or not 1 <= arg <= 10_000:
            raise CoerceError("E022", f"got {describe(arg)} for `{key}` of `auto`; expected an integer "
                                      ">= 1 and <= 10000")
        bounds[key] = arg
    if "max" not in bounds:
        raise CoerceError("E020", "`auto` needs `max`, the most replicas it may run",
                          f"write `replicas = auto(min = {bounds.get('min', 1)}, max = 8)`")
    low = bounds.get("min", 1)
    if low > bounds["max"]:
        raise CoerceError("E022", f"got min = {low} and max = {bounds['max']} for `auto`; "
                                  "expected min <= max")
    return {"min": low, "max": bounds["max"]}
