"""Framing a cytoscape canvas from its real size in the page, and again on resize.

The kernel cannot know how wide a notebook output is (it depends on the window, the
side panels, the frontend), so a small anywidget placed next to the canvas does the
framing in the page: it measures the canvas, sets cytoscape's zoom and pan, and does
it again when the canvas is resized (a ``ResizeObserver``) until the user pans or
zooms by hand. It reports what it measured back as :attr:`CanvasViewport.size`,
and counts its framings in the canvas element's ``data-hogar-framed`` attribute.

Policies: ``"readable"`` (the graph view) fits the graph but never below
``min_zoom``, so labels keep a readable size and a large graph is shown from its
left edge, to be panned; ``"whole"`` (the editor's Fit) shows the whole graph,
never enlarged past ``max_zoom``. With ``on_layout="follow"`` (the editor) a layout
run (nodes added or removed) keeps the view unless a node lies outside it.
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

__all__ = ["CanvasViewport", "VIEWPORT_CLASS"]

VIEWPORT_CLASS = "hogar-canvas-viewport"

_ESM = """
function findCanvas(el, target) {
  for (let n = el; n; n = n.parentElement) {
    const c = n.querySelector ? n.querySelector("." + target) : null;
    if (c) return c;
  }
  return null;
}

function report(model, cy, reason) {
  const pan = cy.pan();
  try {  // the widget may be closed under us: never an error for that
    model.set("size", {width: cy.width(), height: cy.height(), zoom: cy.zoom(),
                       pan: {x: pan.x, y: pan.y}, reason, framed: model.get("_framed") + 1});
    model.save_changes();
  } catch (e) { /* closed */ }
}

function frame(cy, model, state, policy) {
  const W = cy.width(), H = cy.height();
  if (!W || !H || cy.nodes().length === 0) return false;
  const bb = cy.elements().boundingBox();
  const pad = model.get("padding");
  let z = Math.min((W - 2 * pad) / Math.max(bb.w, 1), (H - 2 * pad) / Math.max(bb.h, 1), model.get("max_zoom"));
  if (policy === "readable") z = Math.max(z, model.get("min_zoom"));
  z = Math.min(Math.max(z, cy.minZoom()), cy.maxZoom());
  const w = bb.w * z, h = bb.h * z;
  const x = w <= W - 2 * pad ? (W - w) / 2 - bb.x1 * z : pad - bb.x1 * z;
  const y = h <= H - 2 * pad ? (H - h) / 2 - bb.y1 * z : pad - bb.y1 * z;
  state.framing = true;
  cy.viewport({zoom: z, pan: {x, y}});
  state.framing = false;
  state.userMoved = false;
  state.frames += 1;  // tests wait for this: the canvas was framed from its real size
  state.canvas.setAttribute("data-hogar-framed", String(state.frames));
  return true;
}

function outside(cy) {
  const ext = cy.extent();
  return cy.nodes().some((n) => {
    const b = n.boundingBox({includeLabels: false});
    return b.x1 < ext.x1 || b.x2 > ext.x2 || b.y1 < ext.y1 || b.y2 > ext.y2;
  });
}

function attach(canvas, cy, model) {
  const state = {framing: false, userMoved: false, inLayout: false, size: [0, 0], frames: 0, canvas};
  const policy = () => model.get("policy");
  const refit = (reason, force) => {
    if (!force && state.userMoved) return;
    if (frame(cy, model, state, force ? model.get("fit_policy") : policy())) report(model, cy, reason);
  };
  cy.on("viewport", () => {
    if (!state.framing && !state.inLayout) state.userMoved = true;
  });
  cy.on("layoutstart", () => { state.inLayout = true; });
  cy.on("layoutstop", () => {
    state.inLayout = false;
    if (model.get("on_layout") === "frame") refit("layout", false);
    else if (outside(cy)) refit("new node", true);  // "follow": a node landed off-screen
  });
  const observer = new ResizeObserver(() => {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (w === state.size[0] && h === state.size[1]) return;
    state.size = [w, h];
    cy.resize();
    if (!state.userMoved) refit("resize", false);
    else report(model, cy, "resize");
  });
  observer.observe(canvas);
  model.on("msg:custom", (msg) => {
    // after the position changes sent just before this message have been applied
    if (msg && msg.event === "fit") setTimeout(() => { cy.resize(); refit("fit", true); }, 80);
  });
  refit("shown", false);
  return () => observer.disconnect();
}

export default {
  render({ model, el }) {
    let tries = 0, stop = null, done = false;
    const find = () => {  // the canvas view is created after this one, and cytoscape after it
      if (done) return;
      const canvas = findCanvas(el, model.get("target"));
      const cy = canvas && canvas._cyreg && canvas._cyreg.cy;
      if (cy && cy.nodes().length >= model.get("min_nodes")) stop = attach(canvas, cy, model);
      else if (tries++ < 600) setTimeout(find, 50);
    };
    find();
    return () => { done = true; if (stop) stop(); };
  },
};
"""


class CanvasViewport(anywidget.AnyWidget):
    """Invisible; frames the cytoscape canvas whose CSS class is ``target``.

    Place it in the same box as the canvas. :meth:`fit` frames the whole graph now.
    """

    _esm = _ESM
    target = traitlets.Unicode().tag(sync=True)
    policy = traitlets.Unicode("readable").tag(sync=True)  # framing when shown and resized
    fit_policy = traitlets.Unicode("whole").tag(sync=True)  # framing on fit()
    min_zoom = traitlets.Float(0.85).tag(sync=True)
    max_zoom = traitlets.Float(1.0).tag(sync=True)
    padding = traitlets.Float(16.0).tag(sync=True)
    min_nodes = traitlets.Int(1).tag(sync=True)  # frame once the canvas holds this many nodes
    on_layout = traitlets.Unicode("frame").tag(sync=True)  # or "follow": only bring off-screen nodes in
    size = traitlets.Dict().tag(sync=True)  # what the page measured: width, height, zoom, pan
    _framed = traitlets.Int(0).tag(sync=True)

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(target=target, **kwargs)
        self.add_class(VIEWPORT_CLASS)
        self.layout.height = "0px"
        self.layout.overflow = "hidden"

    def fit(self) -> None:
        """Frame the whole graph in the canvas as the page sizes it now."""
        self.send({"event": "fit"})
