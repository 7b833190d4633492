"""The live dashboard: health graph + Plotly panels, refreshed from a background thread.

The refresh thread only reads the source and assigns trace arrays, so the kernel
stays free for other cells (and panels keep moving while a cell blocks, e.g. during
``dep.load(...)``). The page is sent only what changed, one message for the graph
and one for the panels per refresh, and nothing while the dashboard is out of view.
It stops when the deployment stops, on :meth:`Dashboard.close` or the Close button.
"""

from __future__ import annotations

import html
import threading
import time
import weakref
from collections import deque
from typing import Any, Iterable

import ipywidgets as widgets

from ..rendering import close_when_started
from .behaviour import BehaviourPanel, Field, ResponseSampler
from .health import HealthRules, HealthTracker, NodeHealth
from .health_view import HealthView
from .traces_panel import TracesPanel
from .panels import Panels
from .plot_panels import PlotPanels
from .quality_panels import QualityPanels
from .shadow_panel import ShadowPanel
from .source import Reading, Source
from .visibility import Visibility

__all__ = ["Dashboard", "WINDOWS"]

WINDOWS = {"30 s": 30.0, "1 min": 60.0, "2 min": 120.0, "5 min": 300.0, "10 min": 600.0}
INTERVALS = {"0.5 s": 0.5, "1 s": 1.0, "2 s": 2.0, "5 s": 5.0}
_OPEN: weakref.WeakSet = weakref.WeakSet()  # dashboards not closed yet


def open_dashboard(target: object) -> "Dashboard | None":
    """The most recent open dashboard watching ``target`` (a Deployment or URL), if any."""
    found = [d for d in list(_OPEN) if d.comm is not None
             and (getattr(d.source, "dep", None) is target or getattr(d.source, "url", None) == target)]
    return max(found, key=lambda d: d.created) if found else None


def _descendants(box: widgets.Widget) -> list[widgets.Widget]:
    """Every widget inside ``box`` (children of children...), innermost last."""
    found: list[widgets.Widget] = []
    for child in getattr(box, "children", ()):
        found.append(child)
        found.extend(_descendants(child))
    return found


class Dashboard(widgets.VBox):
    """Watches a :class:`~.source.Source`; ``start=False`` leaves refreshing to the caller."""

    def __init__(self, source: Source, *, interval: float = 1.0, window: float = 300.0,
                 nodes: Iterable[str] | None = None, max_nodes: int = 6, field: Field = None,
                 sampler: ResponseSampler | None = None, rules: HealthRules | None = None,
                 max_points: int = 300, start: bool = True) -> None:
        if interval <= 0 or window <= 0:
            raise ValueError(f"interval and window must be > 0, got {interval!r} and {window!r}")
        self.source = source
        self.interval = float(interval)
        self.topology = source.topology()
        self.tracker = HealthTracker(self.topology, rules)
        self.panels = Panels(self.topology, nodes=nodes, max_nodes=max_nodes, window_s=window,
                             max_points=max_points)
        self.sampler = sampler if sampler is not None else ResponseSampler(field)
        label = field if isinstance(field, str) else getattr(field, "__name__", "response")
        self.behaviour = BehaviourPanel(self.sampler, window_s=window, label=label or "response",
                                        max_points=max_points)
        self.graph_view = HealthView(self.topology)
        self.last_reading: Reading | None = None
        self.last_health: dict[str, NodeHealth] = {}
        self.refreshes = 0
        self.draws = 0  # refreshes drawn; the others came while out of view
        self.skipped = 0
        self.ticks = 0  # loop iterations, paused or not
        self.refresh_seconds: deque[float] = deque(maxlen=100)
        self.error: str | None = None
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._shown = False
        self._displayed = False
        #: called with the dashboard when its refresh thread ends (the deployment stopped,
        #: :meth:`stop`, :meth:`close` or too many failed reads)
        self.on_stopped: list[Any] = []
        self._build_controls(window)
        figs = self.panels.figures
        #: the system panels and the behaviour panel, in the page
        self.plots = PlotPanels([figs["throughput"], figs["latency"], figs["errors"], figs["queues"],
                                 figs["replicas"], self.behaviour.figure])
        self.visibility = Visibility()
        self.visibility.observe(self._on_visible, names="visible")
        #: the "Model quality" group, when the deployment's quality is watched
        self.quality: QualityPanels | None = None
        dep = getattr(source, "dep", None)
        watcher = dep.quality_monitor(start=False) if hasattr(dep, "quality_monitor") else None
        if watcher is not None:
            self.quality = QualityPanels(watcher, window_s=window)
        groups: list[Any] = [self.quality.box] if self.quality is not None else []
        #: the slowest and failed requests, when the deployment traces them
        self.traces: TracesPanel | None = None
        if hasattr(dep, "tracing"):
            traced: Any = dep
            if traced.tracing is not None:
                self.traces = TracesPanel(traced.tracing)
                groups.append(self.traces)
            # a click on a node lists its slowest recent spans (tracing may start later)
            self.graph_view.node_spans = lambda node: (
                traced.tracing.store.node_spans(node, 5) if traced.tracing is not None else [])
        #: the "Shadow traffic" group, when the deployment's graph has mirror edges
        self.shadow: ShadowPanel | None = None
        if dep is not None and any(e.get("mirror") is not None for e in (getattr(dep, "earg", None) or {})
                                   .get("edges") or []):
            from ...steer import ShadowMonitor

            self.shadow = ShadowPanel(ShadowMonitor(dep))
            groups.append(self.shadow.box)
        super().__init__([self.controls, self.visibility, self.graph_view, self.plots, *groups])
        self.add_class("hogar-monitor")
        self.observe(self._on_comm, names="comm")
        self.created = time.monotonic()
        _OPEN.add(self)
        if start:
            self.start()

    # -- controls ---------------------------------------------------------------------
    def _build_controls(self, window: float) -> None:
        windows = dict(WINDOWS)
        if window not in windows.values():
            windows[f"{window:g} s"] = window
        intervals = dict(INTERVALS)
        if self.interval not in intervals.values():
            intervals[f"{self.interval:g} s"] = self.interval
        self.pause_button = widgets.ToggleButton(False, description="Pause", icon="pause",
                                                 tooltip="Pause or resume updates")
        self.window_picker = widgets.Dropdown(options=list(windows.items()), value=window,
                                              description="Window", layout={"width": "170px"})
        self.interval_picker = widgets.Dropdown(options=list(intervals.items()), value=self.interval,
                                                description="Every", layout={"width": "150px"})
        self.close_button = widgets.Button(description="Close", icon="times")
        self.status = widgets.HTML("")
        self.status.add_class("hogar-monitor-status")
        self.pause_button.observe(self._on_pause, names="value")
        self.window_picker.observe(self._on_window, names="value")
        self.interval_picker.observe(lambda ch: setattr(self, "interval", ch["new"]), names="value")
        self.close_button.on_click(lambda _b: self.close())
        self.controls = widgets.HBox([self.pause_button, self.window_picker, self.interval_picker,
                                      self.close_button, self.status])

    def _on_pause(self, change: dict) -> None:
        self.pause_button.description = "Resume" if change["new"] else "Pause"
        self.pause_button.icon = "play" if change["new"] else "pause"
        self._set_status()

    def _on_window(self, change: dict) -> None:
        with self._lock:
            self.panels.window_s = self.behaviour.window_s = float(change["new"])
        if self.last_reading is not None and not self.live:
            self.refresh()

    def _on_comm(self, change: dict) -> None:
        if change["new"] is None:
            self._stop.set()

    # -- state ------------------------------------------------------------------------
    @property
    def paused(self) -> bool:
        return bool(self.pause_button.value)

    def pause(self) -> None:
        self.pause_button.value = True

    def resume(self) -> None:
        self.pause_button.value = False

    @property
    def live(self) -> bool:
        """True while the refresh thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def window(self) -> float:
        return self.panels.window_s

    @window.setter
    def window(self, seconds: float) -> None:
        if seconds not in [v for _, v in self.window_picker.options]:
            self.window_picker.options = [*self.window_picker.options, (f"{seconds:g} s", seconds)]
        self.window_picker.value = seconds

    def track(self, future: Any) -> Any:
        """Feed a request future's result to the model behaviour panel; returns it."""
        return self.sampler.track(future)

    def observe_response(self, value: Any) -> None:
        """Feed one response value to the model behaviour panel."""
        self.sampler.observe(value)

    # -- refreshing -------------------------------------------------------------------
    def refresh(self) -> Reading:
        """Read the source once and redraw everything (what the thread does each tick).

        While the page reports the dashboard out of view (scrolled away, a hidden tab)
        only the reading and the health rating are done; the views are drawn again
        when it comes back into view.
        """
        with self._lock:
            t0 = time.perf_counter()
            reading = self.source.read()
            health = self.tracker.update(reading)
            self.last_reading, self.last_health = reading, health
            if self.visibility.visible or not reading.running:
                self._draw()
            else:
                self.skipped += 1
            self.refreshes += 1
            self.refresh_seconds.append(time.perf_counter() - t0)
            self.error = None
            self._set_status()
            return reading

    def _draw(self) -> None:
        reading, health = self.last_reading, self.last_health
        if reading is None:
            return
        self.panels.update(self.source, reading, health)
        self.behaviour.update(reading.time, self.panels.span)
        self.plots.sync()
        self.graph_view.update(health, final=not reading.running)
        if self.quality is not None:
            self.quality.update(reading.time)
        if self.shadow is not None:
            self.shadow.update()
        if self.traces is not None:
            self.traces.refresh()
        self.draws += 1

    def _on_visible(self, change: dict) -> None:
        if change["new"]:  # back in view: show the latest reading at once
            with self._lock:
                try:
                    self._draw()
                except Exception:  # noqa: BLE001 - a widget closed under us
                    pass

    def start(self) -> None:
        """Start (or restart) the refresh thread."""
        if self.live:
            return
        self.sampler.attach(getattr(self.source, "dep", None))
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="hogar-monitor", daemon=True)
        self._thread.start()
        self._set_status()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop refreshing; the panels keep their last state."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self.sampler.detach()
        self._set_status()

    def close(self) -> None:
        """Stop refreshing and close every widget of the dashboard.

        The dashboard's own box is closed first, so the page removes every view in it
        before the models under it go: a chart whose model closed while its view was
        still shown tries to sync its view state and fails ("no comm channel defined").
        A widget whose view may still be starting in the page (the dashboard was shown
        and the page has not reported the view) is closed once it has started, or
        after a few seconds: a model closed under a starting view fails that view.
        """
        self.stop()
        _OPEN.discard(self)
        if self.shadow is not None:
            self.shadow.close()
        inner = _descendants(self)
        super().close()
        if self._displayed:
            close_when_started(inner)
        else:
            for widget in inner:
                widget.close()

    def _loop(self) -> None:
        failures = 0
        while not self._stop.is_set():
            started = time.monotonic()
            self.ticks += 1
            if not self.paused or not self.source_running:  # a stop is drawn even while paused
                try:
                    reading = self.refresh()
                except Exception as exc:  # an endpoint down, a widget closed under us...
                    failures += 1
                    self.error = f"{type(exc).__name__}: {exc}"
                    self._set_status()
                    if self._stop.is_set() or failures >= 30:
                        break
                else:
                    failures = 0
                    if not reading.running:
                        break
            self._stop.wait(max(self.interval - (time.monotonic() - started), 0.05))
        self._stop.set()
        self._set_status()
        for callback in list(self.on_stopped):
            callback(self)

    @property
    def source_running(self) -> bool:
        """False once the watched deployment stopped (known at once for a Deployment;
        for an endpoint, from the last reading)."""
        dep = getattr(self.source, "dep", None)
        if dep is not None and not dep.running:
            return False
        return self.last_reading is None or self.last_reading.running

    @property
    def state(self) -> str:
        """``live``, ``paused``, ``stopped`` (by the dashboard), ``deployment stopped`` or ``error``."""
        if self.error:
            return "error"
        if not self.source_running:
            return "deployment stopped"
        if not self.live:
            return "stopped"
        return "paused" if self.paused else "live"

    def _set_status(self) -> None:
        r = self.last_reading
        state = self.state
        if state == "error":
            text = f'<span style="color:#d62728">{html.escape(self.error or "")}</span>'
        elif state == "deployment stopped":
            text = "stopped: the deployment is no longer running; final figures"
        else:
            text = state
        if r is not None:
            g = r.totals.get(None)
            if g is not None:
                text += f" · {g.requests} requests, {g.errors} errors · {time.strftime('%H:%M:%S', time.localtime(r.time))}"
        try:
            if self.status.value != text:
                self.status.value = text
        except Exception:  # closed widget
            pass

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if self._shown:  # already displayed by monitor(); a second live view is not wanted
            return {"text/plain": repr(self)}
        self._displayed = True  # a page may now start views of its widgets
        return super()._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return (f"<Dashboard of {self.source.label}: {self.state}, every {self.interval:g} s, "
                f"{self.window:g} s window, {self.refreshes} refreshes>")
