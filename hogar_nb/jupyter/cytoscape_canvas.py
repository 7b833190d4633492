"""A cytoscape.js canvas that the kernel changes by deltas: the notebook views' one graph widget.

:class:`CytoscapeCanvas` is a small anywidget over the vendored cytoscape.js (its
page side is :mod:`.cytoscape_script`). It is drawn from ``elements`` (cytoscape's
element JSON, nodes with their positions); then

- :meth:`~CytoscapeCanvas.set_elements` makes the canvas show a new list of
  elements and sends only the difference, in one message: the ids removed, the
  elements added, and per element the data keys, classes, position or grabbability
  that changed. Until a view has been shown, the list just replaces ``elements``.
- :meth:`~CytoscapeCanvas.set_nodes` merges data into nodes (a live view's colours
  and badges) and sends the keys that changed.
- :meth:`~CytoscapeCanvas.on` calls back on page events ("tap", "mouseup",
  "mouseover"...) on nodes, edges or the background; a node's event carries its
  position, so ``mouseup`` after a drag says where it was dropped.
- :meth:`~CytoscapeCanvas.fit` frames the whole graph as the page sizes the canvas
  (``framing`` says how it is framed when shown and resized).

A view shown later (a second output, a reloaded page) asks the kernel for what
changed since ``elements`` when it starts. The canvas element carries
``canvas_class``; cytoscape.js keeps its instance there as ``element._cyreg.cy``,
which the browser tests read.
"""

from __future__ import annotations

import threading
from typing import Any, Callable, Iterable, Mapping

import anywidget
import traitlets

from .browser_libs import CYTOSCAPE_KEY, cytoscape_source
from .cytoscape_script import CANVAS_JS
from .rendering import RenderReport

__all__ = ["CytoscapeCanvas", "EVENT_TARGETS"]

EVENT_TARGETS = ("node", "edge", "background")
_KEYS = ("data", "classes", "position", "grabbable")


def _element(el: Mapping[str, Any]) -> dict:
    """``el`` in the form the canvas keeps: data, classes (a string), and for nodes a
    position and grabbability when given."""
    out: dict[str, Any] = {"data": dict(el["data"]), "classes": " ".join(str(el.get("classes", "")).split())}
    if "source" not in out["data"]:
        if el.get("position") is not None:
            out["position"] = {"x": float(el["position"]["x"]), "y": float(el["position"]["y"])}
        if el.get("grabbable") is not None:
            out["grabbable"] = bool(el["grabbable"])
    return out


def _changes(old: dict, new: dict) -> dict:
    """What differs from ``old`` to ``new``: data keys (None for a key gone), classes,
    position, grabbability."""
    out: dict[str, Any] = {}
    data = {k: v for k, v in new["data"].items() if old["data"].get(k) != v}
    data.update({k: None for k in old["data"] if k not in new["data"]})
    if data:
        out["data"] = data
    for key in _KEYS[1:]:
        if key in new and old.get(key) != new[key]:
            out[key] = new[key]
    return out


class CytoscapeCanvas(RenderReport, anywidget.AnyWidget):
    """A cytoscape canvas of ``elements`` styled by ``stylesheet``, changed by deltas."""

    _esm = CANVAS_JS
    _lib = traitlets.Unicode().tag(sync=True)
    _lib_key = traitlets.Unicode(CYTOSCAPE_KEY).tag(sync=True)
    elements = traitlets.List().tag(sync=True)  # as first drawn; changes go by message once shown
    stylesheet = traitlets.List().tag(sync=True)
    layout_options = traitlets.Dict({"name": "preset", "fit": False}).tag(sync=True)  # cytoscape's ``layout``
    options = traitlets.Dict().tag(sync=True)  # cytoscape's, e.g. minZoom, wheelSensitivity
    height = traitlets.Unicode("320px").tag(sync=True)
    canvas_class = traitlets.Unicode("").tag(sync=True)  # CSS classes of the canvas element
    #: framing when shown and resized (``policy``: "readable" never zooms below
    #: ``min_zoom`` and shows a large graph from its left end, "whole" shows it all),
    #: on :meth:`fit` (``fit_policy``), and when elements are added (``on_add``:
    #: "frame" as when shown, "follow" only when a node lands outside the view)
    framing = traitlets.Dict({"policy": "readable", "fit_policy": "whole", "min_zoom": 0.85, "max_zoom": 1.0,
                              "padding": 16.0, "on_add": "frame"}).tag(sync=True)
    #: data keys of a node out of view that wait until it comes into view (e.g. its
    #: label, whose new text is laid out again); the others are applied at once
    deferred_offscreen = traitlets.List(traitlets.Unicode()).tag(sync=True)
    grabbable = traitlets.Bool(True).tag(sync=True)  # whether nodes follow the mouse
    events = traitlets.List(traitlets.Unicode()).tag(sync=True)  # "node:tap"...: what the page reports

    def __init__(self, elements: Iterable[Mapping[str, Any]] = (), stylesheet: list[dict] | None = None,
                 **kwargs: Any) -> None:
        framing = {**self.framing, **kwargs.pop("framing", {})}
        self._elements: dict[str, dict] = {}
        for el in elements:
            self._elements[str(el["data"]["id"])] = _element(el)
        super().__init__(elements=list(self._elements.values()), stylesheet=stylesheet or [], framing=framing,
                         _lib=cytoscape_source(), **kwargs)
        self._handlers: dict[tuple[str, str], list[Callable[[dict], Any]]] = {}
        self._lock = threading.Lock()  # set_nodes may run on a refresh thread, the page's messages on the kernel's
        self._shown = False  # a view has started: changes go by message from now on
        self._stale = False  # ``elements`` no longer says what the canvas shows
        self._patched = False  # node data was set since ``elements``
        self.sent = 0  # change messages sent
        self.on_msg(self._on_page)
        self._watch_rendering()

    # ------------------------------------------------------------------ reading
    def element(self, element_id: str) -> dict:
        """An element as the kernel last set it (data, classes, position...)."""
        with self._lock:
            el = self._elements[element_id]
            return {**el, "data": dict(el["data"])}

    def snapshot(self) -> list[dict]:
        """Every element as the kernel last set it, in drawing order."""
        with self._lock:
            return [{**el, "data": dict(el["data"])} for el in self._elements.values()]

    def node_data(self, node: str) -> dict:
        """A node's data as the kernel last set it."""
        return self.element(node)["data"]

    # ------------------------------------------------------------------ changing
    def set_elements(self, elements: Iterable[Mapping[str, Any]]) -> None:
        """Make the canvas show ``elements`` (parents before their children, nodes
        before edges), sending only what differs from what it shows now."""
        wanted = {str(el["data"]["id"]): _element(el) for el in elements}
        with self._lock:
            current = self._elements
            removed = [i for i in current if i not in wanted]
            added = [el for i, el in wanted.items() if i not in current]
            changed = {i: c for i, el in wanted.items() if i in current and (c := _changes(current[i], el))}
            self._elements = wanted
            if not (removed or added or changed):
                return
            if not self._shown:  # no view yet: the one to come draws ``elements``
                self.elements = list(wanted.values())
                return
            self._stale = True
        # edges before the nodes they join, children before their boxes
        removed.sort(key=lambda i: (0 if "source" in current[i]["data"] else 1, -i.count(".")))
        message: dict[str, Any] = {}
        if removed:
            message["remove"] = removed
        if added:
            message["add"] = added
        if changed:
            message["change"] = changed
        self.sent += 1
        self.send(message)

    def set_nodes(self, changes: Mapping[str, Mapping[str, Any]]) -> None:
        """Merge ``changes`` (node id -> data keys) into the nodes' data and send what
        differs, in one message."""
        diff: dict[str, dict] = {}
        with self._lock:
            for node, data in changes.items():
                current = self._elements.get(node)
                if current is None or "source" in current["data"]:
                    continue
                changed = {k: v for k, v in data.items() if current["data"].get(k) != v}
                if changed:
                    current["data"].update(changed)
                    diff[node] = changed
            if diff:
                self._patched = True
        if diff:
            self.sent += 1
            self.send({"nodes": diff})

    def fit(self) -> None:
        """Frame the whole graph as the page sizes the canvas now (after the changes sent before)."""
        self.send({"fit": True})

    # ------------------------------------------------------------------ events
    def on(self, target: str, event: str, callback: Callable[[dict], Any]) -> None:
        """Call ``callback(event)`` for cytoscape event ``event`` ("tap", "mousedown",
        "mouseup", "mouseover", "mouseout", "dragfree"...) on a ``target`` ("node",
        "edge" or "background"); ``event`` holds the element's ``data`` and a
        ``position`` (a node's own, else the pointer's)."""
        if target not in EVENT_TARGETS:
            raise ValueError(f"got {target!r} for target; expected one of {', '.join(EVENT_TARGETS)}")
        self._handlers.setdefault((target, event), []).append(callback)
        spec = f"{target}:{event}"
        if spec not in self.events:
            self.events = [*self.events, spec]

    def _on_page(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        if content.get("event") == "shown":
            self._answer_shown()
            return
        handlers = self._handlers.get((content.get("target"), content.get("event")))  # type: ignore[arg-type]
        if not handlers or not isinstance(content.get("data"), dict):
            return
        position = content.get("position")
        event = {"data": content["data"]}
        if isinstance(position, dict) and isinstance(position.get("x"), (int, float)) \
                and isinstance(position.get("y"), (int, float)):
            event["position"] = {"x": float(position["x"]), "y": float(position["y"])}
        for callback in list(handlers):
            callback(event)

    def _answer_shown(self) -> None:
        with self._lock:
            self._shown = True
            if self._stale:
                message: dict[str, Any] = {"reset": list(self._elements.values())}
            elif self._patched:
                message = {"nodes": {i: dict(el["data"]) for i, el in self._elements.items()
                                     if "source" not in el["data"]}}
            else:
                return
        self.send(message)
