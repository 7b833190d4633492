"""Drag a kind from the palette and drop it on the canvas, where the node should go.

ipycytoscape reports events on nodes and edges only, so the drop is caught by a
small anywidget living in the editor: its script makes the palette buttons
draggable (HTML5 drag and drop), turns the drop point into the canvas's model
coordinates with the cytoscape instance's pan and zoom, and sends
``{"event": "drop", "kind", "x", "y"}`` to the kernel. A click on a palette
button still adds a node next to the selection.
"""

from __future__ import annotations

from typing import Any, Callable

import anywidget

__all__ = ["DROP_CLASS", "DropTarget"]

DROP_CLASS = "hogar-editor-drop"
_MIME = "application/x-hogar-kind"

_ESM = """
const MIME = "%(mime)s";
const KIND = /(?:^|\\s)hogar-palette-(\\S+)/;

function paletteButton(target) {
  const b = target && target.closest ? target.closest("button") : null;
  return b && KIND.test(b.className) ? b : null;
}

function canvasOf(target) {
  return target && target.closest ? target.closest(".hogar-editor-canvas") : null;
}

function attach(root, model) {
  if (root._hogarDrop) return;  // one set of listeners per editor, whatever re-renders
  root._hogarDrop = true;
  root.addEventListener("pointerover", (e) => {
    const b = paletteButton(e.target);
    if (b && !b.draggable) b.draggable = true;
  });
  root.addEventListener("dragstart", (e) => {
    const b = paletteButton(e.target);
    if (!b) return;
    e.dataTransfer.setData(MIME, b.className.match(KIND)[1]);
    e.dataTransfer.effectAllowed = "copy";
  });
  root.addEventListener("dragover", (e) => {
    if (canvasOf(e.target) && e.dataTransfer.types.includes(MIME)) {
      e.preventDefault();
      e.dataTransfer.dropEffect = "copy";
    }
  });
  root.addEventListener("drop", (e) => {
    const canvas = canvasOf(e.target);
    const kind = e.dataTransfer.getData(MIME);
    const cy = canvas && canvas._cyreg && canvas._cyreg.cy;
    if (!cy || !kind) return;
    e.preventDefault();
    const r = canvas.getBoundingClientRect();
    const pan = cy.pan(), zoom = cy.zoom();
    model.send({event: "drop", kind,
                x: (e.clientX - r.left - pan.x) / zoom, y: (e.clientY - r.top - pan.y) / zoom});
  });
}

export default {
  render({ model, el }) {
    let tries = 0;
    const find = () => {  // the view is put in the page after render returns
      const root = el.closest(".hogar-graph-editor");
      if (root) attach(root, model);
      else if (tries++ < 200) setTimeout(find, 50);
    };
    find();
  },
};
""" % {"mime": _MIME}


class DropTarget(anywidget.AnyWidget):
    """Invisible; calls ``on_drop(kind, x, y)`` (canvas model coordinates) for each drop."""

    _esm = _ESM

    def __init__(self, on_drop: Callable[[str, float, float], Any]) -> None:
        super().__init__()
        self.add_class(DROP_CLASS)
        self.layout.height = "0px"
        self.layout.overflow = "hidden"
        self._on_drop = on_drop
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict) or content.get("event") != "drop":
            return
        try:
            kind, x, y = str(content["kind"]), float(content["x"]), float(content["y"])
        except (KeyError, TypeError, ValueError):
            return  # not a message this script sends
        self._on_drop(kind, x, y)
