"""Which requests are traced: a rate, or OpenTelemetry's standard environment.

A rate (``hogar serve --trace-sample``, ``dep.enable_tracing(sample=...)``) gives
``parentbased_traceidratio``: a request that comes with a sampled ``traceparent``
is recorded whatever the rate, as in every OpenTelemetry program. Without one,
``OTEL_TRACES_SAMPLER`` and ``OTEL_TRACES_SAMPLER_ARG`` decide, with the names and
meanings of the specification. The SDK reads those variables only in a private
helper, so the few lines that map a name to its public sampler class live here.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from opentelemetry.sdk.environment_variables import OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    DEFAULT_OFF,
    DEFAULT_ON,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    TraceIdRatioBased,
)

from ..errors import HogarError

__all__ = ["NOT_SAMPLED", "RateSampler", "TracingWarning", "check_rate", "env_sampler", "sampler_for"]



class RateSampler(ParentBasedTraceIdRatio):
    """``parentbased_traceidratio`` at ``rate`` that also names its root's bound, so
    :func:`~.context.new_ids` decides a request without a parent by the same
    comparison of the trace id as the SDK's, without building a SamplingResult (a
    few microseconds on every request)."""

    def __init__(self, rate: float) -> None:
        super().__init__(rate)
        self.root_bound = TraceIdRatioBased.get_bound_for_rate(rate)


class _NotSampled(ParentBased):
    root_bound = 0  # no new trace is recorded

    def __init__(self) -> None:
        super().__init__(ALWAYS_OFF)


NOT_SAMPLED = _NotSampled()  # tracing off: propagate the caller's decision, record nothing

_FIXED = {"always_on": ALWAYS_ON, "always_off": ALWAYS_OFF, "parentbased_always_on": DEFAULT_ON,
          "parentbased_always_off": DEFAULT_OFF}
_RATIO = {"traceidratio": TraceIdRatioBased, "parentbased_traceidratio": ParentBasedTraceIdRatio}


class TracingWarning(UserWarning):
    """Tracing is configured in a way that cannot work; export (or sampling) falls
    back and requests are served as usual."""


def check_rate(value: Any, what: str = "the trace sample rate") -> float:
    """``value`` as a fraction in [0, 1] (a number, or a Percent); HogarError otherwise."""
    value = getattr(value, "fraction", value)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise HogarError(f"got {value!r} for {what}; expected a fraction between 0 and 1 "
                         "(e.g. 0.01, or 1% in UDGL)")
    return float(value)


def sampler_for(rate: float) -> Sampler:
    """Record a fraction ``rate`` of new traces and every trace a caller sampled."""
    return RateSampler(check_rate(rate))


def env_sampler() -> Sampler | None:
    """The sampler ``OTEL_TRACES_SAMPLER`` names (None when it is not set); an unknown
    name or a bad ``OTEL_TRACES_SAMPLER_ARG`` is one TracingWarning and the default."""
    name = os.environ.get(OTEL_TRACES_SAMPLER, "").strip().lower()
    if not name:
        return None
    if name in _FIXED:
        return _FIXED[name]
    if name in _RATIO:
        arg = os.environ.get(OTEL_TRACES_SAMPLER_ARG, "1.0")
        try:
            return _RATIO[name](check_rate(float(arg), OTEL_TRACES_SAMPLER_ARG))
        except (ValueError, HogarError):
            warnings.warn(TracingWarning(f"got {arg!r} for {OTEL_TRACES_SAMPLER_ARG}; expected a fraction "
                                         f"between 0 and 1: sampling every trace"), stacklevel=2)
            return _RATIO[name](1.0)
    warnings.warn(TracingWarning(f"got {name!r} for {OTEL_TRACES_SAMPLER}; expected one of "
                                 f"{sorted([*_FIXED, *_RATIO])}: using parentbased_always_on"), stacklevel=2)
    return DEFAULT_ON
