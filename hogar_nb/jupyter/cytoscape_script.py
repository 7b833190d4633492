"""The page's side of :class:`~.cytoscape_canvas.CytoscapeCanvas` (an ES module).

It draws ``elements`` once, then applies what the kernel sends in one cytoscape
``batch()`` at the next animation frame: structural changes (``reset``, ``remove``,
``add``, ``change``) in the order sent, then node data patches (``nodes``), whose
``deferred_offscreen`` keys wait while their node is out of view. It frames the
graph from the canvas's real size, again on resize until the user pans or zooms,
and on ``fit``; with ``on_add`` "follow", elements added bring the view along only
when a node lands outside it. The events named in ``events`` ("node:tap",
"edge:mouseover", "background:tap"...) are sent to the kernel with the element's
data and the node's position (for an edge or the background, the pointer's), in
model coordinates. The canvas element counts its framings in ``data-hogar-framed``.
"""

from __future__ import annotations

from .browser_libs import LOADER_JS
from .rendering import RENDERED_JS

__all__ = ["CANVAS_JS"]

CANVAS_JS = LOADER_JS + """
export default {
  render({ model, el }) {
    """ + RENDERED_JS + """
    const box = document.createElement('div');
    box.className = model.get('canvas_class');
    box.style.cssText = `width:100%;height:${model.get('height')};position:relative`;
    el.appendChild(box);
    let cy = null, gone = false, frame = 0, fitNow = false, bound = [], observer = null;
    const patches = new Map(), deltas = [], deferred = new Set(model.get('deferred_offscreen'));
    const view = {framing: false, moved: false, size: [0, 0], frames: 0};
    const opt = (k) => model.get('framing')[k];
    const frameView = (policy) => {  // the whole graph; "readable": never below min_zoom, from its left end
      const W = cy.width(), H = cy.height(), pad = opt('padding');
      if (!W || !H || cy.nodes().length === 0) return;
      const bb = cy.elements().boundingBox();
      let z = Math.min((W - 2 * pad) / Math.max(bb.w, 1), (H - 2 * pad) / Math.max(bb.h, 1), opt('max_zoom'));
      if (policy === 'readable') z = Math.max(z, opt('min_zoom'));
      z = Math.min(Math.max(z, cy.minZoom()), cy.maxZoom());
      const w = bb.w * z, h = bb.h * z;
      view.framing = true;
      cy.viewport({zoom: z, pan: {x: w <= W - 2 * pad ? (W - w) / 2 - bb.x1 * z : pad - bb.x1 * z,
                                  y: h <= H - 2 * pad ? (H - h) / 2 - bb.y1 * z : pad - bb.y1 * z}});
      view.framing = false;
      view.moved = false;
      box.dataset.hogarFramed = String(++view.frames);  // tests wait for this
    };
    const outside = () => {
      const ext = cy.extent();
      return cy.nodes().some((n) => {
        const b = n.boundingBox({includeLabels: false});
        return b.x1 < ext.x1 || b.x2 > ext.x2 || b.y1 < ext.y1 || b.y2 > ext.y2;
      });
    };
    const change = (d) => {  // one structural message; true if it added elements
      if (d.reset) { cy.elements().remove(); cy.add(d.reset); return true; }
      for (const id of d.remove || []) cy.getElementById(id).remove();
      if (d.add && d.add.length) cy.add(d.add);
      for (const [id, c] of Object.entries(d.change || {})) {
        const e = cy.getElementById(id);
        if (e.empty()) continue;
        for (const [k, v] of Object.entries(c.data || {})) {
          if (k === 'parent') e.move({parent: v === null ? null : v});
          else if (v === null) e.removeData(k);
          else e.data(k, v);
        }
        if (c.classes !== undefined) e.classes(c.classes);
        if (c.position) e.position(c.position);
        if (c.grabbable !== undefined) { if (c.grabbable) e.grabify(); else e.ungrabify(); }
      }
      return !!(d.add && d.add.length);
    };
    const patch = () => {  // node data; deferred keys of nodes out of view wait for them to come in
      const ext = cy.extent(), m = 60 / cy.zoom(), updates = [];
      for (const [id, data] of patches) {
        const node = cy.getElementById(id);
        if (node.empty()) { patches.delete(id); continue; }
        const p = node.position();
        if (p.x >= ext.x1 - m && p.x <= ext.x2 + m && p.y >= ext.y1 - m && p.y <= ext.y2 + m) {
          updates.push([node, data]);
          patches.delete(id);
          continue;
        }
        const now = {}, later = {};
        for (const k of Object.keys(data)) (deferred.has(k) ? later : now)[k] = data[k];
        if (Object.keys(now).length) updates.push([node, now]);
        if (Object.keys(later).length) patches.set(id, later); else patches.delete(id);
      }
      if (updates.length) cy.batch(() => { for (const [node, data] of updates) node.data(data); });
    };
    const flush = () => {
      frame = 0;
      if (!cy) return;
      if (deltas.length) {
        let added = false;
        cy.batch(() => { for (const d of deltas.splice(0)) added = change(d) || added; });
        if (added && opt('on_add') === 'follow') { if (outside()) frameView(opt('fit_policy')); }
        else if (added && !view.moved) frameView(opt('policy'));
      }
      if (patches.size) patch();
      if (fitNow) { fitNow = false; cy.resize(); frameView(opt('fit_policy')); }
    };
    const schedule = () => { if (!frame) frame = requestAnimationFrame(flush); };
    const bind = () => {  // the events the kernel listens to
      for (const [name, f] of bound) cy.off(name, f);
      bound = model.get('events').map((spec) => {
        const [target, name] = spec.split(':');
        const f = (e) => {
          const on = e.target === cy ? 'background' : e.target.isNode() ? 'node' : 'edge';
          if (on !== target) return;
          const p = on === 'node' ? e.target.position() : e.position;
          model.send({event: name, target: on, data: on === 'background' ? {} : e.target.data(),
                      position: {x: p.x, y: p.y}});
        };
        cy.on(name, f);
        return [name, f];
      });
    };
    const onMessage = (msg) => {
      if (!msg) return;
      for (const [id, data] of Object.entries(msg.nodes || {})) {
        patches.set(id, Object.assign(patches.get(id) || {}, data));
      }
      if (msg.reset || msg.remove || msg.add || msg.change) deltas.push(msg);
      if (msg.fit) fitNow = true;
      schedule();
    };
    const onElements = () => { deltas.push({reset: model.get('elements')}); schedule(); };
    const onGrab = () => { if (cy) cy.autoungrabify(!model.get('grabbable')); };
    const onEvents = () => { if (cy) bind(); };
    model.on('msg:custom', onMessage);
    model.on('change:elements', onElements);
    model.on('change:grabbable', onGrab);
    model.on('change:events', onEvents);
    // cytoscape binds scroll listeners on its container's ancestors when it starts: it
    // starts once the view is in the page, or clicks miss after the notebook scrolls
    const attached = new Promise((go) => { const look = () => (box.isConnected || gone ? go() : requestAnimationFrame(look)); look(); });
    Promise.all([library(model), attached]).then(([cytoscape]) => {
      if (gone) return;
      cy = cytoscape({container: box, elements: model.get('elements'), style: model.get('stylesheet'),
                      layout: model.get('layout_options'), autoungrabify: !model.get('grabbable'),
                      ...model.get('options')});
      cy.on('viewport', () => { if (!view.framing) view.moved = true; schedule(); });
      bind();
      observer = new ResizeObserver(() => {
        const w = box.clientWidth, h = box.clientHeight;
        if (!cy || (w === view.size[0] && h === view.size[1])) return;
        view.size = [w, h];
        cy.resize();
        if (!view.moved) frameView(opt('policy'));
      });
      observer.observe(box);
      frameView(opt('policy'));
      box.dataset.hogarDrawn = 'drawn';
      model.send({event: 'shown'});  // the kernel answers with what changed since `elements`
      flush();
    });
    return () => {
      gone = true;
      model.off('msg:custom', onMessage);
      model.off('change:elements', onElements);
      model.off('change:grabbable', onGrab);
      model.off('change:events', onEvents);
      if (frame) cancelAnimationFrame(frame);
      if (observer) observer.disconnect();
      if (cy) cy.destroy();
    };
  },
};
"""
