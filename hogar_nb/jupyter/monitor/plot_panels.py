"""Plotly figures shown side by side in the page and redrawn only where it shows.

:class:`PlotPanels` is one anywidget for a group of ``plotly.graph_objects.Figure``
objects that the kernel keeps up to date. :meth:`PlotPanels.sync` sends the figures
that changed since the last sync, all in one message. In the page each panel is
drawn with ``Plotly.react`` (which keeps what did not change, the user's zoom
included through ``uirevision``), one panel per animation frame, so no redraw of the
group is one long task and typed keys get in between; a panel scrolled out of view
keeps only its newest figure and is drawn when it comes back into view.
:meth:`PlotPanels.show` puts other figures in the panels' place (a picked trace's
waterfall), their sizes with them.

plotly.js comes from the ``plotly`` package and is imported once per page for every
group (:mod:`..browser_libs`), where a ``FigureWidget`` sends and compiles its own
5 MB bundle per figure.
"""

from __future__ import annotations

import json
import threading
from typing import Any, Sequence

import anywidget
import plotly.graph_objects as go
import traitlets

from ..browser_libs import LOADER_JS, plotly_key, plotly_source
from ..rendering import RENDERED_JS, RenderReport

__all__ = ["PANEL_CLASS", "PlotPanels"]

#: CSS class of each panel's element (the Plotly graph div is inside it)
PANEL_CLASS = "hogar-panel"

_ESM = LOADER_JS + """
export default {
  render({ model, el }) {
    """ + RENDERED_JS + """
    const box = document.createElement('div');
    box.style.cssText = 'display:flex;flex-wrap:wrap;gap:0';
    el.appendChild(box);
    const panels = [], latest = [], dirty = new Set(), visible = [];
    let Plotly = null, gone = false, frame = 0;
    const observer = new IntersectionObserver((entries) => {
      for (const e of entries) visible[Number(e.target.dataset.panel)] = e.isIntersecting;
      schedule();
    });
    const fit = (div, i) => {
      const size = model.get('sizes')[i];
      if (size) div.style.cssText = `width:${size[0]}px;height:${size[1]}px`;
    };
    const resize = () => panels.forEach(fit);
    const panel = (i) => {
      while (panels.length <= i) {
        const div = document.createElement('div');
        div.className = model.get('panel_class');
        div.dataset.panel = String(panels.length);
        fit(div, panels.length);
        box.appendChild(div);
        observer.observe(div);
        visible.push(false);
        panels.push(div);
      }
      return panels[i];
    };
    const draw = () => {  // one visible panel per frame: no redraw of the group is one long task
      frame = 0;
      if (!Plotly || gone) return;
      const next = [...dirty].find((i) => visible[i]);
      if (next === undefined) return;
      dirty.delete(next);
      const fig = latest[next];
      Plotly.react(panel(next), fig.data || [], fig.layout || {}, {displaylogo: false});
      schedule();
    };
    const schedule = () => {
      if (!frame && !gone && [...dirty].some((i) => visible[i])) frame = requestAnimationFrame(draw);
    };
    const onMessage = (msg) => {
      if (!msg || !msg.figures) return;
      for (const [i, fig] of Object.entries(msg.figures)) {
        panel(Number(i));
        latest[Number(i)] = fig;
        dirty.add(Number(i));
      }
      schedule();
    };
    model.on('msg:custom', onMessage);
    model.on('change:sizes', resize);
    model.get('sizes').forEach((_size, i) => panel(i));
    library(model).then((lib) => {
      if (gone) return;
      Plotly = lib;
      model.send({event: 'shown'});  // the kernel answers with every figure
    });
    return () => {
      gone = true;
      model.off('msg:custom', onMessage);
      model.off('change:sizes', resize);
      observer.disconnect();
      if (frame) cancelAnimationFrame(frame);
      if (Plotly) for (const div of panels) Plotly.purge(div);
    };
  },
};
"""


class PlotPanels(RenderReport, anywidget.AnyWidget):
    """Shows ``figures`` (kept by the caller) in a wrapping row; :meth:`sync` sends
    what changed."""

    _esm = _ESM
    _lib = traitlets.Unicode().tag(sync=True)
    _lib_key = traitlets.Unicode().tag(sync=True)
    panel_class = traitlets.Unicode(PANEL_CLASS).tag(sync=True)
    sizes = traitlets.List().tag(sync=True)  # [width, height] of each panel, in px, before it is drawn

    def __init__(self, figures: Sequence[go.Figure], **kwargs: Any) -> None:
        figures = list(figures)
        super().__init__(_lib=plotly_source(), _lib_key=plotly_key(), sizes=_sizes(figures), **kwargs)
        self.figures = figures
        self._sent: list[str | None] = [None] * len(self.figures)
        self._lock = threading.Lock()  # sync runs on a refresh thread, the page's messages on the kernel's
        self.sent = 0  # messages sent
        self.on_msg(self._on_page)
        self._watch_rendering()

    def show(self, figures: Sequence[go.Figure]) -> int:
        """Show ``figures`` in the panels' place from now on (each panel takes its
        figure's width and height); sends them at once, returns how many."""
        with self._lock:
            self.figures = list(figures)
            self._sent = [None] * len(self.figures)
        self.sizes = _sizes(self.figures)
        return self.sync()

    def sync(self) -> int:
        """Send every figure whose JSON changed since it was last sent, in one message;
        returns how many."""
        changed: dict[str, Any] = {}
        with self._lock:
            for i, fig in enumerate(self.figures):
                text = fig.to_json()
                if text != self._sent[i]:
                    self._sent[i] = text
                    changed[str(i)] = json.loads(text)
        if changed:
            self.sent += 1
            self.send({"figures": changed})
        return len(changed)

    def _on_page(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("event") == "shown":
            with self._lock:
                self._sent = [fig.to_json() for fig in self.figures]
                every = {str(i): json.loads(text) for i, text in enumerate(self._sent)}
            self.send({"figures": every})


def _sizes(figures: Sequence[go.Figure]) -> list[list[int]]:
    return [[fig.layout.width or 480, fig.layout.height or 260] for fig in figures]
