"""A cytoscape.js canvas whose node data follows the kernel: one message per change.

:class:`LiveGraph` is a small anywidget over the vendored cytoscape.js. It is drawn
once from ``elements`` (with preset positions), then :meth:`LiveGraph.set_nodes`
sends the data of the nodes that changed, all of them in one message; the page
applies a message's changes in one cytoscape ``batch()`` at the next animation
frame (several messages in a frame are merged), so a tick that recolours many
nodes costs one style pass, and nothing while the page is not painted. Keys named
in ``deferred_offscreen`` (a label, whose text is laid out again) wait while their
node is out of the canvas's view, and are applied when it is panned into view.
A graph too large to fit at ``fit_min_zoom`` is shown from its left end. A view
shown later (a second output, a reloaded page) asks for the current data of every
node when it starts.

The canvas element carries ``canvas_class``; cytoscape.js keeps its instance there
as ``element._cyreg.cy``, which the browser tests read. A click on a node calls the
callbacks given to :meth:`LiveGraph.on_node_click` with the node's data.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Mapping

import anywidget
import traitlets

from .browser_libs import CYTOSCAPE_KEY, LOADER_JS, cytoscape_source
from .rendering import RENDERED_JS, RenderReport

__all__ = ["LiveGraph"]

_ESM = LOADER_JS + """
export default {
  render({ model, el }) {
    """ + RENDERED_JS + """
    const box = document.createElement('div');
    box.className = model.get('canvas_class');
    box.style.cssText = `width:100%;height:${model.get('height')};position:relative`;
    el.appendChild(box);
    let cy = null, gone = false, frame = 0, pending = new Map();
    const deferred = new Set(model.get('deferred_offscreen'));
    const apply = () => {  // one batch; deferred keys of nodes out of view wait for them to come in
      frame = 0;
      if (!cy || pending.size === 0) return;
      const ext = cy.extent(), m = 60 / cy.zoom(), updates = [];
      for (const [id, data] of pending) {
        const node = cy.getElementById(id);
        if (node.empty()) { pending.delete(id); continue; }
        const p = node.position();
        if (p.x >= ext.x1 - m && p.x <= ext.x2 + m && p.y >= ext.y1 - m && p.y <= ext.y2 + m) {
          updates.push([node, data]);
          pending.delete(id);
          continue;
        }
        const now = {}, later = {};
        for (const k of Object.keys(data)) (deferred.has(k) ? later : now)[k] = data[k];
        if (Object.keys(now).length) updates.push([node, now]);
        if (Object.keys(later).length) pending.set(id, later); else pending.delete(id);
      }
      if (updates.length) cy.batch(() => { for (const [node, data] of updates) node.data(data); });
    };
    const schedule = () => { if (!frame) frame = requestAnimationFrame(apply); };
    const onMessage = (msg) => {
      if (!msg || !msg.nodes) return;
      for (const [id, data] of Object.entries(msg.nodes)) {
        pending.set(id, Object.assign(pending.get(id) || {}, data));
      }
      schedule();
    };
    model.on('msg:custom', onMessage);
    library(model).then((cytoscape) => {
      if (gone) return;
      const options = model.get('options');
      cy = cytoscape({container: box, elements: model.get('elements'), style: model.get('stylesheet'),
                      layout: {name: 'preset', fit: true, padding: 10}, ...options});
      const most = model.get('fit_max_zoom'), least = model.get('fit_min_zoom');
      if (cy.zoom() > most) { cy.zoom(most); cy.center(); }  // a small graph is not blown up
      else if (cy.zoom() < least) {  // a large one is shown from its left end, readable, to be panned
        const bb = cy.nodes().boundingBox();
        cy.zoom(least);
        cy.pan({x: 10 - bb.x1 * least, y: cy.height() / 2 - (bb.y1 + bb.y2) / 2 * least});
      }
      cy.on('viewport', schedule);  // deferred changes of nodes that come into view
      cy.on('tap', 'node', (e) => model.send({event: 'click', data: e.target.data()}));
      box.dataset.hogarLiveGraph = 'drawn';  // tests wait for this
      model.send({event: 'shown'});  // the kernel answers with every node's current data
      apply();
    });
    return () => {
      gone = true;
      model.off('msg:custom', onMessage);
      if (frame) cancelAnimationFrame(frame);
      if (cy) cy.destroy();
    };
  },
};
"""


class LiveGraph(RenderReport, anywidget.AnyWidget):
    """A cytoscape canvas of ``elements`` styled by ``stylesheet``; node data follows
    :meth:`set_nodes`."""

    _esm = _ESM
    _lib = traitlets.Unicode().tag(sync=True)
    _lib_key = traitlets.Unicode(CYTOSCAPE_KEY).tag(sync=True)
    elements = traitlets.List().tag(sync=True)  # as first drawn; changes go by message
    stylesheet = traitlets.List().tag(sync=True)
    options = traitlets.Dict().tag(sync=True)  # cytoscape's, e.g. minZoom, wheelSensitivity
    height = traitlets.Unicode("320px").tag(sync=True)
    fit_max_zoom = traitlets.Float(1.5).tag(sync=True)  # the first framing never zooms in further
    fit_min_zoom = traitlets.Float(0.5).tag(sync=True)  # nor out further: the graph is panned instead
    #: data keys of a node out of view that wait until it comes into view (e.g. its
    #: label, whose new text is laid out again); the others are applied at once
    deferred_offscreen = traitlets.List(traitlets.Unicode()).tag(sync=True)
    canvas_class = traitlets.Unicode("").tag(sync=True)

    def __init__(self, elements: list[dict], stylesheet: list[dict], **kwargs: Any) -> None:
        super().__init__(elements=elements, stylesheet=stylesheet, _lib=cytoscape_source(), **kwargs)
        self._data: dict[str, dict] = {el["data"]["id"]: dict(el["data"]) for el in elements
                                       if "source" not in el["data"]}
        self._clicks: list[Callable[[dict], Any]] = []
        self._lock = threading.Lock()  # set_nodes runs on a refresh thread, the page's messages on the kernel's
        self.sent = 0  # update messages sent
        self.on_msg(self._on_page)
        self._watch_rendering()

    def node_data(self, node: str) -> dict:
        """A node's data as the kernel last set it."""
        return dict(self._data[node])

    def set_nodes(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """Merge ``changes`` (node id -> data keys) into the nodes' data and send what
        differs, in one message."""
        diff: dict[str, dict] = {}
        with self._lock:
            for node, data in changes.items():
                current = self._data.get(node)
                if current is None:
                    continue
                changed = {k: v for k, v in data.items() if current.get(k) != v}
                if changed:
                    current.update(changed)
                    diff[node] = changed
        if diff:
            self.sent += 1
            self.send({"nodes": diff})

    def on_node_click(self, callback: Callable[[dict], Any]) -> None:
        """Call ``callback(data)`` when a node is clicked in the page."""
        self._clicks.append(callback)

    def _on_page(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "shown":
            with self._lock:
                every = {node: dict(data) for node, data in self._data.items()}
            self.send({"nodes": every})
        elif content.get("event") == "click" and isinstance(content.get("data"), dict):
            for callback in list(self._clicks):
                callback(content["data"])
