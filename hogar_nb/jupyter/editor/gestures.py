"""Browser gestures around the canvas: palette drops and editing keys.

They start outside cytoscape (a palette button dragged in, a key pressed on the
canvas's element), so a small anywidget living in the editor listens on the
editor's element:

- **Drop**: it makes the palette buttons draggable (HTML5 drag and drop), turns
  the drop point into the canvas's model coordinates with the cytoscape
  instance's pan and zoom, and sends ``{"event": "drop", "kind", "x", "y"}``.
- **Keys**: a click on the canvas gives it the keyboard (and keeps JupyterLab's
  notebook shortcuts off it while it has it); Delete/Backspace, Ctrl+Z (Cmd+Z),
  Ctrl+Shift+Z or Ctrl+Y, and Escape are sent as ``{"event": "key", "action"}``
  with action ``delete``, ``undo``, ``redo`` or ``escape``.
"""

from __future__ import annotations

from typing import Any, Callable

import anywidget

__all__ = ["CanvasGestures", "GESTURES_CLASS", "KEY_ACTIONS"]

GESTURES_CLASS = "hogar-editor-gestures"
KEY_ACTIONS = ("delete", "undo", "redo", "escape")
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

function keyAction(e) {
  const mod = e.ctrlKey || e.metaKey, key = e.key.toLowerCase();
  if (!mod && (e.key === "Delete" || e.key === "Backspace")) return "delete";
  if (mod && key === "z") return e.shiftKey ? "redo" : "undo";
  if (mod && key === "y") return "redo";
  if (e.key === "Escape") return "escape";
  return null;
}

function attach(root, model) {
  if (root._hogarGestures) return;  // one set of listeners per editor, whatever re-renders
  root._hogarGestures = true;
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
  root.addEventListener("pointerdown", (e) => {
    const canvas = canvasOf(e.target);
    if (!canvas) return;
    if (!canvas.hasAttribute("tabindex")) {
      canvas.tabIndex = -1;
      canvas.style.outline = "none";
      canvas.setAttribute("data-lm-suppress-shortcuts", "true");  // no notebook shortcuts here
    }
    // the notebook moves the focus on its own pointerdown, after this one: focus afterwards
    setTimeout(() => canvas.focus({preventScroll: true}), 0);
  });
  root.addEventListener("click", (e) => {
    const canvas = canvasOf(e.target);
    if (canvas && canvas.hasAttribute("tabindex")) canvas.focus({preventScroll: true});
  });
  root.addEventListener("keydown", (e) => {
    if (!canvasOf(e.target)) return;  // typing in the form is typing
    const action = keyAction(e);
    if (!action) return;
    e.preventDefault();
    e.stopPropagation();
    model.send({event: "key", action});
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


class CanvasGestures(anywidget.AnyWidget):
    """Invisible; calls ``on_drop(kind, x, y)`` (canvas model coordinates) for a palette
    drop and ``on_key(action)`` for an editing key pressed on the canvas."""

    _esm = _ESM

    def __init__(self, on_drop: Callable[[str, float, float], Any], on_key: Callable[[str], Any]) -> None:
        super().__init__()
        self.add_class(GESTURES_CLASS)
        self.layout.height = "0px"
        self.layout.overflow = "hidden"
        self._on_drop, self._on_key = on_drop, on_key
        self.on_msg(self._message)

    def _message(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "drop":
            try:
                kind, x, y = str(content["kind"]), float(content["x"]), float(content["y"])
            except (KeyError, TypeError, ValueError):
                return  # not a message this script sends
            self._on_drop(kind, x, y)
        elif content.get("event") == "key" and content.get("action") in KEY_ACTIONS:
            self._on_key(content["action"])
