"""The "model behaviour" panel: how a model's outputs are distributed over time.

Values come from a :class:`ResponseSampler`: fed by the deployment's result observer
when the runtime offers one (``dep.add_result_observer``), otherwise by the user
(``sampler.track(future)``, ``sampler.observe(value)``). A ``field`` picks what to
plot from each response: a key or attribute (dotted path), a callable, or the value.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any, Callable

import plotly.graph_objects as go

from .panels import shown_span, window_xy

if TYPE_CHECKING:  # pragma: no cover
    from ...runtime.protocol import DeploymentProtocol


__all__ = ["BehaviourPanel", "ResponseSampler", "extract"]

Field = str | Callable[[Any], Any] | None


def extract(value: Any, field: Field) -> float | None:
    """The number to plot for one response, or None if it has none."""
    if callable(field):
        value = field(value)
    elif isinstance(field, str):
        for part in field.split("."):
            if isinstance(value, dict):
                value = value.get(part)
            elif isinstance(value, (list, tuple)) and part.lstrip("-").isdigit():
                value = value[int(part)] if -len(value) <= int(part) < len(value) else None
            else:
                value = getattr(value, part, None)
            if value is None:
                return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    try:  # numpy scalars and the like
        return float(value)
    except (TypeError, ValueError):
        return None


class ResponseSampler:
    """A bounded, thread-safe record of (wall time, number) taken from responses."""

    def __init__(self, field: Field = None, maxlen: int = 20000) -> None:
        self.field = field
        self._lock = threading.Lock()
        self._t: deque[float] = deque(maxlen=maxlen)
        self._v: deque[float] = deque(maxlen=maxlen)
        self.ignored = 0  # responses with no number to plot
        self._detach: Callable[[], None] | None = None

    def observe(self, value: Any, at: float | None = None) -> None:
        """Record one response value (extracted with ``field``)."""
        number = extract(value, self.field)
        with self._lock:
            if number is None:
                self.ignored += 1
                return
            self._t.append(time.time() if at is None else at)
            self._v.append(number)

    def track(self, future: Any) -> Any:
        """Record the result of a request future when it succeeds; returns the future."""
        def done(f: Any) -> None:
            if not f.cancelled() and f.exception() is None:
                self.observe(f.result())

        future.add_done_callback(done)
        return future

    def attach(self, dep: DeploymentProtocol | None) -> bool:
        """Observe every result of ``dep`` (None: a source with no deployment, say a URL)."""
        if dep is None:
            return False
        self._detach = dep.add_result_observer(lambda value: self.observe(value))
        return True

    def detach(self) -> None:
        if self._detach is not None:
            self._detach()
            self._detach = None

    def points(self) -> tuple[list[float], list[float]]:
        with self._lock:
            return list(self._t), list(self._v)

    def __len__(self) -> int:
        return len(self._v)


def _quantile(sorted_values: list[float], q: float) -> float:
    i = q * (len(sorted_values) - 1)
    lo = int(i)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (i - lo)


def bucket_quantiles(t: list[float], v: list[float], now: float, window_s: float, buckets: int = 30,
                     qs: tuple[float, ...] = (0.1, 0.5, 0.9)) -> tuple[list[float], list[list[float | None]]]:
    """Per time bucket of the window: bucket centre (relative to now) and each quantile."""
    width = window_s / buckets
    groups: list[list[float]] = [[] for _ in range(buckets)]
    start = now - window_s
    for ti, vi in zip(t, v):
        if ti >= start:
            groups[min(int((ti - start) / width), buckets - 1)].append(vi)
    centres = [-window_s + (i + 0.5) * width for i in range(buckets)]
    out: list[list[float | None]] = [[] for _ in qs]
    for g in groups:
        g.sort()
        for k, q in enumerate(qs):
            out[k].append(_quantile(g, q) if g else None)
    return centres, out


class BehaviourPanel:
    """Sampled response values (dots) with their p10 / median / p90 per time bucket."""

    def __init__(self, sampler: ResponseSampler, window_s: float = 300.0, label: str = "response",
                 max_points: int = 400, height: int = 260) -> None:
        self.sampler = sampler
        self.window_s = window_s
        self.max_points = max_points
        self.label = label
        fig = go.Figure()
        fig.update_layout(
            title={"text": f"Model behaviour: {label} over time", "font": {"size": 13}},
            height=height, width=480, margin={"l": 45, "r": 10, "t": 35, "b": 30}, uirevision="monitor",
            legend={"orientation": "h", "y": -0.18, "font": {"size": 10}},
            xaxis={"range": [-window_s, 0], "ticksuffix": " s"},
        )
        fig.add_scatter(name="samples", mode="markers", marker={"size": 4, "opacity": 0.35, "color": "#1f77b4"})
        fig.add_scatter(name="p10", mode="lines+markers", marker={"size": 3}, line={"dash": "dot", "color": "#555"})
        fig.add_scatter(name="median", mode="lines+markers", marker={"size": 4}, line={"width": 3, "color": "black"})
        fig.add_scatter(name="p90", mode="lines+markers", marker={"size": 3}, line={"dash": "dot", "color": "#555"})
        self.figure = fig

    def update(self, now: float, span: float | None = None) -> None:
        """Redraw; ``span``: the seconds shown (default: the samples' age, up to the window)."""
        t, v = self.sampler.points()
        x, y = window_xy(t, v, now, self.window_s, self.max_points, gaps=False)
        if span is None:
            span = shown_span(t, now, self.window_s)
        centres, (p10, p50, p90) = bucket_quantiles(t, v, now, span)
        fig = self.figure
        with fig.batch_update():
            fig.data[0].x, fig.data[0].y = x, y
            for trace, values in zip(fig.data[1:], (p10, p50, p90)):
                trace.x, trace.y = centres, values
            if tuple(fig.layout.xaxis.range or ()) != (-span, 0):
                fig.layout.xaxis.range = [-span, 0]
            note = f" ({self.sampler.ignored} non-numeric ignored)" if self.sampler.ignored else ""
            title = f"Model behaviour: {self.label} over time, {len(self.sampler)} samples{note}"
            if fig.layout.title.text != title:
                fig.layout.title.text = title
