"""Plotly panels (figures shown by a :class:`~.plot_panels.PlotPanels`) fed from a
source's bounded series.

Each panel has a fixed set of traces: end-to-end ones plus a few node "slots"
(the busiest or least healthy nodes, or the ones the user names), so the cost of a
refresh does not grow with the size of the graph. Updates assign whole arrays
and x is "seconds before now" over the chosen window, or over the data's age while
it does not fill the window yet; the page is sent the figures that changed.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import plotly.graph_objects as go

from .health import NodeHealth
from .source import Reading, Source, Topology

__all__ = ["PANELS", "Panels", "shown_span", "window_xy"]

PANELS = ("throughput", "latency", "errors", "queues", "replicas")
_TITLES = {
    "throughput": "Throughput (completions/s)",
    "latency": "Latency (ms)",
    "errors": "Errors by cause (since start)",
    "queues": "Queue depth and in flight",
    "replicas": "Replicas alive and recovery events",
}
_BAD = {"degraded": 1000.0, "failing": 2000.0, "suspended": 2500.0, "down": 3000.0}


def window_xy(t: list[float], values: list[Any], now: float, window_s: float,
              max_points: int, gaps: bool = True) -> tuple[list[float], list[Any]]:
    """Points of the last ``window_s`` seconds, x relative to ``now``, at most ``max_points``.

    Where samples are missing (a gap much longer than the usual step) a ``None`` is
    put in between, so the line breaks there instead of joining the two sides
    (unless ``gaps`` is False: scattered samples have no usual step).
    """
    start = now - window_s
    i = len(t)
    while i > 0 and t[i - 1] >= start:
        i -= 1
    xs, ys = t[i:], values[i:]
    if len(xs) > max_points:
        stride = -(-len(xs) // max_points)
        first = (len(xs) - 1) % stride  # always keep the newest point
        xs, ys = xs[first::stride], ys[first::stride]
    xs = [x - now for x in xs]
    return break_gaps(xs, list(ys)) if gaps else (xs, list(ys))


def shown_span(t: list[float], now: float, window_s: float, least: float = 10.0) -> float:
    """Seconds a time axis shows: the age of the oldest sample (a little more, at least
    ``least``) until the data fills ``window_s``, then ``window_s``. A young deployment
    fills the panel instead of being a sliver at its right edge."""
    if not t:
        return window_s
    age = (now - t[0]) * 1.03
    return min(window_s, max(age, least))


def break_gaps(xs: list[float], ys: list[Any], factor: float = 5.0) -> tuple[list[float], list[Any]]:
    """Insert a ``None`` point inside every step longer than ``factor`` times the median step."""
    if len(xs) < 3:
        return xs, ys
    steps = sorted(b - a for a, b in zip(xs, xs[1:]))
    usual = steps[len(steps) // 2]
    if usual <= 0:
        return xs, ys
    out_x, out_y = [xs[0]], [ys[0]]
    for (a, b), y in zip(zip(xs, xs[1:]), ys[1:]):
        if b - a > factor * usual:
            out_x.append((a + b) / 2)
            out_y.append(None)
        out_x.append(b)
        out_y.append(y)
    return out_x, out_y


def _figure(key: str, window_s: float, height: int, traces: list[Any]) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        title={"text": _TITLES[key], "font": {"size": 13}}, height=height, width=480,
        margin={"l": 45, "r": 10, "t": 35, "b": 30}, uirevision="monitor",
        legend={"orientation": "h", "y": -0.18, "font": {"size": 10}},
        xaxis={"title": None, "range": [-window_s, 0], "ticksuffix": " s"},
    )
    for trace in traces:
        fig.add_trace(trace)
    return fig


class Panels:
    """The system panels of a dashboard: ``figures[name]`` for each name in :data:`PANELS`."""

    def __init__(self, topology: Topology, nodes: Iterable[str] | None = None, max_nodes: int = 6,
                 window_s: float = 300.0, max_points: int = 300, height: int = 260) -> None:
        self.topology = topology
        self.workers = [n for n, info in topology.nodes.items() if info.replicas > 0]
        self.pinned = list(nodes) if nodes is not None else None
        if self.pinned is not None:
            unknown = [n for n in self.pinned if n not in topology.nodes]
            if unknown:
                raise KeyError(f"no node(s) {unknown}; nodes are {sorted(topology.nodes)}")
        self.max_nodes = max_nodes
        self.window_s = window_s
        self.max_points = max_points
        slots = len(self.pinned) if self.pinned is not None else min(max_nodes, len(self.workers))
        self._slots = slots
        Scatter = go.Scatter

        def slot_traces(mode: str = "lines") -> list[Any]:  # named, hidden until a node takes the slot
            return [Scatter(name=f"node {i + 1}", visible=False, mode=mode, marker={"size": 4})
                    for i in range(slots)]

        traces: dict[str, list[Any]] = {
            "throughput": [Scatter(name="end-to-end", line={"width": 3, "color": "black"}), *slot_traces()],
            # markers too: a latency sample between two idle ones is a lone point, which
            # a line alone does not draw
            "latency": [Scatter(name=f"end-to-end {q}", mode="lines+markers", marker={"size": 4},
                                line={"width": 3, "color": "black", "dash": dash})
                        for q, dash in (("p50", "dot"), ("p95", "dash"), ("p99", "solid"))]
                       + slot_traces("lines+markers"),
            "errors": [],
            "queues": [Scatter(name="queued (all)", line={"width": 3, "color": "black"}),
                       Scatter(name="in flight (all)", line={"width": 3, "color": "grey", "dash": "dot"}),
                       *slot_traces()],
            "replicas": [*slot_traces(), Scatter(name="recovery events", mode="markers",
                                                 marker={"symbol": "x", "size": 11, "color": "#d62728"})],
        }
        self.figures = {k: _figure(k, window_s, height, traces[k]) for k in PANELS}
        self.span = window_s  # seconds the time axes show
        self.shown: list[str] = []
        self.shown_replicas: list[str] = []
        f = self.figures
        f["errors"].update_layout(
            barmode="stack", xaxis={"range": None, "ticksuffix": None},
            # a legend beside the bars, never over them
            legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1, "yanchor": "top"},
            margin={"r": 110})
        _no_errors(f["errors"], True)
        self._causes: list[str] = []

    # -- which nodes get a slot --------------------------------------------------------
    def _choose(self, health: dict[str, NodeHealth], score: Callable[[str, NodeHealth], float]) -> list[str]:
        if self.pinned is not None:
            return self.pinned
        ranked = sorted(self.workers, key=lambda n: (-score(n, health[n]), n) if n in health else (0, n))
        return sorted(ranked[: self._slots])

    # -- refresh ----------------------------------------------------------------------
    def update(self, source: Source, reading: Reading, health: dict[str, NodeHealth]) -> None:
        """Redraw every panel from ``reading`` (cost bounded by slots x max_points)."""
        recovering: dict[str, int] = {}
        for e in reading.events:
            recovering[e.node] = recovering.get(e.node, 0) + 1
        busy = self._choose(health, lambda n, h: _BAD.get(h.level, 0.0) + h.rps + 10 * h.queue_depth)
        fragile = self._choose(health, lambda n, h: _BAD.get(h.level, 0.0) + 100 * (h.replicas - h.replicas_alive)
                               + 10 * recovering.get(n, 0) + h.rps)
        self.shown, self.shown_replicas = busy, fragile
        now, w, m = reading.time, self.window_s, self.max_points

        def xy(metric: str, node: str | None) -> tuple[list[float], list[Any]]:
            t, v = source.series(reading, metric, node)
            return window_xy(t, v, now, w, m)

        f = self.figures
        self._assign_slots(f["throughput"], 1, busy)
        self._assign_slots(f["latency"], 3, busy, " p99")
        self._assign_slots(f["queues"], 2, busy, " queued")
        self._assign_slots(f["replicas"], 0, fragile)
        self.span = span = shown_span(source.series(reading, "rps", None)[0], now, w)
        with f["throughput"].batch_update():
            _set(f["throughput"].data[0], *xy("rps", None))
            self._slot_traces(f["throughput"], 1, busy, lambda n: xy("rps", n))
            _time_axis(f["throughput"], span)
        with f["latency"].batch_update():
            for i, metric in enumerate(("p50_ms", "p95_ms", "p99_ms")):
                _set(f["latency"].data[i], *xy(metric, None))
            self._slot_traces(f["latency"], 3, busy, lambda n: xy("p99_ms", n), suffix=" p99")
            _time_axis(f["latency"], span)
        with f["queues"].batch_update():
            _set(f["queues"].data[0], *xy("queue_depth", None))
            _set(f["queues"].data[1], *xy("in_flight", None))
            self._slot_traces(f["queues"], 2, busy, lambda n: xy("queue_depth", n), suffix=" queued")
            _time_axis(f["queues"], span)
        with f["replicas"].batch_update():
            self._slot_traces(f["replicas"], 0, fragile, lambda n: xy("replicas_alive", n))
            marks = [e for e in reading.events if e.time >= now - w]
            _set(f["replicas"].data[-1], [e.time - now for e in marks], [0] * len(marks))
            hover = [e.text for e in marks]
            if list(f["replicas"].data[-1].hovertext or ()) != hover:
                f["replicas"].data[-1].hovertext = hover
            _time_axis(f["replicas"], span)
        self._update_errors(reading)

    def _slot_traces(self, fig: go.Figure, first: int, names: list[str],
                     data: Callable[[str], tuple[list[float], list[Any]]], suffix: str = "") -> None:
        for i in range(min(self._slots, len(names))):
            _set(fig.data[first + i], *data(names[i]))

    def _assign_slots(self, fig: go.Figure, first: int, names: list[str], suffix: str = "") -> None:
        """Give each slot trace its node's name and show or hide it."""
        for i in range(self._slots):
            trace = fig.data[first + i]
            if i < len(names):
                if trace.name != names[i] + suffix:
                    trace.name = names[i] + suffix
                if trace.visible is not True:
                    trace.visible = True
            elif trace.visible is not False:
                trace.visible = False

    def _update_errors(self, reading: Reading) -> None:
        fig = self.figures["errors"]
        entities: list[str | None] = [None] + [n for n in self.topology.nodes
                                               if reading.totals.get(n) and reading.totals[n].errors]
        causes = sorted({c for e in entities for c in reading.totals.get(e, _EMPTY).errors_by_cause})
        with fig.batch_update():
            _no_errors(fig, not causes)
            for cause in causes:
                if cause not in self._causes:
                    self._causes.append(cause)
                    fig.add_bar(name=cause)
            labels = ["end-to-end" if e is None else e for e in entities]
            for trace, cause in zip(fig.data, self._causes):
                _set(trace, labels, [reading.totals.get(e, _EMPTY).errors_by_cause.get(cause, 0)
                                     for e in entities])


def _no_errors(fig: go.Figure, empty: bool) -> None:
    """With no error to count, say so instead of drawing empty axes."""
    if bool(fig.layout.annotations) == empty and fig.layout.xaxis.visible is (not empty):
        return
    fig.layout.annotations = [{"text": "no errors", "showarrow": False, "font": {"size": 14, "color": "#2e7d32"},
                               "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}] if empty else []
    fig.layout.xaxis.visible = not empty
    fig.layout.yaxis.visible = not empty


class _Empty:
    errors_by_cause: dict[str, int] = {}


_EMPTY = _Empty()


def _set(trace: Any, x: list[Any], y: list[Any]) -> None:
    """Assign what changed only: an unchanged array is not sent again."""
    if tuple(trace.x or ()) != tuple(x):
        trace.x = x
    if tuple(trace.y or ()) != tuple(y):
        trace.y = y


def _time_axis(fig: go.Figure, span: float) -> None:
    if tuple(fig.layout.xaxis.range or ()) != (-span, 0):
        fig.layout.xaxis.range = [-span, 0]
